// Spec: the topology of a lab, parsed from a short text file (docs/lab.md).
//
// One statement per line; '#' starts a comment; blank lines are ignored:
//   host NAME [dove-kernel | kernel [udpcsum|noudpcsum]]
//                                    a DOVE host (runs dove-switch; with dove-kernel, its kernel
//                                    backend: `--backend kernel`), or a kernel-VXLAN host with
//                                    static entries whose VXLAN devices send outer UDP checksums
//                                    (udpcsum) or zero (noudpcsum, the default: RFC 7348's SHOULD)
//   underlay mtu N                   the underlay's MTU (default 1500), 1330..9000, at most once
//   network DOMAIN/NAME CIDR [vni N] [gateway IP] [mtu N] [dns IP[,IP...]]
//                                    an IPv4 network (its first subnet); options in any order,
//                                    each at most once; mtu and dns apply to all its subnets
//   subnet DOMAIN/NAME CIDR [gateway IP]
//                                    another subnet of a declared network, IPv4 or IPv6
//   policy DOMAIN FROM TO allow|deny|reject [tcp|udp|icmp|icmpv6|any [PORT[-PORT]]]
//          [priority N]              FROM and TO are network names of DOMAIN
//   vm NAME HOST DOMAIN/NAME [IP[,IP...]|dhcp] [packet]
//                                    a VM on HOST in that network; no IP: the controller picks
//                                    one per subnet; dhcp: the controller picks and the VM's
//                                    stock DHCP client (busybox udhcpc) asks the switch for it;
//                                    packet: the switch serves the VM's veth "v-VM" itself
//                                    (port_kind PORT_KIND_PACKET) instead of a TAP of its own
//                                    (DOVE hosts only)
//
// ParseSpec checks everything the lab relies on and answers with one sentence
// "line N: what is wrong" for the first problem. The limits come from what the lab derives:
//   - host and VM names: 1..13 bytes of [A-Za-z0-9._-] starting with a letter or digit, because
//     the lab names interfaces "v-VM", "t-VM" (VM side) and "u-HOST", "m-HOST" (underlay and
//     management bridges) and Linux allows 15 bytes per interface name;
//   - domain and network names: the controller's name rules (1..63 of the same characters);
//   - a network's own CIDR is IPv4 (8..30 bits); extra subnets IPv4 (8..30) or IPv6 (48..126);
//     a CIDR has no host bits; the subnets of one domain do not overlap; a gateway lies inside
//     its subnet and is not its network or broadcast address; a VM's IPs lie each in another
//     subnet of its network, are neither the subnet's network, broadcast nor gateway address,
//     and are unique in the network; a dhcp VM's network has an IPv4 subnet (always);
//   - at most 200 hosts (tunnel IPs 192.0.2.11..), 250 networks and 250 VMs (one MAC byte each);
//   - VNI 1..16777215, unique; a network's mtu 1280..9000 (IPv6's minimum; DHCP's option 26);
//   - a policy's port range only with tcp or udp, 1..65535, first <= last; priority 0..1000000.
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
inline constexpr uint32_t kDefaultUnderlayMtu = 1500;
inline constexpr uint32_t kVxlanOverhead = 50;  // outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8

struct SpecHost {
  std::string name;
  bool kernel = false;  // a kernel-VXLAN host with static entries instead of dove-switch
  // A dove-switch host whose switch runs `--backend kernel` (never together with `kernel`).
  bool kernel_backend = false;
  // Kernel hosts only: the VXLAN devices compute the outer UDP checksum ("udpcsum") instead of
  // sending zero ("noudpcsum", the default). Pinned either way: the kernel's own default differs
  // between versions.
  bool udp_checksum = false;
  int line = 0;
};

struct SpecSubnet {
  std::string cidr;  // normalised: "10.0.0.0/24", "2001:db8:1::/64"
  bool ipv6 = false;
  int prefix_length = 0;
  std::string gateway;  // normalised; empty: none
  int line = 0;
};

struct SpecNetwork {
  std::string domain;
  std::string name;
  std::string cidr;  // normalised "A.B.C.D/N": the network line's subnet, subnets[0]
  int prefix_length = 0;
  uint32_t vni = 0;  // 0: the controller allocates one
  int line = 0;
  std::vector<SpecSubnet> subnets;  // [0] from the network line, then "subnet" lines in order
  uint32_t mtu = 0;                 // every subnet's mtu (DHCP option 26, RA); 0: the default
  std::vector<std::string> dns;     // every subnet's dns_servers, normalised

