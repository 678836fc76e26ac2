// One datagram to an AF_UNIX socket named by a path or an abstract name: what sd_notify(3)
// and the journal's native protocol (systemd.journal-fields(7), "Native Journal Protocol")
// both send.
//
//   if (auto sent = dove::base::SendUnixDatagram("/run/systemd/journal/socket", bytes); !sent)
//     Fallback(sent.error());
//
// Thread-safe (no shared state: a socket per call).
#pragma once

#include <string>
#include <string_view>

#include "base/expected.h"

namespace dove::base {

// Sends `data` as one datagram to `socket_name`: a filesystem path ("/run/systemd/notify") or,
// starting with '@', a name in the abstract namespace. Returns an error (without the name) for
// an empty, relative or too long name, or when the datagram cannot be sent whole (EMSGSIZE
// for one larger than the socket takes).
Expected<void, std::string> SendUnixDatagram(std::string_view socket_name, std::string_view data);

}  // namespace dove::base
