// Fuzzes ParseEthernet and, for ARP frames, ParseArp; checks the views stay in the buffer.
#include <cstdint>
#include <cstdlib>

#include "net/arp.h"
#include "net/ethernet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const dove::net::ByteSpan input(data, size);
  auto frame = dove::net::ParseEthernet(input);
  if (!frame) return 0;
  if (frame->header_size + frame->payload.size() != size) std::abort();
  if (frame->ether_type == dove::net::ether_type::kArp) {
    auto arp = dove::net::ParseArp(frame->payload);
    if (arp && arp->hardware_length != 6) std::abort();
  }
  return 0;
}
