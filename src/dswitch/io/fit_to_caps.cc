#include "dswitch/io/fit_to_caps.h"

#include <array>
#include <cstring>

#include "dswitch/offload/partial_checksum.h"
#include "dswitch/offload/tcp_segmenter.h"

namespace dove::dswitch::io {

namespace {

size_t Drop(packet::Packet* packet, packet::PacketPool& pool, IoCounters& counters) {
  pool.Free(packet);
  counters.sw_offload_failed++;
  return 0;
}

}  // namespace

size_t FitToCaps(packet::Packet* packet, const DeviceCaps& caps, size_t prefix,
                 packet::PacketPool& pool, packet::PacketBatch& out, IoCounters& counters) {
  if (prefix > packet::Packet::kDefaultHeadroom || packet->size() < prefix) {
    return Drop(packet, pool, counters);
  }
  if (packet->offload.is_gso() && !caps.tso) {
    std::array<uint8_t, packet::Packet::kDefaultHeadroom> head{};
    std::memcpy(head.data(), packet->data(), prefix);
    packet->Strip(prefix);
    const size_t first = out.size();
    const auto segments = offload::SegmentTcp(*packet, pool, out);
    if (!segments) return Drop(packet, pool, counters);
    pool.Free(packet);
    // Fresh packets have kDefaultHeadroom bytes in front: Prepend cannot fail.
    for (size_t i = first; i < out.size(); ++i)
      std::memcpy(out[i]->Prepend(prefix), head.data(), prefix);
    counters.sw_segmented++;
    counters.sw_segments += *segments;
    return *segments;
  }
  if (packet->offload.csum_partial && !caps.csum_partial) {
    packet->Strip(prefix);
    const auto finished = offload::FinishChecksum(*packet);
    packet->Prepend(prefix);  // the bytes are still there: this undoes the Strip
    if (!finished) return Drop(packet, pool, counters);
    counters.sw_csum_finished++;
  }
  out.Push(packet);
  return 1;
}

}  // namespace dove::dswitch::io
