// Fuzzes the trace's packet description parser (src/trace/packet_spec.h) with arbitrary text.
// Nothing may crash; an accepted description names a destination its kind needs (an address,
// or a MAC for udp), a port exactly for tcp/udp, and its normal form parses to the same packet.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "trace/packet_spec.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto spec = dove::trace::ParsePacketSpec(text);
  if (!spec) {
    Check(!spec.error().empty());
    return 0;
  }
  using Kind = dove::trace::PacketSpec::Kind;
  const bool ported = spec->kind == Kind::kTcp || spec->kind == Kind::kUdp;
  Check(ported == (spec->port != 0));
  Check(spec->ip.has_value() != spec->mac.has_value());
  Check(!spec->mac || spec->kind == Kind::kUdp);
  const auto again = dove::trace::ParsePacketSpec(spec->Text());
  Check(again && again->kind == spec->kind && again->ip == spec->ip && again->mac == spec->mac &&
        again->port == spec->port && again->Text() == spec->Text());
  return 0;
}
