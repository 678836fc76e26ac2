// Fuzzes offload::SplitGroTrain (src/dswitch/offload/tcp_coalescer.h), what the UDP tunnel does
// to every UDP GRO buffer from the underlay, against its reference: the buffer split into one
// packet per datagram (the prefix stripped and stood for by metadata) and run through
// TcpCoalescer::Process.
//
// Input: the first byte picks how the train is made (bit 0) and the pool it is split in (bits
// 1-2), the rest makes the train.
//   bit 0 clear, structured: a train built to be mergeable, then damaged: a 10-byte virtio-net
//     header (host byte order), a 2-byte big-endian frame length, the frame (cut by SegmentTcp
//     when the header says GSO), then 4-byte script steps {op, datagram, position, value}: op 0
//     flips bits of a byte, 1 swaps with the next, 2 duplicates, 3 drops, 4 sets the datagram's
//     VNI, 5 appends value % 16 + 1 bytes (all `position`) to every frame: an Ethernet trailer.
//     Each datagram is a VXLAN header + its frame; the train keeps the datagrams that fit a GRO
//     buffer's shape (all the first's size, the last no longer).
//   bit 0 set, raw: a 2-byte big-endian segment size (any, 0 included), the rest the buffer.
//   bits 1-2: 0 a pool with room for everything; 1-3 pools of one or two large slots and at
//     most three small ones, so datagrams and runs find no slot.
// Checked on every train: nothing leaks (both pools' in_use back where they started), nothing
// is read outside the buffer (ASan), and, in order, SplitGroTrain's packets are exactly the
// reference's: each merged run the super-frame (bytes and OffloadInfo) behind the prefix of its
// first datagram, every other datagram as it is; the train's metadata on each; the first run
// merged in the train itself; the same merge and bad-checksum counts. In a small pool, what
// found no slot is missing from the output and nothing else: the output is the reference's
// with whole entries left out, their datagrams what SplitGroTrain returns, their runs no_slot.
// A segment no longer than the prefix drops the whole train, counted.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dswitch/offload/tcp_coalescer.h"
#include "dswitch/offload/tcp_segmenter.h"
#include "dswitch/packet/offload_info.h"
#include "dswitch/packet/packet_pool.h"
#include "net/ipv4_address.h"

