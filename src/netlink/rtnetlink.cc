#include "netlink/rtnetlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/filter.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <functional>
#include <utility>

namespace dove::netlink {
namespace {

// Large enough for any message of a dump: the kernel fills skbs of up to 32 KiB.
constexpr size_t kReceiveBufferSize = size_t{64} * 1024;
constexpr size_t kRequestBufferSize = size_t{8} * 1024;

Error MakeError(int code, const std::string& what, const std::string& detail = "") {
  std::string message = what + ": " + std::strerror(code);
  if (!detail.empty()) message += " (" + detail + ")";
  return Error{code, std::move(message)};
}

// A request being built in a stack buffer.
class Request {
 public:
  Request(uint16_t type, uint16_t flags) {
    header_ = mnl_nlmsg_put_header(buffer_.data());
    header_->nlmsg_type = type;
    header_->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
  }
  template <typename T>
  T* PutHeader() {
    return static_cast<T*>(mnl_nlmsg_put_extra_header(header_, sizeof(T)));
  }
  nlmsghdr* header() { return header_; }

 private:
  alignas(nlmsghdr) std::array<char, kRequestBufferSize> buffer_{};
  nlmsghdr* header_;
};

void PutIp(nlmsghdr* nlh, uint16_t type, const net::IpAddress& ip) {
  const auto bytes = ip.bytes();
  mnl_attr_put(nlh, type, ip.is_v4() ? 4 : 16, bytes.data());
}

std::optional<net::IpAddress> GetIp(const nlattr* attr) {
  const auto* data = static_cast<const uint8_t*>(mnl_attr_get_payload(attr));
  const uint16_t length = mnl_attr_get_payload_len(attr);
  if (length == 4) {
    std::array<uint8_t, 4> b{};
    std::memcpy(b.data(), data, 4);
    return net::IpAddress(net::Ipv4Address(b));
  }
  if (length == 16) {
    std::array<uint8_t, 16> b{};
    std::memcpy(b.data(), data, 16);
    return net::IpAddress(net::Ipv6Address(b));
  }
  return std::nullopt;
}

std::optional<net::MacAddress> GetMac(const nlattr* attr) {
  if (mnl_attr_get_payload_len(attr) != 6) return std::nullopt;
  std::array<uint8_t, 6> b{};
  std::memcpy(b.data(), mnl_attr_get_payload(attr), 6);
  return net::MacAddress(b);
}

// The attributes after a fixed header of `header_size` bytes, indexed by type (up to `max`).
template <size_t N>
std::array<const nlattr*, N> ParseAttributes(const nlmsghdr* nlh, size_t header_size) {
  std::array<const nlattr*, N> table{};
  mnl_attr_parse(
      nlh, static_cast<unsigned>(header_size),
      [](const nlattr* attr, void* data) {
        auto* t = static_cast<std::array<const nlattr*, N>*>(data);
        const uint16_t type = mnl_attr_get_type(attr);
        if (type < N) (*t)[type] = attr;
        return MNL_CB_OK;
      },
      &table);
  return table;
}

template <size_t N>
std::array<const nlattr*, N> ParseNested(const nlattr* nest) {
  std::array<const nlattr*, N> table{};
  mnl_attr_parse_nested(
      nest,
      [](const nlattr* attr, void* data) {
        auto* t = static_cast<std::array<const nlattr*, N>*>(data);
        const uint16_t type = mnl_attr_get_type(attr);
        if (type < N) (*t)[type] = attr;
        return MNL_CB_OK;
      },
      &table);
  return table;
}

uint8_t U8Or(const nlattr* attr, uint8_t fallback) {
  return attr != nullptr && mnl_attr_get_payload_len(attr) >= 1 ? mnl_attr_get_u8(attr) : fallback;
}
uint32_t U32Or(const nlattr* attr, uint32_t fallback) {
  return attr != nullptr && mnl_attr_get_payload_len(attr) >= 4 ? mnl_attr_get_u32(attr) : fallback;
}

LinkInfo DecodeLink(const nlmsghdr* nlh) {
  const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  LinkInfo link;
  link.ifindex = ifi->ifi_index;
  link.up = (ifi->ifi_flags & IFF_UP) != 0;
  const auto tb = ParseAttributes<IFLA_MAX + 1>(nlh, sizeof(ifinfomsg));
  if (tb[IFLA_IFNAME] != nullptr) link.name = mnl_attr_get_str(tb[IFLA_IFNAME]);
  link.master = static_cast<int>(U32Or(tb[IFLA_MASTER], 0));
  link.mtu = U32Or(tb[IFLA_MTU], 0);
  if (tb[IFLA_ADDRESS] != nullptr) {
    if (auto mac = GetMac(tb[IFLA_ADDRESS])) link.mac = *mac;
  }
  if (tb[IFLA_LINKINFO] != nullptr) {
    const auto info = ParseNested<IFLA_INFO_MAX + 1>(tb[IFLA_LINKINFO]);
    if (info[IFLA_INFO_KIND] != nullptr) link.kind = mnl_attr_get_str(info[IFLA_INFO_KIND]);
  }
  return link;
}

bool IsMessageOf(const nlmsghdr* nlh, size_t header_size) {
  return nlh->nlmsg_len >= NLMSG_LENGTH(header_size);
}

}  // namespace

struct Rtnl::Socket {
  mnl_socket* nl = nullptr;
  uint32_t port_id = 0;
  uint32_t sequence = 0;
  std::vector<char> receive = std::vector<char>(kReceiveBufferSize);

  ~Socket() {
    if (nl != nullptr) mnl_socket_close(nl);
  }

