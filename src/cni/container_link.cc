#include "cni/container_link.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "net/ip_prefix.h"
#include "netlink/rtnetlink.h"

namespace dove::cni {
namespace {

// An open file descriptor, closed on destruction.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Expected<std::unique_ptr<Fd>, std::string> OpenNetns(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Unexpected("cannot open the network namespace " + path + ": " + std::strerror(errno));
  }
  return std::make_unique<Fd>(fd);
}

// An Rtnl whose socket lives in the namespace of `netns_path`: enters it, opens the socket
// and returns to the caller's namespace (a socket keeps the namespace it was made in).
Expected<std::unique_ptr<netlink::Rtnl>, std::string> OpenRtnlIn(const std::string& netns_path) {
  auto own = OpenNetns("/proc/thread-self/ns/net");
  if (!own) return Unexpected(own.error());
  auto target = OpenNetns(netns_path);
  if (!target) return Unexpected(target.error());
  if (::setns((*target)->get(), CLONE_NEWNET) != 0) {
    return Unexpected("cannot enter the network namespace " + netns_path + ": " +
                      std::strerror(errno));
  }
  auto rtnl = netlink::Rtnl::Open();
  if (::setns((*own)->get(), CLONE_NEWNET) != 0) {
    // The thread is stranded in the container's namespace: nothing more can be done safely.
    std::abort();
  }
  if (!rtnl) return Unexpected(rtnl.error().message);
  return std::move(*rtnl);
}

}  // namespace

Expected<net::MacAddress, std::string> CreatePair(const std::string& host_name,
                                                  const std::string& ifname,
                                                  const std::string& netns_path, uint32_t mtu) {
  auto netns = OpenNetns(netns_path);
  if (!netns) return Unexpected(netns.error());
  auto rtnl = netlink::Rtnl::Open();
  if (!rtnl) return Unexpected(rtnl.error().message);
  auto ifindex = (*rtnl)->CreateVeth({.name = host_name,
                                      .peer_name = ifname,
                                      .peer_netns_fd = (*netns)->get(),
                                      .mtu = mtu,
                                      .peer_mac = std::nullopt});
  if (!ifindex) {
    if (ifindex.error().code == EEXIST) {
      return Unexpected("cannot create the veth pair: " + host_name + " exists on the host or " +
                        ifname + " in " + netns_path);
    }
    return Unexpected(ifindex.error().message);
  }
  auto link = (*rtnl)->GetLink(host_name);
  auto up = (*rtnl)->SetUp(*ifindex, true);
  if (!link || !up) {
    (void)(*rtnl)->DeleteLink(*ifindex);
    return Unexpected(!link ? link.error().message : up.error().message);
  }
  return link->mac;
}

Expected<void, std::string> Configure(const std::string& netns_path, const std::string& ifname,
                                      const ContainerPlan& plan) {
  auto rtnl = OpenRtnlIn(netns_path);
  if (!rtnl) return Unexpected(rtnl.error());
  auto link = (*rtnl)->GetLink(ifname);
  if (!link) return Unexpected(link.error().message);
  if (auto mac = (*rtnl)->SetMac(link->ifindex, plan.mac); !mac) {
    return Unexpected(mac.error().message);
  }
  if (auto lo = (*rtnl)->GetLink("lo"); lo && !lo->up) (void)(*rtnl)->SetUp(lo->ifindex, true);
  for (const auto& address : plan.addresses) {
    auto added = (*rtnl)->AddAddress(
        {.ifindex = link->ifindex, .address = address.ip, .prefix_length = address.prefix_length});
    if (!added) return Unexpected(added.error().message);
  }
  if (auto up = (*rtnl)->SetUp(link->ifindex, true); !up) return Unexpected(up.error().message);
  bool v4_route = false;
  bool v6_route = false;
  for (const auto& address : plan.addresses) {
    if (!address.gateway) continue;
    bool& routed = address.ip.is_v4() ? v4_route : v6_route;
    if (routed) continue;
    auto any = net::IpPrefix::Make(address.ip.is_v4() ? net::IpAddress(net::Ipv4Address())
                                                      : net::IpAddress(net::Ipv6Address()),
                                   0);
    auto route = (*rtnl)->ReplaceRoute(
        {.prefix = *any, .ifindex = link->ifindex, .gateway = address.gateway});
    if (!route) return Unexpected(route.error().message);
    routed = true;
  }
  return {};
}

Expected<bool, std::string> DeleteHostEnd(const std::string& host_name) {
  auto rtnl = netlink::Rtnl::Open();
  if (!rtnl) return Unexpected(rtnl.error().message);
  auto link = (*rtnl)->GetLink(host_name);
  if (!link) {
    if (link.error().code == ENODEV) return false;
    return Unexpected(link.error().message);
  }
  if (link->kind != "veth") {
    return Unexpected(host_name + " is a " + (link->kind.empty() ? "device" : link->kind) +
                      ", not a veth: not deleting it");
  }
  auto deleted = (*rtnl)->DeleteLink(link->ifindex);
  if (!deleted) {
    if (deleted.error().code == ENODEV) return false;
    return Unexpected(deleted.error().message);
  }
  return true;
}

Expected<std::optional<ContainerInterface>, std::string> Inspect(const std::string& netns_path,
                                                                 const std::string& ifname) {
  auto rtnl = OpenRtnlIn(netns_path);
  if (!rtnl) return Unexpected(rtnl.error());
  auto link = (*rtnl)->GetLink(ifname);
  if (!link) {
    if (link.error().code == ENODEV) return std::optional<ContainerInterface>();
    return Unexpected(link.error().message);
  }
  ContainerInterface found{.mac = link->mac, .addresses = {}, .up = link->up};
  auto addresses = (*rtnl)->ListAddresses(link->ifindex);
  if (!addresses) return Unexpected(addresses.error().message);
  for (const auto& a : *addresses) {
    found.addresses.push_back(a.address.ToString() + "/" + std::to_string(a.prefix_length));
  }
  return std::optional<ContainerInterface>(found);
}

}  // namespace dove::cni
