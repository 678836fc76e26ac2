// Counters: what the pipeline did, as plain 64-bit counters: drops by reason, and per port and
// per network the frames received, sent and dropped.
//
// Every drop goes through Drop(): it counts the reason, and the port and network the frame
// carries when they are set. A stage never discards a frame without calling it, so the sum of
// the reason counters is the number of frames the pipeline dropped.
//
// Not thread-safe: one Counters per pipeline (per thread, when there are several); the caller
// sums them for metrics. Maps grow on the first frame of a port or network.
//
//   counters.Drop(DropReason::kSourceMacSpoofed, frame);
//   for (const auto& [name, value] : counters.Dump()) Print(name, value);
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

#include "dswitch/pipeline/drop_reason.h"
#include "dswitch/pipeline/frame.h"

namespace dove::dswitch::pipeline {

struct PortCounters {
  uint64_t received = 0;  // frames that passed port security
  uint64_t sent = 0;      // frames delivered to the port (replies included)
  uint64_t dropped = 0;
};

struct NetworkCounters {
  uint64_t to_tunnel = 0;    // encapsulated frames (each replicated copy counts)
  uint64_t from_tunnel = 0;  // decapsulated frames accepted
  uint64_t dropped = 0;
};

class Counters {
 public:
  // Counts one dropped frame: its reason, and its port and network when set.
  void Drop(DropReason reason, const Frame& frame);

  void Received(PortId port) { ports_[port].received++; }
  void Sent(PortId port) { ports_[port].sent++; }
  void ToTunnel(uint32_t vni) { networks_[vni].to_tunnel++; }
  void FromTunnel(uint32_t vni) { networks_[vni].from_tunnel++; }

  uint64_t drops(DropReason reason) const { return drops_[static_cast<size_t>(reason)]; }
  uint64_t total_drops() const;
  // Zero counters for a port or network never seen.
  PortCounters port(PortId port) const;
  NetworkCounters network(uint32_t vni) const;

  // Every non-zero counter by name: "drop.<reason>", "port.<id>.{received,sent,dropped}",
  // "network.<vni>.{to_tunnel,from_tunnel,dropped}". Sorted by name.
  std::map<std::string, uint64_t> Dump() const;

 private:
  std::array<uint64_t, kDropReasonCount> drops_{};
  std::unordered_map<PortId, PortCounters> ports_;
  std::unordered_map<uint32_t, NetworkCounters> networks_;
};

}  // namespace dove::dswitch::pipeline
