#include "net/neighbor_discovery.h"

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

}  // namespace

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
