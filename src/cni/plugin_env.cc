#include "cni/plugin_env.h"

#include <cctype>

namespace dove::cni {
namespace {

CniError Invalid(const std::string& msg) { return CniError{kInvalidEnvironment, msg, ""}; }

bool IsValidContainerId(const std::string& id) {
  if (id.empty() || std::isalnum(static_cast<unsigned char>(id[0])) == 0) return false;
  for (char c : id) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

bool IsValidInterfaceName(const std::string& name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) != 0 || c == '\0') {
      return false;
    }
  }
  return true;
}

Expected<PluginEnv, CniError> ReadEnv(const EnvLookup& lookup) {
  PluginEnv env;
  const auto command = lookup("CNI_COMMAND");
  if (!command || command->empty()) return Unexpected(Invalid("CNI_COMMAND is not set."));
  if (*command == "ADD") {
    env.command = Command::kAdd;
  } else if (*command == "DEL") {
    env.command = Command::kDel;
  } else if (*command == "CHECK") {
    env.command = Command::kCheck;
  } else if (*command == "VERSION") {
    env.command = Command::kVersion;
    return env;
  } else {
    return Unexpected(
        Invalid("CNI_COMMAND \"" + *command + "\" is not one of ADD, DEL, CHECK, VERSION."));
  }
  env.container_id = lookup("CNI_CONTAINERID").value_or("");
  if (env.container_id.empty()) return Unexpected(Invalid("CNI_CONTAINERID is not set."));
  if (!IsValidContainerId(env.container_id)) {
    return Unexpected(Invalid("CNI_CONTAINERID \"" + env.container_id +
                              "\" may hold only letters, digits, '_', '.' and '-', starting "
                              "with a letter or digit."));
  }
  env.ifname = lookup("CNI_IFNAME").value_or("");
  if (env.ifname.empty()) return Unexpected(Invalid("CNI_IFNAME is not set."));
  if (!IsValidInterfaceName(env.ifname)) {
    return Unexpected(Invalid("CNI_IFNAME \"" + env.ifname +
                              "\" is no valid interface name (1..15 bytes, no '/', ':' or "
                              "spaces)."));
  }
  env.netns = lookup("CNI_NETNS").value_or("");
  if (env.netns.empty() && env.command != Command::kDel) {
    return Unexpected(Invalid("CNI_NETNS is not set."));
  }
  if (!env.netns.empty() && env.netns[0] != '/') {
    return Unexpected(Invalid("CNI_NETNS \"" + env.netns + "\" is not an absolute path."));
  }
  env.args = lookup("CNI_ARGS").value_or("");
  env.path = lookup("CNI_PATH").value_or("");
  return env;
}

}  // namespace dove::cni
