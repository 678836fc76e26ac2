#include "cni/local_switch.h"

#include <nlohmann/json.hpp>
#include <thread>

#include "cli/switch_socket.h"

namespace dove::cni {
namespace {

using nlohmann::json;
constexpr std::chrono::milliseconds kAskTimeout{2000};

}  // namespace

Expected<SwitchIdentity, std::string> AskIdentity(const std::string& socket) {
  auto answer = cli::AskSwitch(socket, "show", kAskTimeout);
  if (!answer) return Unexpected(answer.error());
  const json doc = json::parse(*answer, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("name") || !doc["name"].is_string() ||
      doc["name"].get<std::string>().empty()) {
    return Unexpected("the switch on " + socket + " did not say its name");
  }
  SwitchIdentity identity{.name = doc["name"].get<std::string>(), .overlay_mtu = 0};
  if (auto mtu = doc.find("overlay_mtu"); mtu != doc.end() && mtu->is_number_unsigned()) {
    identity.overlay_mtu = mtu->get<uint32_t>();
  }
  return identity;
}

Expected<void, std::string> WaitForPort(const std::string& socket, const std::string& port,
                                        const std::string& endpoint_id,
                                        std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last = "the switch does not list port " + port + " yet";
  for (;;) {
    auto answer = cli::AskSwitch(socket, "ports", kAskTimeout);
    if (!answer) {
      last = answer.error();
    } else {
      const json doc = json::parse(*answer, nullptr, /*allow_exceptions=*/false);
      if (doc.is_object() && doc.contains("ports") && doc["ports"].is_array()) {
        for (const auto& entry : doc["ports"]) {
          if (entry.value("name", "") != port || entry.value("endpoint_id", "") != endpoint_id) {
            continue;
          }
          if (entry.value("open", false)) return {};
          last = "the switch has port " + port + " in error: " + entry.value("error", "");
        }
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return Unexpected(last);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace dove::cni
