// ContainerPlan: what the container's interface gets, computed from the endpoint the
// controller stored (its MAC and IPs) and the subnets of its network (prefix lengths,
// gateways, DNS servers, MTU); and the CNI result JSON that reports it.
//
//   auto plan = PlanContainer(endpoint_json, subnets_json["items"], /*mtu=*/0);
//   std::string out = ResultJson("1.0.0", *plan, attachment).dump();
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "cni/cni_error.h"
#include "net/ip_address.h"
#include "net/mac_address.h"

namespace dove::cni {

struct PlannedAddress {
  net::IpAddress ip;
  int prefix_length = 0;
  std::optional<net::IpAddress> gateway;  // the subnet's; none: no default route for it
};

struct ContainerPlan {
  net::MacAddress mac;
  std::vector<PlannedAddress> addresses;  // in the endpoint's order
  std::vector<std::string> nameservers;   // the subnets' DNS servers, in order, no repeats
  uint32_t subnet_mtu = 0;                // SmallestMtu of the subnets
};

// The smallest non-zero "mtu" of `subnets` (Subnet objects as the API gives them); 0: none.
uint32_t SmallestMtu(const nlohmann::json& subnets);

// Errors (code kControllerRefused): the endpoint has no valid MAC, an IP that no subnet of
// `subnets` (an array of Subnet objects as the API gives them) holds, or no IP at all.
Expected<ContainerPlan, CniError> PlanContainer(const nlohmann::json& endpoint,
                                                const nlohmann::json& subnets);

// What ADD made, for the result's "interfaces".
struct Attachment {
  std::string host_veth;
  net::MacAddress host_mac;
  std::string ifname;
  std::string netns;
};

// The CNI result (spec 1.0.0 "Success"; for 0.4.0 each IP also carries "version"):
//   interfaces [0] the host veth, [1] the container interface (with "sandbox")
//   ips        every address as "IP/LEN" with its gateway, interface 1
//   routes     a default route per family that has a gateway
//   dns        {"nameservers": [...]} (empty object when the subnets give none)
nlohmann::json ResultJson(std::string_view cni_version, const ContainerPlan& plan,
                          const Attachment& attachment);

}  // namespace dove::cni
