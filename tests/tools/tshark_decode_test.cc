// tshark (Wireshark's decoder) reads what our builders write.
//
// Our unit tests check the builders against our own parsers and against scapy's bytes; this
// one asks a decoder nobody here wrote. Every frame below is made with src/net's builders
// only, written with PcapWriter, and decoded by tshark with checksum validation turned on.
// For each frame the test checks the fields a person would look at in Wireshark (the VNI,
// the ARP addresses, the ND target, the ICMP MTU, the DHCP message type), that every
// checksum tshark can verify is good, and that tshark found nothing malformed and raised no
// warning or error.
//
// tshark comes from the Debian package "tshark" (scripts/install-deps installs it). Without
// it the test fails rather than skips: a decoder check that silently does nothing cannot fail.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "command.h"
#include "net/arp.h"
#include "net/dhcpv4.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/icmpv4.h"
#include "net/icmpv6.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/neighbor_discovery.h"
#include "net/pcap_writer.h"
#include "net/replies.h"
#include "net/tcp.h"
#include "net/udp.h"
#include "net/vxlan.h"

namespace dove::net {
namespace {

using Bytes = std::vector<uint8_t>;

// The underlay: two VTEPs.
const MacAddress kVtep1Mac = *MacAddress::Parse("02:00:00:00:01:01");
const MacAddress kVtep2Mac = *MacAddress::Parse("02:00:00:00:01:02");
const Ipv4Address kVtep1 = *Ipv4Address::Parse("192.0.2.1");
const Ipv4Address kVtep2 = *Ipv4Address::Parse("192.0.2.2");
const Ipv6Address kVtep1V6 = *Ipv6Address::Parse("2001:db8:ffff::1");
const Ipv6Address kVtep2V6 = *Ipv6Address::Parse("2001:db8:ffff::2");

// The overlay: two VMs, their gateway, and a host beyond it.
const MacAddress kVm1Mac = *MacAddress::Parse("52:54:00:00:00:01");
const MacAddress kVm2Mac = *MacAddress::Parse("52:54:00:00:00:02");
const MacAddress kGatewayMac = *MacAddress::Parse("52:54:00:00:00:fe");
const Ipv4Address kVm1 = *Ipv4Address::Parse("10.0.0.1");
const Ipv4Address kVm2 = *Ipv4Address::Parse("10.0.0.2");
const Ipv4Address kGateway = *Ipv4Address::Parse("10.0.0.254");
const Ipv4Address kRemote = *Ipv4Address::Parse("198.51.100.7");
const Ipv6Address kVm1V6 = *Ipv6Address::Parse("2001:db8::1");
const Ipv6Address kVm2V6 = *Ipv6Address::Parse("2001:db8::2");
const Ipv6Address kGatewayV6 = *Ipv6Address::Parse("2001:db8::ffff");
const Ipv6Address kRemoteV6 = *Ipv6Address::Parse("2001:db8:1::7");

constexpr uint8_t kTtl = 64;
constexpr uint16_t kMtu = 1450;  // a 1500-byte underlay less kVxlanOverheadIpv4

// Wireshark's checksum status values (proto.h: PROTO_CHECKSUM_E_*).
constexpr std::string_view kChecksumBad = "0";
constexpr std::string_view kChecksumGood = "1";
constexpr std::string_view kChecksumUnverified = "2";
constexpr std::string_view kChecksumNotPresent = "3";

// The value of a builder's result; a builder refusing our input is a bug in this test (or the
// builder), reported as the test's failure by GoogleTest, which catches the exception.
template <typename T>
T Must(Result<T> result, std::string_view what) {
  if (!result) {
    throw std::runtime_error(std::string(what) + ": " + std::string(ErrorName(result.error())));
  }
  return std::move(result).value();
}
void Must(Result<void> result, std::string_view what) {
  if (!result) {
    throw std::runtime_error(std::string(what) + ": " + std::string(ErrorName(result.error())));
  }
}

Bytes Text(std::string_view text) { return Bytes(text.begin(), text.end()); }

// One layer at a time, each wrapping the bytes of the layer above.

template <WireHeader H>
Bytes WireBytes(const H& header) {
  FrameBuilder builder;
  builder.Append(header);
  return std::move(builder).Take();
}

Bytes Ethernet(const MacAddress& destination, const MacAddress& source, uint16_t ether_type,
               ByteSpan payload) {
  FrameBuilder builder;
  builder.Append(MakeEthernetHeader(destination, source, ether_type));
  builder.Append(payload);
  return std::move(builder).Take();
}

Bytes Ipv4(const Ipv4Address& source, const Ipv4Address& destination, uint8_t protocol,
           ByteSpan payload) {
  FrameBuilder builder;
  builder.Append(
      Must(MakeIpv4Header(source, destination, protocol, kTtl, payload.size()), "IPv4 header"));
  builder.Append(payload);
  return std::move(builder).Take();
}

Bytes Ipv6(const Ipv6Address& source, const Ipv6Address& destination, uint8_t next_header,
           ByteSpan payload, uint8_t hop_limit = kTtl) {
  FrameBuilder builder;
  builder.Append(Must(MakeIpv6Header(source, destination, next_header, hop_limit, payload.size()),
                      "IPv6 header"));
  builder.Append(payload);
  return std::move(builder).Take();
}

// A UDP datagram with checksum 0 ("none": allowed over IPv4 only).
Bytes UdpWithoutChecksum(uint16_t source_port, uint16_t destination_port, ByteSpan payload) {
  FrameBuilder builder;
  builder.Append(Must(MakeUdpHeader(source_port, destination_port, payload.size()), "UDP header"));
  builder.Append(payload);
  return std::move(builder).Take();
}

template <typename Address>
Bytes Udp(const Address& source, const Address& destination, uint16_t source_port,
          uint16_t destination_port, ByteSpan payload) {
  Bytes datagram = UdpWithoutChecksum(source_port, destination_port, payload);
  Must(FinishUdp(datagram, source, destination), "UDP checksum");
  return datagram;
}

// What a VTEP puts in its UDP payload: the VXLAN header and the inner frame.
Bytes Vxlan(uint32_t vni, ByteSpan inner_frame) {
  FrameBuilder builder;
  builder.Append(Must(MakeVxlanHeader(vni), "VXLAN header"));
  builder.Append(inner_frame);
  return std::move(builder).Take();
}

uint16_t VxlanPortFor(ByteSpan inner_frame) { return VxlanSourcePort(InnerFlowHash(inner_frame)); }

// VTEP 1 to VTEP 2 over IPv4, UDP checksum 0 as VTEPs send (RFC 7348 section 5).
Bytes VxlanOverIpv4(uint32_t vni, ByteSpan inner_frame) {
  return Ethernet(
      kVtep2Mac, kVtep1Mac, ether_type::kIpv4,
      Ipv4(kVtep1, kVtep2, ip_proto::kUdp,
           UdpWithoutChecksum(VxlanPortFor(inner_frame), kVxlanPort, Vxlan(vni, inner_frame))));
}

// VTEP 1 to VTEP 2 over IPv6, with a UDP checksum: zero is not allowed there by default.
Bytes VxlanOverIpv6(uint32_t vni, ByteSpan inner_frame) {
  return Ethernet(kVtep2Mac, kVtep1Mac, ether_type::kIpv6,
                  Ipv6(kVtep1V6, kVtep2V6, ip_proto::kUdp,
                       Udp(kVtep1V6, kVtep2V6, VxlanPortFor(inner_frame), kVxlanPort,
                           Vxlan(vni, inner_frame))));
}

Bytes ArpRequest() {
  return Ethernet(MacAddress::Broadcast(), kVm1Mac, ether_type::kArp,
                  WireBytes(MakeArp(arp::kRequest, kVm1Mac, kVm1, MacAddress(), kVm2)));
}

Bytes ArpReply() {
  return Ethernet(kVm1Mac, kVm2Mac, ether_type::kArp,
                  WireBytes(MakeArp(arp::kReply, kVm2Mac, kVm2, kVm1Mac, kVm1)));
}

Bytes NeighborSolicitationFrame() {
  const Ipv6Address group = kVm2V6.SolicitedNodeMulticast();
  FrameBuilder icmp;
  AppendNeighborSolicitation(icmp, kVm1V6, group, {.target = kVm2V6, .source_mac = kVm1Mac});
  return Ethernet(MacAddress::ForIpv6Multicast(group.bytes()), kVm1Mac, ether_type::kIpv6,
                  Ipv6(kVm1V6, group, ip_proto::kIcmpv6, icmp.bytes(), nd::kHopLimit));
}

Bytes NeighborAdvertisementFrame() {
  FrameBuilder icmp;
  NeighborAdvertisement advertisement;
  advertisement.target = kVm2V6;
  advertisement.solicited_flag = true;
  advertisement.override_flag = true;
  advertisement.target_mac = kVm2Mac;
  AppendNeighborAdvertisement(icmp, kVm2V6, kVm1V6, advertisement);
  return Ethernet(kVm1Mac, kVm2Mac, ether_type::kIpv6,
                  Ipv6(kVm2V6, kVm1V6, ip_proto::kIcmpv6, icmp.bytes(), nd::kHopLimit));
}

Bytes EchoRequestIpv4() {
  FrameBuilder icmp;
  icmp.Append(MakeIcmpv4EchoHeader(icmpv4::kEchoRequest, 0x1234, 1));
  icmp.Append(Text("dove ping"));
  FinishIcmpv4(icmp.From(0));
  return Ethernet(kVm2Mac, kVm1Mac, ether_type::kIpv4,
                  Ipv4(kVm1, kVm2, ip_proto::kIcmp, icmp.bytes()));
}

Bytes UdpIpv4() {
  return Ethernet(kVm2Mac, kVm1Mac, ether_type::kIpv4,
                  Ipv4(kVm1, kVm2, ip_proto::kUdp, Udp(kVm1, kVm2, 40000, 40001, Text("dove"))));
}

constexpr uint16_t kSynMss = 1410;

Bytes TcpSynIpv4() {
  FrameBuilder segment;
  // tcp.h rewrites MSS options but has no maker for one: kind, length 4, value.
  const uint8_t mss_option[] = {tcp_option::kMss, 4, kSynMss >> 8, kSynMss & 0xff};
  segment.Append(Must(MakeTcpHeader(40000, 80, 1000, 0, tcp_flag::kSyn, 64240, sizeof(mss_option)),
                      "TCP header"));
  segment.Append(mss_option);
  Must(FinishTcp(segment.From(0), kVm1, kVm2), "TCP checksum");
  return Ethernet(kVm2Mac, kVm1Mac, ether_type::kIpv4,
                  Ipv4(kVm1, kVm2, ip_proto::kTcp, segment.bytes()));
}

// The gateway tells VM 1 that its 1500-byte UDP packet with Don't Fragment does not fit.
Bytes FragmentationNeeded() {
  const Bytes offending =
      Ipv4(kVm1, kRemote, ip_proto::kUdp, Udp(kVm1, kRemote, 40000, 40001, Bytes(1472, 0)));
  FrameBuilder icmp;
  AppendIcmpv4Error(icmp, icmpv4::kDestinationUnreachable, icmpv4::kFragmentationNeeded, kMtu,
                    offending);
  return Ethernet(kVm1Mac, kGatewayMac, ether_type::kIpv4,
                  Ipv4(kGateway, kVm1, ip_proto::kIcmp, icmp.bytes()));
}

// The same over IPv6: packet too big, quoting the 1500-byte packet.
Bytes PacketTooBig() {
  const Bytes offending =
      Ipv6(kVm1V6, kRemoteV6, ip_proto::kUdp, Udp(kVm1V6, kRemoteV6, 40000, 40001, Bytes(1452, 0)));
  FrameBuilder icmp;
  AppendIcmpv6Error(icmp, kGatewayV6, kVm1V6, icmpv6::kPacketTooBig, 0, kMtu, offending);
  return Ethernet(kVm1Mac, kGatewayMac, ether_type::kIpv6,
                  Ipv6(kGatewayV6, kVm1V6, ip_proto::kIcmpv6, icmp.bytes()));
}

constexpr uint32_t kDhcpXid = 0x0d0e0f10;
const Ipv4Address kOffered = *Ipv4Address::Parse("10.0.0.23");

// VM 1's DHCPDISCOVER, broadcast before it has an address. src/net builds no client messages,
// so the fixed part is a DhcpHeader and the options are spelled with dhcp_option's codes.
Bytes DhcpDiscover() {
  DhcpHeader header{};
  header.op = dhcp::kBootRequest;
  header.htype = dhcp::kHtypeEthernet;
  header.hlen = 6;
  header.xid = Be32::Of(kDhcpXid);
  header.flags = Be16::Of(dhcp::kFlagBroadcast);
  for (size_t i = 0; i < 6; ++i) header.chaddr[i] = kVm1Mac.bytes()[i];
  const uint8_t message_type[] = {dhcp_option::kMessageType, 1,
                                  static_cast<uint8_t>(DhcpMessageType::kDiscover)};
  const uint8_t parameters[] = {dhcp_option::kParameterRequestList,
                                4,
                                dhcp_option::kSubnetMask,
                                dhcp_option::kRouter,
                                dhcp_option::kDnsServer,
                                dhcp_option::kInterfaceMtu};
  const uint8_t end[] = {dhcp_option::kEnd};
  FrameBuilder message;
  message.Append(header);
  message.Append(Be32::Of(dhcp::kMagicCookie));
  message.Append(message_type);
  message.Append(parameters);
  message.Append(end);
  message.AppendZeros(dhcp::kMinMessageSize - message.size());
  const Ipv4Address unspecified;
  return Ethernet(MacAddress::Broadcast(), kVm1Mac, ether_type::kIpv4,
                  Ipv4(unspecified, Ipv4Address::Broadcast(), ip_proto::kUdp,
                       Udp(unspecified, Ipv4Address::Broadcast(), dhcp::kClientPort,
                           dhcp::kServerPort, message.bytes())));
}

// The gateway's OFFER: the DISCOVER frame is parsed back and answered with BuildDhcpReply.
Bytes DhcpOffer(ByteSpan discover_frame) {
  const EthernetFrame ethernet = Must(ParseEthernet(discover_frame), "DISCOVER Ethernet");
  const Ipv4Packet ip = Must(ParseIpv4(ethernet.payload), "DISCOVER IPv4");
  const UdpDatagram udp = Must(ParseUdp(ip.payload, ip.source(), ip.destination()), "DISCOVER UDP");
  const DhcpMessage discover = Must(ParseDhcp(udp.payload), "DISCOVER DHCP");
  DhcpReplyParams params;
  params.type = DhcpMessageType::kOffer;
  params.your_ip = kOffered;
  params.server_id = kGateway;
  params.subnet_mask = *Ipv4Address::Parse("255.255.255.0");
  params.routers = {kGateway};
  params.dns_servers = {kGateway};
  params.mtu = kMtu;
  const Bytes offer = Must(BuildDhcpReply(discover, params), "OFFER");
  return Ethernet(
      MacAddress::Broadcast(), kGatewayMac, ether_type::kIpv4,
      Ipv4(kGateway, Ipv4Address::Broadcast(), ip_proto::kUdp,
           Udp(kGateway, Ipv4Address::Broadcast(), dhcp::kServerPort, dhcp::kClientPort, offer)));
}

// The switch's ACK to a renewal, as its DHCP responder builds it (BuildDhcpReplyFrame, every
// option the responder sends).
Bytes DhcpAckFrame() {
  DhcpHeader header{};
  header.op = dhcp::kBootRequest;
  header.htype = dhcp::kHtypeEthernet;
  header.hlen = 6;
  header.xid = Be32::Of(kDhcpXid);
  header.ciaddr = kOffered;
  std::copy(kVm1Mac.bytes().begin(), kVm1Mac.bytes().end(), header.chaddr.begin());
  FrameBuilder message;
  message.Append(header);
  message.Append(Be32::Of(dhcp::kMagicCookie));
  const uint8_t options[] = {dhcp_option::kMessageType, 1,
                             static_cast<uint8_t>(DhcpMessageType::kRequest), dhcp_option::kEnd};
  message.Append(ByteSpan(options));
  const Bytes request_frame = Ethernet(
      kGatewayMac, kVm1Mac, ether_type::kIpv4,
      Ipv4(kOffered, kGateway, ip_proto::kUdp,
           Udp(kOffered, kGateway, dhcp::kClientPort, dhcp::kServerPort, message.bytes())));
  const EthernetFrame ethernet = Must(ParseEthernet(request_frame), "REQUEST Ethernet");
  const Ipv4Packet ip = Must(ParseIpv4(ethernet.payload), "REQUEST IPv4");
  const UdpDatagram udp = Must(ParseUdp(ip.payload), "REQUEST UDP");
  const DhcpMessage request = Must(ParseDhcp(udp.payload), "REQUEST DHCP");
  DhcpReplyParams params;
  params.type = DhcpMessageType::kAck;
  params.your_ip = kOffered;
  params.server_id = kGateway;
  params.lease_seconds = 3600;
  params.subnet_mask = *Ipv4Address::Parse("255.255.255.0");
  params.broadcast_address = *Ipv4Address::Parse("10.0.0.255");
  params.routers = {kGateway};
  params.dns_servers = {*Ipv4Address::Parse("10.0.0.53")};
  params.mtu = kMtu;
  return Must(BuildDhcpReplyFrame(ethernet, request, params, kGatewayMac), "ACK frame");
}

// The switch's Router Advertisement answering an RS from ::, as RouterAdvertiser builds it.
Bytes RouterAdvertisementFrame() {
  const Ipv6Address all_routers = *Ipv6Address::Parse("ff02::2");
  FrameBuilder icmp;
  AppendRouterSolicitation(icmp, Ipv6Address(), all_routers, {});
  const Bytes solicitation =
      Ethernet(*MacAddress::Parse("33:33:00:00:00:02"), kVm1Mac, ether_type::kIpv6,
               Ipv6(Ipv6Address(), all_routers, ip_proto::kIcmpv6, icmp.bytes(), nd::kHopLimit));
  const EthernetFrame ethernet = Must(ParseEthernet(solicitation), "RS Ethernet");
  const Ipv6Packet ip = Must(ParseIpv6(ethernet.payload), "RS IPv6");
  RouterAdvertisement advertisement;
  advertisement.hop_limit = 64;
  advertisement.router_lifetime = 1800;
  advertisement.mtu = kMtu;
  advertisement.prefixes = {
      {*Ipv6Address::Parse("2001:db8::"), 64, true, true, 2592000, 604800},
      {*Ipv6Address::Parse("2001:db8:1::"), 64, true, false, 2592000, 604800}};
  return Must(BuildRouterAdvertisement(ethernet, ip, advertisement, kGatewayMac), "RA frame");
}

// One frame and what tshark must say about it: field name to value, the occurrences of a
// repeated field joined with ',' (tshark's -E occurrence=a). An empty value expects the field
// absent.
struct Case {
  std::string description;
  Bytes frame;
  std::map<std::string, std::string> expected;
};

// Checked on every frame whether a case names them or not (see DecodesEveryFrameAsBuilt).
const std::vector<std::string> kChecksumStatusFields = {
    "ip.checksum.status", "udp.checksum.status", "tcp.checksum.status", "icmp.checksum.status",
    "icmpv6.checksum.status"};
const std::vector<std::string> kAlwaysFields = {"frame.number", "frame.protocols", "_ws.malformed",
                                                "_ws.expert.severity", "_ws.expert.message"};

// Wireshark's expert severity PI_WARN (proto.h); below it are chat, note and comment, above it
// PI_ERROR.
constexpr uint32_t kExpertWarning = 0x00600000;

std::vector<Case> Cases() {
  const Bytes arp_request = ArpRequest();
  const Bytes solicitation = NeighborSolicitationFrame();
  const Bytes echo = EchoRequestIpv4();
  const Bytes discover = DhcpDiscover();
  return {
      {"VXLAN 42 over IPv4: ARP request",
       VxlanOverIpv4(42, arp_request),
       {{"frame.protocols", "eth:ethertype:ip:udp:vxlan:eth:ethertype:arp"},
        {"ip.src", "192.0.2.1"},
        {"ip.dst", "192.0.2.2"},
        {"udp.srcport", std::to_string(VxlanPortFor(arp_request))},
        {"udp.dstport", "4789"},
        {"udp.checksum.status", std::string(kChecksumNotPresent)},
        {"vxlan.flags", "0x0800"},
        {"vxlan.vni", "42"},
        {"eth.dst", "02:00:00:00:01:02,ff:ff:ff:ff:ff:ff"},
        {"arp.opcode", "1"},
        {"arp.src.hw_mac", "52:54:00:00:00:01"},
        {"arp.src.proto_ipv4", "10.0.0.1"},
        {"arp.dst.proto_ipv4", "10.0.0.2"}}},
      {"VXLAN 4242 over IPv4: neighbor solicitation",
       VxlanOverIpv4(4242, solicitation),
       {{"frame.protocols", "eth:ethertype:ip:udp:vxlan:eth:ethertype:ipv6:icmpv6"},
        {"udp.srcport", std::to_string(VxlanPortFor(solicitation))},
        {"udp.checksum.status", std::string(kChecksumNotPresent)},
        {"vxlan.flags", "0x0800"},
        {"vxlan.vni", "4242"},
        {"eth.dst", "02:00:00:00:01:02,33:33:ff:00:00:02"},
        {"ipv6.src", "2001:db8::1"},
        {"ipv6.dst", "ff02::1:ff00:2"},
        {"ipv6.hlim", "255"},
        {"icmpv6.type", "135"},
        {"icmpv6.code", "0"},
        {"icmpv6.nd.ns.target_address", "2001:db8::2"},
        {"icmpv6.opt.type", "1"},
        {"icmpv6.opt.linkaddr", "52:54:00:00:00:01"}}},
      {"VXLAN 42 over IPv6: ICMP echo request",
       VxlanOverIpv6(42, echo),
       {{"frame.protocols", "eth:ethertype:ipv6:udp:vxlan:eth:ethertype:ip:icmp:data"},
        {"ipv6.src", "2001:db8:ffff::1"},
        {"ipv6.dst", "2001:db8:ffff::2"},
        {"udp.srcport", std::to_string(VxlanPortFor(echo))},
        {"udp.checksum.status", std::string(kChecksumGood)},
        {"vxlan.vni", "42"},
        {"ip.src", "10.0.0.1"},
        {"ip.dst", "10.0.0.2"},
        {"icmp.type", "8"},
        {"icmp.code", "0"}}},
      {"ARP reply",
       ArpReply(),
       {{"frame.protocols", "eth:ethertype:arp"},
        {"arp.opcode", "2"},
        {"arp.src.hw_mac", "52:54:00:00:00:02"},
        {"arp.src.proto_ipv4", "10.0.0.2"},
        {"arp.dst.proto_ipv4", "10.0.0.1"}}},
      {"neighbor advertisement, solicited and override",
       NeighborAdvertisementFrame(),
       {{"frame.protocols", "eth:ethertype:ipv6:icmpv6"},
        {"ipv6.hlim", "255"},
        {"icmpv6.type", "136"},
        {"icmpv6.nd.na.target_address", "2001:db8::2"},
        {"icmpv6.nd.na.flag.r", "0"},
        {"icmpv6.nd.na.flag.s", "1"},
        {"icmpv6.nd.na.flag.o", "1"},
        {"icmpv6.opt.type", "2"},
        {"icmpv6.opt.linkaddr", "52:54:00:00:00:02"}}},
      {"IPv4/UDP with a checksum",
       UdpIpv4(),
       {{"frame.protocols", "eth:ethertype:ip:udp:data"},
        {"udp.srcport", "40000"},
        {"udp.dstport", "40001"},
        {"udp.checksum.status", std::string(kChecksumGood)}}},
      {"IPv4/TCP SYN with MSS",
       TcpSynIpv4(),
       {{"frame.protocols", "eth:ethertype:ip:tcp"},
        {"tcp.flags.syn", "1"},
        {"tcp.options.mss_val", std::to_string(kSynMss)},
        {"tcp.checksum.status", std::string(kChecksumGood)}}},
      {"ICMPv4 fragmentation needed, MTU 1450",
       FragmentationNeeded(),
       {{"frame.protocols", "eth:ethertype:ip:icmp:ip:udp"},
        {"icmp.type", "3"},
        {"icmp.code", "4"},
        {"icmp.mtu", "1450"},
        // The quote holds 8 bytes of the datagram: its checksum cannot be verified.
        {"udp.checksum.status", std::string(kChecksumUnverified)},
        {"ip.dst", "10.0.0.1,198.51.100.7"}}},
      {"ICMPv6 packet too big, MTU 1450",
       PacketTooBig(),
       {{"frame.protocols", "eth:ethertype:ipv6:icmpv6:ipv6:udp:data"},
        {"icmpv6.type", "2"},
        {"icmpv6.code", "0"},
        {"icmpv6.mtu", "1450"},
        // The quote stops at the minimum MTU, short of the datagram's end.
        {"udp.checksum.status", std::string(kChecksumUnverified)},
        {"ipv6.dst", "2001:db8::1,2001:db8:1::7"}}},
      {"DHCP DISCOVER",
       discover,
       {{"frame.protocols", "eth:ethertype:ip:udp:dhcp"},
        {"dhcp.type", "1"},
        {"dhcp.option.dhcp", "1"},
        {"udp.checksum.status", std::string(kChecksumGood)}}},
      {"DHCP OFFER from BuildDhcpReply",
       DhcpOffer(discover),
       {{"frame.protocols", "eth:ethertype:ip:udp:dhcp"},
        {"udp.srcport", "67"},
        {"udp.dstport", "68"},
        {"dhcp.type", "2"},
        {"dhcp.option.dhcp", "2"},
        {"dhcp.id", "0x0d0e0f10"},
        {"dhcp.ip.your", "10.0.0.23"},
        {"dhcp.option.dhcp_server_id", "10.0.0.254"},
        {"dhcp.option.interface_mtu", "1450"},
        {"udp.checksum.status", std::string(kChecksumGood)}}},
      {"DHCP ACK to a renewal from BuildDhcpReplyFrame (the switch's responder)",
       DhcpAckFrame(),
       {{"frame.protocols", "eth:ethertype:ip:udp:dhcp"},
        {"eth.dst", "52:54:00:00:00:01"},
        {"ip.dst", "10.0.0.23"},
        {"dhcp.type", "2"},
        {"dhcp.option.dhcp", "5"},
        {"dhcp.ip.your", "10.0.0.23"},
        {"dhcp.option.dhcp_server_id", "10.0.0.254"},
        {"dhcp.option.ip_address_lease_time", "3600"},
        {"dhcp.option.renewal_time_value", "1800"},
        {"dhcp.option.subnet_mask", "255.255.255.0"},
        {"dhcp.option.broadcast_address", "10.0.0.255"},
        {"dhcp.option.router", "10.0.0.254"},
        {"dhcp.option.domain_name_server", "10.0.0.53"},
        {"dhcp.option.interface_mtu", "1450"},
        {"udp.checksum.status", std::string(kChecksumGood)}}},
      {"Router Advertisement from BuildRouterAdvertisement (the switch's advertiser)",
       RouterAdvertisementFrame(),
       {{"frame.protocols", "eth:ethertype:ipv6:icmpv6"},
        {"eth.dst", "33:33:00:00:00:01"},
        {"ipv6.src", "fe80::5054:ff:fe00:fe"},
        {"ipv6.dst", "ff02::1"},
        {"ipv6.hlim", "255"},
        {"icmpv6.type", "134"},
        {"icmpv6.nd.ra.cur_hop_limit", "64"},
        {"icmpv6.nd.ra.router_lifetime", "1800"},
        {"icmpv6.opt.src_linkaddr", "52:54:00:00:00:fe"},
        {"icmpv6.opt.mtu", "1450"},
        {"icmpv6.opt.prefix", "2001:db8::,2001:db8:1::"},
        {"icmpv6.opt.prefix.length", "64,64"},
        {"icmpv6.opt.prefix.flag.l", "1,1"},
        {"icmpv6.opt.prefix.flag.a", "1,0"},
        {"icmpv6.checksum.status", std::string(kChecksumGood)}}},
  };
}

// tshark's rows, one per frame shown, each holding the requested fields in order.
struct TsharkOutput {
  std::vector<std::string> fields;
  std::vector<std::vector<std::string>> rows;

