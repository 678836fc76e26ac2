#include "dswitch/offload/partial_checksum.h"

#include <cstddef>

#include "dswitch/offload/tcp_frame.h"
#include "net/checksum.h"

namespace dove::dswitch::offload {

Expected<void, const char*> FinishChecksum(packet::Packet& packet) {
  if (!packet.offload.csum_partial) return {};
  const size_t start = packet.offload.csum_start;
  const size_t field = start + packet.offload.csum_offset;
  if (field + 2 > packet.size()) return Unexpected("the partial checksum's field lies outside");
  const net::MutableByteSpan bytes = packet.mutable_span();
  const uint16_t checksum = net::ChecksumFold(net::ChecksumAdd(bytes.subspan(start)));
  Store16(bytes, field, checksum == 0 ? 0xffff : checksum);
  packet.offload.csum_partial = false;
  packet.offload.csum_start = 0;
  packet.offload.csum_offset = 0;
  return {};
}

}  // namespace dove::dswitch::offload
