// ParkingLot: unicast packets to a MAC nobody is known to have, held while the switch asks the
// controller where it is (DESIGN.md: an unknown unicast is resolved, not flooded).
//
// L2Forward parks them; the switch, once a resolve answers (or times out), takes the VNI's
// packets back and runs them through L2Forward again (found: forwarded; still unknown: parked
// again, or dropped by the switch when it gives up). Each VNI holds at most `per_vni` packets,
// so one network's scan of unknown addresses cannot take another's room; the packet that does
// not fit is refused and the caller drops it (park_overflow).
//
// Ownership: a parked packet belongs to the lot until Take gives it back; the lot never frees
// one (it has no pool), so its owner takes everything out (TakeAll) before destroying it.
// Storage: one vector of `per_vni` handles per VNI, reserved when the VNI first parks (cold)
// and kept afterwards, so parking allocates nothing in steady state.
//
// Not thread-safe; owned by the pipeline's caller.
//
//   if (!parking.Park(packet)) DropPacket(DropReason::kParkOverflow, packet, counters, pool);
//   ...
//   parking.Take(vni, retry);   // then L2Forward::Process(retry, ...)
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "dswitch/pipeline/packet_types.h"

namespace dove::dswitch::pipeline {

class ParkingLot {
 public:
  static constexpr size_t kDefaultPerVni = 64;

  explicit ParkingLot(size_t per_vni = kDefaultPerVni) : per_vni_(per_vni) {}

  // Takes `packet` (its meta.vni set) in; false, and the packet still the caller's, when its
  // VNI's lot is full.
  bool Park(Packet* packet);
  // Appends every packet parked for `vni` to `out`, in the order they came.
  void Take(uint32_t vni, PacketBatch& out);
  // Appends every parked packet to `out` (shutdown, or a network removed wholesale).
  void TakeAll(PacketBatch& out);
  size_t size(uint32_t vni) const;
  size_t size() const { return total_; }

 private:
  size_t per_vni_;
  size_t total_ = 0;
  std::unordered_map<uint32_t, std::vector<Packet*>> lots_;
};

}  // namespace dove::dswitch::pipeline
