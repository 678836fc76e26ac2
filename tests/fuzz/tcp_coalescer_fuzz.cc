// Fuzzes TcpCoalescer (src/dswitch/offload/tcp_coalescer.h), what the switch does to every
// batch of inner frames from the underlay. The batch is made mergeable on purpose: a super-
// frame cut by SegmentTcp, then damaged by a script of byte flips, swaps, copies, drops and
// metadata changes, plus the raw frame itself. Nothing may crash or read outside the input; no
// packet may be lost or duplicated (every input is either in the output, untouched, or counted
// as merged; the pool's in_use returns to where it started); every merged output is a
// super-frame SegmentTcp accepts whose segments all verify.
//
// Input: a 10-byte virtio-net header (host byte order), a 2-byte big-endian frame length, the
// frame, then 4-byte script steps {op, packet index, position, value}.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dswitch/offload/tcp_coalescer.h"
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

packet::PacketPool& Pool() {
  static packet::PacketPool pool({.small_slots = 4096, .large_slots = 64});
  return pool;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < sizeof(packet::VirtioNetHeader) + 2) return 0;
  packet::VirtioNetHeader header;
  std::memcpy(&header, data, sizeof(header));
  size_t at = sizeof(header);
  const size_t frame_size = std::min<size_t>(size_t{data[at]} << 8 | data[at + 1], size - at - 2);
  at += 2;
  const net::ByteSpan frame(data + at, frame_size);
  at += frame_size;
  const net::ByteSpan script(data + at, size - at);

  packet::PacketPool& pool = Pool();
  const size_t in_use = pool.in_use();
  packet::PacketBatch batch;
  packet::Packet* raw = pool.Alloc(frame.size());
  if (raw == nullptr || !raw->Assign(frame)) {
    pool.Free(raw);
    return 0;
  }
  const auto info = packet::FromVirtio(header, frame.size());
  if (info && info->is_gso()) {
    raw->offload = *info;
    if (!offload::SegmentTcp(*raw, pool, batch)) batch.clear();
    raw->offload = {};
  }
  batch.Push(raw);

  for (size_t s = 0; s + 4 <= script.size() && !batch.empty(); s += 4) {
    const uint8_t op = script[s] % 5;
    const size_t index = script[s + 1] % batch.size();
    packet::Packet* p = batch[index];
    const uint8_t value = script[s + 3];
    std::vector<packet::Packet*> packets(batch.begin(), batch.end());
    switch (op) {
      case 0:  // flip bits of one byte
        if (!p->empty()) p->data()[script[s + 2] * p->size() / 256] ^= value;
        break;
      case 1:  // swap with the next
        std::swap(packets[index], packets[(index + 1) % packets.size()]);
        break;
      case 2:  // duplicate
        if (packet::Packet* copy = packet::Clone(*p, pool)) {
          packets.insert(packets.begin() + static_cast<std::ptrdiff_t>(index), copy);
        }
        break;
      case 3:  // drop
        pool.Free(p);
        packets.erase(packets.begin() + static_cast<std::ptrdiff_t>(index));
        break;
      case 4:  // another destination
        p->meta.out_port = value % 3;
        break;
    }
    batch.clear();
    for (packet::Packet* q : packets) batch.Push(q);
  }

  const std::vector<packet::Packet*> inputs(batch.begin(), batch.end());
  offload::TcpCoalescer coalescer(pool);
  coalescer.Process(batch);
  const offload::CoalescerCounters& counters = coalescer.counters();
  size_t passed = 0;
  size_t merged = 0;
  for (packet::Packet* p : batch) {
    // Each output at most once.
    Require(std::count(batch.begin(), batch.end(), p) == 1);
    if (std::find(inputs.begin(), inputs.end(), p) != inputs.end()) {
      ++passed;
      continue;
    }
    ++merged;
    Require(p->offload.is_gso() && p->offload.csum_partial);
    const size_t count = offload::TcpSegmentCount(*p);
    Require(count >= 2);
    packet::PacketBatch segments;
    Require(offload::SegmentTcp(*p, pool, segments).has_value());
    for (packet::Packet* segment : segments) {
      const auto tcp = offload::ParseTcpFrame(segment->span());
      Require(tcp.has_value() && tcp->ChecksumsVerify(segment->span()));
    }
    pool.Free(segments);
  }
  Require(merged == counters.merged_frames);
  Require(passed + counters.merged_segments == inputs.size());
  pool.Free(batch);
  Require(pool.in_use() == in_use);
  return 0;
}
