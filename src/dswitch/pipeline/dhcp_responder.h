// DhcpResponder: the switch's DHCPv4 server for its own ports (RFC 2131). Every UDP datagram
// to port 67 a VM sends is consumed here: DHCP never crosses the underlay, and a VM's only
// server is the switch its port is on.
//
// What a port is given is what the controller's IPAM gave its endpoint: the port's IPv4
// address (LocalPort::ips) that lies inside one of its network's IPv4 subnets (the first
// such address, in the order of the port's addresses; the subnet is the first that holds it).
// For each message:
//   - DISCOVER -> OFFER of that address;
//   - REQUEST -> ACK when the address it asks for (option 50, else ciaddr) is that address,
//     NAK otherwise (and when it asks for none). A REQUEST naming another server (option 54,
//     the SELECTING state after another server's offer) is not answered: the client chose
//     someone else (there is no one else, but RFC 2131 says so, and it stops after the NAK
//     it gets on its next try);
//   - INFORM -> ACK without lease (no yiaddr);
//   - RELEASE and DECLINE are absorbed and counted (the address stays the endpoint's: the IPAM
//     gave it, the switch cannot hand out another); a DECLINE is logged by the caller through
//     log_decline (the VM found its address in use: an address conflict in the network);
//   - a server's message (OFFER, ACK, NAK, or op BOOTREPLY) and whatever ParseDhcp refuses:
//     dhcp_malformed.
// The reply carries: subnet mask (1), broadcast address (28, prefixes up to /30), router (3,
// the subnet's gateway when it has one), DNS servers (6, the subnet's IPv4 ones), lease time
// (51, options.lease_seconds; T1/T2 defaults), interface MTU (26: the subnet's MTU, else the
// overlay MTU), server identifier (54).
//
// Server identifier: the subnet's gateway. A subnet without a gateway still needs one (RFC
// 2131: every OFFER and ACK carries it, and clients send it back): the subnet's last host
// address (the one below the subnet broadcast; below that when it is the port's own; the
// other address of a /31). It need not be reachable: a renewal unicast to it still leaves the
// VM through its port, where this stage takes every datagram to port 67 whatever its
// destination; if the VM cannot resolve its MAC, the client rebinds by broadcast at T2, which
// is answered the same. A /32 subnet has no other address: dhcp_no_address.
// The reply's Ethernet source is the network's router MAC. It goes to the asking port only
// (meta.out_port = meta.in_port), addressed as net::BuildDhcpReplyFrame says (RFC 2131 4.1).
//
// Two tenants with the same subnet get their own answers by construction: the answer is made
// from the asking port's own entry and its own network's subnets, never looked up by address.
//
// Drops (every consumed datagram not answered): dhcp_malformed, dhcp_no_address (the port has
// no IPv4 address in an IPv4 subnet of its network; a /32 subnet), dhcp_not_answered (RELEASE,
// DECLINE, a REQUEST for another server, a relayed request, a reply the builders refuse),
// pool_exhausted. Replies are built on the slow path (net::BuildDhcpReplyFrame allocates):
// each is counted in replies_built.
//
// Reads `tables`, writes `counters`, takes reply packets from and frees consumed ones to
// `pool`; all outlive the stage. Never throws.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "dswitch/pipeline/counters.h"
#include "dswitch/pipeline/drop_reason.h"
#include "dswitch/pipeline/packet_types.h"
#include "dswitch/pipeline/tables.h"
#include "net/ipv4_address.h"
#include "net/mac_address.h"

namespace dove::dswitch::pipeline {

struct DhcpResponderOptions {
  uint32_t lease_seconds = 3600;  // option 51 of every OFFER and ACK
  uint32_t overlay_mtu = 1450;    // option 26 when the subnet sets no MTU
  // Called for each DECLINE: the port, and the address the VM says is in use.
  std::function<void(PortId port, const net::Ipv4Address& address)> log_decline{};
};

// What the responder saw and answered, by message type.
struct DhcpCounters {
  uint64_t discover = 0;
  uint64_t request = 0;
  uint64_t inform = 0;
  uint64_t release = 0;
  uint64_t decline = 0;
  uint64_t offer = 0;          // sent
  uint64_t ack = 0;            // sent
  uint64_t nak = 0;            // sent
  uint64_t replies_built = 0;  // slow-path (allocating) reply builds

  // "dhcp.<name>" for each counter, zero ones too.
  std::map<std::string, uint64_t> Dump() const;
};

// The address a port is given and the subnet it is in (nullopt: none, or a /32 subnet).
struct DhcpLease {
  net::Ipv4Address address;
  const SubnetSettings* subnet = nullptr;
  net::Ipv4Address server_id;
};
std::optional<DhcpLease> LeaseFor(const LocalPort& port, const NetworkTables& network);

class DhcpResponder final {
 public:
  DhcpResponder(const Tables& tables, Counters& counters, PacketPool& pool,
                DhcpResponderOptions options = {})
      : tables_(tables), counters_(counters), pool_(pool), options_(std::move(options)) {}

  // Takes every UDP-to-67 packet out of `batch` (classified, meta.in_port and meta.vni set, as
  // FromPort leaves them); appends the replies to `replies`.
  void Process(PacketBatch& batch, PacketBatch& replies);

  void set_overlay_mtu(uint32_t mtu) { options_.overlay_mtu = mtu; }
  const DhcpCounters& counters() const { return dhcp_counters_; }

 private:
  // nullopt: answered (the reply is in reply_); else why not.
  std::optional<DropReason> Handle(const Packet& packet);

  const Tables& tables_;
  Counters& counters_;
  PacketPool& pool_;
  DhcpResponderOptions options_;
  DhcpCounters dhcp_counters_;
  std::vector<uint8_t> reply_;
};

// Whether `packet` (classified) is IPv4 UDP to port 67: what DhcpResponder takes.
bool IsToDhcpServer(const Packet& packet);

}  // namespace dove::dswitch::pipeline
