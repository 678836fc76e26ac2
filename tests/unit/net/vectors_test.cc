// DOVE's parsers and builders against frames made by scapy and captured from the Linux
// kernel (tests/data):
//   - every scapy vector is one Ethernet frame, and walks through the whole stack
//     (frame_walk.h) as what it is;
//   - each protocol's fields are compared with MANIFEST.tsv by the checks listed in kChecks;
//   - every bad vector is refused by the parser and with the error MANIFEST.tsv names;
//   - our builders make scapy's bytes from the manifest's field values (kBuilds);
//   - every frame the kernel sent walks through the whole stack, VXLAN included.
//
// Adding a protocol: write `void CheckFoo(const VectorEntry&, const EthernetFrame&)` that
// parses the frame with the new codec and compares its fields with v.Number("foo.bar"), and
// list it in kChecks for each vector it applies to.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "frame_walk.h"
#include "net/arp.h"
#include "net/checksum.h"
#include "net/dhcpv4.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/icmpv4.h"
#include "net/icmpv6.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/neighbor_discovery.h"
#include "net/pcap_reader.h"
#include "net/tcp.h"
#include "net/udp.h"
#include "net/vxlan.h"
#include "test_printers.h"
#include "vector_manifest.h"

namespace dove::net {
namespace {

// make_scapy_vectors.py's PAYLOAD: the data of every UDP datagram and echo it builds.
constexpr std::string_view kPayload = "DOVE test vector";

ByteSpan PayloadBytes() {
  return ByteSpan(reinterpret_cast<const uint8_t*>(kPayload.data()), kPayload.size());
}

const std::vector<VectorEntry>& Manifest() {
  static const std::vector<VectorEntry> entries = [] {
    auto loaded = LoadVectorManifest();
    if (!loaded) {
      ADD_FAILURE() << loaded.error();
      return std::vector<VectorEntry>();
    }
    return *loaded;
  }();
  return entries;
}

const VectorEntry* Find(std::string_view file) {
  for (const auto& entry : Manifest()) {
    if (entry.file == file) return &entry;
  }
  ADD_FAILURE() << "MANIFEST.tsv has no " << file;
  return nullptr;
}

// The only frame of a scapy vector; a failure (and empty) when it has not exactly one.
std::vector<uint8_t> OnlyFrame(const VectorEntry& entry) {
  auto frames = LoadFrames(entry.path());
  if (!frames) {
    ADD_FAILURE() << frames.error();
    return {};
  }
  if (frames->size() != 1) {
    ADD_FAILURE() << entry.file << ": " << frames->size() << " frames, expected 1";
    return {};
  }
  return std::move(frames->front());
}

// The fields of the frame inside a VXLAN vector, under their own names ("inner.arp.op" is
// "arp.op"), so the checks and builders of plain frames apply to it.
VectorEntry InnerEntry(const VectorEntry& v) {
  VectorEntry inner{v.file + " (inner)", v.description, {}};
  constexpr std::string_view kPrefix = "inner.";
  for (const auto& [key, value] : v.fields) {
    if (key.starts_with(kPrefix)) inner.fields[key.substr(kPrefix.size())] = value;
  }
  return inner;
}

MacAddress Mac(const std::string& text) {
  auto mac = MacAddress::Parse(text);
  EXPECT_TRUE(mac) << text;
  return mac.value_or(MacAddress());
}

Ipv4Address Ip4(const std::string& text) {
  auto ip = Ipv4Address::Parse(text);
  EXPECT_TRUE(ip) << text;
  return ip.value_or(Ipv4Address());
}

Ipv6Address Ip6(const std::string& text) {
  auto ip = Ipv6Address::Parse(text);
  EXPECT_TRUE(ip) << text;
  return ip.value_or(Ipv6Address());
}

uint16_t U16(const VectorEntry& v, const std::string& key) {
  const uint64_t value = v.Number(key);
  EXPECT_LE(value, 0xffffu) << key;
  return static_cast<uint16_t>(value);
}

uint8_t U8(const VectorEntry& v, const std::string& key) {
  const uint64_t value = v.Number(key);
  EXPECT_LE(value, 0xffu) << key;
  return static_cast<uint8_t>(value);
}

// scapy's IP flags field: MF 1, DF 2, reserved ("evil") 4.
constexpr uint64_t kScapyDontFragment = 2;

// Where `inner` starts in the frame `frame` was parsed from.
size_t OffsetIn(const EthernetFrame& frame, ByteSpan inner) {
  return static_cast<size_t>(inner.data() - (frame.payload.data() - frame.header_size));
}

// A copy of `message` with the 16-bit checksum at `offset` zeroed.
std::vector<uint8_t> WithZeroChecksum(ByteSpan message, size_t offset) {
  std::vector<uint8_t> copy(message.begin(), message.end());
  if (copy.size() >= offset + 2) copy[offset] = copy[offset + 1] = 0;
  return copy;
}

// The UDP datagram of an IPv4 or IPv6 frame, its checksum verified against the pseudo-header.
Result<UdpDatagram> ParseUdpOf(const EthernetFrame& frame) {
  if (frame.ether_type == ether_type::kIpv4) {
    auto ip = ParseIpv4(frame.payload);
    if (!ip) return Unexpected(ip.error());
    return ParseUdp(ip->payload, ip->source(), ip->destination());
  }
  auto ip = ParseIpv6(frame.payload);
  if (!ip) return Unexpected(ip.error());
  return ParseUdp(ip->payload, ip->source(), ip->destination());
}

// ---- Per-protocol checks ---------------------------------------------------------------

void CheckArp(const VectorEntry& v, const EthernetFrame& frame) {
  ASSERT_EQ(frame.ether_type, ether_type::kArp);
  auto arp = ParseArp(frame.payload);
  ASSERT_TRUE(arp) << ErrorName(arp.error());
  EXPECT_EQ(arp->operation.value(), v.Number("arp.op"));
  EXPECT_EQ(arp->sender_mac, Mac(v.Text("arp.hwsrc")));
  EXPECT_EQ(arp->sender_ip, Ip4(v.Text("arp.psrc")));
  EXPECT_EQ(arp->target_mac, Mac(v.Text("arp.hwdst")));
  EXPECT_EQ(arp->target_ip, Ip4(v.Text("arp.pdst")));
}

void CheckVlan(const VectorEntry& v, const EthernetFrame& frame) {
  ASSERT_TRUE(frame.vlan);
  EXPECT_EQ(frame.vlan->vlan_id(), v.Number("dot1q.vlan"));
  EXPECT_EQ(frame.vlan->priority(), v.Number("dot1q.prio"));
  EXPECT_EQ(frame.ether_type, v.Number("dot1q.type"));
  EXPECT_EQ(frame.header_size, 18u);
}

void CheckIpv4(const VectorEntry& v, const EthernetFrame& frame) {
  ASSERT_EQ(frame.ether_type, ether_type::kIpv4);
  auto ip = ParseIpv4(frame.payload);  // verifies the header checksum
  ASSERT_TRUE(ip) << ErrorName(ip.error());
  EXPECT_EQ(ip->source(), Ip4(v.Text("ip.src")));
  EXPECT_EQ(ip->destination(), Ip4(v.Text("ip.dst")));
  EXPECT_EQ(ip->ttl(), v.Number("ip.ttl"));
  EXPECT_EQ(ip->protocol(), v.Number("ip.proto"));
  EXPECT_EQ(ip->header.identification.value(), v.Number("ip.id"));
  EXPECT_EQ(ip->header.flags_fragment_offset.value() >> 13, v.Number("ip.flags"));
  EXPECT_EQ(ip->header.dont_fragment(), (v.Number("ip.flags") & kScapyDontFragment) != 0);
  EXPECT_FALSE(ip->IsFragment());
  EXPECT_EQ(ip->header.ihl(), v.Number("ip.ihl"));
  EXPECT_EQ(ip->header_size, v.Number("ip.ihl") * 4);
  EXPECT_EQ(ip->options.size(), ip->header_size - sizeof(Ipv4Header));
  if (v.Has("ip.options_len")) {
    EXPECT_EQ(ip->options.size(), v.Number("ip.options_len"));
  }
  EXPECT_EQ(ip->total_length(), v.Number("ip.len"));
  EXPECT_EQ(ip->payload.size(), v.Number("ip.len") - ip->header_size);
  EXPECT_EQ(ip->header.checksum.value(), v.Number("ip.chksum"));
}

void CheckIpv6(const VectorEntry& v, const EthernetFrame& frame) {
  ASSERT_EQ(frame.ether_type, ether_type::kIpv6);
  auto ip = ParseIpv6(frame.payload);
  ASSERT_TRUE(ip) << ErrorName(ip.error());
  EXPECT_EQ(ip->source(), Ip6(v.Text("ipv6.src")));
  EXPECT_EQ(ip->destination(), Ip6(v.Text("ipv6.dst")));
  EXPECT_EQ(ip->hop_limit(), v.Number("ipv6.hlim"));
  EXPECT_EQ(ip->header.payload_length.value(), v.Number("ipv6.plen"));
  EXPECT_EQ(ip->header.next_header, v.Number("ipv6.nh"));
  EXPECT_EQ(ip->payload.size(), v.Number("ipv6.plen") - (ip->header_size - sizeof(Ipv6Header)));
  // The protocol after the extension headers: the last one's Next Header.
  const std::string last_next_header = v.Has("ipv6exthdrfragment.nh")  ? "ipv6exthdrfragment.nh"
                                       : v.Has("ipv6exthdrdestopt.nh") ? "ipv6exthdrdestopt.nh"
                                                                       : "ipv6.nh";
  EXPECT_EQ(ip->upper_protocol, v.Number(last_next_header));
  if (v.Has("l4_offset")) {
    EXPECT_EQ(frame.header_size + ip->header_size, v.Number("l4_offset"));
  }
  if (!v.Has("ipv6exthdrfragment.offset")) {
    EXPECT_FALSE(ip->fragment);
    return;
  }
  ASSERT_TRUE(ip->fragment);
  EXPECT_TRUE(ip->IsFragment());
  EXPECT_EQ(ip->fragment->next_header, v.Number("ipv6exthdrfragment.nh"));
  EXPECT_EQ(ip->fragment->fragment_offset(), v.Number("ipv6exthdrfragment.offset") * 8);
  EXPECT_EQ(ip->fragment->more_fragments(), v.Number("ipv6exthdrfragment.m") == 1);
  EXPECT_EQ(ip->fragment->identification.value(), v.Number("ipv6exthdrfragment.id"));
  if (ip->fragment->fragment_offset() == 0) {
    // The first fragment holds the UDP header of a datagram longer than itself: the header
    // reads, the datagram does not.
    auto udp = LoadHeader<UdpHeader>(ip->payload);
    ASSERT_TRUE(udp);
    EXPECT_EQ(udp->source_port.value(), v.Number("udp.sport"));
    EXPECT_EQ(udp->destination_port.value(), v.Number("udp.dport"));
    EXPECT_EQ(udp->length.value(), v.Number("udp.len"));
    auto whole = ParseUdp(ip->payload);
    ASSERT_FALSE(whole);
    EXPECT_EQ(whole.error(), Error::kTruncated);
  }
}

void CheckUdp(const VectorEntry& v, const EthernetFrame& frame) {
  auto udp = ParseUdpOf(frame);  // verifies the checksum (0 allowed over IPv4 only)
  ASSERT_TRUE(udp) << ErrorName(udp.error());
  EXPECT_EQ(udp->source_port(), v.Number("udp.sport"));
  EXPECT_EQ(udp->destination_port(), v.Number("udp.dport"));
  EXPECT_EQ(udp->header.length.value(), v.Number("udp.len"));
  EXPECT_EQ(udp->header.checksum.value(), v.Number("udp.chksum"));
  EXPECT_EQ(udp->payload.size(), v.Number("udp.len") - sizeof(UdpHeader));
  if (v.Has("payload_len")) {
    EXPECT_EQ(udp->payload.size(), v.Number("payload_len"));
  }
}

void CheckTcp(const VectorEntry& v, const EthernetFrame& frame) {
  auto ip = ParseIpv4(frame.payload);
  ASSERT_TRUE(ip) << ErrorName(ip.error());
  auto tcp = ParseTcp(ip->payload, ip->source(), ip->destination());  // checksum verified
  ASSERT_TRUE(tcp) << ErrorName(tcp.error());
  EXPECT_EQ(tcp->source_port(), v.Number("tcp.sport"));
  EXPECT_EQ(tcp->destination_port(), v.Number("tcp.dport"));
  EXPECT_EQ(tcp->header.sequence.value(), v.Number("tcp.seq"));
  EXPECT_EQ(tcp->header.acknowledgment.value(), v.Number("tcp.ack"));
  EXPECT_EQ(tcp->header.data_offset(), v.Number("tcp.dataofs"));
  EXPECT_EQ(tcp->flags(), v.Number("tcp.flags"));
  EXPECT_EQ(tcp->header.window.value(), v.Number("tcp.window"));
  EXPECT_EQ(tcp->header.checksum.value(), v.Number("tcp.chksum"));
  auto mss = FindMss(tcp->options);
  ASSERT_TRUE(mss) << ErrorName(mss.error());
  ASSERT_TRUE(*mss);
  EXPECT_EQ(**mss, v.Number("tcp.mss"));
}

// The packet an ICMP error quotes. When the sender quoted less than its Total Length (RFC 792
// asks for the header and 8 bytes), ParseIpv4 refuses it as kTruncated, as it would any packet
// cut short; its header is then read as it stands and its checksum checked here.
void CheckQuotedIpv4(const VectorEntry& v, ByteSpan quote) {
  auto header = LoadHeader<Ipv4Header>(quote);
  ASSERT_TRUE(header);
  auto parsed = ParseIpv4(quote);
  if (v.Number("iperror.len") > quote.size()) {
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error(), Error::kTruncated);
    EXPECT_EQ(InternetChecksum(quote.first(header->header_size())), 0);
  } else {
    ASSERT_TRUE(parsed) << ErrorName(parsed.error());  // header checksum verified
  }
  EXPECT_EQ(header->source, Ip4(v.Text("iperror.src")));
  EXPECT_EQ(header->destination, Ip4(v.Text("iperror.dst")));
  EXPECT_EQ(header->ttl, v.Number("iperror.ttl"));
  EXPECT_EQ(header->total_length.value(), v.Number("iperror.len"));
  EXPECT_EQ(header->identification.value(), v.Number("iperror.id"));
  EXPECT_EQ(header->flags_fragment_offset.value() >> 13, v.Number("iperror.flags"));
  EXPECT_EQ(header->protocol, v.Number("iperror.proto"));
  EXPECT_EQ(header->checksum.value(), v.Number("iperror.chksum"));
  auto udp = LoadHeader<UdpHeader>(quote.subspan(std::min(header->header_size(), quote.size())));
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->source_port.value(), v.Number("udperror.sport"));
  EXPECT_EQ(udp->destination_port.value(), v.Number("udperror.dport"));
  EXPECT_EQ(udp->length.value(), v.Number("udperror.len"));
  EXPECT_EQ(udp->checksum.value(), v.Number("udperror.chksum"));
}

