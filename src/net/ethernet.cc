#include "net/ethernet.h"

namespace dove::net {

Result<EthernetFrame> ParseEthernet(ByteSpan frame) {
  const auto header = LoadHeader<EthernetHeader>(frame);
  if (!header) return Unexpected(Error::kTruncated);
  EthernetFrame parsed;
  parsed.destination = header->destination;
  parsed.source = header->source;
  parsed.ether_type = header->ether_type.value();
  parsed.header_size = sizeof(EthernetHeader);
  if (parsed.ether_type == ether_type::kVlan) {
    const auto tag = LoadHeader<VlanTag>(frame.subspan(sizeof(EthernetHeader)));
    if (!tag) return Unexpected(Error::kTruncated);
    parsed.vlan = *tag;
    parsed.ether_type = tag->ether_type.value();
    parsed.header_size += sizeof(VlanTag);
    if (parsed.ether_type == ether_type::kVlan) return Unexpected(Error::kUnsupported);
  }
  if (parsed.ether_type < ether_type::kMinimum || parsed.ether_type == ether_type::kQinQ) {
    return Unexpected(Error::kUnsupported);
  }
  parsed.payload = frame.subspan(parsed.header_size);
  return parsed;
}

}  // namespace dove::net
