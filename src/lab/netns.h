// RunInNetns: run a function inside a named network namespace (/run/netns/NAME, as made by
// `ip netns add`) without moving the calling thread.
//
// setns(CLONE_NEWNET) changes the namespace of the calling thread only, so RunInNetns starts a
// fresh std::thread, joins the namespace there, runs `fn` and joins the thread. Sockets that
// `fn` creates belong to that namespace (they keep it after the thread ends). `fn` must not
// throw. Needs CAP_SYS_ADMIN. Thread-safe.
//
//   std::string body;
//   auto ok = RunInNetns("dl42-ctl", [&] { body = httplib::Client("127.0.0.1", 8740)... });
//   if (!ok) return Unexpected(ok.error());  // "cannot enter network namespace dl42-ctl: ..."
#pragma once

#include <functional>
#include <string>

#include "base/expected.h"

namespace dove::lab {

Expected<void, std::string> RunInNetns(const std::string& name, const std::function<void()>& fn);

}  // namespace dove::lab