  std::string Ref() const { return domain + "/" + name; }
  // The first subnet of that family (nullptr: none).
  const SpecSubnet* FirstSubnet(bool ipv6) const;
};

enum class PolicyAction { kAllow, kDeny, kReject };

struct SpecPolicy {
  std::string domain;
  std::string from;  // network names in domain
  std::string to;
  PolicyAction action = PolicyAction::kAllow;
  uint32_t protocol = 0;    // IP protocol number; 0: any
  uint32_t first_port = 0;  // 0: any port (then last_port is 0 too)
  uint32_t last_port = 0;
  uint32_t priority = 0;
  int line = 0;

  // "ACTION_ALLOW", "ACTION_DENY" or "ACTION_REJECT" (the REST API's names).
  const char* ActionName() const;
  // The statement as written in a file, normalised ("policy red web db allow tcp 80 priority 0").
  std::string Text() const;
};

struct SpecVm {
  std::string name;
  std::string host;
  std::string domain;
  std::string network;
  std::string ip;  // the static IPv4 address; empty: the controller allocates one
  // Every static address as written (normalised), IPv4 and IPv6, each in another subnet; empty:
  // the controller allocates one per subnet. ip is the first IPv4 of them.
  std::vector<std::string> ips;
  bool dhcp = false;    // no static address: the VM runs a DHCP client
  bool packet = false;  // its port is its veth, served through a packet socket (no TAP)
  int line = 0;

  std::string NetworkRef() const { return domain + "/" + network; }
};

// Statements in file order.
struct Spec {
  std::vector<SpecHost> hosts;
  std::vector<SpecNetwork> networks;
  std::vector<SpecVm> vms;
  std::vector<SpecPolicy> policies;
  uint32_t underlay_mtu = kDefaultUnderlayMtu;

  uint32_t OverlayMtu() const { return underlay_mtu - kVxlanOverhead; }

  // nullptr when absent.
  const SpecHost* FindHost(std::string_view name) const;
  const SpecNetwork* FindNetwork(std::string_view domain, std::string_view name) const;
  const SpecVm* FindVm(std::string_view name) const;
  // Index of the network in `networks` (the VM's network must exist).
  size_t NetworkIndexOf(const SpecVm& vm) const;
};

Expected<Spec, std::string> ParseSpec(std::string_view text);

// The data plane of the lab's dove-switch hosts.
enum class Backend { kUserspace, kKernel };
// "userspace" or "kernel" (dove-switch's --backend values); false for anything else.
bool ParseBackend(std::string_view text, Backend* backend);
const char* BackendName(Backend backend);
// Makes every dove-switch host of `spec` use `backend` (kernel hosts with static entries stay
// as they are): what `dove-lab demo --backend` and the e2e suites over both backends do.
void UseBackend(Spec& spec, Backend backend);

// A policy statement alone ("policy red web db allow tcp 80"), for adding one to a running lab:
// the same rules as in a file; `spec` must declare the networks it names. The error names no line.
Expected<SpecPolicy, std::string> ParsePolicy(const Spec& spec, std::string_view statement);

// A vm statement alone ("vm n1 h1 t/web 10.0.0.31"), for adding a VM to a running lab: the same
// rules as in a file, against `spec` (its hosts and networks; a name or static IP it already
// has is an error). The error names no line.
Expected<SpecVm, std::string> ParseVm(const Spec& spec, std::string_view statement);

// The built-in demo: hosts h1 h2 h3; red/web and blue/web both 10.0.0.0/24 with gateway
// 10.0.0.1; VMs red1..3 and blue1..3 on h1..h3 with the same IPs 10.0.0.11..13 in both tenants.
// Routed part: red/db and blue/db both 10.1.0.0/24 (gateway 10.1.0.1), VMs reddb on h2 and
// bluedb on h2 with the same IP 10.1.0.21, and in each tenant one policy allowing TCP port
// kDemoAllowedPort from web to db (every other port and ICMP stay denied by default).
std::string_view DemoSpecText();
inline constexpr int kDemoAllowedPort = 8080;

}  // namespace dove::lab
