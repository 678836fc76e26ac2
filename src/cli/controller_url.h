// ControllerUrl: where dovectl sends its requests, parsed from --controller / DOVE_CONTROLLER.
//
// Accepted forms: "http://HOST[:PORT]", "https://HOST[:PORT]", "HOST[:PORT]" (no scheme means
// http), with HOST a name, an IPv4 address or a bracketed IPv6 address ("[::1]:8740"). A
// missing port is 8740, the controller's default, so "--controller ctl1" just works (https
// too: the controller serves one or the other on its --listen port). A trailing "/" is
// dropped; any other path, a query, user info or another scheme is refused: the REST API
// lives at the root.
//
//   auto url = ParseControllerUrl("10.0.0.5:9000");
//   // url->host == "10.0.0.5", url->port == 9000, url->ToString() == "http://10.0.0.5:9000"
#pragma once

#include <string>
#include <string_view>

#include "base/expected.h"

namespace dove::cli {

inline constexpr int kDefaultControllerPort = 8740;
inline constexpr std::string_view kDefaultController = "http://127.0.0.1:8740";

struct ControllerUrl {
  std::string host;  // without brackets for IPv6
  int port = kDefaultControllerPort;
  bool tls = false;  // https://

  // "http://host:port" or "https://host:port", brackets around an IPv6 host: what
  // httplib::Client takes.
  std::string ToString() const;
};

// The parsed URL, or a message saying what is wrong with `text`.
Expected<ControllerUrl, std::string> ParseControllerUrl(std::string_view text);

}  // namespace dove::cli
