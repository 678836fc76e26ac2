// IPv6 Neighbor Discovery (RFC 4861): Neighbor Solicitation and Advertisement, Router
// Solicitation and Advertisement, and ND options.
//
// Both messages are ICMPv6 messages (see icmpv6.h); after the 4-byte ICMPv6 header comes a
// 20-byte fixed part, then options:
//
//   Neighbor Solicitation (type 135)        Neighbor Advertisement (type 136)
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |     Code (0)  |          Checksum             |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  NS: Reserved                                                 |
//   |  NA: |R|S|O|                     Reserved                     |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                     Target Address (16 bytes)                 |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |   Options ...
//
// Every option (section 4.6) is a type, a length in units of 8 bytes (type and length
// included), and data; the Ethernet link-layer address option (section 4.6.1, RFC 2464) is
// one unit:
//
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     Type      |    Length     |    Link-Layer Address (6) ...
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The parsers apply the validity checks of sections 7.1.1 and 7.1.2 that the ICMPv6 message
// and its addresses allow. Two are left to others: the checksum is ParseIcmpv6's (parse with
// verify_checksum), and the IPv6 Hop Limit must be 255 (nd::kHopLimit, proof that the sender
// is on the link), which the caller must check on the IPv6 header before trusting either
// message. Unrecognised options are skipped, as section 4.6 requires; of repeated link-layer
// address options the first counts (as in Linux).
//
//   auto icmp = ParseIcmpv6(ip->payload, ip->source, ip->destination);
//   if (ip->hop_limit == nd::kHopLimit && icmp->type() == icmpv6::kNeighborSolicitation) {
//     auto ns = ParseNeighborSolicitation(*icmp);
//     if (ns && Owns(ns->target)) AppendNeighborAdvertisement(builder, ...);
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "net/byte_order.h"
#include "net/error.h"
#include "net/frame_builder.h"
#include "net/icmpv6.h"
#include "net/ipv6_address.h"
#include "net/mac_address.h"

namespace dove::net {

namespace nd {
// The Hop Limit every Neighbor Discovery message is sent and must be received with.
inline constexpr uint8_t kHopLimit = 255;

// Option types.
inline constexpr uint8_t kOptionSourceLinkLayerAddress = 1;
inline constexpr uint8_t kOptionTargetLinkLayerAddress = 2;
inline constexpr uint8_t kOptionPrefixInformation = 3;
inline constexpr uint8_t kOptionRedirectedHeader = 4;
inline constexpr uint8_t kOptionMtu = 5;
// Option lengths count units of this many bytes.
inline constexpr size_t kOptionUnit = 8;

// Neighbor Advertisement flags, in the first word of the body.
inline constexpr uint32_t kFlagRouter = 0x80000000;
inline constexpr uint32_t kFlagSolicited = 0x40000000;
inline constexpr uint32_t kFlagOverride = 0x20000000;

// ICMPv6 header (4) and fixed part (20): the shortest valid NS or NA.
inline constexpr size_t kMinimumMessageSize = 24;

// Router Solicitation: the ICMPv6 header and 4 reserved bytes; Router Advertisement: the
// header and a 12-byte fixed part (section 4.1, 4.2).
inline constexpr size_t kRouterSolicitationMinimumSize = 8;
inline constexpr size_t kRouterAdvertisementMinimumSize = 16;
// Router Advertisement flags (the byte after Cur Hop Limit).
inline constexpr uint8_t kFlagManaged = 0x80;  // M: addresses from DHCPv6
inline constexpr uint8_t kFlagOther = 0x40;    // O: other configuration from DHCPv6
// Prefix Information flags (section 4.6.2).
inline constexpr uint8_t kPrefixFlagOnLink = 0x80;      // L
inline constexpr uint8_t kPrefixFlagAutonomous = 0x40;  // A: hosts may form SLAAC addresses
// Option sizes in units: MTU 1, Prefix Information 4.
inline constexpr uint8_t kMtuOptionUnits = 1;
inline constexpr uint8_t kPrefixInformationUnits = 4;
}  // namespace nd

// The fixed part of a Neighbor Solicitation, after the ICMPv6 header.
struct NeighborSolicitationFixed {
  Be32 reserved;
  Ipv6Address target;
};
static_assert(sizeof(NeighborSolicitationFixed) == 20);

// The fixed part of a Neighbor Advertisement, after the ICMPv6 header.
struct NeighborAdvertisementFixed {
  Be32 flags;  // nd::kFlagRouter | kFlagSolicited | kFlagOverride; the other bits reserved
  Ipv6Address target;
};
static_assert(sizeof(NeighborAdvertisementFixed) == 20);

// A source or target link-layer address option for Ethernet.
struct NdLinkLayerAddressOption {
  uint8_t type = 0;
  uint8_t length = 1;  // in units of 8 bytes
  MacAddress address;
};
static_assert(sizeof(NdLinkLayerAddressOption) == nd::kOptionUnit);

// One option. `bytes` points into the parsed buffer.
struct NdOption {
  uint8_t type = 0;
  ByteSpan bytes;  // the whole option, type and length included: a multiple of 8 bytes