namespace {

namespace offload = dove::dswitch::offload;
namespace packet = dove::dswitch::packet;
namespace net = dove::net;

constexpr size_t kPrefix = 8;  // the VXLAN header

void Require(bool condition) {
  if (!condition) std::abort();
}

// Room for any train a 68 KiB slot holds: a slot per datagram of 9 bytes or more, a large
// one per run of two.
constexpr packet::PoolOptions kRoom = {.small_slots = 8192, .large_slots = 1024};

// Where the reference and the structured input's segments live.
packet::PacketPool& ReferencePool() {
  static packet::PacketPool pool(kRoom);
  return pool;
}

// Where SplitGroTrain runs: pool 0 has room for everything, pools 1-3 are small on purpose.
// Static: every input leaves each as it found it (checked).
packet::PacketPool& Pool(size_t which) {
  static packet::PacketPool roomy(kRoom);
  static packet::PacketPool no_small({.small_slots = 0, .large_slots = 1});
  static packet::PacketPool one_small({.small_slots = 1, .large_slots = 2});
  static packet::PacketPool three_small({.small_slots = 3, .large_slots = 1});
  static const std::array<packet::PacketPool*, 4> pools = {&roomy, &no_small, &one_small,
                                                           &three_small};
  return *pools[which % pools.size()];
}

// The metadata SplitGroTrain gives every packet: the train's.
packet::PacketMeta TrainMeta() {
  packet::PacketMeta meta;
  meta.in_port = 7;
  meta.tunnel = net::Ipv4Address::FromUint32(0xc000020c);
  meta.flow_hash = 0x5eed;
  return meta;
}

bool SameMeta(const packet::PacketMeta& a, const packet::PacketMeta& b) {
  return a.in_port == b.in_port && a.out_port == b.out_port && a.vni == b.vni &&
         a.tunnel == b.tunnel && a.flow_hash == b.flow_hash && a.parsed == b.parsed;
}

bool SameOffload(const packet::OffloadInfo& a, const packet::OffloadInfo& b) {
  return a.gso == b.gso && a.gso_ecn == b.gso_ecn && a.gso_size == b.gso_size &&
         a.csum_partial == b.csum_partial && a.csum_start == b.csum_start &&
         a.csum_offset == b.csum_offset && a.csum_valid == b.csum_valid;
}

// Whether `got` is what the reference's `want` stands for, `datagram` being the first datagram
// of its run: that datagram as it is when too short for a frame, else its prefix + `want`.
bool SameAsReference(const packet::Packet& got, const packet::Packet& want,
                     net::ByteSpan datagram) {
  if (!SameMeta(got.meta, TrainMeta())) return false;
  if (datagram.size() <= kPrefix) {
    return got.size() == datagram.size() &&
           std::equal(datagram.begin(), datagram.end(), got.data()) && SameOffload(got.offload, {});
  }
  return got.size() == kPrefix + want.size() &&
         std::memcmp(got.data(), datagram.data(), kPrefix) == 0 &&
         std::memcmp(got.data() + kPrefix, want.data(), want.size()) == 0 &&
         SameOffload(got.offload, want.offload);
}

// SplitGroTrain on `bytes` (datagrams `segment` bytes apart) in pool `which`, against the
// reference.
void Check(const std::vector<uint8_t>& bytes, size_t segment, size_t which) {
  packet::PacketPool& roomy = ReferencePool();
  packet::PacketPool& pool = Pool(which);
  const size_t roomy_in_use = roomy.in_use();
  const size_t pool_in_use = pool.in_use();
  const size_t length = bytes.size();
  if (length > packet::PacketPool::kLargeRoom) return;  // no UDP GRO buffer is longer
  const bool splits = segment > kPrefix && length > 0;
  const size_t count = splits ? (length + segment - 1) / segment : 0;
  const auto datagram = [&](size_t i) {
    return net::ByteSpan(bytes.data() + i * segment, std::min(segment, length - i * segment));
  };

  // The reference: one packet per datagram, its frame; the prefix, which decides what may
  // merge, as metadata TcpCoalescer compares (one to one: tunnel its first four bytes, VNI the
  // last four). A datagram too short for a frame is an empty packet, which never merges.
  packet::PacketBatch want;
  offload::TcpCoalescer coalescer(roomy);
  for (size_t i = 0; i < count; ++i) {
    const net::ByteSpan d = datagram(i);
    const net::ByteSpan frame = d.size() > kPrefix ? d.subspan(kPrefix) : net::ByteSpan();
    packet::Packet* p = roomy.Alloc(frame.size());
    Require(p != nullptr && p->Assign(frame));
    if (d.size() > kPrefix) {
      p->meta.tunnel = net::Ipv4Address({d[0], d[1], d[2], d[3]});
      p->meta.vni = uint32_t{d[4]} << 24 | uint32_t{d[5]} << 16 | uint32_t{d[6]} << 8 | d[7];
    }
    want.Push(p);
  }
  coalescer.Process(want);

  packet::Packet* train = pool.AllocLarge();
  if (train == nullptr || !train->Assign(bytes)) {
    pool.Free(train);
    roomy.Free(want);
    return;
  }
  train->meta = TrainMeta();
  packet::PacketBatch got;
  offload::CoalescerCounters counters;
  const size_t lost = offload::SplitGroTrain(train, segment, kPrefix, pool, got, counters);

  if (!splits) {
    Require(got.empty());
    Require(lost == (length == 0 ? 0 : segment == 0 ? 1 : (length + segment - 1) / segment));
  } else {
    // Walk the reference: each entry is SplitGroTrain's next packet or, only in a small pool,
    // missing (its datagrams lost, a run of several counted in no_slot).
    size_t next = 0;     // in got
    size_t first = 0;    // the datagram that starts the run of the entry
    size_t missing = 0;  // datagrams of missing entries
    size_t missing_runs = 0;
    size_t missing_segments = 0;
    for (const packet::Packet* w : want) {
      const size_t n = w->offload.is_gso() ? offload::TcpSegmentCount(*w) : 1;
      Require(n >= 1 && first + n <= count);
      if (next < got.size() && SameAsReference(*got[next], *w, datagram(first))) {
        // The first run is merged in the train itself.
        Require((got[next] == train) == (first == 0 && n > 1));
        ++next;
      } else {
        Require(which != 0);
        missing += n;
        if (n > 1) {
          ++missing_runs;
          missing_segments += n;
        }
      }
      first += n;
    }
    Require(next == got.size() && first == count);
    Require(lost == missing && counters.no_slot == missing_runs);
    const offload::CoalescerCounters& expected = coalescer.counters();
    Require(counters.merged_frames + missing_runs == expected.merged_frames);
    Require(counters.merged_segments + missing_segments == expected.merged_segments);
    Require(counters.bad_checksum == expected.bad_checksum);
  }
  pool.Free(got);
  roomy.Free(want);
  Require(pool.in_use() == pool_in_use && roomy.in_use() == roomy_in_use);
}

void Raw(const uint8_t* data, size_t size, size_t which) {
  if (size < 2) return;
  const size_t segment = size_t{data[0]} << 8 | data[1];
  Check(std::vector<uint8_t>(data + 2, data + size), segment, which);
}

struct Datagram {
  uint32_t vni = 42;
  std::vector<uint8_t> frame;

