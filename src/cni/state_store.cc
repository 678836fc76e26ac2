#include "cni/state_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace dove::cni {
namespace {

using nlohmann::json;

std::string Why() { return std::strerror(errno); }

}  // namespace

Expected<void, std::string> StateStore::Save(const std::string& key, const StateRecord& record) {
  std::error_code error;
  std::filesystem::create_directories(dir_, error);
  if (error) {
    return Unexpected("cannot create the state directory " + dir_.string() + ": " +
                      error.message());
  }
  std::filesystem::permissions(dir_, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, error);
  const std::string text = json{{"containerId", record.container_id},
                                {"ifname", record.ifname},
                                {"netns", record.netns},
                                {"endpointId", record.endpoint_id},
                                {"hostVeth", record.host_veth},
                                {"network", record.network},
                                {"switch", record.switch_name}}
                               .dump(2) +
                           "\n";
  const std::string final_path = PathOf(key).string();
  const std::string temp_path = final_path + ".tmp";
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Unexpected("cannot write " + temp_path + ": " + Why());
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string message = "cannot write " + temp_path;
      message += ": " + Why();
      ::close(fd);
      ::unlink(temp_path.c_str());
      return Unexpected(message);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = Why();
    ::unlink(temp_path.c_str());
    return Unexpected("cannot write " + temp_path + ": " + why);
  }
  if (::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    const std::string why = Why();
    ::unlink(temp_path.c_str());
    return Unexpected("cannot rename " + temp_path + " to " + final_path + ": " + why);
  }
  return {};
}

Expected<std::optional<StateRecord>, std::string> StateStore::Load(const std::string& key) const {
  const std::string path = PathOf(key).string();
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return std::optional<StateRecord>();
    return Unexpected("cannot read " + path + ": " + Why());
  }
  std::stringstream text;
  text << in.rdbuf();
  const json doc = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return Unexpected(path + " is not a JSON object.");
  auto field = [&](const char* name) {
    auto it = doc.find(name);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  StateRecord record{.container_id = field("containerId"),
                     .ifname = field("ifname"),
                     .netns = field("netns"),
                     .endpoint_id = field("endpointId"),
                     .host_veth = field("hostVeth"),
                     .network = field("network"),
                     .switch_name = field("switch")};
  if (record.endpoint_id.empty() || record.host_veth.empty()) {
    return Unexpected(path + " lacks endpointId or hostVeth.");
  }
  return std::optional<StateRecord>(record);
}

Expected<void, std::string> StateStore::Remove(const std::string& key) {
  const std::string path = PathOf(key).string();
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Unexpected("cannot remove " + path + ": " + Why());
  }
  return {};
}

}  // namespace dove::cni
