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

uint8_t Flags(const Packet& p, const TcpFrame& f) {
  return p.data()[f.tcp_at + TcpFrame::kTcpFlagsAt];
}

uint32_t Sequence(const Packet& p, const TcpFrame& f) {
  return net::LoadHeader<net::Be32>(p.span().subspan(f.tcp_at + TcpFrame::kTcpSequenceAt))->value();
}

// Whether `next` may follow `previous` in a run that `first` started. The frames are parsed
// and eligible; `ip_total` is the run's merged IP packet size so far.
bool Follows(const Packet& first, const TcpFrame& ff, const Packet& previous, const TcpFrame& pf,
             const Packet& next, const TcpFrame& nf, size_t ip_total) {
  const size_t gso_size = ff.payload_size();
  if (gso_size < packet::VirtioNetHeader::kMinGsoSize) return false;
  // The previous one must have been full-sized and not the end of a push.
  if (pf.payload_size() != gso_size || (Flags(previous, pf) & net::tcp_flag::kPsh) != 0) {
    return false;
  }
  if (nf.payload_size() > gso_size || ip_total + nf.payload_size() > kMaxIpPacket) return false;
  if (next.meta.out_port != first.meta.out_port || next.meta.vni != first.meta.vni ||
      next.meta.tunnel != first.meta.tunnel) {
    return false;
  }
  if (nf.ipv6 != ff.ipv6 || nf.ip_at != ff.ip_at || nf.tcp_at != ff.tcp_at ||
      nf.payload_at != ff.payload_at) {
    return false;
  }
  const net::ByteSpan a = first.span();
  const net::ByteSpan b = next.span();
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
  const uint8_t next_flags = Flags(next, nf);
  if ((next_flags & net::tcp_flag::kCwr) != 0) return false;
  if ((next_flags & ~kFree) != (Flags(first, ff) & ~kFree)) return false;
  return Sequence(next, nf) == Sequence(previous, pf) + static_cast<uint32_t>(pf.payload_size());
}

}  // namespace

std::optional<TcpFrame> TcpCoalescer::Eligible(const Packet& packet) {
  if (packet.offload.is_gso() || packet.offload.csum_partial) return std::nullopt;
  const auto frame = ParseTcpFrame(packet.span());
  if (!frame || frame->vlan_tagged || frame->ip_options || frame->payload_size() == 0) {
    return std::nullopt;
  }
  const uint8_t flags = Flags(packet, *frame);
  if ((flags & net::tcp_flag::kAck) == 0 || (flags & kRefusedFlags) != 0) return std::nullopt;
  if (!packet.offload.csum_valid && !frame->ChecksumsVerify(packet.span())) {
    counters_.bad_checksum++;
    return std::nullopt;
  }
  return *frame;
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
    const Packet& segment = *batch[i];
    // Every member has the first's header layout (Follows checked it); its payload ends
    // where its own IP length says.
    const net::ByteSpan bytes = segment.span();
    const size_t ip_end = ff.ipv6
                              ? ff.ip_at + sizeof(net::Ipv6Header) +
                                    Load16(bytes, ff.ip_at + TcpFrame::kIpv6PayloadLengthAt)
                              : ff.ip_at + Load16(bytes, ff.ip_at + TcpFrame::kIpv4TotalLengthAt);
    const size_t length = ip_end - headers;
    merged->Resize(size + length);
    std::memcpy(merged->data() + size, bytes.data() + headers, length);
    size += length;
    last_flags = bytes[ff.tcp_at + TcpFrame::kTcpFlagsAt];
  }
  const net::MutableByteSpan out = merged->mutable_span();
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
  merged->meta = first.meta;
  merged->offload = packet::OffloadInfo{
      .gso = ff.ipv6 ? packet::GsoType::kTcp6 : packet::GsoType::kTcp4,
      .gso_ecn = (first_flags & net::tcp_flag::kCwr) != 0,
      .gso_size = static_cast<uint16_t>(ff.payload_size()),
      .csum_partial = true,
      .csum_start = static_cast<uint16_t>(ff.tcp_at),
      .csum_offset = TcpFrame::kTcpChecksumAt,
  };
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
      std::optional<TcpFrame> nf = Eligible(*batch[end]);
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
