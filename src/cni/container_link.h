// ContainerLink: the veth pair of one container interface, over rtnetlink (no `ip`).
//
// The host end stays in the plugin's namespace (the switch serves it as a PORT_KIND_PACKET
// port); the container end is made directly in the container's namespace with its final name
// (one RTM_NEWLINK: no moment where it exists half-made or under another name). Each function
// opens its own rtnetlink sockets; to work inside the container's namespace it enters it with
// setns on the calling thread and comes back before returning (the plugin is single-threaded).
// Errors are one sentence; nothing is left changed by a function that fails, except
// Configure, whose caller deletes the pair.
//
//   auto host_mac = CreatePair("dc0123456789ab", "eth0", "/run/netns/c1", 1450);
//   Configure("/run/netns/c1", "eth0", plan, 1450);
//   DeleteHostEnd("dc0123456789ab");  // the container end goes with it
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/expected.h"
#include "cni/container_plan.h"
#include "net/mac_address.h"

namespace dove::cni {

// Makes the pair (both ends `mtu`, 0: the kernel's default) and sets the host end up. Returns the
// host end's MAC. EEXIST-like failures say which name is taken.
Expected<net::MacAddress, std::string> CreatePair(const std::string& host_name,
                                                  const std::string& ifname,
                                                  const std::string& netns_path, uint32_t mtu);

// Inside the namespace: gives `ifname` the plan's MAC and addresses to `ifname`, sets it (and lo)
// up, and adds a default route via each family's first gateway.
Expected<void, std::string> Configure(const std::string& netns_path, const std::string& ifname,
                                      const ContainerPlan& plan);

// Deletes the host end (and with it the container end). Returns false when there was none.
Expected<bool, std::string> DeleteHostEnd(const std::string& host_name);

// The container interface as it is now.
struct ContainerInterface {
  net::MacAddress mac;
  std::vector<std::string> addresses;  // "IP/LEN"
  bool up = false;
};
// nullopt: the namespace has no such interface. Errors: the namespace cannot be entered.
Expected<std::optional<ContainerInterface>, std::string> Inspect(const std::string& netns_path,
                                                                 const std::string& ifname);

}  // namespace dove::cni
