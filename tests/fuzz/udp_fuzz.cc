// Fuzzes ParseUdp and the UDP checksum: the payload stays in the buffer and matches Length;
// the verifying overloads only ever refuse more; a datagram FinishUdp rewrote verifies over
// IPv4 and IPv6, and UdpChecksum agrees with what FinishUdp stored.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "net/udp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dove::net::ParseUdp;
  const auto source4 = dove::net::Ipv4Address::FromUint32(0xc0000201);
  const auto destination4 = dove::net::Ipv4Address::FromUint32(0xc0000202);
  const dove::net::Ipv6Address source6(
      {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  const dove::net::Ipv6Address destination6(
      {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});

  const dove::net::ByteSpan input(data, size);
  const auto parsed = ParseUdp(input);
  const auto checked4 = ParseUdp(input, source4, destination4);
  const auto checked6 = ParseUdp(input, source6, destination6);
  if ((checked4 || checked6) && !parsed) std::abort();
  if (checked6 && checked6->header.checksum.value() == 0) std::abort();
  if (!parsed) return 0;

  const size_t length = parsed->header.length.value();
  if (parsed->payload.data() != data + 8 || 8 + parsed->payload.size() != length || length > size) {
    std::abort();
  }

  std::vector<uint8_t> copy4(data, data + length);
  if (!dove::net::FinishUdp(copy4, source4, destination4)) std::abort();
  if (!ParseUdp(copy4, source4, destination4)) std::abort();
  const uint16_t stored = static_cast<uint16_t>(copy4[6] << 8 | copy4[7]);
  if (stored == 0 || dove::net::UdpChecksum(source4, destination4, copy4) != stored) std::abort();

  std::vector<uint8_t> copy6(data, data + length);
  if (!dove::net::FinishUdp(copy6, source6, destination6)) std::abort();
  if (!ParseUdp(copy6, source6, destination6)) std::abort();
  return 0;
}
