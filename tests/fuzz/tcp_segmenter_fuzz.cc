// Fuzzes SegmentTcp, TcpSegmentCount and LayoutUdpGso (src/dswitch/offload/tcp_segmenter.h):
// what the switch does to every TCP super-frame a VM hands over when the egress takes none.
// Nothing may crash or read outside the input; when SegmentTcp accepts, it made exactly
// TcpSegmentCount segments, each a valid Ethernet / IP / TCP frame with valid checksums, no
// payload larger than gso_size and only the last one shorter, payloads adding up to the
// super-frame's; LayoutUdpGso, called until next_segment reaches the count, lays out the same
// segments behind the prefix; every packet goes back to the pool.
//
// Input: a 10-byte virtio-net header (host byte order), the rest the frame. Seeds:
// make_tcp_segmenter_seeds.py (hand-made) and make_tcp_coalescer_seeds.py (the kernel's).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dswitch/offload/tcp_frame.h"
#include "dswitch/offload/tcp_segmenter.h"
#include "dswitch/packet/offload_info.h"
#include "dswitch/packet/packet_pool.h"

namespace {

namespace offload = dove::dswitch::offload;
namespace packet = dove::dswitch::packet;
namespace net = dove::net;

void Require(bool condition) {
  if (!condition) std::abort();
}

// The TCP payload size of a valid wire segment; aborts when it is not one.
size_t CheckSegment(net::ByteSpan frame, bool ipv6) {
  const auto tcp = offload::ParseTcpFrame(frame);
  Require(tcp.has_value());
  Require(tcp->ipv6 == ipv6);
  Require(tcp->payload_end == frame.size());
  Require(tcp->ChecksumsVerify(frame));
  return tcp->payload_size();
}

packet::PacketPool& Pool() {
  // Enough for the most segments a 64 KiB frame with gso_size 48 makes, and a few large ones.
  static packet::PacketPool pool({.small_slots = 1500, .large_slots = 8});
  return pool;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < sizeof(packet::VirtioNetHeader)) return 0;
  packet::VirtioNetHeader header;
  std::memcpy(&header, data, sizeof(header));
  const net::ByteSpan frame(data + sizeof(header), size - sizeof(header));
  const auto info = packet::FromVirtio(header, frame.size());
  if (!info) return 0;
  packet::PacketPool& pool = Pool();
  const size_t in_use = pool.in_use();
  packet::Packet* super = pool.Alloc(frame.size());
  if (super == nullptr || !super->Assign(frame)) {
    pool.Free(super);
    return 0;
  }
  super->offload = *info;
  const size_t count = offload::TcpSegmentCount(*super);
  packet::PacketBatch segments;
  const auto made = offload::SegmentTcp(*super, pool, segments);
  Require(made.has_value() == (count != 0));
  if (made) {
    Require(*made == count && segments.size() == count);
    const bool ipv6 = info->gso == packet::GsoType::kTcp6;
    size_t payload = 0;
    for (size_t i = 0; i < count; ++i) {
      const size_t length = CheckSegment(segments[i]->span(), ipv6);
      Require(length <= info->gso_size);
      Require(i + 1 == count || length == info->gso_size);
      Require(!segments[i]->offload.is_gso() && !segments[i]->offload.csum_partial);
      payload += length;
    }
    const auto parsed = offload::ParseTcpFrame(frame);
    Require(parsed.has_value() && parsed->payload_size() == payload);

    static std::vector<uint8_t> buffer(65507 - 28);
    const uint8_t prefix[8] = {0x08, 0, 0, 0, 0, 0, 42, 0};
    size_t next = 0;
    while (next < count) {
      const auto layout = offload::LayoutUdpGso(*super, prefix, next, 64, buffer);
      Require(layout.has_value());
      Require(layout->segments > 0 && layout->segments <= 64);
      Require(layout->next_segment == next + layout->segments);
      size_t at = 0;
      for (size_t i = next; i < layout->next_segment; ++i) {
        const packet::Packet& segment = *segments[i];
        Require(std::memcmp(buffer.data() + at, prefix, sizeof(prefix)) == 0);
        Require(i + 1 == count || sizeof(prefix) + segment.size() == layout->segment_size);
        Require(std::memcmp(buffer.data() + at + sizeof(prefix), segment.data(), segment.size()) ==
                0);
        at += sizeof(prefix) + segment.size();
      }
      Require(at == layout->bytes);
      next = layout->next_segment;
    }
  }
  pool.Free(segments);
  pool.Free(super);
  Require(pool.in_use() == in_use);
  return 0;
}
