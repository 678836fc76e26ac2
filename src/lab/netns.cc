#include "lab/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace dove::lab {

Expected<void, std::string> RunInNetns(const std::string& name, const std::function<void()>& fn) {
  std::string error;
  std::thread worker([&] {
    const std::string path = "/run/netns/" + name;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      error =
          "cannot enter network namespace " + name + ": open " + path + ": " + std::strerror(errno);
      return;
    }
    if (::setns(fd, CLONE_NEWNET) != 0) {
      error = "cannot enter network namespace " + name + ": setns: " + std::strerror(errno);
      ::close(fd);
      return;
    }
    ::close(fd);
    fn();
  });
  worker.join();
  if (!error.empty()) return Unexpected<std::string>(std::move(error));
  return {};
}

}  // namespace dove::lab