// As CheckQuotedIpv4, for the IPv6 packet an ICMPv6 error quotes.
void CheckQuotedIpv6(const VectorEntry& v, ByteSpan quote) {
  auto header = LoadHeader<Ipv6Header>(quote);
  ASSERT_TRUE(header);
  auto parsed = ParseIpv6(quote);
  if (sizeof(Ipv6Header) + v.Number("iperror6.plen") > quote.size()) {
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error(), Error::kTruncated);
  } else {
    ASSERT_TRUE(parsed) << ErrorName(parsed.error());
    EXPECT_EQ(parsed->upper_protocol, v.Number("iperror6.nh"));
  }
  EXPECT_EQ(header->source, Ip6(v.Text("iperror6.src")));
  EXPECT_EQ(header->destination, Ip6(v.Text("iperror6.dst")));
  EXPECT_EQ(header->hop_limit, v.Number("iperror6.hlim"));
  EXPECT_EQ(header->payload_length.value(), v.Number("iperror6.plen"));
  EXPECT_EQ(header->next_header, v.Number("iperror6.nh"));
  auto udp = LoadHeader<UdpHeader>(quote.subspan(std::min(sizeof(Ipv6Header), quote.size())));
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->source_port.value(), v.Number("udperror.sport"));
  EXPECT_EQ(udp->destination_port.value(), v.Number("udperror.dport"));
  EXPECT_EQ(udp->length.value(), v.Number("udperror.len"));
  EXPECT_EQ(udp->checksum.value(), v.Number("udperror.chksum"));
}

