// Rtnetlink: the kernel's routing netlink (NETLINK_ROUTE) as DOVE's kernel backend needs it,
// over libmnl: links (bridge, vxlan with the DOVE options, veth, any link by name), their
// master, MAC, MTU and state; addresses; routes and rules in a table; FDB entries of a vxlan
// device (AF_BRIDGE, NTF_SELF); neighbour entries. Facts: ../shared/reference/linux-vxlan-dove.md.
//
// Contracts:
//   - Every request is sent with NLM_F_ACK and waits for the kernel's answer; an error comes
//     back as Error{errno value, what was asked and the kernel's words (strerror)}, never
//     thrown. Requests that the kernel refuses change nothing.
//   - An Rtnl works in the network namespace it was opened in (the caller's at Open()).
//   - Not thread-safe: one thread uses an Rtnl; open one per thread.
//   - The socket is an RAII member: closed by the destructor.
//
//   auto rtnl = netlink::Rtnl::Open();
//   auto vx = rtnl->CreateVxlan({.name = "dvx-42", .vni = 42, .local = tip, .port = 4789,
//                                .mtu = 1450, .learning = false, .proxy = true,
//                                .l2miss = true, .l3miss = true, .rsc = true});
//   rtnl->ReplaceFdb({.ifindex = *vx, .mac = m, .remote = other_tip});
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/expected.h"
#include "net/ip_address.h"
#include "net/ip_prefix.h"
#include "net/ipv4_address.h"
#include "net/mac_address.h"

namespace dove::netlink {

struct Error {
  int code = 0;         // errno value (EEXIST, ENODEV, ENOBUFS, ...)
  std::string message;  // "create vxlan dvx-42: File exists"
};

template <typename T>
using Result = Expected<T, Error>;
struct Ok {};

struct LinkInfo {
  int ifindex = 0;
  std::string name;
  std::string kind;  // IFLA_INFO_KIND: "bridge", "vxlan", "veth", "" (none)
  int master = 0;    // ifindex of its master; 0: none
  net::MacAddress mac;
  uint32_t mtu = 0;
  bool up = false;  // IFF_UP
};

struct VxlanSpec {
  std::string name;
  uint32_t vni = 0;
  net::Ipv4Address local;    // IFLA_VXLAN_LOCAL
  uint16_t port = 4789;      // IFLA_VXLAN_PORT (always sent)
  uint32_t mtu = 0;          // 0: the kernel's default
  int underlay_ifindex = 0;  // IFLA_VXLAN_LINK; 0: none
  bool learning = false;
  bool proxy = true;
  bool l2miss = true;
  bool l3miss = true;
  bool rsc = true;
  // IFLA_VXLAN_UDP_CSUM: compute the outer UDP checksum (IPv4). Always sent: the kernel's
  // default has changed over time, and RFC 7348 says a sender SHOULD send zero.
  bool udp_checksum = false;
};

// A veth pair: `name` here, its peer `peer_name` in the namespace of `peer_netns_fd` (an open
// /run/netns/NAME or /proc/PID/ns/net; -1: this one), made in one RTM_NEWLINK, so a half-made
// pair never exists. Both ends start down.
struct VethSpec {
  std::string name;
  std::string peer_name;
  int peer_netns_fd = -1;
  uint32_t mtu = 0;                         // both ends; 0: the kernel's default
  std::optional<net::MacAddress> peer_mac;  // none: the kernel picks one
};

struct BridgeSpec {
  std::string name;
  uint32_t mtu = 0;                    // 0: the kernel's default
  std::optional<net::MacAddress> mac;  // none: the kernel picks one
  bool stp = false;
};

// An FDB entry of a vxlan device: MAC -> remote VTEP (AF_BRIDGE, NTF_SELF, NUD_PERMANENT).
// The all-zeros MAC with Append is a flood destination (one entry per remote).
struct FdbEntry {
  int ifindex = 0;  // the vxlan device
  net::MacAddress mac;
  net::Ipv4Address remote;
  bool router = false;  // NTF_ROUTER (for rsc)
};

// A neighbour entry: IP -> MAC on a device (NUD_PERMANENT unless `state` says otherwise).
struct NeighEntry {
  int ifindex = 0;
  net::IpAddress ip;
  net::MacAddress mac;
  uint16_t state = 0x80;  // NUD_PERMANENT
};

struct AddressEntry {
  int ifindex = 0;
  net::IpAddress address;  // 10.0.1.1 (IpPrefix would clear the host bits)
  int prefix_length = 0;   // 24
};

// A route in a table: a prefix reachable through a device (scope link), or a local address
// (type local, for per-table gateway addresses), or through a gateway (scope universe: a
// container's default route).
struct RouteEntry {
  uint32_t table = 254;  // RT_TABLE_MAIN
  net::IpPrefix prefix;
  int ifindex = 0;
  bool local = false;                       // RTN_LOCAL instead of RTN_UNICAST
  std::optional<net::IpAddress> gateway{};  // RTA_GATEWAY (ListRoutes fills it too)
};

// How a redirect (Rtnl::AddIngressRedirect) matches every frame: the matchall classifier
// (CONFIG_NET_CLS_MATCHALL), or u32 with one key that matches anything ("match u32 0 0") for
// kernels without it.
enum class Classifier { kMatchall, kU32 };

// A policy-routing rule: packets arriving on `iif_name` look up `table`, at `priority`.
struct RuleEntry {
  bool ipv6 = false;
  uint32_t priority = 0;
  std::string iif_name;  // empty: any
  uint32_t table = 0;
};

class Rtnl {
 public:
  static Result<std::unique_ptr<Rtnl>> Open();
  ~Rtnl();
  Rtnl(const Rtnl&) = delete;
  Rtnl& operator=(const Rtnl&) = delete;

