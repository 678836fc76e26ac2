// Counters: what the pipeline did, as plain 64-bit counters: drops by reason, and per port and
// per network the packets (and their bytes) received, sent and dropped.
//
// Every drop goes through Drop() (usually through DropPacket, which also frees the packet): it
// counts the reason, and the port and network the packet carries when they are set. A stage
// never frees a packet without counting it, so the sum of the reason counters is the number of
// packets the pipeline dropped.
//
// Storage is dense, so counting costs a few array indexes and no hash: per-port counters in a
// vector indexed by PortId (the datapath numbers its ports from 1, and reuses them), per-network
// counters in a vector of slots, found from the VNI through a two-level table (VNI >> 12, then
// VNI & 0xfff). Both grow the first time a port or a VNI is counted (a cold, out-of-line path:
// once per port or network, never per packet in steady state). Port ids from kMaxPortId up and
// VNIs over 24 bits are not counted per port / per network (they are bugs; their drops still
// count by reason).
//
// Not thread-safe: one Counters per pipeline (per thread, when there are several); the caller
// sums them for metrics.
//
//   DropPacket(DropReason::kSourceMacSpoofed, packet, counters, pool);
//   for (const auto& [name, value] : counters.Dump()) Print(name, value);
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dswitch/pipeline/drop_reason.h"
#include "dswitch/pipeline/packet_types.h"
#include "dswitch/pipeline/trace_sink.h"

namespace dove::dswitch::pipeline {

// Bytes are the Ethernet frame's (header and payload, no FCS; a TCP super-frame counts all its
// bytes once), counted where the frame is: one add beside the frame count.
struct PortCounters {
  uint64_t received = 0;  // packets that passed port security
  uint64_t sent = 0;      // packets delivered to the port (replies included)
  uint64_t dropped = 0;
  uint64_t received_bytes = 0;
  uint64_t sent_bytes = 0;
};

struct NetworkCounters {
  uint64_t to_tunnel = 0;    // encapsulated packets (each replicated copy counts)
  uint64_t from_tunnel = 0;  // decapsulated packets accepted
  uint64_t redirected = 0;   // sent on to an endpoint that moved away (redirect_table.h)
  uint64_t dropped = 0;
  // The inner frames' bytes of to_tunnel and from_tunnel (no VXLAN, UDP or IP header).
  uint64_t to_tunnel_bytes = 0;
  uint64_t from_tunnel_bytes = 0;
};

// What the distributed router did besides dropping (router.h, policy_gate.h).
struct RouterCounters {
  uint64_t routed = 0;              // packets forwarded to another subnet
  uint64_t echo_replies = 0;        // pings to a gateway address answered
  uint64_t icmp_errors = 0;         // ICMP errors sent (slow path: each allocates)
  uint64_t icmp_rate_limited = 0;   // errors and echo replies not sent: over the rate limit
  uint64_t return_flow_passed = 0;  // packets no rule allowed, passed as replies
  uint64_t return_flows_full = 0;   // allowed flows the return-flow table had no room for
};

class Counters {
 public:
  // Port ids this high and above are not counted per port.
  static constexpr PortId kMaxPortId = 1U << 20;

  // Counts one dropped packet: its reason; its port (meta.out_port when set: the port it was
  // going to, else meta.in_port); its network (meta.vni) when set. A traced packet's drop is
  // also told to the trace sink.
  void Drop(DropReason reason, const Packet& packet);
  // Where traced packets' notes go (trace_sink.h); null (the default): nowhere.
  void SetTraceSink(TraceSink* sink) { trace_sink_ = sink; }
  // Tells the sink what a stage did to the traced `packet` (callers check meta.trace first).
  void Trace(const Packet& packet, TraceNote note) {
    if (trace_sink_ != nullptr) trace_sink_->Note(packet, std::move(note));
  }
  // Counts `count` packets dropped for `reason` after they left the pipeline's hands (a device
  // refused them and freed them): against `port` and `vni` when they are not kNoPort/kNoVni.
  void Drops(DropReason reason, uint64_t count, PortId port, uint32_t vni);