void CheckIcmpv4(const VectorEntry& v, const EthernetFrame& frame) {
  auto ip = ParseIpv4(frame.payload);
  ASSERT_TRUE(ip) << ErrorName(ip.error());
  ASSERT_EQ(ip->protocol(), ip_proto::kIcmp);
  auto icmp = ParseIcmpv4(ip->payload);  // checksum verified
  ASSERT_TRUE(icmp) << ErrorName(icmp.error());
  EXPECT_EQ(icmp->type(), v.Number("icmp.type"));
  EXPECT_EQ(icmp->code(), v.Number("icmp.code"));
  EXPECT_EQ(icmp->header.checksum.value(), v.Number("icmp.chksum"));
  EXPECT_EQ(InternetChecksum(WithZeroChecksum(ip->payload, 2)), v.Number("icmp.chksum"));
  switch (icmp->type()) {
    case icmpv4::kEchoRequest:
    case icmpv4::kEchoReply:
      EXPECT_EQ(icmp->identifier(), v.Number("icmp.id"));
      EXPECT_EQ(icmp->sequence(), v.Number("icmp.seq"));
      if (v.Has("payload_len")) {
        EXPECT_EQ(icmp->body.size(), v.Number("payload_len"));
      }
      break;
    case icmpv4::kDestinationUnreachable:
      if (icmp->code() == icmpv4::kFragmentationNeeded) {
        EXPECT_EQ(icmp->next_hop_mtu(), v.Number("icmp.nexthopmtu"));
        EXPECT_EQ(icmp->next_hop_mtu(), v.Number("mtu"));
      }
      CheckQuotedIpv4(v, icmp->body);
      break;
    case icmpv4::kTimeExceeded:
      CheckQuotedIpv4(v, icmp->body);
      break;
    default:
      ADD_FAILURE() << "no check for ICMP type " << int{icmp->type()};
  }
}

// The manifest's name of the ICMPv6 layer of `v` ("icmpv6nd_ns", ...).
std::string Icmpv6Layer(const VectorEntry& v) {
  for (const char* layer : {"icmpv6echorequest", "icmpv6nd_ns", "icmpv6nd_na", "icmpv6packettoobig",
                            "icmpv6timeexceeded"}) {
    if (v.Has(std::string(layer) + ".type")) return layer;
  }
  ADD_FAILURE() << v.file << ": no ICMPv6 layer in MANIFEST.tsv";
  return "icmpv6";
}

void CheckIcmpv6(const VectorEntry& v, const EthernetFrame& frame) {
  auto ip = ParseIpv6(frame.payload);
  ASSERT_TRUE(ip) << ErrorName(ip.error());
  ASSERT_EQ(ip->upper_protocol, ip_proto::kIcmpv6);
  auto icmp = ParseIcmpv6(ip->payload, ip->source(), ip->destination());  // checksum verified
  ASSERT_TRUE(icmp) << ErrorName(icmp.error());
  const std::string layer = Icmpv6Layer(v);
  EXPECT_EQ(icmp->type(), v.Number(layer + ".type"));
  EXPECT_EQ(icmp->code(), v.Number(layer + ".code"));
  EXPECT_EQ(icmp->header.checksum.value(), v.Number(layer + ".cksum"));
  EXPECT_EQ(Icmpv6Checksum(ip->source(), ip->destination(), WithZeroChecksum(ip->payload, 2)),
            v.Number(layer + ".cksum"));
  switch (icmp->type()) {
    case icmpv6::kEchoRequest:
    case icmpv6::kEchoReply:
      EXPECT_EQ(icmp->identifier(), v.Number(layer + ".id"));
      EXPECT_EQ(icmp->sequence(), v.Number(layer + ".seq"));
      EXPECT_EQ(icmp->data().size(), v.Number("payload_len"));
      break;
    case icmpv6::kPacketTooBig:
      EXPECT_EQ(icmp->mtu(), v.Number(layer + ".mtu"));
      EXPECT_EQ(icmp->mtu(), v.Number("mtu"));
      CheckQuotedIpv6(v, icmp->data());
      break;
    case icmpv6::kTimeExceeded:
      CheckQuotedIpv6(v, icmp->data());
      break;
    case icmpv6::kNeighborSolicitation:
    case icmpv6::kNeighborAdvertisement:
      break;  // CheckNd
    default:
      ADD_FAILURE() << "no check for ICMPv6 type " << int{icmp->type()};
  }
}

// The first option of an NS or NA: its type and length as scapy wrote them.
void CheckFirstNdOption(const VectorEntry& v, const Icmpv6Message& icmp, const std::string& layer) {
  ASSERT_GE(icmp.body.size(), 4 + sizeof(Ipv6Address));
  NdOptionWalker walker(icmp.body.subspan(4 + sizeof(Ipv6Address)));
  ASSERT_FALSE(walker.AtEnd());
  auto option = walker.Next();
  ASSERT_TRUE(option) << ErrorName(option.error());
  EXPECT_EQ(option->type, v.Number(layer + ".type"));
  EXPECT_EQ(option->bytes.size(), v.Number(layer + ".len") * nd::kOptionUnit);
  EXPECT_TRUE(walker.AtEnd());
}

// Neighbor Solicitation and Advertisement, after CheckIcmpv6.
void CheckNd(const VectorEntry& v, const EthernetFrame& frame) {
  auto ip = ParseIpv6(frame.payload);
  ASSERT_TRUE(ip) << ErrorName(ip.error());
  EXPECT_EQ(ip->hop_limit(), nd::kHopLimit);
  auto icmp = ParseIcmpv6(ip->payload, ip->source(), ip->destination());
  ASSERT_TRUE(icmp) << ErrorName(icmp.error());
  if (icmp->type() == icmpv6::kNeighborSolicitation) {
    auto ns = ParseNeighborSolicitation(*icmp);
    ASSERT_TRUE(ns) << ErrorName(ns.error());
    EXPECT_EQ(ns->target, Ip6(v.Text("icmpv6nd_ns.tgt")));
    EXPECT_EQ(ns->source_mac, Mac(v.Text("icmpv6ndoptsrclladdr.lladdr")));
    EXPECT_EQ(v.Number("icmpv6ndoptsrclladdr.type"), nd::kOptionSourceLinkLayerAddress);
    CheckFirstNdOption(v, *icmp, "icmpv6ndoptsrclladdr");
    return;
  }
  ASSERT_EQ(icmp->type(), icmpv6::kNeighborAdvertisement);
  auto na = ParseNeighborAdvertisement(*icmp);
  ASSERT_TRUE(na) << ErrorName(na.error());
  EXPECT_EQ(na->target, Ip6(v.Text("icmpv6nd_na.tgt")));
  EXPECT_EQ(na->router_flag, v.Number("icmpv6nd_na.r") == 1);
  EXPECT_EQ(na->solicited_flag, v.Number("icmpv6nd_na.s") == 1);
  EXPECT_EQ(na->override_flag, v.Number("icmpv6nd_na.o") == 1);
  EXPECT_EQ(na->target_mac, Mac(v.Text("icmpv6ndoptdstlladdr.lladdr")));
  EXPECT_EQ(v.Number("icmpv6ndoptdstlladdr.type"), nd::kOptionTargetLinkLayerAddress);
  CheckFirstNdOption(v, *icmp, "icmpv6ndoptdstlladdr");
}

// An option holding one IPv4 address (mask, router, DNS server).
std::optional<Ipv4Address> AddressOption(const DhcpMessage& message, uint8_t code) {
  auto value = FindOption(message, code);
  if (!value || value->size() != 4) return std::nullopt;
  return Ipv4Address::FromUint32(static_cast<uint32_t>((*value)[0]) << 24 |
                                 static_cast<uint32_t>((*value)[1]) << 16 |
                                 static_cast<uint32_t>((*value)[2]) << 8 | (*value)[3]);
}

