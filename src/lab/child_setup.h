// PrepareChildAfterFork: what every child the lab forks does between fork and exec: signals
// back to their defaults and unblocked (the parent may block or catch SIGINT/SIGTERM/SIGPIPE),
// and its own process group, so a Ctrl-C in the terminal reaches the parent only (which then
// stops its children in order). Only async-signal-safe calls: safe in a child of a threaded
// parent.
//
//   if (fork() == 0) { PrepareChildAfterFork(); execv(path, argv); _exit(127); }
#pragma once

namespace dove::lab {

void PrepareChildAfterFork();

}  // namespace dove::lab
