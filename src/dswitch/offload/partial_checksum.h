// FinishChecksum: completes a partial checksum (OffloadInfo::csum_partial) in software, for an
// egress that cannot (a device without checksum offload, a frame that leaves the switch's
// reach). Linux's convention (skb_checksum_help): the 16-bit field at csum_start + csum_offset
// holds the folded, uncomplemented pseudo-header sum; the checksum is the complement of the
// ones'-complement sum of everything from csum_start to the end of the frame, field included,
// and a result of 0 is written as 0xffff.
//
//   if (p->offload.csum_partial && !FinishChecksum(*p)) return Drop(...);
#pragma once

#include "base/expected.h"
#include "dswitch/packet/packet.h"

namespace dove::dswitch::offload {

// Writes the checksum and clears csum_partial. A packet without csum_partial is left alone.
// Errors (nothing changed): the field lies outside the packet.
Expected<void, const char*> FinishChecksum(packet::Packet& packet);

}  // namespace dove::dswitch::offload
