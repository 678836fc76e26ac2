// DHCPv4 (RFC 2131, options RFC 2132): parsing a client's message and building the server's
// OFFER, ACK or NAK, as the switch's local DHCP responder needs.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------+---------------+---------------+---------------+
//   |     op (1)    |   htype (1)   |   hlen (1)    |   hops (1)    |
//   +---------------+---------------+---------------+---------------+
//   |                            xid (4)                            |
//   +-------------------------------+-------------------------------+
//   |           secs (2)            |           flags (2)           |
//   +-------------------------------+-------------------------------+
//   |                          ciaddr  (4)                          |
//   |                          yiaddr  (4)                          |
//   |                          siaddr  (4)                          |
//   |                          giaddr  (4)                          |
//   +---------------------------------------------------------------+
//   |                          chaddr  (16)                         |
//   |                          sname   (64)                         |
//   |                          file    (128)                        |
//   +---------------------------------------------------------------+
//   |                magic cookie 99.130.83.99 (4)                  |
//   +---------------------------------------------------------------+
//   |                          options (variable)                   |
//   +---------------------------------------------------------------+
//
// Options are code (1), length (1), value (length); PAD (0) and END (255) are a single byte.
//
// ParseDhcp(udp_payload) takes the payload of a UDP datagram to port 67 or 68. Its errors, in
// the order they are checked:
//   kTruncated    shorter than the 236-byte fixed part;
//   kBadField     op is neither BOOTREQUEST (1) nor BOOTREPLY (2);
//   kUnsupported  htype/hlen are not Ethernet (1/6): DOVE only serves Ethernet VMs;
//   kTruncated    no room for the magic cookie;
//   kBadField     the magic cookie is not 99.130.83.99 (plain BOOTP is not served);
// then, walking the options, the first of these met in option order:
//   kTruncated    an option's code has no length byte, or its value runs past the buffer;
//   kBadLength    an option this file reads or writes has a length RFC 2132 forbids: 1, 28,
//                 50, 51, 54, 58, 59 must be 4 bytes; 26 and 57, 2; 3 and 6 a non-empty
//                 multiple of 4; 12 and 55 at least 1; 61 at least 2 (others are not checked);
//   kUnsupported  option overload (52): the options continued in sname/file are not read, and
//                 no client a VM runs sends it (its messages fit in the options field);
//   kBadField     a message type option (53) that is repeated, not 1 byte, or not 1..8;
// and last:
//   kBadField     no message type option: plain BOOTP is not served.
// A missing END option is tolerated when the options end exactly at the buffer's end: some
// clients omit it, and nothing is lost (a value running past the end is still kTruncated).
// Whatever follows END (padding to 300 bytes, usually) is ignored. The message type is not
// checked against op.
//
// Long options split across several instances (RFC 3396) are not concatenated: FindOption
// returns the first instance, which is whole for every option a VM's client sends.
//
// Ownership: DhcpMessage copies the fixed part; its `options` span and every span or view
// returned by the getters point into the caller's buffer. Parsing does not allocate;
// BuildDhcpReply returns a new buffer.
//
//   auto request = ParseDhcp(udp_payload);
//   if (!request) return Drop(request.error());
//   if (request->type == DhcpMessageType::kDiscover) {
//     auto offer = BuildDhcpReply(*request, {.type = DhcpMessageType::kOffer, ...});
//   }
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/byte_order.h"
#include "net/error.h"
#include "net/ipv4_address.h"
#include "net/mac_address.h"

namespace dove::net {

namespace dhcp {
inline constexpr uint16_t kServerPort = 67;
inline constexpr uint16_t kClientPort = 68;
inline constexpr uint8_t kBootRequest = 1;  // op
inline constexpr uint8_t kBootReply = 2;
inline constexpr uint8_t kHtypeEthernet = 1;
inline constexpr uint16_t kFlagBroadcast = 0x8000;    // the client cannot receive unicast yet
inline constexpr uint32_t kMagicCookie = 0x63825363;  // 99.130.83.99
// BOOTP's minimum message (RFC 1542 section 2.1): some relays and clients drop shorter ones.
inline constexpr size_t kMinMessageSize = 300;
// A client without option 57 accepts IP datagrams of 576 bytes: 548 bytes of DHCP message.
inline constexpr uint16_t kDefaultMaxDatagram = 576;
inline constexpr size_t kIpUdpHeaderSize = 28;
inline constexpr uint32_t kInfiniteLease = 0xffffffff;
}  // namespace dhcp

namespace dhcp_option {
inline constexpr uint8_t kPad = 0;
inline constexpr uint8_t kSubnetMask = 1;
inline constexpr uint8_t kRouter = 3;
inline constexpr uint8_t kDnsServer = 6;
inline constexpr uint8_t kHostname = 12;
inline constexpr uint8_t kInterfaceMtu = 26;
inline constexpr uint8_t kBroadcastAddress = 28;
inline constexpr uint8_t kRequestedIp = 50;
inline constexpr uint8_t kLeaseTime = 51;
inline constexpr uint8_t kOverload = 52;
inline constexpr uint8_t kMessageType = 53;
inline constexpr uint8_t kServerId = 54;
inline constexpr uint8_t kParameterRequestList = 55;
inline constexpr uint8_t kMaxMessageSize = 57;
inline constexpr uint8_t kRenewalTime = 58;
inline constexpr uint8_t kRebindingTime = 59;
inline constexpr uint8_t kClientId = 61;
inline constexpr uint8_t kEnd = 255;
inline constexpr size_t kMaxLength = 255;  // of one option's value
}  // namespace dhcp_option

enum class DhcpMessageType : uint8_t {
  kDiscover = 1,
  kOffer = 2,
  kRequest = 3,
  kDecline = 4,
  kAck = 5,
  kNak = 6,
  kRelease = 7,
  kInform = 8,
};

// The fixed part, before the magic cookie.
struct DhcpHeader {
  uint8_t op;
  uint8_t htype;
  uint8_t hlen;
  uint8_t hops;
  Be32 xid;
  Be16 secs;
  Be16 flags;
  Ipv4Address ciaddr;  // the client's address, when it already has one (renew, INFORM)
  Ipv4Address yiaddr;  // "your" address: the one the server gives
  Ipv4Address siaddr;  // the next server (bootstrap)
  Ipv4Address giaddr;  // the relay agent, or 0
  std::array<uint8_t, 16> chaddr;
  std::array<uint8_t, 64> sname;
  std::array<uint8_t, 128> file;
};
static_assert(sizeof(DhcpHeader) == 236);

// A parsed DHCP message. `options` points into the parsed buffer.
struct DhcpMessage {
  DhcpHeader header{};
  DhcpMessageType type = DhcpMessageType::kDiscover;
  // The options after the magic cookie, up to but not including END (to the buffer's end when
  // END is missing). Every option in it is whole.
  ByteSpan options;

