#include "dswitch/offload/tcp_coalescer.h"

#include <cstring>
#include <optional>

#include "dswitch/offload/tcp_frame.h"
#include "net/checksum.h"
#include "net/ipv6.h"
#include "net/tcp.h"

namespace dove::dswitch::offload {

namespace {

using packet::Packet;

// The largest IP packet a merge may make: what a 16-bit IPv4 Total Length (or IPv6 Payload
// Length) holds, and Linux's GRO limit (gro_max_size 65536, exclusive).
constexpr size_t kMaxIpPacket = 65535;

constexpr uint8_t kRefusedFlags =
    net::tcp_flag::kFin | net::tcp_flag::kSyn | net::tcp_flag::kRst | net::tcp_flag::kUrg;

// Bytes [from, to) of `a` and `b` are equal.
bool SameBytes(net::ByteSpan a, net::ByteSpan b, size_t from, size_t to) {
  return std::memcmp(a.data() + from, b.data() + from, to - from) == 0;
}

uint8_t Flags(net::ByteSpan frame, const TcpFrame& f) {
  return frame[f.tcp_at + TcpFrame::kTcpFlagsAt];
}

uint32_t Sequence(net::ByteSpan frame, const TcpFrame& f) {
  return net::LoadHeader<net::Be32>(frame.subspan(f.tcp_at + TcpFrame::kTcpSequenceAt))->value();
}

// Whether frame `b` may follow `previous` in a run that frame `a` started, by their bytes
// (what lies outside the frames, out_port, VNI, tunnel, the caller compares). The frames are
// parsed and eligible; `ip_total` is the run's merged IP packet size so far.
bool FollowsBytes(net::ByteSpan a, const TcpFrame& ff, net::ByteSpan previous, const TcpFrame& pf,
                  net::ByteSpan b, const TcpFrame& nf, size_t ip_total) {
  const size_t gso_size = ff.payload_size();
  if (gso_size < packet::VirtioNetHeader::kMinGsoSize) return false;
  // The previous one must have been full-sized and not the end of a push.
  if (pf.payload_size() != gso_size || (Flags(previous, pf) & net::tcp_flag::kPsh) != 0) {
    return false;
  }
  if (nf.payload_size() > gso_size || ip_total + nf.payload_size() > kMaxIpPacket) return false;
  if (nf.ipv6 != ff.ipv6 || nf.ip_at != ff.ip_at || nf.tcp_at != ff.tcp_at ||
      nf.payload_at != ff.payload_at) {
    return false;
  }
  if (!SameBytes(a, b, 0, ff.ip_at)) return false;  // Ethernet
  const size_t ip = ff.ip_at;
  if (!ff.ipv6) {
    // Version/IHL and TOS; flags (DF) and fragment offset; TTL and protocol; addresses. Not
    // the total length, id or header checksum, which differ per segment.
    if (!SameBytes(a, b, ip, ip + 2) || !SameBytes(a, b, ip + 6, ip + 10) ||
        !SameBytes(a, b, ip + 12, ip + 20)) {
      return false;
    }
  } else {
    // Version, traffic class and flow label; next header and hop limit; addresses.
    if (!SameBytes(a, b, ip, ip + 4) || !SameBytes(a, b, ip + 6, ip + sizeof(net::Ipv6Header))) {
      return false;
    }
  }
  const size_t tcp = ff.tcp_at;
  // Ports; acknowledgment number; data offset and reserved bits; window; options.
  if (!SameBytes(a, b, tcp, tcp + 4) || !SameBytes(a, b, tcp + 8, tcp + 13) ||
      !SameBytes(a, b, tcp + 14, tcp + 16) || !SameBytes(a, b, tcp + 20, ff.payload_at)) {
    return false;
  }
  // Flags: the same but for PSH (allowed on the last) and CWR (allowed on the first only).
  const auto kFree = static_cast<uint8_t>(net::tcp_flag::kPsh | net::tcp_flag::kCwr);
  const uint8_t next_flags = Flags(b, nf);
  if ((next_flags & net::tcp_flag::kCwr) != 0) return false;
  if ((next_flags & ~kFree) != (Flags(a, ff) & ~kFree)) return false;
  return Sequence(b, nf) == Sequence(previous, pf) + static_cast<uint32_t>(pf.payload_size());
}

bool Follows(const Packet& first, const TcpFrame& ff, const Packet& previous, const TcpFrame& pf,
             const Packet& next, const TcpFrame& nf, size_t ip_total) {
  if (next.meta.out_port != first.meta.out_port || next.meta.vni != first.meta.vni ||
      next.meta.tunnel != first.meta.tunnel) {
    return false;
  }
  return FollowsBytes(first.span(), ff, previous.span(), pf, next.span(), nf, ip_total);
}

// The frame, parsed, when it may take part in a merge (a bad checksum is counted).
std::optional<TcpFrame> EligibleFrame(net::ByteSpan bytes, bool csum_valid,
                                      CoalescerCounters& counters) {
  const auto frame = ParseTcpFrame(bytes);
  if (!frame || frame->vlan_tagged || frame->ip_options || frame->payload_size() == 0) {
    return std::nullopt;
  }
  const uint8_t flags = Flags(bytes, *frame);
  if ((flags & net::tcp_flag::kAck) == 0 || (flags & kRefusedFlags) != 0) return std::nullopt;
  if (!csum_valid && !frame->ChecksumsVerify(bytes)) {
    counters.bad_checksum++;
    return std::nullopt;
  }
  return *frame;
}

// EligibleFrame for a frame that likely follows `first` (parsed as `ff`) in a run: when it has
// the first's layout (Ethernet header, IP version and header length, protocol, addresses, TCP
// data offset) its TcpFrame is the first's with its own IP length, and parsing it again (most
// of a merge's cost per segment, after the checksum) is skipped. Anything else is parsed in
// full: the verdict is the same either way.
std::optional<TcpFrame> EligibleAfter(net::ByteSpan first, const TcpFrame& ff, net::ByteSpan bytes,
                                      bool csum_valid, CoalescerCounters& counters) {
  const size_t ip = ff.ip_at;
  const size_t tcp = ff.tcp_at;
  bool same_layout = !ff.vlan_tagged && !ff.ip_options && bytes.size() >= ff.payload_at &&
                     SameBytes(first, bytes, 0, ip) && bytes[ip] == first[ip] &&
                     bytes[tcp + 12] >> 4 == first[tcp + 12] >> 4;
  size_t ip_end = 0;
  if (same_layout && !ff.ipv6) {
    // Same protocol and addresses; not a fragment (MF clear, offset 0).
    same_layout = bytes[ip + 9] == first[ip + 9] && SameBytes(first, bytes, ip + 12, ip + 20) &&
                  (Load16(bytes, ip + 6) & 0x3fff) == 0;
    ip_end = ip + Load16(bytes, ip + TcpFrame::kIpv4TotalLengthAt);
  } else if (same_layout) {
    same_layout = bytes[ip + 6] == first[ip + 6] &&
                  SameBytes(first, bytes, ip + 8, ip + sizeof(net::Ipv6Header));
    ip_end = ip + sizeof(net::Ipv6Header) + Load16(bytes, ip + TcpFrame::kIpv6PayloadLengthAt);
  }
  if (!same_layout || ip_end > bytes.size() || ip_end < ff.payload_at) {
    return EligibleFrame(bytes, csum_valid, counters);
  }
  TcpFrame frame = ff;
  frame.payload_end = ip_end;
  if (frame.payload_size() == 0) return std::nullopt;
  const uint8_t flags = Flags(bytes, frame);
  if ((flags & net::tcp_flag::kAck) == 0 || (flags & kRefusedFlags) != 0) return std::nullopt;
  if (!csum_valid && !frame.ChecksumsVerify(bytes)) {
    counters.bad_checksum++;
    return std::nullopt;
  }
  return frame;
}

// The end of a segment's IP packet in its frame: where its own IP length says (every member
// of a run has the first's header layout).
size_t IpEnd(net::ByteSpan frame, const TcpFrame& ff) {
  return ff.ipv6 ? ff.ip_at + sizeof(net::Ipv6Header) +
                       Load16(frame, ff.ip_at + TcpFrame::kIpv6PayloadLengthAt)
                 : ff.ip_at + Load16(frame, ff.ip_at + TcpFrame::kIpv4TotalLengthAt);
}

// Turns `out` (the first segment's headers followed by every member's payload, `size` bytes)
// into the super-frame tcp_gro_complete leaves, and returns its offload state.
packet::OffloadInfo FinishMerged(net::MutableByteSpan out, const TcpFrame& ff, size_t size,
                                 uint8_t last_flags) {
  if (!ff.ipv6) {
    Store16(out, ff.ip_at + TcpFrame::kIpv4TotalLengthAt, static_cast<uint16_t>(size - ff.ip_at));
    Store16(out, ff.ip_at + TcpFrame::kIpv4ChecksumAt, 0);
    Store16(out, ff.ip_at + TcpFrame::kIpv4ChecksumAt,
            net::InternetChecksum(out.subspan(ff.ip_at, ff.tcp_at - ff.ip_at)));
  } else {
    Store16(out, ff.ip_at + TcpFrame::kIpv6PayloadLengthAt,
            static_cast<uint16_t>(size - ff.ip_at - sizeof(net::Ipv6Header)));
  }
  const uint8_t first_flags = out[ff.tcp_at + TcpFrame::kTcpFlagsAt];
  out[ff.tcp_at + TcpFrame::kTcpFlagsAt] = first_flags | (last_flags & net::tcp_flag::kPsh);
  // CHECKSUM_PARTIAL as tcp_gro_complete leaves it: the folded pseudo-header sum, uncomplemented.
  Store16(out, ff.tcp_at + TcpFrame::kTcpChecksumAt,
          static_cast<uint16_t>(~net::ChecksumFold(ff.PseudoHeaderSum(size - ff.tcp_at))));
  return packet::OffloadInfo{
      .gso = ff.ipv6 ? packet::GsoType::kTcp6 : packet::GsoType::kTcp4,
      .gso_ecn = (first_flags & net::tcp_flag::kCwr) != 0,
      .gso_size = static_cast<uint16_t>(ff.payload_size()),
      .csum_partial = true,
      .csum_start = static_cast<uint16_t>(ff.tcp_at),
      .csum_offset = TcpFrame::kTcpChecksumAt,
  };
}

}  // namespace

std::optional<TcpFrame> TcpCoalescer::Eligible(const Packet& packet) {
  if (packet.offload.is_gso() || packet.offload.csum_partial) return std::nullopt;
  return EligibleFrame(packet.span(), packet.offload.csum_valid, counters_);
}

void TcpCoalescer::Emit(const packet::PacketBatch& batch, size_t begin, size_t end,
                        const TcpFrame& ff) {
  if (end - begin == 1) {
    scratch_.Push(batch[begin]);
    return;
  }
  Packet* merged = pool_.AllocLarge();
  if (merged == nullptr) {
    counters_.no_slot++;
    for (size_t i = begin; i < end; ++i) scratch_.Push(batch[i]);
    return;
  }
  const Packet& first = *batch[begin];
  const size_t headers = ff.header_size();
  merged->Assign(first.span().first(headers));
  size_t size = headers;
  uint8_t last_flags = 0;
  for (size_t i = begin; i < end; ++i) {
    const net::ByteSpan bytes = batch[i]->span();
    const size_t length = IpEnd(bytes, ff) - headers;
    merged->Resize(size + length);
    std::memcpy(merged->data() + size, bytes.data() + headers, length);
    size += length;
    last_flags = bytes[ff.tcp_at + TcpFrame::kTcpFlagsAt];
  }
  merged->meta = first.meta;
  merged->offload = FinishMerged(merged->mutable_span(), ff, size, last_flags);
  for (size_t i = begin; i < end; ++i) pool_.Free(batch[i]);
  counters_.merged_frames++;
  counters_.merged_segments += end - begin;
  scratch_.Push(merged);
}

void TcpCoalescer::Process(packet::PacketBatch& batch) {
  scratch_.clear();
  // The verdict on the packet that ended the last run, so it is parsed (and its checksum
  // verified and counted) once.
  std::optional<TcpFrame> carried;
  bool have_carried = false;
  size_t begin = 0;
  while (begin < batch.size()) {
    const std::optional<TcpFrame> ff = have_carried ? carried : Eligible(*batch[begin]);
    have_carried = false;
    if (!ff) {
      scratch_.Push(batch[begin++]);
      continue;
    }
    size_t end = begin + 1;
    std::optional<TcpFrame> pf = ff;
    size_t ip_total = ff->payload_end - ff->ip_at;
    while (end < batch.size()) {
      const Packet& next = *batch[end];
      std::optional<TcpFrame> nf = next.offload.is_gso() || next.offload.csum_partial
                                       ? std::nullopt
                                       : EligibleAfter(batch[begin]->span(), *ff, next.span(),
                                                       next.offload.csum_valid, counters_);
      if (!nf || !Follows(*batch[begin], *ff, *batch[end - 1], *pf, *batch[end], *nf, ip_total)) {
        carried = nf;
        have_carried = true;
        break;
      }
      ip_total += nf->payload_size();
      pf = nf;
      ++end;
    }
    Emit(batch, begin, end, *ff);
    begin = end;
  }
  batch.clear();
  for (Packet* packet : scratch_) batch.Push(packet);
  scratch_.clear();
}

}  // namespace dove::dswitch::offload