void CheckDhcp(const VectorEntry& v, const EthernetFrame& frame) {
  auto udp = ParseUdpOf(frame);
  ASSERT_TRUE(udp) << ErrorName(udp.error());
  auto dhcp = ParseDhcp(udp->payload);
  ASSERT_TRUE(dhcp) << ErrorName(dhcp.error());
  EXPECT_EQ(dhcp->op(), v.Number("bootp.op"));
  EXPECT_EQ(dhcp->header.htype, v.Number("bootp.htype"));
  EXPECT_EQ(dhcp->header.hlen, v.Number("bootp.hlen"));
  EXPECT_EQ(dhcp->xid(), v.Number("bootp.xid"));
  EXPECT_EQ(dhcp->flags(), v.Number("bootp.flags"));
  EXPECT_EQ(dhcp->ciaddr(), Ip4(v.Text("bootp.ciaddr")));
  EXPECT_EQ(dhcp->yiaddr(), Ip4(v.Text("bootp.yiaddr")));
  EXPECT_EQ(dhcp->siaddr(), Ip4(v.Text("bootp.siaddr")));
  EXPECT_EQ(dhcp->client_mac(), Mac(v.Text("dhcp.chaddr")));
  EXPECT_EQ(static_cast<int>(dhcp->type), v.Number("dhcp.message_type"));
  // Each option the manifest lists has its value; the others are absent.
  struct AddressOptionKey {
    const char* key;
    uint8_t code;
  };
  for (const auto& [key, code] :
       {AddressOptionKey{"dhcp.subnet_mask", dhcp_option::kSubnetMask},
        AddressOptionKey{"dhcp.router", dhcp_option::kRouter},
        AddressOptionKey{"dhcp.dns", dhcp_option::kDnsServer},
        AddressOptionKey{"dhcp.server_id", dhcp_option::kServerId},
        AddressOptionKey{"dhcp.requested_addr", dhcp_option::kRequestedIp}}) {
    SCOPED_TRACE(key);
    if (v.Has(key)) {
      EXPECT_EQ(AddressOption(*dhcp, code), Ip4(v.Text(key)));
    } else {
      EXPECT_FALSE(FindOption(*dhcp, code));
    }
  }
  EXPECT_EQ(ServerId(*dhcp), AddressOption(*dhcp, dhcp_option::kServerId));
  EXPECT_EQ(RequestedIp(*dhcp), AddressOption(*dhcp, dhcp_option::kRequestedIp));
  if (v.Has("dhcp.lease_time")) {
    EXPECT_EQ(LeaseTime(*dhcp), v.Number("dhcp.lease_time"));
  } else {
    EXPECT_FALSE(LeaseTime(*dhcp));
  }
  auto mtu = FindOption(*dhcp, dhcp_option::kInterfaceMtu);
  if (v.Has("dhcp.mtu")) {
    ASSERT_TRUE(mtu);
    ASSERT_EQ(mtu->size(), 2u);
    EXPECT_EQ((*mtu)[0] << 8 | (*mtu)[1], v.Number("dhcp.mtu"));
  } else {
    EXPECT_FALSE(mtu);
  }
}

// VXLAN over an IPv4 or IPv6 underlay; then the inner frame, down to its last layer.
void CheckVxlan(const VectorEntry& v, const EthernetFrame& frame) {
  auto udp = ParseUdpOf(frame);
  ASSERT_TRUE(udp) << ErrorName(udp.error());
  EXPECT_EQ(udp->destination_port(), kVxlanPort);
  auto vxlan = ParseVxlan(udp->payload);  // strict, as the kernel
  ASSERT_TRUE(vxlan) << ErrorName(vxlan.error());
  EXPECT_EQ(vxlan->vni, v.Number("vxlan.vni"));
  EXPECT_EQ(vxlan->flags, v.Number("vxlan.flags"));
  if (v.Has("vxlan.offset")) {
    EXPECT_EQ(OffsetIn(frame, udp->payload), v.Number("vxlan.offset"));
  }
  EXPECT_EQ(OffsetIn(frame, vxlan->inner_frame), v.Number("inner.offset"));
  auto lenient = ParseVxlan(udp->payload, VxlanReceivePolicy::kLenient);
  ASSERT_TRUE(lenient);
  EXPECT_EQ(lenient->vni, vxlan->vni);

  auto inner = ParseEthernet(vxlan->inner_frame);
  ASSERT_TRUE(inner) << ErrorName(inner.error());
  const VectorEntry in = InnerEntry(v);
  EXPECT_EQ(inner->source, Mac(in.Text("ether.src")));
  EXPECT_EQ(inner->destination, Mac(in.Text("ether.dst")));
  EXPECT_EQ(inner->ether_type, in.Number("ether.type"));
  switch (inner->ether_type) {
    case ether_type::kArp:
      CheckArp(in, *inner);
      break;
    case ether_type::kIpv4:
      CheckIpv4(in, *inner);
      CheckIcmpv4(in, *inner);
      break;
    case ether_type::kIpv6:
      CheckIpv6(in, *inner);
      CheckIcmpv6(in, *inner);
      CheckNd(in, *inner);
      break;
    default:
      ADD_FAILURE() << "no check for inner EtherType " << inner->ether_type;
  }
}

using VectorCheck = void (*)(const VectorEntry& v, const EthernetFrame& frame);
struct Check {
  std::string_view file;  // as in MANIFEST.tsv
  std::vector<VectorCheck> checks;
};
const Check kChecks[] = {
    {"arp_request.pcap", {CheckArp}},
    {"arp_reply.pcap", {CheckArp}},
    {"vlan_ipv4_udp.pcap", {CheckVlan, CheckIpv4, CheckUdp}},
    {"ipv4_icmp_echo.pcap", {CheckIpv4, CheckIcmpv4}},
    {"ipv4_options_udp.pcap", {CheckIpv4, CheckUdp}},
    {"ipv4_tcp_syn.pcap", {CheckIpv4, CheckTcp}},
    {"ipv4_icmp_frag_needed.pcap", {CheckIpv4, CheckIcmpv4}},
    {"ipv4_icmp_time_exceeded.pcap", {CheckIpv4, CheckIcmpv4}},
    {"ipv6_icmpv6_echo.pcap", {CheckIpv6, CheckIcmpv6}},
    {"ipv6_ext_udp.pcap", {CheckIpv6, CheckUdp}},
    {"ipv6_fragment_first.pcap", {CheckIpv6}},
    {"ipv6_fragment_last.pcap", {CheckIpv6}},
    {"icmpv6_ns.pcap", {CheckIpv6, CheckIcmpv6, CheckNd}},
    {"icmpv6_na.pcap", {CheckIpv6, CheckIcmpv6, CheckNd}},
    {"icmpv6_packet_too_big.pcap", {CheckIpv6, CheckIcmpv6}},
    {"icmpv6_time_exceeded.pcap", {CheckIpv6, CheckIcmpv6}},
    {"dhcp_discover.pcap", {CheckIpv4, CheckUdp, CheckDhcp}},
    {"dhcp_offer.pcap", {CheckIpv4, CheckUdp, CheckDhcp}},
    {"dhcp_request.pcap", {CheckIpv4, CheckUdp, CheckDhcp}},
    {"dhcp_ack.pcap", {CheckIpv4, CheckUdp, CheckDhcp}},
    {"vxlan_arp.pcap", {CheckIpv4, CheckUdp, CheckVxlan}},
    {"vxlan_ipv6_ns.pcap", {CheckIpv4, CheckUdp, CheckVxlan}},
    {"vxlan_ipv6_underlay.pcap", {CheckIpv6, CheckUdp, CheckVxlan}},
};