  // The value of `field` in `row`; every requested field is present (maybe empty).
  const std::string& Get(size_t row, const std::string& field) const {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i] == field) return rows.at(row).at(i);
    }
    throw std::logic_error("field not requested: " + field);
  }

  // Every row, for failure messages.
  std::string ToString() const {
    std::string text;
    for (const std::vector<std::string>& row : rows) {
      for (size_t i = 0; i < row.size(); ++i) text += fields[i] + "=" + row[i] + " ";
      text += "\n";
    }
    return text;
  }
};

// Frames tshark found malformed, or about which it raised a warning or an error (a bad
// checksum is an error). Wireshark's filter language knows the severities by name.
constexpr std::string_view kProblemFilter = "_ws.malformed || _ws.expert.severity >= warning";

// Runs tshark on `pcap` with every checksum verified, printing `fields` of each frame that
// passes `display_filter` (every frame when empty). Throws when tshark fails (a bad field
// name or filter included) or prints a row of the wrong width.
TsharkOutput RunTshark(const std::filesystem::path& tshark, const std::filesystem::path& pcap,
                       const std::vector<std::string>& fields,
                       std::string_view display_filter = "") {
  std::vector<std::string> command = {tshark,
                                      "-n",  // no name resolution: addresses stay numbers
                                      "-r",   pcap,
                                      "-o",   "ip.check_checksum:TRUE",
                                      "-o",   "udp.check_checksum:TRUE",
                                      "-o",   "tcp.check_checksum:TRUE",
                                      "-T",   "fields",
                                      "-E",   "separator=/t",
                                      "-E",   "occurrence=a",
                                      "-E",   "aggregator=,"};
  if (!display_filter.empty()) {
    command.emplace_back("-Y");
    command.emplace_back(display_filter);
  }
  for (const std::string& field : fields) {
    command.emplace_back("-e");
    command.push_back(field);
  }
  const test_tools::CommandResult run = test_tools::RunCommand(command);
  if (!run.Succeeded()) throw std::runtime_error(run.Describe());
  TsharkOutput output{fields, {}};
  for (const std::string& line : test_tools::Split(run.out, '\n')) {
    if (line.empty()) continue;
    output.rows.push_back(test_tools::Split(line, '\t'));
    if (output.rows.back().size() != fields.size()) {
      throw std::runtime_error("tshark printed " + std::to_string(output.rows.back().size()) +
                               " fields, not " + std::to_string(fields.size()) + ": " + line);
    }
  }
  return output;
}

