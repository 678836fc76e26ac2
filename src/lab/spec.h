// Spec: the topology of a lab, parsed from a short text file (docs/lab.md).
//
// One statement per line; '#' starts a comment; blank lines are ignored:
//   host NAME [kernel [udpcsum|noudpcsum]]
//                                    a DOVE host (runs dove-switch), or a kernel-VXLAN host whose
//                                    VXLAN devices send outer UDP checksums (udpcsum) or zero
//                                    (noudpcsum, the default: RFC 7348's SHOULD)
//   network DOMAIN/NAME CIDR [vni N]
//   vm NAME HOST DOMAIN/NAME [IP]    a VM on HOST in that network; no IP: the controller picks
//
// ParseSpec checks everything the lab relies on and answers with one sentence
// "line N: what is wrong" for the first problem. The limits come from what the lab derives:
//   - host and VM names: 1..13 bytes of [A-Za-z0-9._-] starting with a letter or digit, because
//     the lab names interfaces "v-VM", "t-VM" (VM side) and "u-HOST", "m-HOST" (underlay and
//     management bridges) and Linux allows 15 bytes per interface name;
//   - domain and network names: the controller's name rules (1..63 of the same characters);
//   - IPv4 only; a CIDR has no host bits; a VM's IP lies inside its network's CIDR, is neither
//     its network nor its broadcast address, and is unique in its network;
//   - at most 200 hosts (tunnel IPs 192.0.2.11..), 250 networks and 250 VMs (one MAC byte each);
//   - VNI 1..16777215, unique.
// Pure functions, thread-safe.
//
//   auto spec = ParseSpec(text);
//   if (!spec) { std::cerr << spec.error() << "\n"; return 1; }
//   for (const auto& vm : spec->vms) ...
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"

namespace dove::lab {

inline constexpr size_t kMaxHostNameLength = 13;  // "u-" + name <= 15 (IFNAMSIZ - 1)
inline constexpr size_t kMaxVmNameLength = 13;    // "v-" / "t-" + name <= 15
inline constexpr size_t kMaxObjectNameLength = 63;
inline constexpr size_t kMaxHosts = 200;
inline constexpr size_t kMaxNetworks = 250;
inline constexpr size_t kMaxVms = 250;

struct SpecHost {
  std::string name;
  bool kernel = false;  // a kernel-VXLAN host instead of dove-switch
  // Kernel hosts only: the VXLAN devices compute the outer UDP checksum ("udpcsum") instead of
  // sending zero ("noudpcsum", the default). Pinned either way: the kernel's own default differs
  // between versions.
  bool udp_checksum = false;
  int line = 0;
};

struct SpecNetwork {
  std::string domain;
  std::string name;
  std::string cidr;  // normalised "A.B.C.D/N"
  int prefix_length = 0;
  uint32_t vni = 0;  // 0: the controller allocates one
  int line = 0;

  std::string Ref() const { return domain + "/" + name; }
};

struct SpecVm {
  std::string name;
  std::string host;
  std::string domain;
  std::string network;
  std::string ip;  // empty: the controller allocates one
  int line = 0;

  std::string NetworkRef() const { return domain + "/" + network; }
};

// Statements in file order.
struct Spec {
  std::vector<SpecHost> hosts;
  std::vector<SpecNetwork> networks;
  std::vector<SpecVm> vms;

  // nullptr when absent.
  const SpecHost* FindHost(std::string_view name) const;
  const SpecNetwork* FindNetwork(std::string_view domain, std::string_view name) const;
  const SpecVm* FindVm(std::string_view name) const;
  // Index of the network in `networks` (the VM's network must exist).
  size_t NetworkIndexOf(const SpecVm& vm) const;
};

Expected<Spec, std::string> ParseSpec(std::string_view text);

// The built-in demo: hosts h1 h2 h3; red/web and blue/web both 10.0.0.0/24; VMs red1..3 and
// blue1..3 on h1..h3 with the same IPs 10.0.0.11..13 in both tenants.
std::string_view DemoSpecText();

}  // namespace dove::lab
