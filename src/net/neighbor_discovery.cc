#include "net/neighbor_discovery.h"

#include <array>

namespace dove::net {
namespace {

// Both fixed parts are 20 bytes; options follow them.
constexpr size_t kFixedPartSize = 20;
static_assert(sizeof(NeighborSolicitationFixed) == kFixedPartSize &&
              sizeof(NeighborAdvertisementFixed) == kFixedPartSize);

// ff02::1:ff00:0/104: an address is in it exactly when it is its own solicited-node group.
bool IsSolicitedNodeMulticast(const Ipv6Address& address) {
  return address.SolicitedNodeMulticast() == address;
}

// The checks sections 7.1.1 and 7.1.2 share: type, code, length, a unicast target.
template <typename Fixed>
Result<Fixed> LoadFixedPart(const Icmpv6Message& message, uint8_t type) {
  if (message.type() != type) return Unexpected(Error::kUnsupported);
  if (message.code() != 0) return Unexpected(Error::kBadField);
  const auto fixed = LoadHeader<Fixed>(message.body);
  if (!fixed) return Unexpected(Error::kTruncated);
  if (fixed->target.IsMulticast()) return Unexpected(Error::kBadField);
  return *fixed;
}

// Walks every option after the fixed part (so a malformed one anywhere fails the message)
// and returns the address of the first link-layer address option of `wanted_type`. The caller
// has checked that the body holds the fixed part.
Result<std::optional<MacAddress>> FindLinkLayerAddress(const Icmpv6Message& message,
                                                       uint8_t wanted_type) {
  std::optional<MacAddress> found;
  NdOptionWalker walker(message.body.subspan(kFixedPartSize));
  while (!walker.AtEnd()) {
    const auto option = walker.Next();
    if (!option) return Unexpected(option.error());
    if (option->type != wanted_type || found) continue;
    const auto mac = ParseNdLinkLayerAddress(*option);
    if (!mac) return Unexpected(mac.error());
    found = *mac;
  }
  return found;
}

void AppendLinkLayerAddressOption(FrameBuilder& builder, uint8_t type, const MacAddress& mac) {
  builder.Append(NdLinkLayerAddressOption{type, 1, mac});
}

// The 12-byte fixed part of a Router Advertisement, after the ICMPv6 header.
struct RouterAdvertisementFixed {
  uint8_t hop_limit;
  uint8_t flags;
  Be16 router_lifetime;
  Be32 reachable_time;
  Be32 retrans_timer;
};
static_assert(sizeof(RouterAdvertisementFixed) == 12);

struct MtuOption {
  uint8_t type;
  uint8_t length;
  Be16 reserved;
  Be32 mtu;
};
static_assert(sizeof(MtuOption) == 8);

struct PrefixInformationOption {
  uint8_t type;
  uint8_t length;
  uint8_t prefix_length;
  uint8_t flags;
  Be32 valid_lifetime;
  Be32 preferred_lifetime;
  Be32 reserved;
  Ipv6Address prefix;
};
static_assert(sizeof(PrefixInformationOption) == 32);

}  // namespace

Result<RouterSolicitation> ParseRouterSolicitation(const Icmpv6Message& message) {
  if (message.type() != icmpv6::kRouterSolicitation) return Unexpected(Error::kUnsupported);
  if (message.code() != 0) return Unexpected(Error::kBadField);
  if (message.body.size() < nd::kRouterSolicitationMinimumSize - sizeof(Icmpv6Header)) {
    return Unexpected(Error::kTruncated);
  }
  RouterSolicitation solicitation;
  NdOptionWalker walker(message.body.subspan(4));
  while (!walker.AtEnd()) {
    const auto option = walker.Next();
    if (!option) return Unexpected(option.error());
    if (option->type != nd::kOptionSourceLinkLayerAddress || solicitation.source_mac) continue;
    const auto mac = ParseNdLinkLayerAddress(*option);
    if (!mac) return Unexpected(mac.error());
    solicitation.source_mac = *mac;
  }
  if (message.source.IsUnspecified() && solicitation.source_mac) {
    return Unexpected(Error::kBadField);
  }
  return solicitation;
}

Result<RouterAdvertisement> ParseRouterAdvertisement(const Icmpv6Message& message) {
  if (message.type() != icmpv6::kRouterAdvertisement) return Unexpected(Error::kUnsupported);
  if (message.code() != 0) return Unexpected(Error::kBadField);
  const auto fixed = LoadHeader<RouterAdvertisementFixed>(message.body);
  if (!fixed) return Unexpected(Error::kTruncated);
  if (!message.source.IsLinkLocal()) return Unexpected(Error::kBadField);
  RouterAdvertisement advertisement;
  advertisement.hop_limit = fixed->hop_limit;
  advertisement.managed = (fixed->flags & nd::kFlagManaged) != 0;
  advertisement.other = (fixed->flags & nd::kFlagOther) != 0;
  advertisement.router_lifetime = fixed->router_lifetime.value();
  advertisement.reachable_time = fixed->reachable_time.value();
  advertisement.retrans_timer = fixed->retrans_timer.value();
  NdOptionWalker walker(message.body.subspan(sizeof(RouterAdvertisementFixed)));
  while (!walker.AtEnd()) {
    const auto option = walker.Next();
    if (!option) return Unexpected(option.error());
    switch (option->type) {
      case nd::kOptionSourceLinkLayerAddress: {
        const auto mac = ParseNdLinkLayerAddress(*option);
        if (!mac) return Unexpected(mac.error());
        if (!advertisement.source_mac) advertisement.source_mac = *mac;
        break;
      }
      case nd::kOptionMtu: {
        if (option->bytes.size() != sizeof(MtuOption)) return Unexpected(Error::kBadLength);
        const auto mtu = LoadHeader<MtuOption>(option->bytes);
        if (!advertisement.mtu) advertisement.mtu = mtu->mtu.value();
        break;
      }
      case nd::kOptionPrefixInformation: {
        if (option->bytes.size() != sizeof(PrefixInformationOption)) {
          return Unexpected(Error::kBadLength);
        }
        const auto prefix = LoadHeader<PrefixInformationOption>(option->bytes);
        if (prefix->prefix_length > 128) return Unexpected(Error::kBadField);
        advertisement.prefixes.push_back(
            {.prefix = prefix->prefix,
             .length = prefix->prefix_length,
             .on_link = (prefix->flags & nd::kPrefixFlagOnLink) != 0,
             .autonomous = (prefix->flags & nd::kPrefixFlagAutonomous) != 0,
             .valid_lifetime = prefix->valid_lifetime.value(),
             .preferred_lifetime = prefix->preferred_lifetime.value()});
        break;
      }
      default:
        break;
    }
  }
  return advertisement;
}

Ipv6Address SlaacAddress(const Ipv6Address& prefix, const MacAddress& mac) {
  std::array<uint8_t, 16> bytes = Ipv6Address::LinkLocalFromMac(mac).bytes();
  for (size_t i = 0; i < 8; ++i) bytes[i] = prefix.bytes()[i];
  return Ipv6Address(bytes);
}

size_t AppendRouterSolicitation(FrameBuilder& builder, const Ipv6Address& source,
                                const Ipv6Address& destination,
                                const RouterSolicitation& solicitation) {
  const size_t at = builder.Append(MakeIcmpv6Header(icmpv6::kRouterSolicitation, 0));
  builder.AppendZeros(4);
  if (solicitation.source_mac) {
    AppendLinkLayerAddressOption(builder, nd::kOptionSourceLinkLayerAddress,
                                 *solicitation.source_mac);
  }
  FinishIcmpv6(builder.From(at), source, destination);
  return at;
}

size_t AppendRouterAdvertisement(FrameBuilder& builder, const Ipv6Address& source,
                                 const Ipv6Address& destination,
                                 const RouterAdvertisement& advertisement) {
  const size_t at = builder.Append(MakeIcmpv6Header(icmpv6::kRouterAdvertisement, 0));
  uint8_t flags = 0;
  if (advertisement.managed) flags |= nd::kFlagManaged;
  if (advertisement.other) flags |= nd::kFlagOther;
  builder.Append(RouterAdvertisementFixed{
      advertisement.hop_limit, flags, Be16::Of(advertisement.router_lifetime),
      Be32::Of(advertisement.reachable_time), Be32::Of(advertisement.retrans_timer)});
  if (advertisement.source_mac) {
    AppendLinkLayerAddressOption(builder, nd::kOptionSourceLinkLayerAddress,
                                 *advertisement.source_mac);
  }
  if (advertisement.mtu) {
    builder.Append(
        MtuOption{nd::kOptionMtu, nd::kMtuOptionUnits, Be16(), Be32::Of(*advertisement.mtu)});
  }
  for (const PrefixInformation& prefix : advertisement.prefixes) {
    uint8_t prefix_flags = 0;
    if (prefix.on_link) prefix_flags |= nd::kPrefixFlagOnLink;
    if (prefix.autonomous) prefix_flags |= nd::kPrefixFlagAutonomous;
    builder.Append(
        PrefixInformationOption{nd::kOptionPrefixInformation, nd::kPrefixInformationUnits,
                                prefix.length, prefix_flags, Be32::Of(prefix.valid_lifetime),
                                Be32::Of(prefix.preferred_lifetime), Be32(), prefix.prefix});
  }
  FinishIcmpv6(builder.From(at), source, destination);
  return at;
}

Result<NdOption> NdOptionWalker::Next() {
  if (rest_.size() < 2) {
    rest_ = ByteSpan();
    return Unexpected(Error::kTruncated);
  }
  const size_t size = static_cast<size_t>(rest_[1]) * nd::kOptionUnit;
  if (size == 0) {
    rest_ = ByteSpan();
    return Unexpected(Error::kBadField);
  }
  if (size > rest_.size()) {
    rest_ = ByteSpan();
    return Unexpected(Error::kTruncated);
  }
  const NdOption option{rest_[0], rest_.first(size)};
  rest_ = rest_.subspan(size);
  return option;
}

Result<MacAddress> ParseNdLinkLayerAddress(const NdOption& option) {
  const auto parsed = LoadHeader<NdLinkLayerAddressOption>(option.bytes);
  if (!parsed || option.bytes.size() != sizeof(NdLinkLayerAddressOption)) {
    return Unexpected(Error::kBadLength);
  }
  return parsed->address;
}

Result<NeighborSolicitation> ParseNeighborSolicitation(const Icmpv6Message& message) {
  const auto fixed =
      LoadFixedPart<NeighborSolicitationFixed>(message, icmpv6::kNeighborSolicitation);
  if (!fixed) return Unexpected(fixed.error());
  const auto source_mac = FindLinkLayerAddress(message, nd::kOptionSourceLinkLayerAddress);
  if (!source_mac) return Unexpected(source_mac.error());
  // Duplicate address detection: the sender has no address yet, so it can only ask the
  // target's group, and has no link-layer address a reply could be cached against.
  if (message.source.IsUnspecified() &&
      (!IsSolicitedNodeMulticast(message.destination) || source_mac->has_value())) {
    return Unexpected(Error::kBadField);
  }
  return NeighborSolicitation{fixed->target, *source_mac};
}

Result<NeighborAdvertisement> ParseNeighborAdvertisement(const Icmpv6Message& message) {
  const auto fixed =
      LoadFixedPart<NeighborAdvertisementFixed>(message, icmpv6::kNeighborAdvertisement);
  if (!fixed) return Unexpected(fixed.error());
  const uint32_t flags = fixed->flags.value();
  // A solicited advertisement answers one node, so it is never sent to a group.
  if (message.destination.IsMulticast() && (flags & nd::kFlagSolicited) != 0) {
    return Unexpected(Error::kBadField);
  }
  const auto target_mac = FindLinkLayerAddress(message, nd::kOptionTargetLinkLayerAddress);
  if (!target_mac) return Unexpected(target_mac.error());
  NeighborAdvertisement advertisement;
  advertisement.target = fixed->target;
  advertisement.router_flag = (flags & nd::kFlagRouter) != 0;
  advertisement.solicited_flag = (flags & nd::kFlagSolicited) != 0;
  advertisement.override_flag = (flags & nd::kFlagOverride) != 0;
  advertisement.target_mac = *target_mac;
  return advertisement;
}

size_t AppendNeighborSolicitation(FrameBuilder& builder, const Ipv6Address& source,
                                  const Ipv6Address& destination,
                                  const NeighborSolicitation& solicitation) {
  const size_t at = builder.Append(MakeIcmpv6Header(icmpv6::kNeighborSolicitation, 0));
  builder.Append(NeighborSolicitationFixed{Be32(), solicitation.target});
  if (solicitation.source_mac) {
    AppendLinkLayerAddressOption(builder, nd::kOptionSourceLinkLayerAddress,
                                 *solicitation.source_mac);
  }
  FinishIcmpv6(builder.From(at), source, destination);
  return at;
}

size_t AppendNeighborAdvertisement(FrameBuilder& builder, const Ipv6Address& source,
                                   const Ipv6Address& destination,
                                   const NeighborAdvertisement& advertisement) {
  uint32_t flags = 0;
  if (advertisement.router_flag) flags |= nd::kFlagRouter;
  if (advertisement.solicited_flag) flags |= nd::kFlagSolicited;
  if (advertisement.override_flag) flags |= nd::kFlagOverride;
  const size_t at = builder.Append(MakeIcmpv6Header(icmpv6::kNeighborAdvertisement, 0));
  builder.Append(NeighborAdvertisementFixed{Be32::Of(flags), advertisement.target});
  if (advertisement.target_mac) {
    AppendLinkLayerAddressOption(builder, nd::kOptionTargetLinkLayerAddress,
                                 *advertisement.target_mac);
  }
  FinishIcmpv6(builder.From(at), source, destination);
  return at;
}

}  // namespace dove::net