  // Links. Create* returns the new ifindex; EEXIST when the name is taken.
  Result<int> CreateBridge(const BridgeSpec& spec);
  Result<int> CreateVxlan(const VxlanSpec& spec);
  // Returns the ifindex of `name` (the end in this namespace). EEXIST when either name is
  // taken in its namespace; nothing is made then.
  Result<int> CreateVeth(const VethSpec& spec);
  Result<LinkInfo> GetLink(const std::string& name);  // ENODEV when there is none
  Result<std::vector<LinkInfo>> ListLinks();
  // The vxlan options of a link (to adopt a device left by an earlier run only when it is the
  // one this run would create).
  Result<VxlanSpec> GetVxlan(int ifindex);
  Result<Ok> DeleteLink(int ifindex);
  Result<Ok> SetMaster(int ifindex, int master_ifindex);  // 0: release
  Result<Ok> SetUp(int ifindex, bool up);
  Result<Ok> SetMtu(int ifindex, uint32_t mtu);
  Result<Ok> SetMac(int ifindex, const net::MacAddress& mac);
  // Moves the link into the network namespace that `netns_fd` refers to (an open
  // /run/netns/NAME, or /proc/PID/ns/net), in one RTM_NEWLINK with IFLA_NET_NS_FD; the caller
  // keeps the fd. The link arrives down (a move always closes it; a veth's peer loses its
  // carrier until the link is up again) and without its qdiscs and filters; it keeps its name
  // and, when that is free there, its ifindex: look it up there (GetLink) with an Rtnl opened
  // in that namespace. EEXIST when the name is taken there; nothing changes on an error.
  Result<Ok> MoveToNamespace(int ifindex, int netns_fd);
  // The bridge's own nf_call_iptables and nf_call_ip6tables (br_netfilter: its bridged
  // frames pass the IPv4/IPv6 hooks). Has effect only while the namespace-wide sysctls
  // net.bridge.bridge-nf-call-ip(6)tables are 0 (and br_netfilter is loaded).
  Result<Ok> SetBridgeNetfilter(int ifindex, bool on);

  // FDB entries of a vxlan device.
  // An entry whose remote is unspecified (0.0.0.0) goes without NDA_DST: the kernel refuses
  // it (EINVAL).
  Result<Ok> ReplaceFdb(const FdbEntry& entry);  // CREATE|REPLACE
  Result<Ok> AppendFdb(const FdbEntry& entry);   // CREATE|APPEND (flood destinations)
  Result<Ok> DeleteFdb(const FdbEntry& entry);   // the one (mac, remote); ENOENT when absent
  // The NTF_SELF entries of that device with an IPv4 remote, one per (MAC, remote); the
  // bridge's own entries of the port are not listed. Dumps every FDB and filters here.
  Result<std::vector<FdbEntry>> ListFdb(int ifindex);

