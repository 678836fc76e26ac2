#include "dswitch/packet/offload_info.h"

namespace dove::dswitch::packet {

Expected<OffloadInfo, const char*> FromVirtio(const VirtioNetHeader& header, size_t frame_size) {
  OffloadInfo offload;
  offload.csum_valid = (header.flags & VirtioNetHeader::kDataValid) != 0;
  if ((header.flags & VirtioNetHeader::kNeedsCsum) != 0) {
    // The 2-byte field must lie inside the frame.
    if (static_cast<size_t>(header.csum_start) + header.csum_offset + 2 > frame_size) {
      return Unexpected("checksum offsets outside the frame");
    }
    offload.csum_partial = true;
    offload.csum_start = header.csum_start;
    offload.csum_offset = header.csum_offset;
  }
  switch (header.gso_kind()) {
    case VirtioNetHeader::kGsoNone:
      return offload;
    case VirtioNetHeader::kGsoTcpV4:
      offload.gso = GsoType::kTcp4;
      break;
    case VirtioNetHeader::kGsoTcpV6:
      offload.gso = GsoType::kTcp6;
      break;
    default:
      return Unexpected("UDP or unknown GSO type");
  }
  if (header.gso_size < VirtioNetHeader::kMinGsoSize) return Unexpected("gso_size below 48");
  if (!offload.csum_partial) return Unexpected("GSO frame without NEEDS_CSUM");
  offload.gso_ecn = (header.gso_type & VirtioNetHeader::kGsoEcn) != 0;
  offload.gso_size = header.gso_size;
  return offload;
}

VirtioNetHeader ToVirtio(const OffloadInfo& offload, uint16_t header_length) {
  VirtioNetHeader header;
  if (offload.csum_partial) {
    header.flags = VirtioNetHeader::kNeedsCsum;
    header.csum_start = offload.csum_start;
    header.csum_offset = offload.csum_offset;
  } else if (offload.csum_valid) {
    header.flags = VirtioNetHeader::kDataValid;
  }
  switch (offload.gso) {
    case GsoType::kNone:
      return header;
    case GsoType::kTcp4:
      header.gso_type = VirtioNetHeader::kGsoTcpV4;
      break;
    case GsoType::kTcp6:
      header.gso_type = VirtioNetHeader::kGsoTcpV6;
      break;
  }
  if (offload.gso_ecn) header.gso_type |= VirtioNetHeader::kGsoEcn;
  header.gso_size = offload.gso_size;
  header.hdr_len = header_length;
  return header;
}

}  // namespace dove::dswitch::packet
