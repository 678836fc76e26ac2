// PortServices: what the kernel backend's switch answers to its own ports itself, because the
// kernel's bridge would not: DHCPv4 (pipeline::DhcpResponder) and IPv6 router solicitations
// (pipeline::RouterAdvertiser), the same stages, so the same answers, as on the userspace
// backend (docs/dove-switch.md, "## DHCP" and "Router advertisements").
//
// How a port is served: an AF_PACKET socket on the port's host-side interface (the veth end or
// the TAP the backend enslaved), bound to ETH_P_ALL on that interface only, with a classic BPF
// filter that passes exactly
//   - IPv4 UDP to port 67, not a fragment (what DhcpResponder takes: IsToDhcpServer);
//   - IPv6 ICMPv6 router solicitations and router advertisements with no extension header
//     (what RouterAdvertiser takes);
// and nothing else, so the socket costs the port's other traffic one filter run. A packet tap
// sees a frame the VM sends before the bridge does (the rx_handler runs after the taps), and
// frames the host sends to the VM are ignored (PACKET_IGNORE_OUTGOING, and the sll_pkttype of
// each frame checked). The frame is handed to the stage with meta.in_port set to the port; the
// reply is written back on the same socket, so it reaches that VM only. That the request itself
// goes no further is nftables' part: `table netdev dove` drops UDP to port 67 and router
// solicitations from ports (counted port_<if>_dhcp_taken, port_<if>_rs_taken; nft_ruleset.h).
// A frame whose Ethernet source is not the port's MAC is not answered (counted
// services.bad_mac): port security drops it at the bridge, as FromPort does on the userspace
// backend before these stages.
//
// Periodic advertisements: as on the userspace backend, an unsolicited RA is sent to a port when
// it is opened (RouterAdvertiser::Announce), and every RS is answered; there is no timer.
//
// Counters (Dump): dhcp.* and ra.* (the stages' own), services.<what> for the sockets; Drops():
// the stages' drop reasons by name (dhcp_malformed, dhcp_no_address, dhcp_not_answered,
// rs_not_answered, ra_from_port, pool_exhausted). services.*: received (frames read), ignored
// (read, taken by neither stage: cannot happen with the filter, counted if it does), bad_mac,
// send_errors, socket_errors, table_errors (a network pipeline::Tables refused).
//
// Threading: none; the kernel backend calls it on its loop thread only. Sockets are owned here
// and closed when their port is closed or the object goes; the caller polls fds() (epoll) and
// calls Read(fd) when one is readable. Never throws.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/expected.h"
#include "dswitch/io/file_descriptor.h"
#include "dswitch/packet/packet_pool.h"
#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/dhcp_responder.h"
#include "dswitch/pipeline/network_settings.h"
#include "dswitch/pipeline/router_advertiser.h"
#include "dswitch/pipeline/tables.h"
#include "net/ip_address.h"
#include "net/mac_address.h"

namespace dove::dswitch::kernel {

// Attaches the filter (see above) to socket `fd`: it then receives only the frames PortServices
// answers. Errors: SO_ATTACH_FILTER refused, as one sentence.
Expected<void, std::string> AttachServiceFilter(int fd);

// An AF_PACKET socket on `ifindex` that receives only what PortServices answers (see above),
// non-blocking. Errors: the socket, the filter or the bind, as one sentence.
Expected<io::FileDescriptor, std::string> OpenServiceSocket(int ifindex);

class PortServices {
 public:
  explicit PortServices(uint32_t overlay_mtu);
  PortServices(const PortServices&) = delete;
  PortServices& operator=(const PortServices&) = delete;

  // A network's settings (its subnets say what DHCP and RA give), or their change.
  void UpsertNetwork(const pipeline::NetworkSettings& settings);
  // Closes the network's ports' sockets and forgets the network.
  void RemoveNetwork(uint32_t vni);

  // Serves port `name` (interface index `ifindex`, in network `vni`, which must have been
  // upserted) with MAC `mac` and addresses `ips`: opens its socket unless it has one on that
  // ifindex, updates what it is given otherwise, and announces the router to it when it was
  // opened now. Returns the socket's fd when one was opened now (the caller adds it to its
  // epoll), -1 when the port already had it. Errors: the socket cannot be opened, or the port
  // is refused by pipeline::Tables (unknown network, a MAC another port of the network has);
  // the port is then not served.
  Expected<int, std::string> OpenPort(const std::string& name, int ifindex, uint32_t vni,
                                      const net::MacAddress& mac,
                                      const std::vector<net::IpAddress>& ips);
  // Stops serving port `name` (its socket is closed: epoll forgets it). Nothing when unknown.
  void ClosePort(const std::string& name);

  // Reads what is waiting on `fd` (one of the sockets OpenPort returned) and answers it.
  // False when `fd` is not one of ours.
  bool Read(int fd);

  std::map<std::string, uint64_t> Dump() const;
  std::map<std::string, uint64_t> Drops() const;
  size_t port_count() const { return ports_.size(); }

 private:
  struct Port {
    pipeline::PortId id = pipeline::kNoPort;
    int ifindex = 0;
    uint32_t vni = 0;
    net::MacAddress mac;
    io::FileDescriptor socket;
  };
  void Handle(Port& port, net::ByteSpan frame);
  void Send(const Port& port, pipeline::PacketBatch& replies);
  pipeline::PortId NewId();

  pipeline::Tables tables_;
  pipeline::Counters counters_;
  packet::PacketPool pool_;
  pipeline::DhcpResponder dhcp_;
  pipeline::RouterAdvertiser advertiser_;
  std::map<std::string, Port> ports_;  // by interface name
  std::map<int, std::string> by_fd_;
  std::vector<pipeline::PortId> free_ids_;
  pipeline::PortId next_id_ = 1;
  std::map<std::string, uint64_t> own_;  // services.*
  std::vector<uint8_t> buffer_;
};

}  // namespace dove::dswitch::kernel
