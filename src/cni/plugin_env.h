// PluginEnv: the CNI_* environment variables a runtime sets for one call of the plugin.
//
//   CNI_COMMAND      ADD, DEL, CHECK or VERSION (required)
//   CNI_CONTAINERID  required for ADD, DEL, CHECK: letters, digits, '_', '.', '-', starting
//                    with a letter or digit (the spec's rule)
//   CNI_NETNS        required for ADD and CHECK (a path: /run/netns/NAME, /proc/PID/ns/net);
//                    optional for DEL (the namespace may already be gone)
//   CNI_IFNAME       required for ADD, DEL, CHECK: a valid Linux interface name (1..15 bytes,
//                    no '/', ':' or whitespace, not "." or "..")
//   CNI_ARGS, CNI_PATH  optional, kept as given (dove-cni uses neither)
// An invalid or missing one is code 4 (invalid environment variables), naming the variable.
//
//   auto env = ReadEnv([](const char* n) { return Getenv(n); });
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "base/expected.h"
#include "cni/cni_error.h"

namespace dove::cni {

enum class Command { kAdd, kDel, kCheck, kVersion };

struct PluginEnv {
  Command command = Command::kVersion;
  std::string container_id;
  std::string netns;
  std::string ifname;
  std::string args;
  std::string path;
};

// `lookup` returns a variable's value, nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

Expected<PluginEnv, CniError> ReadEnv(const EnvLookup& lookup);

// Whether `name` is a valid Linux interface name (what the kernel's dev_valid_name accepts).
bool IsValidInterfaceName(const std::string& name);

}  // namespace dove::cni