void WritePcap(const std::filesystem::path& path, const std::vector<Bytes>& frames) {
  auto opened = PcapWriter::Open(path);
  if (!opened) throw std::runtime_error(opened.error());
  PcapWriter writer = std::move(opened).value();
  // Fixed timestamps, one millisecond apart: the file is the same on every run.
  auto when = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  for (const Bytes& frame : frames) {
    auto written = writer.Write(frame, when);
    if (!written) throw std::runtime_error(written.error());
    when += std::chrono::milliseconds(1);
  }
  auto closed = writer.Close();
  if (!closed) throw std::runtime_error(closed.error());
}

class TsharkDecodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::optional<std::filesystem::path> found = test_tools::FindProgram("tshark");
    ASSERT_TRUE(found.has_value())
        << "tshark is not on PATH: install the Debian package \"tshark\" (scripts/install-deps "
           "does). This test checks our frames with Wireshark's decoder and cannot run "
           "without it.";
    tshark_ = *found;
  }

  // Writes `frames` to a pcap file in the test's own directory and returns its path.
  std::filesystem::path Write(const std::vector<Bytes>& frames) {
    std::filesystem::path pcap = dir_.path() / "frames.pcap";
    WritePcap(pcap, frames);
    return pcap;
  }

  test_tools::TempDir dir_{"dove-tshark"};
  std::filesystem::path tshark_;
};