  // One frame of `bytes` (its Ethernet frame's size) from / to a port, into / out of the tunnel.
  void Received(PortId port, size_t bytes) {
    PortCounters& counters = MutablePort(port);
    counters.received++;
    counters.received_bytes += bytes;
  }
  void Sent(PortId port, size_t bytes) {
    PortCounters& counters = MutablePort(port);
    counters.sent++;
    counters.sent_bytes += bytes;
  }
  void ToTunnel(uint32_t vni, size_t bytes) {
    NetworkCounters& counters = MutableNetwork(vni);
    counters.to_tunnel++;
    counters.to_tunnel_bytes += bytes;
  }
  void FromTunnel(uint32_t vni, size_t bytes) {
    NetworkCounters& counters = MutableNetwork(vni);
    counters.from_tunnel++;
    counters.from_tunnel_bytes += bytes;
  }
  void Redirected(uint32_t vni) { MutableNetwork(vni).redirected++; }

  RouterCounters& router() { return router_; }
  const RouterCounters& router() const { return router_; }
  // Counts one packet denied by the policy `id` (the id's first count allocates its entry;
  // later ones only hash it).
  void PolicyDenied(const std::string& id);
  uint64_t policy_denied(const std::string& id) const;

  // Makes room for a port's counters ahead of its traffic (optional: counting grows too).
  void AddPort(PortId port) { MutablePort(port); }

  uint64_t drops(DropReason reason) const { return drops_[static_cast<size_t>(reason)]; }
  uint64_t total_drops() const;
  // Zero counters for a port or network never seen.
  PortCounters port(PortId port) const;
  NetworkCounters network(uint32_t vni) const;

  // Every non-zero counter by name: "drop.<reason>",
  // "port.<id>.{received,sent,dropped,received_bytes,sent_bytes}",
  // "network.<vni>.{to_tunnel,from_tunnel,redirected,dropped,to_tunnel_bytes,from_tunnel_bytes}",
  // "router.<what>",
  // "policy.<id>.denied". Sorted by name.
  std::map<std::string, uint64_t> Dump() const;

 private:
  static constexpr uint32_t kPageBits = 12;
  static constexpr uint32_t kPageSize = 1U << kPageBits;
  static constexpr uint32_t kPages = 1U << (24 - kPageBits);

  PortCounters& MutablePort(PortId port) {
    return port < ports_.size() ? ports_[port] : GrowPorts(port);
  }
  NetworkCounters& MutableNetwork(uint32_t vni) {
    const uint32_t slot = Slot(vni);
    return slot != 0 ? networks_[slot - 1] : AddNetwork(vni);
  }
  // 1 + the index in networks_ of `vni`'s counters; 0 when it has none.
  uint32_t Slot(uint32_t vni) const {
    if ((vni >> 24) != 0 || page_of_.empty()) return 0;
    const uint32_t page = page_of_[vni >> kPageBits];
    return page == 0 ? 0 : slots_[(page - 1) * kPageSize + (vni & (kPageSize - 1))];
  }
  // The cold paths: the first time a port or network is counted.
  PortCounters& GrowPorts(PortId port);
  NetworkCounters& AddNetwork(uint32_t vni);

  TraceSink* trace_sink_ = nullptr;
  std::array<uint64_t, kDropReasonCount> drops_{};
  RouterCounters router_;
  std::unordered_map<std::string, uint64_t> policy_denied_;
  std::vector<PortCounters> ports_;  // by PortId
  // VNI -> slot: page_of_[vni >> 12] is 1 + a page of slots_ (0: none); within the page,
  // slots_[...] is 1 + an index in networks_ (0: none).
  std::vector<uint32_t> page_of_;
  std::vector<uint32_t> slots_;
  std::vector<NetworkCounters> networks_;
  std::vector<uint32_t> network_vnis_;  // the VNI of each networks_ entry
  // Where what is not counted per port / per network goes.
  PortCounters port_sink_;
  NetworkCounters network_sink_;
};

// Counts `packet` as dropped for `reason` and gives it back to `pool`: how every stage discards
// a packet, so none is ever freed uncounted.
void DropPacket(DropReason reason, Packet* packet, Counters& counters, PacketPool& pool);

}  // namespace dove::dswitch::pipeline
