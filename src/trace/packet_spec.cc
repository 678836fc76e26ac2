#include "trace/packet_spec.h"

#include <charconv>
#include <vector>

namespace dove::trace {

namespace {

constexpr uint16_t kDiscardPort = 9;
constexpr const char* kForms =
    "\"icmp to IP\", \"tcp to IP:PORT\", \"udp to IP:PORT\", \"udp to MAC [port N]\" or "
    "\"arp who-has IP\"";

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> words;
  size_t at = 0;
  while (at < text.size()) {
    const size_t start = text.find_first_not_of(' ', at);
    if (start == std::string_view::npos) break;
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    words.push_back(text.substr(start, end - start));
    at = end;
  }
  return words;
}

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::optional<uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

// "IP:PORT" or "[IPv6]:PORT" into the spec's ip and port.
Expected<void, std::string> ParseAddressAndPort(std::string_view text, PacketSpec& spec) {
  std::string_view address;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Unexpected(Quoted(text) + " is not [IPv6]:PORT");
    }
    address = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return Unexpected(Quoted(text) + " is not IP:PORT (an IPv6 address as [IP]:PORT)");
    }
    address = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto ip = net::IpAddress::Parse(address);
  if (!ip) return Unexpected(Quoted(address) + " is not an IP address");
  const auto number = ParsePort(port);
  if (!number) return Unexpected("port " + Quoted(port) + " is not a number from 1 to 65535");
  spec.ip = *ip;
  spec.port = *number;
  return {};
}

}  // namespace

uint8_t PacketSpec::protocol() const {
  switch (kind) {
    case Kind::kIcmp:
      return ip && ip->is_v6() ? 58 : 1;
    case Kind::kTcp:
      return 6;
    case Kind::kUdp:
      return 17;
    case Kind::kArp:
      return 0;
  }
  return 0;
}

std::string PacketSpec::Text() const {
  const auto address = [this] {
    if (!ip) return std::string();
    return ip->is_v6() ? "[" + ip->ToString() + "]" : ip->ToString();
  };
  switch (kind) {
    case Kind::kIcmp:
      return "icmp to " + (ip ? ip->ToString() : std::string());
    case Kind::kArp:
      return "arp who-has " + (ip ? ip->ToString() : std::string());
    case Kind::kTcp:
    case Kind::kUdp: {
      const std::string name = kind == Kind::kTcp ? "tcp" : "udp";
      if (mac) return name + " to " + mac->ToString() + " port " + std::to_string(port);
      return name + " to " + address() + ":" + std::to_string(port);
    }
  }
  return "";
}

Expected<PacketSpec, std::string> ParsePacketSpec(std::string_view text) {
  const std::vector<std::string_view> words = Words(text);
  if (words.empty()) return Unexpected(std::string("an empty packet: expected ") + kForms);
  PacketSpec spec;
  const std::string_view kind = words[0];
  if (kind == "arp") {
    if (words.size() != 3 || words[1] != "who-has") {
      return Unexpected(Quoted(text) + ": expected \"arp who-has IP\"");
    }
    auto ip = net::IpAddress::Parse(words[2]);
    if (!ip) return Unexpected(Quoted(words[2]) + " is not an IP address");
    spec.kind = PacketSpec::Kind::kArp;
    spec.ip = *ip;
    return spec;
  }
  if (kind != "icmp" && kind != "tcp" && kind != "udp") {
    return Unexpected("unknown protocol " + Quoted(kind) + ": expected " + kForms);
  }
  if (words.size() < 3 || words[1] != "to") {
    return Unexpected(Quoted(text) + ": expected \"" + std::string(kind) + " to ...\"");
  }
  if (kind == "icmp") {
    if (words.size() != 3) return Unexpected(Quoted(text) + ": expected \"icmp to IP\"");
    auto ip = net::IpAddress::Parse(words[2]);
    if (!ip) return Unexpected(Quoted(words[2]) + " is not an IP address");
    spec.kind = PacketSpec::Kind::kIcmp;
    spec.ip = *ip;
    return spec;
  }
  spec.kind = kind == "tcp" ? PacketSpec::Kind::kTcp : PacketSpec::Kind::kUdp;
  if (auto mac = net::MacAddress::Parse(words[2])) {
    if (spec.kind == PacketSpec::Kind::kTcp) {
      return Unexpected("tcp goes to an IP address and port, not to MAC " + Quoted(words[2]));
    }
    spec.mac = *mac;
    spec.port = kDiscardPort;
    if (words.size() == 5 && words[3] == "port") {
      const auto port = ParsePort(words[4]);
      if (!port) return Unexpected("port " + Quoted(words[4]) + " is not a number from 1 to 65535");
      spec.port = *port;
    } else if (words.size() != 3) {
      return Unexpected(Quoted(text) + ": expected \"udp to MAC [port N]\"");
    }
    return spec;
  }
  if (words.size() != 3) {
    return Unexpected(Quoted(text) + ": expected \"" + std::string(kind) + " to IP:PORT\"");
  }
  if (auto parsed = ParseAddressAndPort(words[2], spec); !parsed) {
    return Unexpected(parsed.error());
  }
  return spec;
}

}  // namespace dove::trace