  // Sends `nlh` and reads the kernel's answer: every message before the final ACK or
  // NLMSG_DONE goes to `on_message`. An NLMSG_ERROR with a non-zero code is the error.
  Result<Ok> Transact(nlmsghdr* nlh, const std::string& what,
                      const std::function<void(const nlmsghdr*)>& on_message) {
    nlh->nlmsg_seq = ++sequence;
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
      return Unexpected(MakeError(errno, what + " (send)"));
    }
    for (;;) {
      const ssize_t n = mnl_socket_recvfrom(nl, receive.data(), receive.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return Unexpected(MakeError(errno, what + " (receive)"));
      }
      auto remaining = static_cast<int>(n);
      for (auto* m = reinterpret_cast<const nlmsghdr*>(receive.data()); mnl_nlmsg_ok(m, remaining);
           m = mnl_nlmsg_next(m, &remaining)) {
        if (m->nlmsg_seq != nlh->nlmsg_seq || m->nlmsg_pid != port_id) continue;
        if (m->nlmsg_type == NLMSG_ERROR) {
          if (!IsMessageOf(m, sizeof(nlmsgerr))) {
            return Unexpected(MakeError(EBADMSG, what + " (truncated NLMSG_ERROR)"));
          }
          const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m));
          if (err->error == 0) return Ok{};
          return Unexpected(MakeError(-err->error, what, ExtendedAck(m, err)));
        }
        if (m->nlmsg_type == NLMSG_DONE) {
          int code = 0;
          if (IsMessageOf(m, sizeof(int))) {
            std::memcpy(&code, mnl_nlmsg_get_payload(m), sizeof(int));
          }
          if (code < 0) return Unexpected(MakeError(-code, what));
          return Ok{};
        }
        if (on_message) on_message(m);
      }
    }
  }

  // The kernel's own words (NLMSGERR_ATTR_MSG of an extended ACK), when it sent some.
  static std::string ExtendedAck(const nlmsghdr* m, const nlmsgerr* err) {
    if ((m->nlmsg_flags & NLM_F_ACK_TLVS) == 0) return "";
    size_t offset = sizeof(nlmsgerr);
    if ((m->nlmsg_flags & NLM_F_CAPPED) == 0) {
      offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
    }
    if (!IsMessageOf(m, offset)) return "";
    const auto tb = ParseAttributes<NLMSGERR_ATTR_MAX + 1>(m, offset);
    if (tb[NLMSGERR_ATTR_MSG] == nullptr) return "";
    const auto* text = static_cast<const char*>(mnl_attr_get_payload(tb[NLMSGERR_ATTR_MSG]));
    return std::string(text, strnlen(text, mnl_attr_get_payload_len(tb[NLMSGERR_ATTR_MSG])));
  }
};

Result<std::unique_ptr<Rtnl>> Rtnl::Open() {
  auto socket = std::make_unique<Socket>();
  socket->nl = mnl_socket_open(NETLINK_ROUTE);
  if (socket->nl == nullptr) return Unexpected(MakeError(errno, "open rtnetlink socket"));
  int one = 1;
  // Extended ACKs carry the kernel's reason; an old kernel without them still works.
  (void)mnl_socket_setsockopt(socket->nl, NETLINK_EXT_ACK, &one, sizeof(one));
  (void)mnl_socket_setsockopt(socket->nl, NETLINK_CAP_ACK, &one, sizeof(one));
  if (mnl_socket_bind(socket->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    return Unexpected(MakeError(errno, "bind rtnetlink socket"));
  }
  socket->port_id = mnl_socket_get_portid(socket->nl);
  socket->sequence = static_cast<uint32_t>(std::time(nullptr));
  auto rtnl = std::unique_ptr<Rtnl>(new Rtnl());
  rtnl->socket_ = std::move(socket);
  return rtnl;
}

Rtnl::~Rtnl() = default;

// ---- Links ----------------------------------------------------------------------------

Result<int> Rtnl::CreateBridge(const BridgeSpec& spec) {
  const std::string what = "create bridge " + spec.name;
  Request r(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  auto* ifi = r.PutHeader<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(r.header(), IFLA_IFNAME, spec.name.c_str());
  if (spec.mtu != 0) mnl_attr_put_u32(r.header(), IFLA_MTU, spec.mtu);
  if (spec.mac) mnl_attr_put(r.header(), IFLA_ADDRESS, 6, spec.mac->bytes().data());
  nlattr* linkinfo = mnl_attr_nest_start(r.header(), IFLA_LINKINFO);
  mnl_attr_put_strz(r.header(), IFLA_INFO_KIND, "bridge");
  nlattr* data = mnl_attr_nest_start(r.header(), IFLA_INFO_DATA);
  mnl_attr_put_u32(r.header(), IFLA_BR_STP_STATE, spec.stp ? 1 : 0);
  mnl_attr_nest_end(r.header(), data);
  mnl_attr_nest_end(r.header(), linkinfo);
  if (auto done = socket_->Transact(r.header(), what, nullptr); !done) {
    return Unexpected(done.error());
  }
  auto link = GetLink(spec.name);
  if (!link) return Unexpected(link.error());
  return link->ifindex;
}

Result<int> Rtnl::CreateVxlan(const VxlanSpec& spec) {
  const std::string what = "create vxlan " + spec.name;
  Request r(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  auto* ifi = r.PutHeader<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  nlmsghdr* nlh = r.header();
  mnl_attr_put_strz(nlh, IFLA_IFNAME, spec.name.c_str());
  if (spec.mtu != 0) mnl_attr_put_u32(nlh, IFLA_MTU, spec.mtu);
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vxlan");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, spec.vni);
  if (!spec.local.IsUnspecified())
    mnl_attr_put(nlh, IFLA_VXLAN_LOCAL, 4, spec.local.bytes().data());
  mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(spec.port));
  mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, spec.learning ? 1 : 0);
  mnl_attr_put_u8(nlh, IFLA_VXLAN_PROXY, spec.proxy ? 1 : 0);
  mnl_attr_put_u8(nlh, IFLA_VXLAN_RSC, spec.rsc ? 1 : 0);
  mnl_attr_put_u8(nlh, IFLA_VXLAN_L2MISS, spec.l2miss ? 1 : 0);
  mnl_attr_put_u8(nlh, IFLA_VXLAN_L3MISS, spec.l3miss ? 1 : 0);
  mnl_attr_put_u8(nlh, IFLA_VXLAN_UDP_CSUM, spec.udp_checksum ? 1 : 0);
  if (spec.underlay_ifindex != 0) {
    mnl_attr_put_u32(nlh, IFLA_VXLAN_LINK, static_cast<uint32_t>(spec.underlay_ifindex));
  }
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  if (auto done = socket_->Transact(nlh, what, nullptr); !done) return Unexpected(done.error());
  auto link = GetLink(spec.name);
  if (!link) return Unexpected(link.error());
  return link->ifindex;
}

Result<int> Rtnl::CreateVeth(const VethSpec& spec) {
  const std::string what = "create veth " + spec.name + " (peer " + spec.peer_name + ")";
  Request r(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  r.PutHeader<ifinfomsg>()->ifi_family = AF_UNSPEC;
  nlmsghdr* nlh = r.header();
  mnl_attr_put_strz(nlh, IFLA_IFNAME, spec.name.c_str());
  if (spec.mtu != 0) mnl_attr_put_u32(nlh, IFLA_MTU, spec.mtu);
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  // VETH_INFO_PEER holds an ifinfomsg and then the peer's own attributes.
  nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)))->ifi_family =
      AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, spec.peer_name.c_str());
  if (spec.mtu != 0) mnl_attr_put_u32(nlh, IFLA_MTU, spec.mtu);
  if (spec.peer_mac) mnl_attr_put(nlh, IFLA_ADDRESS, 6, spec.peer_mac->bytes().data());
  if (spec.peer_netns_fd >= 0) {
    mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(spec.peer_netns_fd));
  }
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  if (auto done = socket_->Transact(nlh, what, nullptr); !done) return Unexpected(done.error());
  auto link = GetLink(spec.name);
  if (!link) return Unexpected(link.error());
  return link->ifindex;
}