  // Neighbour entries.
  Result<Ok> ReplaceNeigh(const NeighEntry& entry);
  Result<Ok> DeleteNeigh(const NeighEntry& entry);  // by (ifindex, ip); ENOENT when absent
  // The IPv4 and IPv6 entries of that device as `ip neigh show dev` lists them (NOARP and
  // proxy entries left out); `mac` stays zero for an entry without a link-layer address.
  Result<std::vector<NeighEntry>> ListNeigh(int ifindex);

  // Traffic control: the ingress qdisc of a link (`tc qdisc add dev X ingress`); EEXIST when
  // it has one. Deleting it deletes its filters; ENOENT or EINVAL when it has none.
  Result<Ok> AddIngressQdisc(int ifindex);
  Result<Ok> DeleteIngressQdisc(int ifindex);
  // A filter (priority 1, every protocol) on the ingress qdisc of `from` that sends every frame
  // arriving there out of `to`, as if transmitted on it (`tc filter add dev FROM ingress
  // matchall action mirred egress redirect dev TO`; with kU32, `protocol all prio 1 u32 match
  // u32 0 0` instead of matchall). Both links in this Rtnl's namespace. EINVAL when `from` has
  // no ingress qdisc; ENODEV when `to` does not exist; ENOENT when the kernel lacks the
  // classifier (try the other one).
  Result<Ok> AddIngressRedirect(int from_ifindex, int to_ifindex, Classifier classifier);
  // Points the u32 redirect on the ingress of `from` (priority 1, handle 800::800: the one
  // AddIngressRedirect with kU32 or `tc filter add dev FROM ingress protocol all prio 1 u32 ...`
  // made) at `to` instead, in one request: frames go to the old target until it is done and to
  // the new one after, none is lost in between, and the qdisc is not touched (deleting and
  // adding a qdisc may wait for an RCU grace period). ENOENT when there is no such filter.
  // matchall cannot be replaced in place (the kernel refuses: EEXIST).
  Result<Ok> ReplaceIngressRedirectU32(int from_ifindex, int to_ifindex);
  // The port guard: a filter on the ingress qdisc of `ifindex` that drops every frame arriving
  // there before the link's own stack sees it, at priority kGuardPriority (`tc filter add dev X
  // ingress prio 49152 handle 1 bpf da bytecode '1,6 0 0 2,'`: classic BPF in direct-action
  // mode, returning TC_ACT_SHOT; neither matchall nor the gact action is needed). Packet
  // sockets bound to the link still get every frame: they see it before the ingress hook.
  // Adds the ingress qdisc first when the link has none. Adding a guard that is there already
  // is not an error. ENODEV when there is no such link.
  static constexpr uint32_t kGuardPriority = 0xc000;
  Result<Ok> AddIngressGuard(int ifindex);
  // Deletes that filter only (the qdisc and other filters stay). ENOENT when it is not there.
  Result<Ok> DeleteIngressGuard(int ifindex);
  // Whether the link's ingress has that filter.
  Result<bool> HasIngressGuard(int ifindex);

  // Addresses, routes, rules.
  // IPv6 addresses are added without duplicate address detection (usable at once).
  Result<Ok> AddAddress(const AddressEntry& entry);  // EEXIST when present
  Result<Ok> DeleteAddress(const AddressEntry& entry);
  Result<std::vector<AddressEntry>> ListAddresses(int ifindex);
  Result<Ok> ReplaceRoute(const RouteEntry& entry);
  Result<Ok> DeleteRoute(const RouteEntry& entry);
  // Unicast and local routes of `table` (other types and cached clones left out).
  Result<std::vector<RouteEntry>> ListRoutes(uint32_t table, bool ipv6);
  Result<Ok> AddRule(const RuleEntry& entry);
  Result<Ok> DeleteRule(const RuleEntry& entry);
  // Every rule of the family, the kernel's defaults (local, main, default) included.
  Result<std::vector<RuleEntry>> ListRules(bool ipv6);

 private:
  Rtnl() = default;
  Result<Ok> SendIngressRedirect(int from_ifindex, int to_ifindex, Classifier classifier,
                                 bool replace);
  struct Socket;
  std::unique_ptr<Socket> socket_;
};

}  // namespace dove::netlink
