// PacketBatch: the handles a device gives in one receive or takes in one send, and what a
// stage filters in place or writes to one of its output gates. It holds handles only: the
// packets belong to whoever holds the batch, who frees them or passes them on.
//
// Storage is a vector reserved for kMaxBurst handles at construction and never shrunk, so in
// steady state no batch allocates; an output that grows beyond (a broadcast replicated to
// many ports) grows once and keeps the capacity.
//
//   PacketBatch batch;
//   device.Receive(pool, batch, counters);
//   batch.Retain([&](Packet* p) { return Allowed(*p) || (Drop(p), false); });
#pragma once

#include <cstddef>
#include <vector>

#include "dswitch/packet/packet.h"

namespace dove::dswitch::packet {

// The most packets one device call moves.
inline constexpr size_t kMaxBurst = 64;

class PacketBatch {
 public:
  PacketBatch() { packets_.reserve(kMaxBurst); }

  void Push(Packet* packet) { packets_.push_back(packet); }
  size_t size() const { return packets_.size(); }
  bool empty() const { return packets_.empty(); }
  // Forgets the handles (does not free the packets).
  void clear() { packets_.clear(); }
  Packet* operator[](size_t i) const { return packets_[i]; }
  Packet* const* begin() const { return packets_.data(); }
  Packet* const* end() const { return packets_.data() + packets_.size(); }

  // Keeps the packets for which `keep(packet)` returns true, in order. `keep` takes over the
  // packets it rejects (frees them, or pushes them to another batch).
  template <typename Keep>
  void Retain(Keep&& keep) {
    size_t kept = 0;
    for (size_t i = 0; i < packets_.size(); ++i) {
      Packet* packet = packets_[i];
      if (keep(packet)) packets_[kept++] = packet;
    }
    packets_.resize(kept);
  }

 private:
  std::vector<Packet*> packets_;
};

}  // namespace dove::dswitch::packet
