#include "net/vxlan.h"

#include <bit>

#include "net/ethernet.h"

namespace dove::net {
namespace {

constexpr uint8_t kIpProtoTcp = 6;
constexpr uint8_t kIpProtoUdp = 17;

// Accumulates MurmurHash3 (x86, 32-bit) over the fields fed to it, four bytes at a time.
// Fields are fed whole and in a fixed order, so a shorter frame cannot collide with a longer
// one by shifting bytes between fields: the length is mixed in at the end.
class FlowHasher {
 public:
  void Add(ByteSpan bytes) {
    for (uint8_t byte : bytes) {
      word_ = word_ << 8 | byte;
      if (++pending_ == 4) Flush();
    }
    length_ += static_cast<uint32_t>(bytes.size());
  }

  uint32_t Finish() {
    if (pending_ != 0) Flush();
    uint32_t h = hash_ ^ length_;
    h ^= h >> 16;
    h *= 0x85ebca6b;
    h ^= h >> 13;
    h *= 0xc2b2ae35;
    h ^= h >> 16;
    return h;
  }

 private:
  void Flush() {
    uint32_t k = word_ * 0xcc9e2d51;
    k = std::rotl(k, 15) * 0x1b873593;
    hash_ = std::rotl(hash_ ^ k, 13) * 5 + 0xe6546b64;
    word_ = 0;
    pending_ = 0;
  }

  uint32_t hash_ = 0x766e6931;  // fixed seed: ports must not change across restarts
  uint32_t word_ = 0;
  uint32_t pending_ = 0;
  uint32_t length_ = 0;
};

// `length` bytes of `bytes` from `offset`, or an empty span when they are not all there.
ByteSpan Field(ByteSpan bytes, size_t offset, size_t length) {
  if (offset > bytes.size() || bytes.size() - offset < length) return {};
  return bytes.subspan(offset, length);
}

// Hashes protocol, addresses and (when present) ports of an IPv4 packet.
void HashIpv4(ByteSpan packet, FlowHasher& hasher) {
  if (packet.size() < 20 || (packet[0] >> 4) != 4) return;
  const size_t header_length = static_cast<size_t>(packet[0] & 0x0f) * 4;
  if (header_length < 20) return;
  const uint8_t protocol = packet[9];
  hasher.Add(packet.subspan(9, 1));
  hasher.Add(packet.subspan(12, 8));  // source and destination
  // More-fragments flag or a non-zero offset: only the first fragment has the ports.
  const bool fragment = ((packet[6] & 0x3f) | packet[7]) != 0;
  if (fragment || (protocol != kIpProtoTcp && protocol != kIpProtoUdp)) return;
  hasher.Add(Field(packet, header_length, 4));
}

// Hashes next header, addresses and (without extension headers) ports of an IPv6 packet.
void HashIpv6(ByteSpan packet, FlowHasher& hasher) {
  if (packet.size() < 40 || (packet[0] >> 4) != 6) return;
  const uint8_t next_header = packet[6];
  hasher.Add(packet.subspan(6, 1));
  hasher.Add(packet.subspan(8, 32));  // source and destination
  if (next_header != kIpProtoTcp && next_header != kIpProtoUdp) return;
  hasher.Add(Field(packet, 40, 4));
}

}  // namespace

Result<VxlanHeader> MakeVxlanHeader(uint32_t vni) {
  if (vni > kMaxVni) return Unexpected(Error::kOutOfRange);
  return VxlanHeader{kVxlanFlagI, {}, Be24::Of(vni), 0};
}

Result<VxlanPacket> ParseVxlan(ByteSpan udp_payload, VxlanReceivePolicy policy) {
  const auto header = LoadHeader<VxlanHeader>(udp_payload);
  if (!header) return Unexpected(Error::kTruncated);
  if ((header->flags & kVxlanFlagI) == 0) return Unexpected(Error::kBadField);
  if (policy == VxlanReceivePolicy::kStrict &&
      (header->flags != kVxlanFlagI || header->reserved1 != std::array<uint8_t, 3>{} ||
       header->reserved2 != 0)) {
    return Unexpected(Error::kBadField);
  }
  const ByteSpan inner = udp_payload.subspan(sizeof(VxlanHeader));
  if (inner.size() < sizeof(EthernetHeader)) return Unexpected(Error::kTruncated);
  return VxlanPacket{header->vni.value(), header->flags, inner};
}

uint32_t InnerFlowHash(ByteSpan inner_frame) {
  FlowHasher hasher;
  if (inner_frame.size() < sizeof(EthernetHeader)) {
    hasher.Add(inner_frame);
    return hasher.Finish();
  }
  hasher.Add(inner_frame.first(12));  // destination and source MACs
  size_t offset = 12;
  ByteSpan type = inner_frame.subspan(offset, 2);
  if ((type[0] << 8 | type[1]) == ether_type::kVlan) {
    // The VLAN id is left out: one flow keeps its port if its tag is rewritten.
    offset += 4;
    type = Field(inner_frame, offset, 2);
    if (type.empty()) return hasher.Finish();
  }
  hasher.Add(type);
  const ByteSpan payload = inner_frame.subspan(offset + 2);
  switch (type[0] << 8 | type[1]) {
    case ether_type::kIpv4:
      HashIpv4(payload, hasher);
      break;
    case ether_type::kIpv6:
      HashIpv6(payload, hasher);
      break;
    default:
      break;
  }
  return hasher.Finish();
}

}  // namespace dove::net
