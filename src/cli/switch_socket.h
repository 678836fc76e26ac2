// The client side of a dove-switch's control socket (src/dswitch/app/control_server.h): one
// command line out, one JSON document back.
//
//   auto answer = AskSwitch("/run/dove/dove-switch.sock", "ports");
//   if (!answer) Fail(answer.error());
#pragma once

#include <chrono>
#include <string>

#include "base/expected.h"

namespace dove::cli {

// The default path of the switch's control socket (dove-switch --control-socket's default),
// unless DOVE_SWITCH_SOCKET names another.
std::string DefaultSwitchSocket();

// Sends `command`, returns the whole answer. Errors (one sentence): the socket cannot be
// reached (no switch there), or no answer within `timeout`.
Expected<std::string, std::string> AskSwitch(const std::string& path, const std::string& command,
                                             std::chrono::milliseconds timeout);

}  // namespace dove::cli
