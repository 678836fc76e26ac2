// ReturnFlows: the routed flows this switch let through, so that the packets coming back the
// other way pass although no policy rule allows them (REPLIES PASS: a TCP connection allowed
// from network A to network B gets its replies from B to A, which the default denies).
//
// Per-switch state. The sending switch remembers a flow when its router lets a packet out
// (egress) and the receiving switch when FromTunnel lets a routed frame in (ingress), so each
// of the two switches on the path recognises the replies: the replying VM's switch lets them
// out, the first switch lets them in. A flow is a FlowKey: (source VNI, destination VNI,
// source IP, destination IP, IP protocol, source port, destination port), ports for TCP/UDP,
// the echo identifier in both port fields for ICMP/ICMPv6 echo requests and replies, zero
// otherwise. A reply passes when its key reversed (VNIs, IPs and ports swapped) is remembered.
//
// Expiry: an entry not seen for `idle` (each packet of the flow, either direction, refreshes
// it) is gone: its slot is reused and its replies are judged by policy again. There is no TCP
// state tracking: a FIN does not end the entry, idleness does.
// Full: the table is preallocated (capacity rounded up to a power of two) and open-addressed
// with a bounded probe window; a new flow whose window holds only live entries is NOT
// remembered (Remember returns kFull, the router counts router.return_flows_full): the flow's
// own packets still pass, its replies are then judged by policy alone (denied by default).
// Flush forgets everything: the router flushes the table when any network's policies change,
// so a removed allow rule also stops the replies of the flows it admitted (at the cost of the
// replies of flows still allowed, until their next forward packet remembers them again).
//
// No allocation after construction; not thread-safe (one per pipeline thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "net/ip_address.h"

namespace dove::dswitch::pipeline {

struct FlowKey {
  uint32_t source_vni = 0;
  uint32_t destination_vni = 0;
  net::IpAddress source;
  net::IpAddress destination;
  uint8_t protocol = 0;
  uint16_t source_port = 0;
  uint16_t destination_port = 0;

  // The key of the packets going the other way.
  FlowKey Reversed() const {
    return {destination_vni, source_vni,       destination, source,
            protocol,        destination_port, source_port};
  }
  size_t Hash() const;
  friend bool operator==(const FlowKey&, const FlowKey&) = default;
};

class ReturnFlows {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kDefaultCapacity = size_t{1} << 16;
  static constexpr std::chrono::seconds kDefaultIdle{120};
  // Slots looked at from a key's home slot.
  static constexpr size_t kProbeWindow = 8;

  explicit ReturnFlows(size_t capacity = kDefaultCapacity,
                       std::chrono::nanoseconds idle = kDefaultIdle);

  enum class Remembered : uint8_t { kNew, kRefreshed, kFull };
  // Remembers that a packet of `key` went through at `now` (or refreshes the entry).
  Remembered Remember(const FlowKey& key, Clock::time_point now);
  // Whether the packet of `key` is a reply of a remembered flow (its reversed key is there and
  // fresh at `now`); refreshes that entry when it is.
  bool IsReply(const FlowKey& key, Clock::time_point now);
  // Forgets every flow.
  void Flush();

  // Live and expired entries not yet reused.
  size_t size() const { return used_; }
  size_t capacity() const { return slots_.size(); }
  std::chrono::nanoseconds idle() const { return idle_; }

 private:
  struct Slot {
    FlowKey key;
    Clock::time_point last_seen;
    bool used = false;
  };
  bool Fresh(const Slot& slot, Clock::time_point now) const {
    return slot.used && now - slot.last_seen < idle_;
  }
  Slot* Find(const FlowKey& key, Clock::time_point now);

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  std::chrono::nanoseconds idle_;
  size_t used_ = 0;
};

}  // namespace dove::dswitch::pipeline
