// The etcd password of --store etcd with --etcd-user: where it comes from.
//
// A password on the command line would be visible to every user in `ps`, so it is read from a
// file (--etcd-password-file: its first line, the line end "\n" or "\r\n" stripped; nothing
// else is trimmed, so spaces inside and around the password are kept) or, without the flag,
// taken from the environment variable DOVE_ETCD_PASSWORD. Errors are one sentence naming the
// path. Thread-safe (no state).
//
//   auto password = ReadEtcdPasswordFile("/etc/dove/etcd-password");
//   if (!password) return Fail(password.error());  // "cannot read etcd password file ...: ..."
#pragma once

#include <string>

#include "base/expected.h"

namespace dove::controller {

inline constexpr const char* kEtcdPasswordEnvVar = "DOVE_ETCD_PASSWORD";

// The first line of `path`; an error when the file is missing, unreadable (a directory too) or
// its first line is empty.
Expected<std::string, std::string> ReadEtcdPasswordFile(const std::string& path);

}  // namespace dove::controller