// What WalkFrame must call each good vector (for VXLAN: its inner frame).
const std::map<std::string, std::string> kKinds = {
    {"arp_request.pcap", "arp request"},
    {"arp_reply.pcap", "arp reply"},
    {"vlan_ipv4_udp.pcap", "udp"},
    {"ipv4_icmp_echo.pcap", "icmp echo request"},
    {"ipv4_options_udp.pcap", "udp"},
    {"ipv4_tcp_syn.pcap", "tcp syn"},
    {"ipv4_icmp_frag_needed.pcap", "icmp type 3"},
    {"ipv4_icmp_time_exceeded.pcap", "icmp type 11"},
    {"ipv6_icmpv6_echo.pcap", "icmpv6 echo request"},
    {"ipv6_ext_udp.pcap", "udp"},
    {"ipv6_fragment_first.pcap", "ipv6 fragment"},
    {"ipv6_fragment_last.pcap", "ipv6 fragment"},
    {"icmpv6_ns.pcap", "ns"},
    {"icmpv6_na.pcap", "na"},
    {"icmpv6_packet_too_big.pcap", "icmpv6 type 2"},
    {"icmpv6_time_exceeded.pcap", "icmpv6 type 3"},
    {"dhcp_discover.pcap", "dhcp 1"},
    {"dhcp_offer.pcap", "dhcp 2"},
    {"dhcp_request.pcap", "dhcp 3"},
    {"dhcp_ack.pcap", "dhcp 5"},
    {"vxlan_arp.pcap", "arp request"},
    {"vxlan_ipv6_ns.pcap", "ns"},
    {"vxlan_ipv6_underlay.pcap", "icmp echo request"},
};

// ---- Bad vectors: what else holds besides the refusal -----------------------------------

// The header checksum is off by one from the right one, which our sum finds.
void CheckBadIpv4Checksum(const VectorEntry& v, const EthernetFrame& frame) {
  auto ip = ParseIpv4(frame.payload, /*verify_checksum=*/false);
  ASSERT_TRUE(ip) << ErrorName(ip.error());
  EXPECT_EQ(ip->header.checksum.value(), v.Number("ip.chksum"));
  EXPECT_EQ(InternetChecksum(WithZeroChecksum(frame.payload.first(ip->header_size), 10)),
            v.Number("good.ip.chksum"));
}

void CheckBadUdpChecksum(const VectorEntry& v, const EthernetFrame& frame) {
  auto ip = ParseIpv4(frame.payload);
  ASSERT_TRUE(ip) << ErrorName(ip.error());
  auto udp = ParseUdp(ip->payload);  // not verified
  ASSERT_TRUE(udp) << ErrorName(udp.error());
  EXPECT_EQ(udp->header.checksum.value(), v.Number("udp.chksum"));
  EXPECT_EQ(UdpChecksum(ip->source(), ip->destination(), ip->payload), v.Number("good.udp.chksum"));
}

void CheckBadIpv4Length(const VectorEntry& v, const EthernetFrame& frame) {
  EXPECT_EQ(frame.payload.size(), v.Number("ip.bytes_present"));
  auto header = LoadHeader<Ipv4Header>(frame.payload);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->total_length.value(), v.Number("ip.len"));
}

void CheckBadIcmpv6Checksum(const VectorEntry& v, const EthernetFrame& frame) {
  auto ip = ParseIpv6(frame.payload);
  ASSERT_TRUE(ip) << ErrorName(ip.error());
  auto icmp = ParseIcmpv6(ip->payload, ip->source(), ip->destination(), false);
  ASSERT_TRUE(icmp) << ErrorName(icmp.error());
  EXPECT_EQ(icmp->header.checksum.value(), v.Number("icmpv6echorequest.cksum"));
  EXPECT_EQ(Icmpv6Checksum(ip->source(), ip->destination(), WithZeroChecksum(ip->payload, 2)),
            v.Number("good.icmpv6.cksum"));
}

// The ICMPv6 message is sound (checksum right); its option is what the ND codec refuses.
void CheckBadNdOption(const VectorEntry& v, const EthernetFrame& frame) {
  auto ip = ParseIpv6(frame.payload);
  ASSERT_TRUE(ip) << ErrorName(ip.error());
  auto icmp = ParseIcmpv6(ip->payload, ip->source(), ip->destination());
  ASSERT_TRUE(icmp) << ErrorName(icmp.error());
  EXPECT_EQ(icmp->header.checksum.value(), v.Number("icmpv6nd_ns.cksum"));
  NdOptionWalker walker(icmp->body.subspan(4 + sizeof(Ipv6Address)));
  auto option = walker.Next();
  ASSERT_FALSE(option);
  EXPECT_EQ(ErrorName(option.error()), v.Text("error"));
  EXPECT_EQ(v.Number("icmpv6ndoptsrclladdr.len"), 0u);
}

// The VXLAN header as received: flags and VNI where the manifest says.
void CheckBadVxlan(const VectorEntry& v, const EthernetFrame& frame) {
  auto udp = ParseUdpOf(frame);
  ASSERT_TRUE(udp) << ErrorName(udp.error());
  EXPECT_EQ(udp->destination_port(), v.Number("udp.dport"));
  auto header = LoadHeader<VxlanHeader>(udp->payload);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->flags, v.Number("vxlan.flags"));
  EXPECT_EQ(header->vni.value(), v.Number("vxlan.vni"));
}

const Check kBadChecks[] = {
    {"bad/ipv4_bad_header_checksum.pcap", {CheckBadIpv4Checksum}},
    {"bad/udp_bad_checksum.pcap", {CheckBadUdpChecksum}},
    {"bad/ipv4_truncated.pcap", {CheckBadIpv4Length}},
    {"bad/icmpv6_bad_checksum.pcap", {CheckBadIcmpv6Checksum}},
    {"bad/nd_option_length_zero.pcap", {CheckBadNdOption}},
    {"bad/vxlan_no_i_flag.pcap", {CheckBadVxlan}},
    {"bad/vxlan_reserved_bits.pcap", {CheckBadVxlan}},
};

// ---- Builders: scapy's frames, made again from the manifest's values --------------------

std::vector<uint8_t> BuildArp(const VectorEntry& v) {
  FrameBuilder b;
  b.Append(
      MakeEthernetHeader(Mac(v.Text("ether.dst")), Mac(v.Text("ether.src")), ether_type::kArp));
  b.Append(MakeArp(U16(v, "arp.op"), Mac(v.Text("arp.hwsrc")), Ip4(v.Text("arp.psrc")),
                   Mac(v.Text("arp.hwdst")), Ip4(v.Text("arp.pdst"))));
  return std::move(b).Take();
}

void AppendEthernet(FrameBuilder& b, const VectorEntry& v, uint16_t type) {
  b.Append(MakeEthernetHeader(Mac(v.Text("ether.dst")), Mac(v.Text("ether.src")), type));
}

// An IPv4 header from the manifest's `prefix` fields ("ip" or "iperror") for `payload_length`
// bytes, as MakeIpv4Header makes it; its offset.
size_t AppendIpv4(FrameBuilder& b, const VectorEntry& v, size_t payload_length = 0,
                  const std::string& prefix = "ip") {
  auto header = MakeIpv4Header(Ip4(v.Text(prefix + ".src")), Ip4(v.Text(prefix + ".dst")),
                               U8(v, prefix + ".proto"), U8(v, prefix + ".ttl"), payload_length,
                               U16(v, prefix + ".id"),
                               (v.Number(prefix + ".flags") & kScapyDontFragment) != 0);
  EXPECT_TRUE(header) << ErrorName(header.error());
  return b.Append(header.value_or(Ipv4Header{}));
}

size_t AppendIpv6(FrameBuilder& b, const VectorEntry& v, size_t payload_length = 0,
                  const std::string& prefix = "ipv6") {
  auto header = MakeIpv6Header(Ip6(v.Text(prefix + ".src")), Ip6(v.Text(prefix + ".dst")),
                               U8(v, prefix + ".nh"), U8(v, prefix + ".hlim"), payload_length);
  EXPECT_TRUE(header) << ErrorName(header.error());
  return b.Append(header.value_or(Ipv6Header{}));
}

std::vector<uint8_t> BuildVlanUdp(const VectorEntry& v) {
  FrameBuilder b;
  AppendEthernet(b, v, ether_type::kVlan);
  b.Append(VlanTag{
      Be16::Of(static_cast<uint16_t>(v.Number("dot1q.prio") << 13 | v.Number("dot1q.vlan"))),
      Be16::Of(U16(v, "dot1q.type"))});
  const size_t ip_at = AppendIpv4(b, v);
  const size_t udp_at = b.Append(*MakeUdpHeader(U16(v, "udp.sport"), U16(v, "udp.dport"), 0));
  b.Append(PayloadBytes());
  EXPECT_TRUE(FinishUdp(b.From(udp_at), Ip4(v.Text("ip.src")), Ip4(v.Text("ip.dst"))));
  EXPECT_TRUE(FinishIpv4(b.From(ip_at)));
  return std::move(b).Take();
}