namespace dove::dswitch::offload {

size_t SplitGroTrain(Packet* train, size_t segment, size_t prefix, packet::PacketPool& pool,
                     packet::PacketBatch& out, CoalescerCounters& counters) {
  const size_t length = train->size();
  if (segment <= prefix || length == 0) {
    pool.Free(train);
    if (length == 0) return 0;
    // Every datagram is dropped; a segment size of 0 (never from the kernel) is one datagram.
    return segment == 0 ? 1 : (length + segment - 1) / segment;
  }
  const size_t count = (length + segment - 1) / segment;
  // Datagram i, and its frame (after the prefix). The bytes are read before anything is
  // written over them: a run is scanned whole before it is merged, and a merge in place only
  // writes over the run's own datagrams.
  const auto datagram = [&](size_t i) {
    return net::ByteSpan(train->data() + i * segment, std::min(segment, length - i * segment));
  };
  const auto frame = [&](size_t i) { return datagram(i).subspan(prefix); };
  size_t no_slot = 0;
  bool train_kept = false;
  std::optional<TcpFrame> carried;
  bool have_carried = false;
  size_t begin = 0;
  while (begin < count) {
    // A datagram too short for a frame passes as it is (FromTunnel drops it, counted).
    const std::optional<TcpFrame> ff =
        have_carried ? carried
                     : (datagram(begin).size() > prefix
                            ? EligibleFrame(frame(begin), /*csum_valid=*/false, counters)
                            : std::nullopt);
    have_carried = false;
    size_t end = begin + 1;
    if (ff) {
      std::optional<TcpFrame> pf = ff;
      size_t ip_total = ff->payload_end - ff->ip_at;
      const net::ByteSpan vxlan = datagram(begin).first(prefix);
      while (end < count && datagram(end).size() > prefix) {
        std::optional<TcpFrame> nf =
            EligibleAfter(frame(begin), *ff, frame(end), /*csum_valid=*/false, counters);
        if (!nf || std::memcmp(datagram(end).data(), vxlan.data(), prefix) != 0 ||
            !FollowsBytes(frame(begin), *ff, frame(end - 1), *pf, frame(end), *nf, ip_total)) {
          carried = nf;
          have_carried = true;
          break;
        }
        ip_total += nf->payload_size();
        pf = nf;
        ++end;
      }
    }
    if (end - begin == 1) {
      // One datagram: a small slot of its own, as the tunnel gives every other datagram.
      const net::ByteSpan bytes = datagram(begin);
      Packet* packet = pool.Alloc(bytes.size());
      if (packet == nullptr) {
        ++no_slot;
      } else {
        packet->Assign(bytes);
        packet->meta = train->meta;
        out.Push(packet);
      }
      begin = end;
      continue;
    }
    // A run: prefix + the first's headers + every member's payload. The first run is merged in
    // place (the train's slot becomes it); a later one is copied into a large slot.
    const size_t headers = prefix + ff->header_size();
    Packet* merged = train;
    if (begin != 0) {
      merged = pool.AllocLarge();
      if (merged == nullptr) {
        counters.no_slot++;
        no_slot += end - begin;
        begin = end;
        continue;
      }
      merged->Assign(datagram(begin).first(headers));
      merged->meta = train->meta;
    } else {
      train_kept = true;
    }
    uint8_t* base = merged->data();
    size_t size = headers;
    uint8_t last_flags = 0;
    for (size_t i = begin; i < end; ++i) {
      const net::ByteSpan bytes = frame(i);
      const size_t payload = IpEnd(bytes, *ff) - ff->header_size();
      last_flags = bytes[ff->tcp_at + TcpFrame::kTcpFlagsAt];
      // In place, the payload moves down over the headers between (memmove: they overlap).
      std::memmove(base + size, bytes.data() + ff->header_size(), payload);
      size += payload;
    }
    merged->Resize(size);
    merged->offload =
        FinishMerged(merged->mutable_span().subspan(prefix), *ff, size - prefix, last_flags);
    counters.merged_frames++;
    counters.merged_segments += end - begin;
    out.Push(merged);
    begin = end;
  }
  if (!train_kept) pool.Free(train);
  return no_slot;
}

}  // namespace dove::dswitch::offload