  // What follows the type and length bytes.
  ByteSpan data() const { return bytes.size() < 2 ? ByteSpan() : bytes.subspan(2); }
};

// Walks an options area one option at a time, allocating nothing:
//
//   NdOptionWalker walker(options);
//   while (!walker.AtEnd()) {
//     auto option = walker.Next();
//     if (!option) return Unexpected(option.error());
//     ...
//   }
class NdOptionWalker {
 public:
  explicit NdOptionWalker(ByteSpan options) : rest_(options) {}

  // True when no bytes are left; also true after Next returned an error.
  bool AtEnd() const { return rest_.empty(); }

  // The next option. kTruncated when fewer than 2 bytes remain (or none: call only while
  // !AtEnd()) or the option's length runs past the end of the area; kBadField for a length of
  // 0 (section 4.6: the packet MUST be discarded). After an error the walk is over.
  Result<NdOption> Next();

 private:
  ByteSpan rest_;
};

// The Ethernet address in a source or target link-layer address option. kBadLength unless the
// option is one unit long (RFC 2464 section 6).
Result<MacAddress> ParseNdLinkLayerAddress(const NdOption& option);

// What a Neighbor Solicitation says: which address is sought, and who asks.
struct NeighborSolicitation {
  Ipv6Address target;
  // From the source link-layer address option; absent when the source address is
  // unspecified (duplicate address detection), and optional otherwise.
  std::optional<MacAddress> source_mac;

  friend bool operator==(const NeighborSolicitation&, const NeighborSolicitation&) = default;
};

// What a Neighbor Advertisement says.
struct NeighborAdvertisement {
  Ipv6Address target;
  bool router_flag = false;              // R: the sender is a router
  bool solicited_flag = false;           // S: the answer to a solicitation
  bool override_flag = false;            // O: replace a cached link-layer address
  std::optional<MacAddress> target_mac;  // from the target link-layer address option

  friend bool operator==(const NeighborAdvertisement&, const NeighborAdvertisement&) = default;
};

// What a Router Solicitation says (section 4.1): who asks.
struct RouterSolicitation {
  // From the source link-layer address option; never present when the source is unspecified.
  std::optional<MacAddress> source_mac;

  friend bool operator==(const RouterSolicitation&, const RouterSolicitation&) = default;
};

// One Prefix Information option (section 4.6.2).
struct PrefixInformation {
  Ipv6Address prefix;  // host bits as sent (a sender must zero them; receivers ignore them)
  uint8_t length = 64;
  bool on_link = true;
  bool autonomous = false;
  uint32_t valid_lifetime = 0;  // seconds; 0xffffffff: for ever
  uint32_t preferred_lifetime = 0;

  friend bool operator==(const PrefixInformation&, const PrefixInformation&) = default;
};

// What a Router Advertisement says (section 4.2), with the options DOVE reads and writes.
struct RouterAdvertisement {
  uint8_t hop_limit = 0;  // Cur Hop Limit; 0: unspecified
  bool managed = false;
  bool other = false;
  uint16_t router_lifetime = 0;          // seconds; 0: not a default router
  uint32_t reachable_time = 0;           // ms; 0: unspecified
  uint32_t retrans_timer = 0;            // ms; 0: unspecified
  std::optional<MacAddress> source_mac;  // source link-layer address option
  std::optional<uint32_t> mtu;           // MTU option
  std::vector<PrefixInformation> prefixes;