std::vector<uint8_t> BuildIcmpv4Echo(const VectorEntry& v) {
  FrameBuilder b;
  AppendEthernet(b, v, ether_type::kIpv4);
  const size_t ip_at = AppendIpv4(b, v);
  const size_t icmp_at =
      b.Append(MakeIcmpv4EchoHeader(U8(v, "icmp.type"), U16(v, "icmp.id"), U16(v, "icmp.seq")));
  b.Append(PayloadBytes());
  FinishIcmpv4(b.From(icmp_at));
  EXPECT_TRUE(FinishIpv4(b.From(ip_at)));
  return std::move(b).Take();
}

std::vector<uint8_t> BuildTcpSyn(const VectorEntry& v) {
  FrameBuilder b;
  AppendEthernet(b, v, ether_type::kIpv4);
  const size_t ip_at = AppendIpv4(b, v);
  const uint16_t mss = U16(v, "tcp.mss");
  const std::array<uint8_t, 4> mss_option = {tcp_option::kMss, 4, static_cast<uint8_t>(mss >> 8),
                                             static_cast<uint8_t>(mss)};
  auto tcp = MakeTcpHeader(U16(v, "tcp.sport"), U16(v, "tcp.dport"),
                           static_cast<uint32_t>(v.Number("tcp.seq")),
                           static_cast<uint32_t>(v.Number("tcp.ack")), U8(v, "tcp.flags"),
                           U16(v, "tcp.window"), mss_option.size());
  EXPECT_TRUE(tcp);
  const size_t tcp_at = b.Append(tcp.value_or(TcpHeader{}));
  b.Append(mss_option);
  EXPECT_TRUE(FinishTcp(b.From(tcp_at), Ip4(v.Text("ip.src")), Ip4(v.Text("ip.dst"))));
  EXPECT_TRUE(FinishIpv4(b.From(ip_at)));
  return std::move(b).Take();
}

// The IPv4/UDP packet an ICMP error quotes, whole: its lengths are the manifest's (a quote may
// claim more bytes than it holds), its UDP checksum as the manifest says.
std::vector<uint8_t> QuotedIpv4Packet(const VectorEntry& v) {
  FrameBuilder b;
  AppendIpv4(b, v, v.Number("iperror.len") - sizeof(Ipv4Header), "iperror");
  auto udp = MakeUdpHeader(U16(v, "udperror.sport"), U16(v, "udperror.dport"),
                           v.Number("udperror.len") - sizeof(UdpHeader));
  EXPECT_TRUE(udp);
  udp->checksum = Be16::Of(U16(v, "udperror.chksum"));
  b.Append(*udp);
  b.Append(PayloadBytes());
  return std::move(b).Take();
}

std::vector<uint8_t> QuotedIpv6Packet(const VectorEntry& v) {
  FrameBuilder b;
  AppendIpv6(b, v, v.Number("iperror6.plen"), "iperror6");
  auto udp = MakeUdpHeader(U16(v, "udperror.sport"), U16(v, "udperror.dport"),
                           v.Number("udperror.len") - sizeof(UdpHeader));
  EXPECT_TRUE(udp);
  udp->checksum = Be16::Of(U16(v, "udperror.chksum"));
  b.Append(*udp);
  b.Append(PayloadBytes());
  return std::move(b).Take();
}

// scapy quotes the whole offending packet; AppendIcmpv4Error quotes RFC 792's header and 8
// bytes (see Icmpv4ErrorTruncatesTheQuote), so this one is built from the general pieces.
std::vector<uint8_t> BuildIcmpv4Error(const VectorEntry& v) {
  FrameBuilder b;
  AppendEthernet(b, v, ether_type::kIpv4);
  const size_t ip_at = AppendIpv4(b, v);
  const uint32_t rest = v.Has("icmp.nexthopmtu") ? U16(v, "icmp.nexthopmtu") : 0;
  const size_t icmp_at = b.Append(MakeIcmpv4Header(U8(v, "icmp.type"), U8(v, "icmp.code"), rest));
  b.Append(QuotedIpv4Packet(v));
  FinishIcmpv4(b.From(icmp_at));
  EXPECT_TRUE(FinishIpv4(b.From(ip_at)));
  return std::move(b).Take();
}

std::vector<uint8_t> BuildIcmpv6Echo(const VectorEntry& v) {
  FrameBuilder b;
  AppendEthernet(b, v, ether_type::kIpv6);
  const size_t ip_at = AppendIpv6(b, v);
  const size_t icmp_at =
      b.Append(MakeIcmpv6Header(U8(v, "icmpv6echorequest.type"), U8(v, "icmpv6echorequest.code")));
  b.Append(Be32::Of(static_cast<uint32_t>(v.Number("icmpv6echorequest.id") << 16 |
                                          v.Number("icmpv6echorequest.seq"))));
  b.Append(PayloadBytes());
  FinishIcmpv6(b.From(icmp_at), Ip6(v.Text("ipv6.src")), Ip6(v.Text("ipv6.dst")));
  EXPECT_TRUE(FinishIpv6(b.From(ip_at)));
  return std::move(b).Take();
}

std::vector<uint8_t> BuildIcmpv6Error(const VectorEntry& v) {
  FrameBuilder b;
  AppendEthernet(b, v, ether_type::kIpv6);
  const size_t ip_at = AppendIpv6(b, v);
  const std::string layer = Icmpv6Layer(v);
  const uint32_t first_word = v.Has(layer + ".mtu") ? U16(v, layer + ".mtu") : 0;
  AppendIcmpv6Error(b, Ip6(v.Text("ipv6.src")), Ip6(v.Text("ipv6.dst")), U8(v, layer + ".type"),
                    U8(v, layer + ".code"), first_word, QuotedIpv6Packet(v));
  EXPECT_TRUE(FinishIpv6(b.From(ip_at)));
  return std::move(b).Take();
}

std::vector<uint8_t> BuildNs(const VectorEntry& v) {
  FrameBuilder b;
  AppendEthernet(b, v, ether_type::kIpv6);
  const size_t ip_at = AppendIpv6(b, v);
  AppendNeighborSolicitation(b, Ip6(v.Text("ipv6.src")), Ip6(v.Text("ipv6.dst")),
                             {.target = Ip6(v.Text("icmpv6nd_ns.tgt")),
                              .source_mac = Mac(v.Text("icmpv6ndoptsrclladdr.lladdr"))});
  EXPECT_TRUE(FinishIpv6(b.From(ip_at)));
  return std::move(b).Take();
}

std::vector<uint8_t> BuildNa(const VectorEntry& v) {
  FrameBuilder b;
  AppendEthernet(b, v, ether_type::kIpv6);
  const size_t ip_at = AppendIpv6(b, v);
  AppendNeighborAdvertisement(b, Ip6(v.Text("ipv6.src")), Ip6(v.Text("ipv6.dst")),
                              {.target = Ip6(v.Text("icmpv6nd_na.tgt")),
                               .router_flag = v.Number("icmpv6nd_na.r") == 1,
                               .solicited_flag = v.Number("icmpv6nd_na.s") == 1,
                               .override_flag = v.Number("icmpv6nd_na.o") == 1,
                               .target_mac = Mac(v.Text("icmpv6ndoptdstlladdr.lladdr"))});
  EXPECT_TRUE(FinishIpv6(b.From(ip_at)));
  return std::move(b).Take();
}

