// Fuzzes ParseIpv4 and FinishIpv4: the views stay in the buffer and agree with the header's
// lengths; verifying the checksum only ever refuses more; a packet FinishIpv4 rewrote parses
// with its checksum verified and differs from the input only in the checksum.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "net/ipv4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dove::net::ParseIpv4;
  const dove::net::ByteSpan input(data, size);
  const auto unchecked = ParseIpv4(input, /*verify_checksum=*/false);
  const auto checked = ParseIpv4(input);
  if (checked && !unchecked) std::abort();
  if (!unchecked) return 0;

  const dove::net::Ipv4Packet& packet = *unchecked;
  const size_t total = packet.total_length();
  if (packet.header_size != packet.header.header_size() || packet.header_size < 20 ||
      packet.header_size > 60) {
    std::abort();
  }
  if (packet.options.data() != data + 20 || packet.options.size() != packet.header_size - 20) {
    std::abort();
  }
  if (packet.payload.data() != data + packet.header_size ||
      packet.header_size + packet.payload.size() != total || total > size) {
    std::abort();
  }

  std::vector<uint8_t> copy(data, data + total);
  if (!dove::net::FinishIpv4(copy)) std::abort();
  const auto finished = ParseIpv4(copy);
  if (!finished || finished->payload.size() != packet.payload.size()) std::abort();
  for (size_t i = 0; i < total; ++i) {
    if (i != 10 && i != 11 && copy[i] != data[i]) std::abort();
  }
  return 0;
}
