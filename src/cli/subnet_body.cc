#include "cli/subnet_body.h"

#include <CLI/CLI.hpp>

#include "cli/policy_args.h"

namespace dove::cli {

void AddSubnetFlags(CLI::App* command, SubnetFlags* flags, CLI::Option* needs) {
  std::vector<CLI::Option*> added = {
      command->add_option("--gateway", flags->gateway, "Gateway address inside the subnet"),
      command->add_option("--dhcp-range", flags->dhcp_range,
                          "Addresses DHCP hands out, FIRST-LAST (e.g. 10.1.0.100-10.1.0.200)"),
      command->add_option("--dns", flags->dns, "DNS server handed out by DHCP (repeatable)")
          ->allow_extra_args(false),
      command->add_option("--mtu", flags->mtu,
                          "Link MTU handed out by DHCP/RA (default: the controller's)"),
  };
  if (needs != nullptr) {
    for (auto* option : added) option->needs(needs);
  }
}

Expected<nlohmann::json, std::string> SubnetBody(const std::string& network_id,
                                                 const SubnetFlags& flags) {
  nlohmann::json body = {{"network_id", network_id}, {"cidr", flags.cidr}};
  if (!flags.gateway.empty()) body["gateway"] = flags.gateway;
  if (!flags.dhcp_range.empty()) {
    auto range = ParseAddressRange(flags.dhcp_range);
    if (!range) return Unexpected(range.error());
    body["dhcp_range"] = {{"first", range->first}, {"last", range->last}};
  }
  if (!flags.dns.empty()) body["dns_servers"] = flags.dns;
  if (flags.mtu != 0) body["mtu"] = flags.mtu;
  return body;
}

}  // namespace dove::cli