Result<LinkInfo> Rtnl::GetLink(const std::string& name) {
  const std::string what = "get link " + name;
  Request r(RTM_GETLINK, 0);
  r.PutHeader<ifinfomsg>()->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(r.header(), IFLA_IFNAME, name.c_str());
  std::optional<LinkInfo> found;
  auto done = socket_->Transact(r.header(), what, [&](const nlmsghdr* m) {
    if (m->nlmsg_type == RTM_NEWLINK && IsMessageOf(m, sizeof(ifinfomsg))) found = DecodeLink(m);
  });
  if (!done) return Unexpected(done.error());
  if (!found) return Unexpected(MakeError(ENODEV, what));
  return *found;
}

Result<std::vector<LinkInfo>> Rtnl::ListLinks() {
  Request r(RTM_GETLINK, NLM_F_DUMP);
  r.PutHeader<ifinfomsg>()->ifi_family = AF_UNSPEC;
  std::vector<LinkInfo> links;
  auto done = socket_->Transact(r.header(), "list links", [&](const nlmsghdr* m) {
    if (m->nlmsg_type == RTM_NEWLINK && IsMessageOf(m, sizeof(ifinfomsg))) {
      links.push_back(DecodeLink(m));
    }
  });
  if (!done) return Unexpected(done.error());
  return links;
}

Result<VxlanSpec> Rtnl::GetVxlan(int ifindex) {
  const std::string what = "get vxlan options of ifindex " + std::to_string(ifindex);
  Request r(RTM_GETLINK, 0);
  auto* ifi = r.PutHeader<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  std::optional<VxlanSpec> spec;
  bool is_vxlan = false;
  auto done = socket_->Transact(r.header(), what, [&](const nlmsghdr* m) {
    if (m->nlmsg_type != RTM_NEWLINK || !IsMessageOf(m, sizeof(ifinfomsg))) return;
    const auto tb = ParseAttributes<IFLA_MAX + 1>(m, sizeof(ifinfomsg));
    VxlanSpec s;
    if (tb[IFLA_IFNAME] != nullptr) s.name = mnl_attr_get_str(tb[IFLA_IFNAME]);
    s.mtu = U32Or(tb[IFLA_MTU], 0);
    if (tb[IFLA_LINKINFO] != nullptr) {
      const auto info = ParseNested<IFLA_INFO_MAX + 1>(tb[IFLA_LINKINFO]);
      is_vxlan = info[IFLA_INFO_KIND] != nullptr &&
                 std::string(mnl_attr_get_str(info[IFLA_INFO_KIND])) == "vxlan";
      if (is_vxlan && info[IFLA_INFO_DATA] != nullptr) {
        const auto vx = ParseNested<IFLA_VXLAN_MAX + 1>(info[IFLA_INFO_DATA]);
        s.vni = U32Or(vx[IFLA_VXLAN_ID], 0);
        if (vx[IFLA_VXLAN_LOCAL] != nullptr) {
          if (auto ip = GetIp(vx[IFLA_VXLAN_LOCAL]); ip && ip->is_v4()) s.local = ip->v4();
        }
        if (vx[IFLA_VXLAN_PORT] != nullptr && mnl_attr_get_payload_len(vx[IFLA_VXLAN_PORT]) >= 2) {
          s.port = ntohs(mnl_attr_get_u16(vx[IFLA_VXLAN_PORT]));
        }
        s.underlay_ifindex = static_cast<int>(U32Or(vx[IFLA_VXLAN_LINK], 0));
        s.learning = U8Or(vx[IFLA_VXLAN_LEARNING], 0) != 0;
        s.proxy = U8Or(vx[IFLA_VXLAN_PROXY], 0) != 0;
        s.rsc = U8Or(vx[IFLA_VXLAN_RSC], 0) != 0;
        s.l2miss = U8Or(vx[IFLA_VXLAN_L2MISS], 0) != 0;
        s.l3miss = U8Or(vx[IFLA_VXLAN_L3MISS], 0) != 0;
        s.udp_checksum = U8Or(vx[IFLA_VXLAN_UDP_CSUM], 0) != 0;
      }
    }
    spec = s;
  });
  if (!done) return Unexpected(done.error());
  if (!spec) return Unexpected(MakeError(ENODEV, what));
  if (!is_vxlan) return Unexpected(MakeError(EINVAL, what, "not a vxlan device"));
  return *spec;
}

