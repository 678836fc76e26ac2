// SubnetFlags: the subnet settings shared by `subnet create` and `network create --subnet`,
// and the JSON body they become.
//
// AddSubnetFlags adds --gateway, --dhcp-range, --dns (repeatable) and --mtu to a command;
// SubnetBody checks what dovectl can check itself (the FIRST-LAST form of --dhcp-range) and
// builds the POST /v1/subnets body. Unset flags are left out, so the controller's defaults
// apply.
//
//   auto body = SubnetBody(network_id, flags);
//   if (!body) return ctx.FailUsage(body.error());
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/expected.h"

namespace dove::cli {

struct SubnetFlags {
  std::string cidr;
  std::string gateway;
  std::string dhcp_range;
  std::vector<std::string> dns;
  uint32_t mtu = 0;
};

// Adds the flags to `command`; each needs `needs` (when not null), e.g. --subnet.
void AddSubnetFlags(CLI::App* command, SubnetFlags* flags, CLI::Option* needs);

Expected<nlohmann::json, std::string> SubnetBody(const std::string& network_id,
                                                 const SubnetFlags& flags);

}  // namespace dove::cli
