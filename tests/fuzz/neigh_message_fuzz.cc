// Fuzzes DecodeNeighMessage, the parser of the kernel's RTNLGRP_NEIGH notifications: it never
// reads outside the span (ASan in the fuzz build), decodes the same input the same way twice,
// and what it decodes is consistent (a miss names the one thing it misses; an address has a
// size the family allows).
#include <cstdint>
#include <cstdlib>
#include <span>

#include "netlink/neigh_events.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dove::netlink::NeighEvent;
  const std::span<const uint8_t> input(data, size);
  const auto event = dove::netlink::DecodeNeighMessage(input);
  const auto again = dove::netlink::DecodeNeighMessage(input);
  Check(event.has_value() == again.has_value());
  if (!event) {
    Check(!event.error().empty());
    return 0;
  }
  Check(event->kind == again->kind && event->mac == again->mac && event->ip == again->ip);
  switch (event->kind) {
    case NeighEvent::Kind::kL2Miss:
      Check(event->mac.has_value() && !event->ip.has_value());
      break;
    case NeighEvent::Kind::kL3Miss:
      Check(event->ip.has_value() && !event->mac.has_value());
      break;
    case NeighEvent::Kind::kAppSolicit:
      Check(event->ip.has_value());
      break;
    default:
      break;
  }
  return 0;
}