TEST_F(TsharkDecodeTest, DecodesEveryFrameAsBuilt) {
  const std::vector<Case> cases = Cases();
  std::vector<Bytes> frames;
  frames.reserve(cases.size());
  for (const Case& c : cases) frames.push_back(c.frame);
  const std::filesystem::path pcap = Write(frames);

  std::set<std::string> field_set(kAlwaysFields.begin(), kAlwaysFields.end());
  field_set.insert(kChecksumStatusFields.begin(), kChecksumStatusFields.end());
  for (const Case& c : cases) {
    for (const auto& [field, value] : c.expected) field_set.insert(field);
  }
  const std::vector<std::string> fields(field_set.begin(), field_set.end());
  const TsharkOutput output = RunTshark(tshark_, pcap, fields);
  ASSERT_EQ(output.rows.size(), cases.size()) << "one row per frame:\n" << output.ToString();

  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE("frame " + std::to_string(i + 1) + ": " + c.description);
    EXPECT_EQ(output.Get(i, "frame.number"), std::to_string(i + 1));
    for (const auto& [field, value] : c.expected) {
      EXPECT_EQ(output.Get(i, field), value) << field;
    }
    // Every checksum tshark verified is good, unless the case says otherwise.
    for (const std::string& field : kChecksumStatusFields) {
      if (c.expected.contains(field)) continue;
      for (const std::string& status : test_tools::Split(output.Get(i, field), ',')) {
        if (status.empty()) continue;
        EXPECT_EQ(status, kChecksumGood) << field << " (0 bad, 1 good, 2 unverified, 3 absent)";
      }
    }
    EXPECT_EQ(output.Get(i, "_ws.malformed"), "");
    for (const std::string& severity :
         test_tools::Split(output.Get(i, "_ws.expert.severity"), ',')) {
      if (severity.empty()) continue;
      EXPECT_LT(std::stoul(severity, nullptr, 0), kExpertWarning)
          << "expert info: " << output.Get(i, "_ws.expert.message");
    }
  }

  // The same question asked as Wireshark users do, with a display filter.
  const TsharkOutput problems =
      RunTshark(tshark_, pcap, {"frame.number", "_ws.expert.message"}, kProblemFilter);
  EXPECT_TRUE(problems.rows.empty()) << "tshark flagged:\n" << problems.ToString();
}

