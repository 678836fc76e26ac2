// Fuzzes ParseTcp, FindMss, RewriteMss and ClampMss: the views stay in the buffer; a segment
// FinishTcp rewrote verifies; rewriting its MSS keeps the checksum valid (the incremental update
// matches a recomputation), changes the segment only when it says so, and fails exactly when
// FindMss does.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "net/tcp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dove::net::ParseTcp;
  const auto source4 = dove::net::Ipv4Address::FromUint32(0x0a010101);
  const auto destination4 = dove::net::Ipv4Address::FromUint32(0x0a010102);
  const dove::net::Ipv6Address source6({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  const dove::net::Ipv6Address destination6({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});

  const dove::net::ByteSpan input(data, size);
  const auto parsed = ParseTcp(input);
  if (ParseTcp(input, source4, destination4) && !parsed) std::abort();
  if (!parsed) return 0;
  if (parsed->header_size != parsed->header.header_size() || parsed->header_size < 20 ||
      parsed->header_size > 60 || parsed->header_size > size) {
    std::abort();
  }
  if (parsed->options.data() != data + 20 || parsed->options.size() != parsed->header_size - 20 ||
      parsed->payload.data() != data + parsed->header_size ||
      parsed->header_size + parsed->payload.size() != size) {
    std::abort();
  }
  const auto mss = dove::net::FindMss(parsed->options);
  // Some MSS to write that depends on the input, so every value gets tried.
  const uint16_t new_mss = static_cast<uint16_t>(data[size - 1] << 8 | data[size / 2]);

  if (size > 65535) return 0;  // more than FinishTcp takes
  std::vector<uint8_t> segment(data, data + size);
  if (!dove::net::FinishTcp(segment, source4, destination4)) std::abort();
  if (!ParseTcp(segment, source4, destination4)) std::abort();
  const std::vector<uint8_t> finished = segment;
  const auto rewritten = dove::net::RewriteMss(segment, new_mss);
  if (rewritten.has_value() != mss.has_value()) std::abort();
  if (!rewritten || !*rewritten) {
    if (segment != finished) std::abort();
  } else {
    if (!ParseTcp(segment, source4, destination4)) std::abort();
    const auto again = dove::net::FindMss(ParseTcp(segment)->options);
    if (!again || again->value_or(0) != new_mss) std::abort();
  }

  std::vector<uint8_t> segment6(data, data + size);
  if (!dove::net::FinishTcp(segment6, source6, destination6)) std::abort();
  const auto clamped = dove::net::ClampMss(segment6, new_mss);
  if (clamped.has_value() != mss.has_value()) std::abort();
  if (!ParseTcp(segment6, source6, destination6)) std::abort();
  if (clamped && *mss) {
    const auto after = dove::net::FindMss(ParseTcp(segment6)->options);
    if (*clamped != (**mss > new_mss) || !after || after->value_or(0) != std::min(**mss, new_mss)) {
      std::abort();
    }
  }
  return 0;
}