// Outer Ethernet, IPv4 or IPv6, UDP (checksum 0 or computed, as the vector has it), VXLAN, and
// the inner frame made by the builder for its kind.
std::vector<uint8_t> BuildVxlan(const VectorEntry& v) {
  const VectorEntry in = InnerEntry(v);
  std::vector<uint8_t> inner;
  switch (in.Number("ether.type")) {
    case ether_type::kArp:
      inner = BuildArp(in);
      break;
    case ether_type::kIpv4:
      inner = BuildIcmpv4Echo(in);
      break;
    case ether_type::kIpv6:
      inner = BuildNs(in);
      break;
    default:
      ADD_FAILURE() << "no builder for inner EtherType " << in.Text("ether.type");
  }
  const bool ipv4 = v.Number("eth.type") == ether_type::kIpv4;
  FrameBuilder b;
  AppendEthernet(b, v, ipv4 ? ether_type::kIpv4 : ether_type::kIpv6);
  const size_t ip_at = ipv4 ? AppendIpv4(b, v) : AppendIpv6(b, v);
  const size_t udp_at = b.Append(
      *MakeUdpHeader(U16(v, "udp.sport"), U16(v, "udp.dport"), sizeof(VxlanHeader) + inner.size()));
  b.Append(*MakeVxlanHeader(static_cast<uint32_t>(v.Number("vxlan.vni"))));
  b.Append(inner);
  if (v.Number("udp.chksum") != 0) {
    EXPECT_TRUE(ipv4 ? FinishUdp(b.From(udp_at), Ip4(v.Text("ip.src")), Ip4(v.Text("ip.dst")))
                     : FinishUdp(b.From(udp_at), Ip6(v.Text("ipv6.src")), Ip6(v.Text("ipv6.dst"))));
  }
  EXPECT_TRUE(ipv4 ? FinishIpv4(b.From(ip_at)) : FinishIpv6(b.From(ip_at)));
  return std::move(b).Take();
}

struct Build {
  std::string_view file;
  std::vector<uint8_t> (*build)(const VectorEntry& v);
};
const Build kBuilds[] = {
    {"arp_request.pcap", BuildArp},
    {"arp_reply.pcap", BuildArp},
    {"vlan_ipv4_udp.pcap", BuildVlanUdp},
    {"ipv4_icmp_echo.pcap", BuildIcmpv4Echo},
    {"ipv4_tcp_syn.pcap", BuildTcpSyn},
    {"ipv4_icmp_frag_needed.pcap", BuildIcmpv4Error},
    {"ipv4_icmp_time_exceeded.pcap", BuildIcmpv4Error},
    {"ipv6_icmpv6_echo.pcap", BuildIcmpv6Echo},
    {"icmpv6_ns.pcap", BuildNs},
    {"icmpv6_na.pcap", BuildNa},
    {"icmpv6_packet_too_big.pcap", BuildIcmpv6Error},
    {"icmpv6_time_exceeded.pcap", BuildIcmpv6Error},
    {"vxlan_arp.pcap", BuildVxlan},
    {"vxlan_ipv6_ns.pcap", BuildVxlan},
    {"vxlan_ipv6_underlay.pcap", BuildVxlan},
};

// ---- Tests -----------------------------------------------------------------------------

TEST(VectorManifestTest, ParsesLinesAndReportsBadOnes) {
  auto entries = ParseVectorManifest("# comment\n\na.pcap\tan A\tlen=42 x=0x0a layers=Ether,ARP\n");
  ASSERT_TRUE(entries) << entries.error();
  ASSERT_EQ(entries->size(), 1u);
  const VectorEntry& a = (*entries)[0];
  EXPECT_EQ(a.file, "a.pcap");
  EXPECT_EQ(a.description, "an A");
  EXPECT_EQ(a.Number("len"), 42u);
  EXPECT_EQ(a.Number("x"), 10u);
  EXPECT_TRUE(a.HasLayer("ARP"));
  EXPECT_FALSE(a.HasLayer("AR"));
  EXPECT_FALSE(a.Has("y"));

  EXPECT_FALSE(ParseVectorManifest("a.pcap\tno fields column\n"));
  EXPECT_FALSE(ParseVectorManifest("a.pcap\td\tnoequals\n"));
  EXPECT_FALSE(ParseVectorManifest("a.pcap\td\t=nokey\n"));
}

TEST(ScapyVectorsTest, ManifestListsExactlyTheFiles) {
  std::set<std::string> on_disk;
  for (const auto& item : std::filesystem::recursive_directory_iterator(kScapyDir)) {
    if (item.path().extension() == ".pcap") {
      on_disk.insert(std::filesystem::relative(item.path(), kScapyDir).generic_string());
    }
  }
  std::set<std::string> listed;
  for (const auto& entry : Manifest()) listed.insert(entry.file);
  EXPECT_EQ(on_disk, listed);
  EXPECT_GE(listed.size(), 30u);
}

TEST(ScapyVectorsTest, EveryVectorIsOneEthernetFrame) {
  for (const auto& v : Manifest()) {
    SCOPED_TRACE(v.file);
    const auto bytes = OnlyFrame(v);
    EXPECT_EQ(bytes.size(), v.Number("len"));
    auto frame = ParseEthernet(bytes);
    ASSERT_TRUE(frame) << ErrorName(frame.error());
    const uint16_t outer_type = frame->vlan ? ether_type::kVlan : frame->ether_type;
    EXPECT_EQ(outer_type, v.Number("eth.type"));
    EXPECT_EQ(frame->source, Mac(v.Text("ether.src")));
    EXPECT_EQ(frame->destination, Mac(v.Text("ether.dst")));
    if (v.bad()) {
      EXPECT_TRUE(v.Has("error") && v.Has("fault"));
    }
  }
}

TEST(ScapyVectorsTest, EveryGoodVectorIsChecked) {
  std::set<std::string_view> checked;
  for (const auto& [file, checks] : kChecks) checked.insert(file);
  for (const auto& v : Manifest()) {
    if (!v.bad()) {
      EXPECT_TRUE(checked.contains(v.file)) << v.file << " is in no kChecks row";
    }
  }
  for (const auto& [file, build] : kBuilds) {
    EXPECT_TRUE(checked.contains(file)) << file;
  }
}

TEST(ScapyVectorsTest, ProtocolChecks) {
  for (const auto& [file, checks] : kChecks) {
    SCOPED_TRACE(file);
    const VectorEntry* v = Find(file);
    if (v == nullptr) continue;
    const auto bytes = OnlyFrame(*v);
    auto frame = ParseEthernet(bytes);
    ASSERT_TRUE(frame);
    for (VectorCheck check : checks) check(*v, *frame);
  }
}

// Every good vector goes through every parser that applies, checksums verified, as what it is.
TEST(ScapyVectorsTest, EveryGoodVectorWalksTheWholeStack) {
  for (const auto& v : Manifest()) {
    if (v.bad()) continue;
    SCOPED_TRACE(v.file);
    const auto bytes = OnlyFrame(v);
    auto walk = WalkFrame(bytes);
    ASSERT_TRUE(walk) << walk.error().layer << ": " << ErrorName(walk.error().error);
    ASSERT_TRUE(kKinds.contains(v.file));
    EXPECT_EQ(walk->kind, kKinds.at(v.file));
    if (v.Has("vxlan.vni")) {
      EXPECT_EQ(walk->vni, v.Number("vxlan.vni"));
    } else {
      EXPECT_FALSE(walk->vni);
    }
  }
}

// Each bad vector is refused by the parser of the layer its fault names ("udp.chksum": UDP),
// with exactly the error the manifest names. VXLAN's reserved bits are refused when strict (the
// default, as the Linux kernel) and ignored when lenient (RFC 7348).
TEST(ScapyVectorsTest, BadVectorsAreRefusedByTheRightParserWithTheRightError) {
  int bad = 0;
  for (const auto& v : Manifest()) {
    if (!v.bad()) continue;
    ++bad;
    SCOPED_TRACE(v.file);
    const auto bytes = OnlyFrame(v);
    auto walk = WalkFrame(bytes);
    ASSERT_FALSE(walk) << "accepted as " << walk->kind;
    const std::string fault = v.Text("fault");
    EXPECT_EQ(walk.error().layer, fault.substr(0, fault.find('.')));
    EXPECT_EQ(ErrorName(walk.error().error), v.Text("error"));

    auto lenient = WalkFrame(bytes, {.vxlan = VxlanReceivePolicy::kLenient});
    const std::string lenient_error = v.Has("lenient.error") ? v.Text("lenient.error") : "";
    if (lenient_error == "none") {
      ASSERT_TRUE(lenient) << lenient.error().layer << ": " << ErrorName(lenient.error().error);
      EXPECT_EQ(lenient->vni, v.Number("vxlan.vni"));
      EXPECT_EQ(lenient->kind, "arp request");
    } else {
      ASSERT_FALSE(lenient);
      EXPECT_EQ(lenient.error().layer, walk.error().layer);
      EXPECT_EQ(ErrorName(lenient.error().error),
                lenient_error.empty() ? v.Text("error") : lenient_error);
    }
  }
  EXPECT_EQ(bad, std::size(kBadChecks));
}

