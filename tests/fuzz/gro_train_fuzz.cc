// Fuzzes offload::SplitGroTrain (src/dswitch/offload/tcp_coalescer.h), what the UDP tunnel does
// to every UDP GRO buffer from the underlay, against its reference: the buffer split into one
// packet per datagram and run through TcpCoalescer::Process.
//
// Input: the first byte picks the mode.
//   even: a train built to be mergeable, then damaged: a 10-byte virtio-net header (host byte
//     order), a 2-byte big-endian frame length, the frame (cut by SegmentTcp when the header
//     says GSO), then 4-byte script steps {op, datagram, position, value}: op 0 flips bits of a
//     byte, 1 swaps with the next, 2 duplicates, 3 drops, 4 sets the datagram's VNI. Each
//     datagram is a VXLAN header + its frame; the train keeps the datagrams that fit a GRO
//     buffer's shape (all the first's size, the last no longer). Checked: SplitGroTrain gives,
//     in order, exactly the reference's packets (the frame's bytes and OffloadInfo), each behind
//     the VXLAN header of the first datagram of its run; nothing leaks.
//   odd: raw: a 2-byte big-endian segment size, the rest the buffer. Checked: no crash, no read
//     outside the buffer, nothing leaks (a datagram shorter than a VXLAN header is passed on as
//     it is: FromTunnel drops it as vxlan_malformed).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dswitch/offload/tcp_coalescer.h"
#include "dswitch/offload/tcp_segmenter.h"
#include "dswitch/packet/offload_info.h"
#include "dswitch/packet/packet_pool.h"

namespace {

namespace offload = dove::dswitch::offload;
namespace packet = dove::dswitch::packet;
namespace net = dove::net;

constexpr size_t kPrefix = 8;  // the VXLAN header

void Require(bool condition) {
  if (!condition) std::abort();
}

packet::PacketPool& Pool() {
  static packet::PacketPool pool({.small_slots = 4096, .large_slots = 64});
  return pool;
}

struct Datagram {
  uint32_t vni = 42;
  std::vector<uint8_t> frame;

  std::vector<uint8_t> Bytes() const {
    std::vector<uint8_t> bytes(kPrefix + frame.size());
    bytes[0] = 0x08;
    bytes[4] = static_cast<uint8_t>(vni >> 16);
    bytes[5] = static_cast<uint8_t>(vni >> 8);
    bytes[6] = static_cast<uint8_t>(vni);
    std::copy(frame.begin(), frame.end(), bytes.begin() + kPrefix);
    return bytes;
  }
};

int Raw(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t segment = size_t{data[0]} << 8 | data[1];
  packet::PacketPool& pool = Pool();
  const size_t in_use = pool.in_use();
  packet::Packet* train = pool.AllocLarge();
  if (train == nullptr) return 0;
  if (!train->Assign(net::ByteSpan(data + 2, size - 2))) {
    pool.Free(train);
    return 0;
  }
  packet::PacketBatch out;
  offload::CoalescerCounters counters;
  offload::SplitGroTrain(train, segment, kPrefix, pool, out, counters);
  pool.Free(out);
  Require(pool.in_use() == in_use);
  return 0;
}

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

  packet::PacketPool& pool = Pool();
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
    switch (script[s] % 5) {
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

int Structured(const uint8_t* data, size_t size) {
  const std::vector<Datagram> datagrams = Datagrams(data, size);
  if (datagrams.empty() || datagrams[0].frame.empty()) return 0;
  std::vector<uint8_t> bytes;
  for (const Datagram& d : datagrams) {
    const auto one = d.Bytes();
    bytes.insert(bytes.end(), one.begin(), one.end());
  }
  const size_t segment = kPrefix + datagrams[0].frame.size();

  packet::PacketPool& pool = Pool();
  const size_t in_use = pool.in_use();
  // The reference: one packet per datagram, the VNI in the metadata, TcpCoalescer.
  packet::PacketBatch want;
  for (const Datagram& d : datagrams) {
    packet::Packet* p = pool.Alloc(d.frame.size());
    if (p == nullptr || !p->Assign(d.frame)) {
      pool.Free(p);
      pool.Free(want);
      return 0;
    }
    p->meta.vni = d.vni;
    want.Push(p);
  }
  offload::TcpCoalescer coalescer(pool);
  coalescer.Process(want);

  packet::Packet* train = pool.AllocLarge();
  if (train == nullptr || !train->Assign(bytes)) {
    pool.Free(train);
    pool.Free(want);
    return 0;
  }
  packet::PacketBatch got;
  offload::CoalescerCounters counters;
  const size_t lost = offload::SplitGroTrain(train, segment, kPrefix, pool, got, counters);
  if (lost == 0 && counters.no_slot == 0 && coalescer.counters().no_slot == 0) {
    Require(got.size() == want.size());
    size_t first = 0;  // the datagram that starts the run of output i
    for (size_t i = 0; i < got.size(); ++i) {
      const packet::Packet& g = *got[i];
      const packet::Packet& w = *want[i];
      Require(g.size() == kPrefix + w.size());
      const auto prefix = datagrams[first].Bytes();
      Require(std::memcmp(g.data(), prefix.data(), kPrefix) == 0);
      Require(std::memcmp(g.data() + kPrefix, w.data(), w.size()) == 0);
      Require(g.offload.gso == w.offload.gso && g.offload.gso_size == w.offload.gso_size &&
              g.offload.csum_partial == w.offload.csum_partial &&
              g.offload.csum_start == w.offload.csum_start &&
              g.offload.csum_offset == w.offload.csum_offset);
      first += w.offload.is_gso() ? offload::TcpSegmentCount(w) : 1;
    }
  }
  pool.Free(got);
  pool.Free(want);
  Require(pool.in_use() == in_use);
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  return (data[0] & 1) != 0 ? Raw(data + 1, size - 1) : Structured(data + 1, size - 1);
}
