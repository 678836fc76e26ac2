#include "dswitch/offload/tcp_segmenter.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "dswitch/offload/tcp_frame.h"
#include "net/checksum.h"
#include "net/ipv6.h"
#include "net/tcp.h"

namespace dove::dswitch::offload {

namespace {

// A super-frame found fit to cut: its layout and what every segment derives from.
struct Plan {
  TcpFrame frame;
  size_t mss = 0;
  size_t count = 0;  // segments

  size_t payload_length(size_t i) const { return std::min(mss, frame.payload_size() - i * mss); }
  size_t segment_size(size_t i) const { return frame.header_size() + payload_length(i); }
};

Expected<Plan, const char*> PlanSegments(const packet::Packet& super) {
  const packet::OffloadInfo& offload = super.offload;
  if (!offload.is_gso()) return Unexpected("not a GSO packet");
  if (offload.gso_size < packet::VirtioNetHeader::kMinGsoSize) {
    return Unexpected("gso_size below the smallest MSS");
  }
  auto frame = ParseTcpFrame(super.span());
  if (!frame) return Unexpected(frame.error());
  if (frame->ipv6 != (offload.gso == packet::GsoType::kTcp6)) {
    return Unexpected("the GSO type names another IP version");
  }
  if (offload.csum_partial &&
      (offload.csum_start != frame->tcp_at || offload.csum_offset != TcpFrame::kTcpChecksumAt)) {
    return Unexpected("the partial checksum is not the TCP checksum");
  }
  Plan plan{.frame = *frame, .mss = offload.gso_size};
  const size_t payload = frame->payload_size();
  plan.count = payload == 0 ? 1 : (payload + plan.mss - 1) / plan.mss;
  return plan;
}

// Writes segment `i` of `super` (planned as `plan`) to `out`, exactly plan.segment_size(i)
// bytes: what Linux's tcp_gso_segment and inet_gso_segment / ipv6_gso_segment make of it.
void WriteSegment(const Plan& plan, net::ByteSpan super, size_t i, net::MutableByteSpan out) {
  const TcpFrame& f = plan.frame;
  const size_t headers = f.header_size();
  const size_t length = plan.payload_length(i);
  const size_t offset = i * plan.mss;
  std::memcpy(out.data(), super.data(), headers);
  if (length != 0) std::memcpy(out.data() + headers, super.data() + f.payload_at + offset, length);

  uint8_t flags = super[f.tcp_at + TcpFrame::kTcpFlagsAt];
  if (i + 1 != plan.count) {
    flags &= static_cast<uint8_t>(~(net::tcp_flag::kFin | net::tcp_flag::kPsh));
  }
  if (i != 0) flags &= static_cast<uint8_t>(~net::tcp_flag::kCwr);
  out[f.tcp_at + TcpFrame::kTcpFlagsAt] = flags;
  const uint32_t sequence =
      net::LoadHeader<net::Be32>(super.subspan(f.tcp_at + TcpFrame::kTcpSequenceAt))->value();
  net::StoreHeader(out.subspan(f.tcp_at + TcpFrame::kTcpSequenceAt),
                   net::Be32::Of(sequence + static_cast<uint32_t>(offset)));

  const size_t segment_size = headers + length;
  if (!f.ipv6) {
    const uint16_t id = Load16(super, f.ip_at + TcpFrame::kIpv4IdAt);
    Store16(out, f.ip_at + TcpFrame::kIpv4TotalLengthAt,
            static_cast<uint16_t>(segment_size - f.ip_at));
    Store16(out, f.ip_at + TcpFrame::kIpv4IdAt, static_cast<uint16_t>(id + i));
    Store16(out, f.ip_at + TcpFrame::kIpv4ChecksumAt, 0);
    Store16(out, f.ip_at + TcpFrame::kIpv4ChecksumAt,
            net::InternetChecksum(out.subspan(f.ip_at, f.tcp_at - f.ip_at)));
  } else {
    Store16(out, f.ip_at + TcpFrame::kIpv6PayloadLengthAt,
            static_cast<uint16_t>(segment_size - f.ip_at - sizeof(net::Ipv6Header)));
  }
  const net::MutableByteSpan tcp = out.subspan(f.tcp_at, segment_size - f.tcp_at);
  Store16(out, f.tcp_at + TcpFrame::kTcpChecksumAt, f.TcpChecksum(tcp));
}

}  // namespace

Expected<size_t, const char*> SegmentTcp(const packet::Packet& super, packet::PacketPool& pool,
                                         packet::PacketBatch& out) {
  const auto plan = PlanSegments(super);
  if (!plan) return Unexpected(plan.error());
  const size_t first = out.size();
  if (!pool.AllocBatch(plan->segment_size(0), plan->count, out)) {
    return Unexpected("the pool has no room for the segments");
  }
  for (size_t i = 0; i < plan->count; ++i) {
    packet::Packet& segment = *out[first + i];
    segment.Resize(plan->segment_size(i));  // fits: allocated for the largest, segment 0
    WriteSegment(*plan, super.span(), i, segment.mutable_span());
    segment.meta = super.meta;
  }
  return plan->count;
}

size_t TcpSegmentCount(const packet::Packet& super) {
  const auto plan = PlanSegments(super);
  return plan ? plan->count : 0;
}

Expected<UdpGsoLayout, const char*> LayoutUdpGso(const packet::Packet& super, net::ByteSpan prefix,
                                                 size_t first_segment, size_t max_segments,
                                                 net::MutableByteSpan out) {
  const auto plan = PlanSegments(super);
  if (!plan) return Unexpected(plan.error());
  if (first_segment >= plan->count) return Unexpected("no segment left from first_segment");
  UdpGsoLayout layout{.segment_size = prefix.size() + plan->frame.header_size() + plan->mss};
  size_t i = first_segment;
  for (; i < plan->count && layout.segments < max_segments; ++i) {
    const size_t size = plan->segment_size(i);
    if (out.size() - layout.bytes < prefix.size() + size) break;
    const net::MutableByteSpan datagram = out.subspan(layout.bytes, prefix.size() + size);
    if (!prefix.empty()) std::memcpy(datagram.data(), prefix.data(), prefix.size());
    WriteSegment(*plan, super.span(), i, datagram.subspan(prefix.size()));
    layout.bytes += datagram.size();
    layout.segments++;
  }
  if (layout.segments == 0) return Unexpected("not one segment fits");
  layout.next_segment = i;
  return layout;
}

}  // namespace dove::dswitch::offload