  uint8_t op() const { return header.op; }
  uint32_t xid() const { return header.xid.value(); }
  uint16_t secs() const { return header.secs.value(); }
  uint16_t flags() const { return header.flags.value(); }
  bool broadcast() const { return (flags() & dhcp::kFlagBroadcast) != 0; }
  const Ipv4Address& ciaddr() const { return header.ciaddr; }
  const Ipv4Address& yiaddr() const { return header.yiaddr; }
  const Ipv4Address& siaddr() const { return header.siaddr; }
  const Ipv4Address& giaddr() const { return header.giaddr; }
  // The first six bytes of chaddr (ParseDhcp guarantees hlen 6).
  MacAddress client_mac() const;
};

// Errors as listed in the file comment.
Result<DhcpMessage> ParseDhcp(ByteSpan udp_payload);

// The value of the first option `code` in `message.options`; nullopt when absent, and for PAD
// and END, which have no value.
std::optional<ByteSpan> FindOption(const DhcpMessage& message, uint8_t code);

// Typed getters. Each returns nullopt when the option is absent or (in a message not made by
// ParseDhcp, which refuses these) has the wrong length.
std::optional<Ipv4Address> RequestedIp(const DhcpMessage& message);        // 50
std::optional<Ipv4Address> ServerId(const DhcpMessage& message);           // 54
std::optional<uint32_t> LeaseTime(const DhcpMessage& message);             // 51, seconds
std::optional<uint16_t> MaxMessageSize(const DhcpMessage& message);        // 57
std::optional<ByteSpan> ParameterRequestList(const DhcpMessage& message);  // 55: option codes
std::optional<ByteSpan> ClientId(const DhcpMessage& message);              // 61
// 12, with trailing NUL bytes (sent by some clients) trimmed, nullopt when nothing is left;
// a view into the buffer.
std::optional<std::string_view> Hostname(const DhcpMessage& message);

// What the server answers. Unset optionals and empty lists are left out of the reply.
struct DhcpReplyParams {
  DhcpMessageType type = DhcpMessageType::kOffer;  // kOffer, kAck or kNak
  Ipv4Address your_ip;                             // yiaddr; unused by NAK and by ACK to INFORM
  Ipv4Address server_id;                           // option 54 and siaddr
  uint32_t lease_seconds = 86400;                  // 51; dhcp::kInfiniteLease for ever
  std::optional<uint32_t> renewal_seconds;         // 58; default lease / 2 (none if infinite)
  std::optional<uint32_t> rebinding_seconds;       // 59; default lease * 7 / 8 (ditto)
  std::optional<Ipv4Address> subnet_mask;          // 1
  std::optional<Ipv4Address> broadcast_address;    // 28
  std::vector<Ipv4Address> routers;                // 3, at most 63
  std::vector<Ipv4Address> dns_servers;            // 6, at most 63
  std::optional<uint16_t> mtu;                     // 26, at least 68
  std::string hostname;                            // 12, at most 255 bytes
};

// Builds the reply to `request`: op BOOTREPLY, the request's xid, flags, giaddr and chaddr;
// ciaddr copied for ACK only; yiaddr and siaddr as RFC 2131 table 3 says. Options, in this
// order: 53 type, 54 server id, [51 lease, 58 T1, 59 T2], 1, 28, 3, 6, 26, 12, and 61 echoed
// from the request (RFC 6842); a NAK carries only 53, 54 and 61. Then END, zero-padded to
// dhcp::kMinMessageSize. Options the client did not ask for are sent all the same: clients
// ignore those they do not want.
//
// Errors:
//   kBadField    request not a BOOTREQUEST; params.type not OFFER/ACK/NAK, or not an answer to
//                the request's type (OFFER to DISCOVER, ACK to REQUEST or INFORM, NAK to
//                REQUEST); server_id unspecified; your_ip unspecified where it is sent;
//   kOutOfRange  lease 0; T1 > T2 or T2 > lease; more than 63 routers or DNS servers (a longer
//                option exceeds 255 bytes); hostname longer than 255; MTU below 68;
//   kNoSpace     the reply exceeds what the client accepts: option 57 of the request, or 576
//                bytes of IP datagram without it.
Result<std::vector<uint8_t>> BuildDhcpReply(const DhcpMessage& request,
                                            const DhcpReplyParams& params);

}  // namespace dove::net
