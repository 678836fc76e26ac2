#include "lab/child_setup.h"

#include <signal.h>
#include <unistd.h>

namespace dove::lab {

void PrepareChildAfterFork() {
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGPIPE, SIG_DFL);
  ::setpgid(0, 0);
}

}  // namespace dove::lab