TEST(ScapyVectorsTest, BadVectorChecks) {
  for (const auto& [file, checks] : kBadChecks) {
    SCOPED_TRACE(file);
    const VectorEntry* v = Find(file);
    if (v == nullptr) continue;
    const auto bytes = OnlyFrame(*v);
    auto frame = ParseEthernet(bytes);
    ASSERT_TRUE(frame);
    for (VectorCheck check : checks) check(*v, *frame);
  }
}

// Our builders must produce exactly scapy's bytes from the same field values.
TEST(ScapyVectorsTest, BuildersMatchScapy) {
  for (const auto& [file, build] : kBuilds) {
    SCOPED_TRACE(file);
    const VectorEntry* v = Find(file);
    if (v == nullptr) continue;
    EXPECT_EQ(build(*v), OnlyFrame(*v));
  }
}

// AppendIcmpv4Error quotes the offending packet's header and 8 bytes (RFC 792), where scapy's
// vectors quote all of it: the same message but for the shorter quote and the checksum.
TEST(ScapyVectorsTest, Icmpv4ErrorTruncatesTheQuote) {
  for (std::string_view file : {"ipv4_icmp_frag_needed.pcap", "ipv4_icmp_time_exceeded.pcap"}) {
    SCOPED_TRACE(file);
    const VectorEntry* v = Find(file);
    ASSERT_NE(v, nullptr);
    const auto offending = QuotedIpv4Packet(*v);
    FrameBuilder b;
    const uint32_t rest = v->Has("icmp.nexthopmtu") ? U16(*v, "icmp.nexthopmtu") : 0;
    AppendIcmpv4Error(b, U8(*v, "icmp.type"), U8(*v, "icmp.code"), rest, offending);
    auto ours = ParseIcmpv4(b.bytes());
    ASSERT_TRUE(ours) << ErrorName(ours.error());
    EXPECT_EQ(ours->body.size(), sizeof(Ipv4Header) + icmpv4::kErrorQuotePayloadBytes);

    const auto bytes = OnlyFrame(*v);
    auto frame = ParseEthernet(bytes);
    ASSERT_TRUE(frame);
    auto ip = ParseIpv4(frame->payload);
    ASSERT_TRUE(ip);
    auto theirs = ParseIcmpv4(ip->payload);
    ASSERT_TRUE(theirs);
    EXPECT_EQ(ours->type(), theirs->type());
    EXPECT_EQ(ours->code(), theirs->code());
    EXPECT_EQ(ours->header.rest, theirs->header.rest);
    ASSERT_GE(theirs->body.size(), ours->body.size());
    EXPECT_TRUE(std::ranges::equal(ours->body, theirs->body.first(ours->body.size())));
  }
}

struct KernelCapture {
  std::vector<uint8_t> file;
  std::vector<PcapRecord> records;
};

KernelCapture LoadKernelCapture(const std::string& name) {
  KernelCapture capture;
  auto file = ReadFileBytes(kKernelDir + "/" + name);
  if (!file) {
    ADD_FAILURE() << file.error();
    return capture;
  }
  capture.file = std::move(*file);
  auto records = ParsePcap(capture.file);
  if (!records) {
    ADD_FAILURE() << name << ": " << ErrorName(records.error());
    return capture;
  }
  capture.records = std::move(*records);
  return capture;
}

// What a capture holds, by WalkFrame's kinds: of plain frames, and of frames inside VXLAN.
struct CaptureKinds {
  std::map<std::string, int> plain;
  std::map<std::string, int> in_vxlan;
  std::set<uint32_t> vnis;
  int partial_udp_checksums = 0;
};

// What every capture must be: a few whole frames (snaplen 0), in time order, each walking
// through the whole stack (frame_walk.h: every checksum verified, VXLAN strict). UDP checksums
// may also be the unfinished ones a veth carries (WalkOptions::allow_partial_udp_checksum).
CaptureKinds WalkCapture(const KernelCapture& capture) {
  CaptureKinds kinds;
  EXPECT_GE(capture.records.size(), 8u);
  EXPECT_LT(capture.records.size(), 50u);
  for (size_t i = 0; i < capture.records.size(); ++i) {
    SCOPED_TRACE("frame " + std::to_string(i + 1));
    const PcapRecord& record = capture.records[i];
    EXPECT_EQ(record.data.size(), record.original_length);
    if (i > 0) {
      EXPECT_GE(record.timestamp, capture.records[i - 1].timestamp);
    }
    auto walk = WalkFrame(record.data, {.allow_partial_udp_checksum = true});
    if (!walk) {
      ADD_FAILURE() << walk.error().layer << ": " << ErrorName(walk.error().error);
      continue;
    }
    kinds.partial_udp_checksums += walk->partial_udp_checksums;
    if (walk->vni) {
      kinds.vnis.insert(*walk->vni);
      ++kinds.in_vxlan[walk->kind];
    } else {
      ++kinds.plain[walk->kind];
    }
  }
  return kinds;
}

// The VM conversation: ARP, two pings over IPv4, ND, two pings over IPv6.
void ExpectVmConversation(const std::map<std::string, int>& kinds) {
  for (const char* kind : {"arp request", "arp reply", "icmp echo request", "icmp echo reply", "ns",
                           "na", "icmpv6 echo request", "icmpv6 echo reply"}) {
    EXPECT_GE(kinds.contains(kind) ? kinds.at(kind) : 0, 1) << kind;
  }
}

TEST(KernelVectorsTest, UnderlayCaptureIsVxlanAroundTheVmConversation) {
  const auto capture = LoadKernelCapture("vxlan_underlay.pcap");
  const auto kinds = WalkCapture(capture);
  // Outside VXLAN only the hosts' own ARP (IPv6 is off in the host namespaces).
  for (const auto& [kind, count] : kinds.plain) {
    EXPECT_TRUE(kind == "arp request" || kind == "arp reply") << kind;
  }
  EXPECT_EQ(kinds.vnis, std::set<uint32_t>{42});
  ExpectVmConversation(kinds.in_vxlan);
  // The kernel's VXLAN device computes outer UDP checksums over IPv4 (udpcsum) by leaving the
  // pseudo-header sum for the device to finish, and a veth never finishes it: every VXLAN frame
  // of this capture carries that unfinished sum, neither 0 nor a valid checksum.
  int vxlan_frames = 0;
  for (const auto& [kind, count] : kinds.in_vxlan) vxlan_frames += count;
  EXPECT_GE(vxlan_frames, 12);
  EXPECT_EQ(kinds.partial_udp_checksums, vxlan_frames);
}

TEST(KernelVectorsTest, InnerCaptureHasNanosecondTimesAndTheVmConversation) {
  const auto capture = LoadKernelCapture("vm_inner.pcap");
  ASSERT_GE(capture.file.size(), 4u);
  EXPECT_EQ(capture.file[0], 0x4d);  // a1b23c4d little-endian: tcpdump's nanosecond magic
  EXPECT_EQ(capture.file[1], 0x3c);
  const auto kinds = WalkCapture(capture);
  EXPECT_TRUE(kinds.in_vxlan.empty());
  EXPECT_EQ(kinds.partial_udp_checksums, 0);
  ExpectVmConversation(kinds.plain);
}

// The kernel's own ARP request for 10.0.0.2 is byte for byte what our builder makes.
TEST(KernelVectorsTest, KernelArpRequestMatchesBuilder) {
  const auto capture = LoadKernelCapture("vm_inner.pcap");
  const MacAddress vm1 = Mac("52:54:00:00:00:01");
  FrameBuilder builder;
  builder.Append(MakeEthernetHeader(MacAddress::Broadcast(), vm1, ether_type::kArp));
  builder.Append(MakeArp(arp::kRequest, vm1, Ip4("10.0.0.1"), MacAddress(), Ip4("10.0.0.2")));
  const auto request =
      std::find_if(capture.records.begin(), capture.records.end(), [](const PcapRecord& record) {
        auto frame = ParseEthernet(record.data);
        return frame && frame->ether_type == ether_type::kArp && frame->destination.IsBroadcast();
      });
  ASSERT_NE(request, capture.records.end());
  EXPECT_EQ(std::vector<uint8_t>(request->data.begin(), request->data.end()), builder.bytes());
}

}  // namespace
}  // namespace dove::net
