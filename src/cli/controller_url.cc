#include "cli/controller_url.h"

#include <charconv>

namespace dove::cli {
namespace {

Expected<int, std::string> ParsePort(std::string_view text, std::string_view whole) {
  int port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || port < 1 ||
      port > 65535) {
    return Unexpected("bad port in controller address \"" + std::string(whole) +
                      "\": want 1..65535");
  }
  return port;
}

}  // namespace

std::string ControllerUrl::ToString() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return std::string(tls ? "https://" : "http://") + (ipv6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

Expected<ControllerUrl, std::string> ParseControllerUrl(std::string_view text) {
  const std::string whole(text);
  std::string_view rest = text;
  bool tls = false;
  if (const size_t scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
    const std::string_view scheme = rest.substr(0, scheme_end);
    if (scheme != "http" && scheme != "https") {
      return Unexpected("unsupported scheme in controller address \"" + whole +
                        "\": want http:// or https://");
    }
    tls = scheme == "https";
    rest.remove_prefix(scheme_end + 3);
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return Unexpected("controller address \"" + whole +
                      "\" must be HOST[:PORT] or http(s)://HOST[:PORT], without a path");
  }
  ControllerUrl url;
  url.tls = tls;
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return Unexpected("unclosed [ in controller address \"" + whole + "\"");
    }
    url.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return Unexpected("unexpected text after ] in controller address \"" + whole + "\"");
      }
      port_text = after.substr(1);
      if (port_text.empty())
        return Unexpected("empty port in controller address \"" + whole + "\"");
    }
  } else {
    const size_t colon = rest.find(':');
    if (colon != std::string_view::npos && rest.find(':', colon + 1) != std::string_view::npos) {
      return Unexpected("IPv6 controller address \"" + whole + "\" needs brackets: [ADDR]:PORT");
    }
    url.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = rest.substr(colon + 1);
      if (port_text.empty())
        return Unexpected("empty port in controller address \"" + whole + "\"");
    }
  }
  if (url.host.empty()) return Unexpected("no host in controller address \"" + whole + "\"");
  if (!port_text.empty()) {
    auto port = ParsePort(port_text, whole);
    if (!port) return Unexpected(port.error());
    url.port = *port;
  }
  return url;
}

}  // namespace dove::cli