  friend bool operator==(const RouterAdvertisement&, const RouterAdvertisement&) = default;
};

// Reads a Router Solicitation from a message ParseIcmpv6 returned (section 6.1.1; the hop limit
// of 255 is the caller's to check, as for NS). Errors:
//   kUnsupported  the message is not of type 133;
//   kBadField     the code is not 0; an option has length 0; the source is unspecified and a
//                 source link-layer address option is present;
//   kTruncated    the message is shorter than 8 bytes, or an option runs past its end;
//   kBadLength    a source link-layer address option is not one unit long.
Result<RouterSolicitation> ParseRouterSolicitation(const Icmpv6Message& message);

// Reads a Router Advertisement (section 6.1.2; hop limit 255 is the caller's). Unknown options
// are skipped; of repeated source link-layer address or MTU options the first counts. Errors:
//   kUnsupported  the message is not of type 134;
//   kBadField     the code is not 0; the source is not link-local; an option has length 0; a
//                 prefix length over 128;
//   kTruncated    the message is shorter than 16 bytes, or an option runs past its end;
//   kBadLength    a source link-layer address or MTU option not one unit long, a Prefix
//                 Information option not four.
Result<RouterAdvertisement> ParseRouterAdvertisement(const Icmpv6Message& message);

// The SLAAC address (RFC 4862) a host with `mac` forms in /64 `prefix`: the prefix's first 64
// bits and the modified EUI-64 interface identifier of the MAC.
Ipv6Address SlaacAddress(const Ipv6Address& prefix, const MacAddress& mac);

// Reads a Neighbor Solicitation from a message ParseIcmpv6 returned. Errors:
//   kUnsupported  the message is not of type 135;
//   kBadField     the code is not 0; the target is multicast; an option has length 0; the
//                 source is unspecified and the destination is not a solicited-node
//                 multicast address, or a source link-layer address option is present;
//   kTruncated    the message is shorter than 24 bytes, or an option runs past its end;
//   kBadLength    a source link-layer address option is not one unit long.
Result<NeighborSolicitation> ParseNeighborSolicitation(const Icmpv6Message& message);

// Reads a Neighbor Advertisement from a message ParseIcmpv6 returned. Errors:
//   kUnsupported  the message is not of type 136;
//   kBadField     the code is not 0; the target is multicast; an option has length 0; the
//                 destination is multicast and the Solicited flag is set;
//   kTruncated    the message is shorter than 24 bytes, or an option runs past its end;
//   kBadLength    a target link-layer address option is not one unit long.
Result<NeighborAdvertisement> ParseNeighborAdvertisement(const Icmpv6Message& message);

// Append a complete ICMPv6 message (header, fixed part, and the link-layer address option when
// the MAC is present) sent from `source` to `destination`, with its checksum. They return the
// offset where the message starts. The content is not validated: tests build invalid messages
// with them.
size_t AppendNeighborSolicitation(FrameBuilder& builder, const Ipv6Address& source,
                                  const Ipv6Address& destination,
                                  const NeighborSolicitation& solicitation);
size_t AppendNeighborAdvertisement(FrameBuilder& builder, const Ipv6Address& source,
                                   const Ipv6Address& destination,
                                   const NeighborAdvertisement& advertisement);
// The same for Router Solicitation and Router Advertisement (options in the order: source
// link-layer address, MTU, prefixes).
size_t AppendRouterSolicitation(FrameBuilder& builder, const Ipv6Address& source,
                                const Ipv6Address& destination,
                                const RouterSolicitation& solicitation);
size_t AppendRouterAdvertisement(FrameBuilder& builder, const Ipv6Address& source,
                                 const Ipv6Address& destination,
                                 const RouterAdvertisement& advertisement);

}  // namespace dove::net
