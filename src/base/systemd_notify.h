// systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram of
// newline-separated KEY=VALUE assignments to the AF_UNIX socket named by $NOTIFY_SOCKET.
//
// A daemon run by a unit of Type=notify calls NotifySystemd("READY=1") once it serves (the
// controller: listening; the switch: its data plane, control socket and metrics up), and may
// send "STATUS=..." lines that `systemctl status` shows. Outside systemd $NOTIFY_SOCKET is
// unset and nothing is sent.
//
//   if (auto sent = dove::base::NotifySystemd("READY=1"); !sent) Log(sent.error());
//
// $NOTIFY_SOCKET is a filesystem path ("/run/systemd/notify") or, starting with '@', a name in
// the abstract namespace. Thread-safe (no shared state); does not unset the variable, so
// child processes would see it too (dove's daemons start none).
#pragma once

#include <string>
#include <string_view>

#include "base/expected.h"

namespace dove::base {

// The environment variable systemd sets for a Type=notify service.
inline constexpr const char* kNotifySocketEnvVar = "NOTIFY_SOCKET";

// Sends `state` to the socket that `socket_name` names (the value of $NOTIFY_SOCKET). Returns
// an error naming the socket for an empty, relative or too long name, or when the datagram
// cannot be sent.
Expected<void, std::string> NotifySocket(std::string_view socket_name, std::string_view state);

// Sends `state` to $NOTIFY_SOCKET. Returns false when the variable is unset or empty (not run
// by systemd as Type=notify: nothing to do), true when sent, an error as NotifySocket's.
Expected<bool, std::string> NotifySystemd(std::string_view state);

}  // namespace dove::base