Result<Ok> Rtnl::DeleteLink(int ifindex) {
  Request r(RTM_DELLINK, 0);
  auto* ifi = r.PutHeader<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  return socket_->Transact(r.header(), "delete link ifindex " + std::to_string(ifindex), nullptr);
}

namespace {
// An RTM_NEWLINK on an existing link (ifindex), to change one thing.
struct LinkChange {
  explicit LinkChange(int ifindex) : request(RTM_NEWLINK, 0) {
    ifi = request.PutHeader<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
  }
  Request request;
  ifinfomsg* ifi;
};
}  // namespace

Result<Ok> Rtnl::SetMaster(int ifindex, int master_ifindex) {
  LinkChange c(ifindex);
  mnl_attr_put_u32(c.request.header(), IFLA_MASTER, static_cast<uint32_t>(master_ifindex));
  return socket_->Transact(
      c.request.header(),
      "set master of ifindex " + std::to_string(ifindex) + " to " + std::to_string(master_ifindex),
      nullptr);
}

Result<Ok> Rtnl::SetUp(int ifindex, bool up) {
  LinkChange c(ifindex);
  c.ifi->ifi_change = IFF_UP;
  c.ifi->ifi_flags = up ? IFF_UP : 0;
  return socket_->Transact(
      c.request.header(),
      std::string("set ifindex ") + std::to_string(ifindex) + (up ? " up" : " down"), nullptr);
}

Result<Ok> Rtnl::SetMtu(int ifindex, uint32_t mtu) {
  LinkChange c(ifindex);
  mnl_attr_put_u32(c.request.header(), IFLA_MTU, mtu);
  return socket_->Transact(
      c.request.header(),
      "set mtu of ifindex " + std::to_string(ifindex) + " to " + std::to_string(mtu), nullptr);
}

Result<Ok> Rtnl::MoveToNamespace(int ifindex, int netns_fd) {
  LinkChange c(ifindex);
  mnl_attr_put_u32(c.request.header(), IFLA_NET_NS_FD, static_cast<uint32_t>(netns_fd));
  return socket_->Transact(c.request.header(),
                           "move ifindex " + std::to_string(ifindex) +
                               " to the network namespace of fd " + std::to_string(netns_fd),
                           nullptr);
}

Result<Ok> Rtnl::SetBridgeNetfilter(int ifindex, bool on) {
  LinkChange c(ifindex);
  nlmsghdr* nlh = c.request.header();
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  mnl_attr_put_u8(nlh, IFLA_BR_NF_CALL_IPTABLES, on ? 1 : 0);
  mnl_attr_put_u8(nlh, IFLA_BR_NF_CALL_IP6TABLES, on ? 1 : 0);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  return socket_->Transact(nlh,
                           "set nf_call_iptables/ip6tables of bridge ifindex " +
                               std::to_string(ifindex) + " to " + (on ? "1" : "0"),
                           nullptr);
}

Result<Ok> Rtnl::SetMac(int ifindex, const net::MacAddress& mac) {
  LinkChange c(ifindex);
  mnl_attr_put(c.request.header(), IFLA_ADDRESS, 6, mac.bytes().data());
  return socket_->Transact(
      c.request.header(), "set mac of ifindex " + std::to_string(ifindex) + " to " + mac.ToString(),
      nullptr);
}

// ---- Traffic control -------------------------------------------------------------------

namespace {
// The ingress qdisc's handle "ffff:"; its filters hang under it.
constexpr uint32_t kIngressHandle = TC_H_MAKE(TC_H_INGRESS, 0);
constexpr uint32_t kRedirectPriority = 1;
constexpr uint32_t kFirstU32Handle = 0x80000800;  // 800::800

tcmsg* PutTcHeader(Request& r, int ifindex, uint32_t handle, uint32_t parent) {
  auto* tcm = r.PutHeader<tcmsg>();
  tcm->tcm_family = AF_UNSPEC;
  tcm->tcm_ifindex = ifindex;
  tcm->tcm_handle = handle;
  tcm->tcm_parent = parent;
  return tcm;
}

// The action list of a filter: one mirred that redirects to `to` (TCA_ACT_STOLEN: the frame
// is not seen by the stack of the link it arrived on).
void PutRedirectAction(nlmsghdr* nlh, uint16_t list_type, int to_ifindex) {
  nlattr* list = mnl_attr_nest_start(nlh, list_type);
  nlattr* first = mnl_attr_nest_start(nlh, 1);
  mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
  nlattr* options = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
  tc_mirred parms{};
  parms.action = TC_ACT_STOLEN;
  parms.eaction = TCA_EGRESS_REDIR;
  parms.ifindex = static_cast<uint32_t>(to_ifindex);
  mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof(parms), &parms);
  mnl_attr_nest_end(nlh, options);
  mnl_attr_nest_end(nlh, first);
  mnl_attr_nest_end(nlh, list);
}
}  // namespace

