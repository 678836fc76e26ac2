#include "dswitch/pipeline/classify.h"

#include <algorithm>
#include <optional>

#include "net/ipv4.h"
#include "net/ipv6.h"

namespace dove::dswitch::pipeline {

namespace {

// The IP packet's end (from the frame's start) as its header says: Total Length for IPv4,
// 40 + Payload Length for IPv6; the frame's end when that field is 0 in a super-frame.
// nullopt when the field does not fit the frame (or is 0 where it may not be).
std::optional<size_t> IpEnd(const Packet& packet, size_t l3_offset, uint16_t ether_type) {
  const net::ByteSpan l3 = packet.span().subspan(l3_offset);
  size_t length = 0;
  if (ether_type == net::ether_type::kIpv4) {
    const auto header = net::LoadHeader<net::Ipv4Header>(l3);
    if (!header) return std::nullopt;
    length = header->total_length.value();
    if (length == 0 && packet.offload.is_gso()) return packet.size();
    if (length < header->header_size()) return std::nullopt;
  } else {
    const auto header = net::LoadHeader<net::Ipv6Header>(l3);
    if (!header) return std::nullopt;
    const size_t payload = header->payload_length.value();
    if (payload == 0 && packet.offload.is_gso()) return packet.size();
    length = sizeof(net::Ipv6Header) + payload;
  }
  if (length > l3.size()) return std::nullopt;
  return l3_offset + length;
}

void ClassifyIpv4(Packet& packet, size_t l3_offset) {
  const auto header = net::LoadHeader<net::Ipv4Header>(packet.span().subspan(l3_offset));
  if (!header || header->version() != 4 || header->ihl() < 5) return;
  const auto end = IpEnd(packet, l3_offset, net::ether_type::kIpv4);
  if (!end || *end < l3_offset + header->header_size()) return;
  packet.meta.l3_offset = static_cast<uint16_t>(l3_offset);
  packet.meta.ip_proto = header->protocol;
  packet.meta.ip_fragment = header->IsFragment();
  if (header->fragment_offset() == 0) {
    packet.meta.l4_offset = static_cast<uint16_t>(l3_offset + header->header_size());
  }
}

void ClassifyIpv6(Packet& packet, size_t l3_offset) {
  const auto ip = net::ParseIpv6(packet.span().subspan(l3_offset));
  if (!ip) return;
  packet.meta.l3_offset = static_cast<uint16_t>(l3_offset);
  packet.meta.ip_proto = ip->upper_protocol;
  packet.meta.ip_fragment = ip->IsFragment();
  if (!ip->fragment || ip->fragment->fragment_offset() == 0) {
    packet.meta.l4_offset = static_cast<uint16_t>(l3_offset + ip->header_size);
  }
}

}  // namespace

bool Classify(Packet& packet) {
  packet::PacketMeta& meta = packet.meta;
  meta.parsed = false;
  meta.ether_type = 0;
  meta.vlan_tagged = false;
  meta.ip_proto = 0;
  meta.ip_fragment = false;
  meta.l3_offset = 0;
  meta.l4_offset = 0;
  const auto ethernet = net::ParseEthernet(packet.span());
  if (!ethernet) return false;
  meta.parsed = true;
  meta.ether_type = ethernet->ether_type;
  meta.vlan_tagged = ethernet->vlan.has_value();
  // The offsets fit their 16 bits: headers end within the first 40 + 65535 bytes.
  const size_t l3_offset = ethernet->header_size;
  switch (meta.ether_type) {
    case net::ether_type::kArp:
      meta.l3_offset = static_cast<uint16_t>(l3_offset);
      break;
    case net::ether_type::kIpv4:
      ClassifyIpv4(packet, l3_offset);
      break;
    case net::ether_type::kIpv6:
      ClassifyIpv6(packet, l3_offset);
      break;
    default:
      break;
  }
  return true;
}

net::MacAddress DestinationMac(const Packet& packet) {
  std::array<uint8_t, 6> bytes{};
  std::copy_n(packet.data(), bytes.size(), bytes.begin());
  return net::MacAddress(bytes);
}

net::MacAddress SourceMac(const Packet& packet) {
  std::array<uint8_t, 6> bytes{};
  std::copy_n(packet.data() + 6, bytes.size(), bytes.begin());
  return net::MacAddress(bytes);
}

net::EthernetFrame EthernetView(const Packet& packet) {
  net::EthernetFrame frame;
  frame.destination = DestinationMac(packet);
  frame.source = SourceMac(packet);
  frame.ether_type = packet.meta.ether_type;
  frame.header_size = sizeof(net::EthernetHeader);
  if (packet.meta.vlan_tagged) {
    frame.vlan = net::LoadHeader<net::VlanTag>(packet.span().subspan(sizeof(net::EthernetHeader)));
    frame.header_size += sizeof(net::VlanTag);
  }
  frame.payload = packet.span().subspan(std::min(frame.header_size, packet.size()));
  return frame;
}

net::ByteSpan L3Bytes(const Packet& packet) {
  if (packet.meta.l3_offset == 0 || packet.meta.l3_offset > packet.size()) return {};
  return packet.span().subspan(packet.meta.l3_offset);
}

net::ByteSpan L4Bytes(const Packet& packet) {
  const packet::PacketMeta& meta = packet.meta;
  if (meta.l3_offset == 0 || meta.l4_offset == 0) return {};
  const auto end = IpEnd(packet, meta.l3_offset, meta.ether_type);
  if (!end || *end < meta.l4_offset) return {};
  return packet.span().subspan(meta.l4_offset, *end - meta.l4_offset);
}

}  // namespace dove::dswitch::pipeline
