#include "cli/policy_args.h"

#include <charconv>

namespace dove::cli {
namespace {

// A decimal number in [low, high], digits only (no sign, no spaces).
bool ParseNumber(std::string_view text, uint32_t low, uint32_t high, uint32_t* out) {
  if (text.empty() || text.size() > 10) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value < low || value > high) return false;
  *out = static_cast<uint32_t>(value);
  return true;
}

}  // namespace

Expected<std::string, std::string> ParseAction(std::string_view text) {
  if (text == "allow") return std::string("ACTION_ALLOW");
  if (text == "deny") return std::string("ACTION_DENY");
  if (text == "reject") return std::string("ACTION_REJECT");
  return Unexpected("bad action \"" + std::string(text) + "\": want allow, deny or reject");
}

Expected<uint32_t, std::string> ParseProtocol(std::string_view text) {
  if (text == "tcp") return uint32_t{6};
  if (text == "udp") return uint32_t{17};
  if (text == "icmp") return uint32_t{1};
  if (text == "any") return uint32_t{0};
  uint32_t number = 0;
  if (ParseNumber(text, 0, 255, &number)) return number;
  return Unexpected("bad protocol \"" + std::string(text) +
                    "\": want tcp, udp, icmp, any or a number 0..255");
}

Expected<PortRange, std::string> ParsePortRange(std::string_view text) {
  const auto refuse = [&] {
    return Unexpected("bad port range \"" + std::string(text) +
                      "\": want P or P-Q with 1 <= P <= Q <= 65535");
  };
  PortRange range;
  const size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    if (!ParseNumber(text, 1, 65535, &range.first)) return refuse();
    range.last = range.first;
    return range;
  }
  if (!ParseNumber(text.substr(0, dash), 1, 65535, &range.first) ||
      !ParseNumber(text.substr(dash + 1), 1, 65535, &range.last) || range.first > range.last) {
    return refuse();
  }
  return range;
}

Expected<AddressRange, std::string> ParseAddressRange(std::string_view text) {
  const size_t dash = text.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == text.size() ||
      text.find('-', dash + 1) != std::string_view::npos) {
    return Unexpected("bad address range \"" + std::string(text) + "\": want FIRST-LAST");
  }
  return AddressRange{std::string(text.substr(0, dash)), std::string(text.substr(dash + 1))};
}

std::string ProtocolName(uint32_t protocol) {
  switch (protocol) {
    case 0:
      return "any";
    case 1:
      return "icmp";
    case 6:
      return "tcp";
    case 17:
      return "udp";
    default:
      return std::to_string(protocol);
  }
}

}  // namespace dove::cli