Result<Ok> Rtnl::AddIngressQdisc(int ifindex) {
  Request r(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL);
  PutTcHeader(r, ifindex, kIngressHandle, TC_H_INGRESS);
  mnl_attr_put_strz(r.header(), TCA_KIND, "ingress");
  return socket_->Transact(r.header(), "add ingress qdisc to ifindex " + std::to_string(ifindex),
                           nullptr);
}

Result<Ok> Rtnl::DeleteIngressQdisc(int ifindex) {
  Request r(RTM_DELQDISC, 0);
  PutTcHeader(r, ifindex, kIngressHandle, TC_H_INGRESS);
  return socket_->Transact(r.header(), "delete ingress qdisc of ifindex " + std::to_string(ifindex),
                           nullptr);
}

Result<Ok> Rtnl::AddIngressRedirect(int from_ifindex, int to_ifindex, Classifier classifier) {
  return SendIngressRedirect(from_ifindex, to_ifindex, classifier, /*replace=*/false);
}

Result<Ok> Rtnl::ReplaceIngressRedirectU32(int from_ifindex, int to_ifindex) {
  return SendIngressRedirect(from_ifindex, to_ifindex, Classifier::kU32, /*replace=*/true);
}

Result<Ok> Rtnl::SendIngressRedirect(int from_ifindex, int to_ifindex, Classifier classifier,
                                     bool replace) {
  const bool u32 = classifier == Classifier::kU32;
  // A replacement names the filter (u32's first handle of its root table, 800::800) and must
  // find it: without NLM_F_CREATE the kernel answers ENOENT when it is not there.
  Request r(RTM_NEWTFILTER, replace ? NLM_F_REPLACE : NLM_F_CREATE | NLM_F_EXCL);
  auto* tcm = PutTcHeader(r, from_ifindex, replace ? kFirstU32Handle : 0, kIngressHandle);
  tcm->tcm_info = TC_H_MAKE(kRedirectPriority << 16, htons(ETH_P_ALL));
  nlmsghdr* nlh = r.header();
  mnl_attr_put_strz(nlh, TCA_KIND, u32 ? "u32" : "matchall");
  nlattr* options = mnl_attr_nest_start(nlh, TCA_OPTIONS);
  if (u32) {
    // One key, mask 0: every frame matches; terminal: its actions run.
    // (tc_u32_sel ends in a zero-length array of keys, which no object of ours may hold: header
    // and key are laid out by hand, the key all zeros.)
    std::array<char, sizeof(tc_u32_sel) + sizeof(tc_u32_key)> selector{};
    const auto flags = static_cast<unsigned char>(TC_U32_TERMINAL);
    const unsigned char nkeys = 1;
    std::memcpy(selector.data() + offsetof(tc_u32_sel, flags), &flags, sizeof(flags));
    std::memcpy(selector.data() + offsetof(tc_u32_sel, nkeys), &nkeys, sizeof(nkeys));
    mnl_attr_put(nlh, TCA_U32_SEL, selector.size(), selector.data());
    PutRedirectAction(nlh, TCA_U32_ACT, to_ifindex);
  } else {
    PutRedirectAction(nlh, TCA_MATCHALL_ACT, to_ifindex);
  }
  mnl_attr_nest_end(nlh, options);
  return socket_->Transact(nlh,
                           std::string(replace ? "replace " : "add ") + (u32 ? "u32" : "matchall") +
                               " redirect from ingress of ifindex " + std::to_string(from_ifindex) +
                               " to ifindex " + std::to_string(to_ifindex),
                           nullptr);
}

namespace {
constexpr uint32_t kGuardHandle = 1;

// The guard filter's identity: (ingress, kGuardPriority, every protocol, handle 1, "bpf").
tcmsg* PutGuardHeader(Request& r, int ifindex) {
  auto* tcm = PutTcHeader(r, ifindex, kGuardHandle, kIngressHandle);
  tcm->tcm_info = TC_H_MAKE(Rtnl::kGuardPriority << 16, htons(ETH_P_ALL));
  mnl_attr_put_strz(r.header(), TCA_KIND, "bpf");
  return tcm;
}
}  // namespace