  void AppendTo(std::vector<uint8_t>& bytes) const {
    const std::array<uint8_t, kPrefix> prefix = {0x08,
                                                 0,
                                                 0,
                                                 0,
                                                 static_cast<uint8_t>(vni >> 16),
                                                 static_cast<uint8_t>(vni >> 8),
                                                 static_cast<uint8_t>(vni),
                                                 0};
    bytes.insert(bytes.end(), prefix.begin(), prefix.end());
    bytes.insert(bytes.end(), frame.begin(), frame.end());
  }
};

// The datagrams the structured input stands for.
std::vector<Datagram> Datagrams(const uint8_t* data, size_t size) {
  std::vector<Datagram> datagrams;
  if (size < sizeof(packet::VirtioNetHeader) + 2) return datagrams;
  packet::VirtioNetHeader header;
  std::memcpy(&header, data, sizeof(header));
  size_t at = sizeof(header);
  const size_t frame_size = std::min<size_t>(size_t{data[at]} << 8 | data[at + 1], size - at - 2);
  at += 2;
  const net::ByteSpan frame(data + at, frame_size);
  at += frame_size;
  const net::ByteSpan script(data + at, size - at);

  packet::PacketPool& pool = ReferencePool();
  packet::Packet* raw = pool.Alloc(frame.size());
  if (raw == nullptr || !raw->Assign(frame)) {
    pool.Free(raw);
    return datagrams;
  }
  packet::PacketBatch segments;
  if (const auto info = packet::FromVirtio(header, frame.size()); info && info->is_gso()) {
    raw->offload = *info;
    if (!offload::SegmentTcp(*raw, pool, segments)) segments.clear();
  }
  for (packet::Packet* p : segments)
    datagrams.push_back({.frame = {p->data(), p->data() + p->size()}});
  if (datagrams.empty()) datagrams.push_back({.frame = {frame.begin(), frame.end()}});
  pool.Free(segments);
  pool.Free(raw);

  for (size_t s = 0; s + 4 <= script.size() && !datagrams.empty(); s += 4) {
    const size_t index = script[s + 1] % datagrams.size();
    Datagram& d = datagrams[index];
    const uint8_t value = script[s + 3];
    switch (script[s] % 6) {
      case 0:
        if (!d.frame.empty()) d.frame[script[s + 2] * d.frame.size() / 256] ^= value;
        break;
      case 1:
        std::swap(datagrams[index], datagrams[(index + 1) % datagrams.size()]);
        break;
      case 2:
        datagrams.insert(datagrams.begin() + static_cast<std::ptrdiff_t>(index), d);
        break;
      case 3:
        datagrams.erase(datagrams.begin() + static_cast<std::ptrdiff_t>(index));
        break;
      case 4:
        d.vni = value % 3;
        break;
      case 5:
        // An Ethernet trailer on every frame (the train keeps its shape): bytes past the IP
        // packet, which no checksum covers and no merge may carry.
        for (Datagram& each : datagrams)
          each.frame.insert(each.frame.end(), value % 16 + 1, script[s + 2]);
        break;
    }
  }
  // A GRO buffer's shape: every datagram the first's size, the last no longer; at most 64.
  size_t keep = 0;
  while (keep < datagrams.size() && keep < 64) {
    const size_t first = datagrams[0].frame.size();
    const size_t this_size = datagrams[keep].frame.size();
    if (this_size > first) break;
    ++keep;
    if (this_size < first) break;  // a shorter one ends the train
  }
  datagrams.resize(keep);
  return datagrams;
}

void Structured(const uint8_t* data, size_t size, size_t which) {
  const std::vector<Datagram> datagrams = Datagrams(data, size);
  if (datagrams.empty()) return;
  std::vector<uint8_t> bytes;
  for (const Datagram& d : datagrams) d.AppendTo(bytes);
  Check(bytes, kPrefix + datagrams[0].frame.size(), which);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t which = (data[0] >> 1) & 3;
  if ((data[0] & 1) != 0) {
    Raw(data + 1, size - 1, which);
  } else {
    Structured(data + 1, size - 1, which);
  }
  return 0;
}
