// FitToCaps: what a device does, before sending, to a packet the next hop cannot take as it
// is: a TCP super-frame for a device without tso becomes its wire segments
// (offload::SegmentTcp), a partial checksum for a device without csum_partial is finished
// (offload::FinishChecksum). What reaches the wire is then always valid (device.h's contract).
//
// `prefix` is the number of bytes in front of the frame the packet's OffloadInfo describes:
// 0 for a port's frame, 8 for an underlay packet (its VXLAN header, which every segment gets a
// copy of). At most Packet::kDefaultHeadroom.
//
// Takes `packet`: appends it, or its segments, to `out`; or frees it to `pool` and counts the
// drop (sw_offload_failed: headers that do not parse, checksum offsets outside the frame, no
// slot for the segments). Returns how many packets were appended (0: dropped). Allocates
// nothing but pool slots.
//
//   for (Packet* p : batch) FitToCaps(p, caps(), /*prefix=*/0, pool, ready, counters);
#pragma once

#include <cstddef>

#include "dswitch/io/device.h"
#include "dswitch/io/io_counters.h"
#include "dswitch/packet/packet_batch.h"
#include "dswitch/packet/packet_pool.h"

namespace dove::dswitch::io {

size_t FitToCaps(packet::Packet* packet, const DeviceCaps& caps, size_t prefix,
                 packet::PacketPool& pool, packet::PacketBatch& out, IoCounters& counters);

}  // namespace dove::dswitch::io