Result<Ok> Rtnl::AddIngressGuard(int ifindex) {
  if (auto qdisc = AddIngressQdisc(ifindex); !qdisc && qdisc.error().code != EEXIST) {
    return Unexpected(qdisc.error());
  }
  Request r(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL);
  PutGuardHeader(r, ifindex);
  nlmsghdr* nlh = r.header();
  nlattr* options = mnl_attr_nest_start(nlh, TCA_OPTIONS);
  // One classic BPF instruction, "ret #TC_ACT_SHOT"; in direct-action mode its return value is
  // the verdict.
  const sock_filter program{.code = BPF_RET | BPF_K, .jt = 0, .jf = 0, .k = TC_ACT_SHOT};
  const uint16_t length = 1;
  mnl_attr_put_u16(nlh, TCA_BPF_OPS_LEN, length);
  mnl_attr_put(nlh, TCA_BPF_OPS, sizeof(program), &program);
  mnl_attr_put_u32(nlh, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
  mnl_attr_nest_end(nlh, options);
  auto added = socket_->Transact(
      nlh, "add the port guard (bpf drop) to the ingress of ifindex " + std::to_string(ifindex),
      nullptr);
  if (!added && added.error().code == EEXIST) return Ok{};
  return added;
}

Result<Ok> Rtnl::DeleteIngressGuard(int ifindex) {
  Request r(RTM_DELTFILTER, 0);
  PutGuardHeader(r, ifindex);
  return socket_->Transact(
      r.header(), "delete the port guard from the ingress of ifindex " + std::to_string(ifindex),
      nullptr);
}

Result<bool> Rtnl::HasIngressGuard(int ifindex) {
  Request r(RTM_GETTFILTER, NLM_F_DUMP);
  PutTcHeader(r, ifindex, 0, kIngressHandle);
  bool found = false;
  auto done = socket_->Transact(
      r.header(), "list the ingress filters of ifindex " + std::to_string(ifindex),
      [&](const nlmsghdr* m) {
        if (m->nlmsg_type != RTM_NEWTFILTER || !IsMessageOf(m, sizeof(tcmsg))) return;
        const auto* tcm = static_cast<const tcmsg*>(mnl_nlmsg_get_payload(m));
        const auto tb = ParseAttributes<TCA_MAX + 1>(m, sizeof(tcmsg));
        if (tcm->tcm_ifindex == ifindex && TC_H_MAJ(tcm->tcm_info) >> 16 == kGuardPriority &&
            tcm->tcm_handle == kGuardHandle && tb[TCA_KIND] != nullptr &&
            std::strcmp(mnl_attr_get_str(tb[TCA_KIND]), "bpf") == 0) {
          found = true;
        }
      });
  // No ingress qdisc: the kernel refuses the dump (EINVAL), and there is no guard.
  if (!done && done.error().code != EINVAL && done.error().code != ENOENT) {
    return Unexpected(done.error());
  }
  return found;
}

// ---- FDB ------------------------------------------------------------------------------

namespace {
std::string FdbText(const FdbEntry& e) {
  return e.mac.ToString() + " dst " + e.remote.ToString() + " on ifindex " +
         std::to_string(e.ifindex);
}

void BuildFdb(Request& r, const FdbEntry& e) {
  auto* ndm = r.PutHeader<ndmsg>();
  ndm->ndm_family = AF_BRIDGE;
  ndm->ndm_ifindex = e.ifindex;
  ndm->ndm_state = NUD_PERMANENT;
  ndm->ndm_flags = NTF_SELF | (e.router ? NTF_ROUTER : 0);
  mnl_attr_put(r.header(), NDA_LLADDR, 6, e.mac.bytes().data());
  // An unspecified remote is not sent: the kernel then refuses the entry (EINVAL).
  if (!e.remote.IsUnspecified()) mnl_attr_put(r.header(), NDA_DST, 4, e.remote.bytes().data());
}
}  // namespace

Result<Ok> Rtnl::ReplaceFdb(const FdbEntry& entry) {
  Request r(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
  BuildFdb(r, entry);
  return socket_->Transact(r.header(), "replace fdb " + FdbText(entry), nullptr);
}

Result<Ok> Rtnl::AppendFdb(const FdbEntry& entry) {
  Request r(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND);
  BuildFdb(r, entry);
  return socket_->Transact(r.header(), "append fdb " + FdbText(entry), nullptr);
}

Result<Ok> Rtnl::DeleteFdb(const FdbEntry& entry) {
  Request r(RTM_DELNEIGH, 0);
  BuildFdb(r, entry);
  return socket_->Transact(r.header(), "delete fdb " + FdbText(entry), nullptr);
}

Result<std::vector<FdbEntry>> Rtnl::ListFdb(int ifindex) {
  Request r(RTM_GETNEIGH, NLM_F_DUMP);
  auto* ndm = r.PutHeader<ndmsg>();
  ndm->ndm_family = AF_BRIDGE;
  std::vector<FdbEntry> entries;
  auto done = socket_->Transact(
      r.header(), "list fdb of ifindex " + std::to_string(ifindex), [&](const nlmsghdr* m) {
        if (m->nlmsg_type != RTM_NEWNEIGH || !IsMessageOf(m, sizeof(ndmsg))) return;
        const auto* n = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(m));
        if (n->ndm_family != AF_BRIDGE || n->ndm_ifindex != ifindex ||
            (n->ndm_flags & NTF_SELF) == 0) {
          return;
        }
        const auto tb = ParseAttributes<NDA_MAX + 1>(m, sizeof(ndmsg));
        if (tb[NDA_LLADDR] == nullptr || tb[NDA_DST] == nullptr) return;
        const auto mac = GetMac(tb[NDA_LLADDR]);
        const auto ip = GetIp(tb[NDA_DST]);
        if (!mac || !ip || !ip->is_v4()) return;
        entries.push_back(FdbEntry{.ifindex = ifindex,
                                   .mac = *mac,
                                   .remote = ip->v4(),
                                   .router = (n->ndm_flags & NTF_ROUTER) != 0});
      });
  if (!done) return Unexpected(done.error());
  return entries;
}

// ---- Neighbours -----------------------------------------------------------------------

namespace {
std::string NeighText(const NeighEntry& e) {
  return e.ip.ToString() + " lladdr " + e.mac.ToString() + " on ifindex " +
         std::to_string(e.ifindex);
}

void BuildNeigh(Request& r, const NeighEntry& e, bool with_mac) {
  auto* ndm = r.PutHeader<ndmsg>();
  ndm->ndm_family = e.ip.is_v4() ? AF_INET : AF_INET6;
  ndm->ndm_ifindex = e.ifindex;
  ndm->ndm_state = e.state;
  ndm->ndm_type = RTN_UNICAST;
  PutIp(r.header(), NDA_DST, e.ip);
  if (with_mac) mnl_attr_put(r.header(), NDA_LLADDR, 6, e.mac.bytes().data());
}
}  // namespace

Result<Ok> Rtnl::ReplaceNeigh(const NeighEntry& entry) {
  Request r(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
  BuildNeigh(r, entry, true);
  return socket_->Transact(r.header(), "replace neighbour " + NeighText(entry), nullptr);
}

Result<Ok> Rtnl::DeleteNeigh(const NeighEntry& entry) {
  Request r(RTM_DELNEIGH, 0);
  BuildNeigh(r, entry, false);
  return socket_->Transact(r.header(), "delete neighbour " + NeighText(entry), nullptr);
}

Result<std::vector<NeighEntry>> Rtnl::ListNeigh(int ifindex) {
  Request r(RTM_GETNEIGH, NLM_F_DUMP);
  r.PutHeader<ndmsg>()->ndm_family = AF_UNSPEC;
  std::vector<NeighEntry> entries;
  auto done = socket_->Transact(
      r.header(), "list neighbours of ifindex " + std::to_string(ifindex), [&](const nlmsghdr* m) {
        if (m->nlmsg_type != RTM_NEWNEIGH || !IsMessageOf(m, sizeof(ndmsg))) return;
        const auto* n = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(m));
        if ((n->ndm_family != AF_INET && n->ndm_family != AF_INET6) || n->ndm_ifindex != ifindex ||
            (n->ndm_state & NUD_NOARP) != 0 || (n->ndm_flags & NTF_PROXY) != 0) {
          return;
        }
        const auto tb = ParseAttributes<NDA_MAX + 1>(m, sizeof(ndmsg));
        if (tb[NDA_DST] == nullptr) return;
        const auto ip = GetIp(tb[NDA_DST]);
        if (!ip) return;
        NeighEntry e{.ifindex = ifindex, .ip = *ip, .mac = {}, .state = n->ndm_state};
        if (tb[NDA_LLADDR] != nullptr) {
          if (auto mac = GetMac(tb[NDA_LLADDR])) e.mac = *mac;
        }
        entries.push_back(e);
      });
  if (!done) return Unexpected(done.error());
  return entries;
}

// ---- Addresses ------------------------------------------------------------------------

namespace {
std::string AddressText(const AddressEntry& e) {
  return e.address.ToString() + "/" + std::to_string(e.prefix_length) + " on ifindex " +
         std::to_string(e.ifindex);
}

void BuildAddress(Request& r, const AddressEntry& e) {
  auto* ifa = r.PutHeader<ifaddrmsg>();
  ifa->ifa_family = e.address.is_v4() ? AF_INET : AF_INET6;
  ifa->ifa_prefixlen = static_cast<uint8_t>(e.prefix_length);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<uint32_t>(e.ifindex);
  // IPv6: no duplicate address detection, so the address is usable at once.
  if (e.address.is_v6()) ifa->ifa_flags = IFA_F_NODAD;
  PutIp(r.header(), IFA_LOCAL, e.address);
  PutIp(r.header(), IFA_ADDRESS, e.address);
}
}  // namespace

Result<Ok> Rtnl::AddAddress(const AddressEntry& entry) {
  Request r(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  BuildAddress(r, entry);
  return socket_->Transact(r.header(), "add address " + AddressText(entry), nullptr);
}

Result<Ok> Rtnl::DeleteAddress(const AddressEntry& entry) {
  Request r(RTM_DELADDR, 0);
  BuildAddress(r, entry);
  return socket_->Transact(r.header(), "delete address " + AddressText(entry), nullptr);
}

Result<std::vector<AddressEntry>> Rtnl::ListAddresses(int ifindex) {
  Request r(RTM_GETADDR, NLM_F_DUMP);
  r.PutHeader<ifaddrmsg>()->ifa_family = AF_UNSPEC;
  std::vector<AddressEntry> entries;
  auto done = socket_->Transact(
      r.header(), "list addresses of ifindex " + std::to_string(ifindex), [&](const nlmsghdr* m) {
        if (m->nlmsg_type != RTM_NEWADDR || !IsMessageOf(m, sizeof(ifaddrmsg))) return;
        const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(m));
        if (static_cast<int>(ifa->ifa_index) != ifindex) return;
        const auto tb = ParseAttributes<IFA_MAX + 1>(m, sizeof(ifaddrmsg));
        // IFA_LOCAL is the address itself (IFA_ADDRESS is the peer's on point-to-point).
        const nlattr* attr = tb[IFA_LOCAL] != nullptr ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
        if (attr == nullptr) return;
        const auto ip = GetIp(attr);
        if (!ip) return;
        entries.push_back(
            AddressEntry{.ifindex = ifindex, .address = *ip, .prefix_length = ifa->ifa_prefixlen});
      });
  if (!done) return Unexpected(done.error());
  return entries;
}

// ---- Routes ---------------------------------------------------------------------------

namespace {
std::string RouteText(const RouteEntry& e) {
  return std::string(e.local ? "local " : "") + e.prefix.ToString() +
         (e.gateway ? " via " + e.gateway->ToString() : "") + " dev ifindex " +
         std::to_string(e.ifindex) + " table " + std::to_string(e.table);
}

void BuildRoute(Request& r, const RouteEntry& e, bool deleting) {
  auto* rtm = r.PutHeader<rtmsg>();
  rtm->rtm_family = e.prefix.address().is_v4() ? AF_INET : AF_INET6;
  rtm->rtm_dst_len = static_cast<uint8_t>(e.prefix.length());
  rtm->rtm_table = e.table < 256 ? static_cast<uint8_t>(e.table) : uint8_t{RT_TABLE_UNSPEC};
  rtm->rtm_protocol = deleting ? RTPROT_UNSPEC : RTPROT_STATIC;
  rtm->rtm_type = e.local ? RTN_LOCAL : RTN_UNICAST;
  rtm->rtm_scope = deleting    ? RT_SCOPE_NOWHERE
                   : e.local   ? RT_SCOPE_HOST
                   : e.gateway ? RT_SCOPE_UNIVERSE
                               : RT_SCOPE_LINK;
  mnl_attr_put_u32(r.header(), RTA_TABLE, e.table);
  if (e.prefix.length() > 0) PutIp(r.header(), RTA_DST, e.prefix.address());
  if (e.gateway) PutIp(r.header(), RTA_GATEWAY, *e.gateway);
  if (e.ifindex != 0) mnl_attr_put_u32(r.header(), RTA_OIF, static_cast<uint32_t>(e.ifindex));
}
}  // namespace

Result<Ok> Rtnl::ReplaceRoute(const RouteEntry& entry) {
  Request r(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
  BuildRoute(r, entry, false);
  return socket_->Transact(r.header(), "replace route " + RouteText(entry), nullptr);
}

Result<Ok> Rtnl::DeleteRoute(const RouteEntry& entry) {
  Request r(RTM_DELROUTE, 0);
  BuildRoute(r, entry, true);
  return socket_->Transact(r.header(), "delete route " + RouteText(entry), nullptr);
}

Result<std::vector<RouteEntry>> Rtnl::ListRoutes(uint32_t table, bool ipv6) {
  Request r(RTM_GETROUTE, NLM_F_DUMP);
  r.PutHeader<rtmsg>()->rtm_family = ipv6 ? AF_INET6 : AF_INET;
  std::vector<RouteEntry> entries;
  auto done = socket_->Transact(
      r.header(), "list routes of table " + std::to_string(table), [&](const nlmsghdr* m) {
        if (m->nlmsg_type != RTM_NEWROUTE || !IsMessageOf(m, sizeof(rtmsg))) return;
        const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(m));
        if ((rtm->rtm_type != RTN_UNICAST && rtm->rtm_type != RTN_LOCAL) ||
            (rtm->rtm_flags & RTM_F_CLONED) != 0) {
          return;
        }
        const auto tb = ParseAttributes<RTA_MAX + 1>(m, sizeof(rtmsg));
        if (U32Or(tb[RTA_TABLE], rtm->rtm_table) != table) return;
        net::IpAddress destination =
            ipv6 ? net::IpAddress(net::Ipv6Address()) : net::IpAddress(net::Ipv4Address());
        if (tb[RTA_DST] != nullptr) {
          const auto ip = GetIp(tb[RTA_DST]);
          if (!ip) return;
          destination = *ip;
        }
        auto prefix = net::IpPrefix::Masked(destination, rtm->rtm_dst_len);
        if (!prefix) return;
        std::optional<net::IpAddress> gateway;
        if (tb[RTA_GATEWAY] != nullptr) gateway = GetIp(tb[RTA_GATEWAY]);
        entries.push_back(RouteEntry{.table = table,
                                     .prefix = *prefix,
                                     .ifindex = static_cast<int>(U32Or(tb[RTA_OIF], 0)),
                                     .local = rtm->rtm_type == RTN_LOCAL,
                                     .gateway = gateway});
      });
  if (!done) return Unexpected(done.error());
  return entries;
}

// ---- Rules ----------------------------------------------------------------------------

namespace {
std::string RuleText(const RuleEntry& e) {
  return std::string(e.ipv6 ? "ipv6 " : "") + "rule " + std::to_string(e.priority) + " iif " +
         (e.iif_name.empty() ? "any" : e.iif_name) + " table " + std::to_string(e.table);
}

void BuildRule(Request& r, const RuleEntry& e) {
  auto* frh = r.PutHeader<fib_rule_hdr>();
  frh->family = e.ipv6 ? AF_INET6 : AF_INET;
  frh->table = e.table < 256 ? static_cast<uint8_t>(e.table) : uint8_t{RT_TABLE_UNSPEC};
  frh->action = FR_ACT_TO_TBL;
  if (!e.iif_name.empty()) mnl_attr_put_strz(r.header(), FRA_IIFNAME, e.iif_name.c_str());
  mnl_attr_put_u32(r.header(), FRA_PRIORITY, e.priority);
  mnl_attr_put_u32(r.header(), FRA_TABLE, e.table);
}
}  // namespace

Result<Ok> Rtnl::AddRule(const RuleEntry& entry) {
  Request r(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL);
  BuildRule(r, entry);
  return socket_->Transact(r.header(), "add " + RuleText(entry), nullptr);
}

Result<Ok> Rtnl::DeleteRule(const RuleEntry& entry) {
  Request r(RTM_DELRULE, 0);
  BuildRule(r, entry);
  return socket_->Transact(r.header(), "delete " + RuleText(entry), nullptr);
}

Result<std::vector<RuleEntry>> Rtnl::ListRules(bool ipv6) {
  Request r(RTM_GETRULE, NLM_F_DUMP);
  r.PutHeader<fib_rule_hdr>()->family = ipv6 ? AF_INET6 : AF_INET;
  std::vector<RuleEntry> entries;
  auto done = socket_->Transact(
      r.header(), ipv6 ? "list ipv6 rules" : "list rules", [&](const nlmsghdr* m) {
        if (m->nlmsg_type != RTM_NEWRULE || !IsMessageOf(m, sizeof(fib_rule_hdr))) {
          return;
        }
        const auto* frh = static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(m));
        const auto tb = ParseAttributes<FRA_MAX + 1>(m, sizeof(fib_rule_hdr));
        RuleEntry e;
        e.ipv6 = frh->family == AF_INET6;
        e.priority = U32Or(tb[FRA_PRIORITY], 0);
        e.table = U32Or(tb[FRA_TABLE], frh->table);
        if (tb[FRA_IIFNAME] != nullptr) {
          e.iif_name = mnl_attr_get_str(tb[FRA_IIFNAME]);
        }
        entries.push_back(e);
      });
  if (!done) return Unexpected(done.error());
  return entries;
}

}  // namespace dove::netlink