// The control: the checks above can fail. One flipped bit in a checksum our builder wrote must
// show as a bad checksum and be caught by the problem filter.
TEST_F(TsharkDecodeTest, FlagsACorruptedChecksum) {
  Bytes frame = UdpIpv4();
  const size_t udp_checksum_at = sizeof(EthernetHeader) + sizeof(Ipv4Header) + 6;
  frame.at(udp_checksum_at) ^= 0x01;
  const std::filesystem::path pcap = Write({frame});

  const TsharkOutput output =
      RunTshark(tshark_, pcap, {"udp.checksum.status", "ip.checksum.status"});
  ASSERT_EQ(output.rows.size(), 1u) << output.ToString();
  EXPECT_EQ(output.Get(0, "udp.checksum.status"), kChecksumBad);
  EXPECT_EQ(output.Get(0, "ip.checksum.status"), kChecksumGood);

  const TsharkOutput problems =
      RunTshark(tshark_, pcap, {"frame.number", "_ws.expert.message"}, kProblemFilter);
  ASSERT_EQ(problems.rows.size(), 1u) << problems.ToString();
  EXPECT_NE(problems.Get(0, "_ws.expert.message").find("Bad checksum"), std::string::npos)
      << problems.ToString();
}

}  // namespace
}  // namespace dove::net
