// Say: printf to stdout, flushed at once (a benchmark's progress lines show as they happen, in
// order with its children's output). The format is checked against the arguments.
#pragma once

#include <cstdarg>
#include <cstdio>

namespace dove::bench {

[[gnu::format(printf, 1, 2)]] inline void Say(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vprintf(format, args);
  va_end(args);
  std::fflush(stdout);
}

}  // namespace dove::bench
