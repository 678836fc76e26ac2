// Fuzzes ApplyVirtioHeader (src/dswitch/io/gso.h), what a TAP port does to every frame a VM
// sends before the pipeline sees it. Nothing may crash or read outside the input; no output
// frame may be longer than the input frame; every segment of a GSO frame must be a valid
// Ethernet / IPv4 or IPv6 / TCP frame with valid checksums, and the segments' payloads must
// add up to the super-frame's.
//
// Input: the first 10 bytes are the virtio-net header (host byte order), the rest the frame.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "dswitch/io/gso.h"
#include "net/ethernet.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/tcp.h"

namespace {

using dove::dswitch::io::ApplyVirtioHeader;
using dove::dswitch::io::VirtioNetHeader;
namespace net = dove::net;

void Require(bool condition) {
  if (!condition) std::abort();
}

// The TCP payload size of a valid segment; aborts when it is not one.
size_t CheckSegment(net::ByteSpan frame, bool ipv6) {
  const auto ethernet = net::ParseEthernet(frame);
  Require(ethernet.has_value());
  if (!ipv6) {
    Require(ethernet->ether_type == net::ether_type::kIpv4);
    const auto ip = net::ParseIpv4(ethernet->payload, /*verify_checksum=*/true);
    Require(ip.has_value());
    Require(ip->protocol() == net::ip_proto::kTcp);
    const auto tcp = net::ParseTcp(ip->payload, ip->source(), ip->destination());
    Require(tcp.has_value());
    return tcp->payload.size();
  }
  Require(ethernet->ether_type == net::ether_type::kIpv6);
  const auto ip = net::ParseIpv6(ethernet->payload);
  Require(ip.has_value());
  Require(ip->upper_protocol == net::ip_proto::kTcp);
  const auto tcp = net::ParseTcp(ip->payload, ip->source(), ip->destination());
  Require(tcp.has_value());
  return tcp->payload.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < sizeof(VirtioNetHeader)) return 0;
  VirtioNetHeader header;
  std::memcpy(&header, data, sizeof(header));
  const net::ByteSpan frame(data + sizeof(header), size - sizeof(header));
  const auto out = ApplyVirtioHeader(header, frame);
  if (!out) return 0;
  Require(!out->empty());
  for (const auto& bytes : *out) Require(bytes.size() <= frame.size());
  const uint8_t kind = header.gso_kind();
  if (kind == VirtioNetHeader::kGsoTcpV4 || kind == VirtioNetHeader::kGsoTcpV6) {
    const bool ipv6 = kind == VirtioNetHeader::kGsoTcpV6;
    size_t payload = 0;
    for (size_t i = 0; i < out->size(); ++i) {
      const size_t segment_payload = CheckSegment((*out)[i], ipv6);
      Require(segment_payload <= header.gso_size);
      Require(i + 1 == out->size() || segment_payload == header.gso_size);
      payload += segment_payload;
    }
    // The super-frame's own TCP payload, as the parsers see it.
    const auto ethernet = net::ParseEthernet(frame);
    Require(ethernet.has_value());
    size_t original = 0;
    if (!ipv6) {
      const auto ip = net::ParseIpv4(ethernet->payload, /*verify_checksum=*/false);
      Require(ip.has_value());
      original = net::ParseTcp(ip->payload)->payload.size();
    } else {
      const auto ip = net::ParseIpv6(ethernet->payload);
      Require(ip.has_value());
      original = net::ParseTcp(ip->payload)->payload.size();
    }
    Require(payload == original);
  } else {
    Require(out->size() == 1 && out->front().size() == frame.size());
  }
  return 0;
}
