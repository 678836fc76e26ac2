// RunCtl: the real dovectl binary (DOVE_CTL_BIN, a compile definition of the test files that
// include this) run as a child process, its exit code, stdout and stderr collected; for the
// API tests that check what an operator or a script sees.
//
//   CtlResult r = RunCtl({"domain", "list", "--controller", address});
//   EXPECT_EQ(r.code, 0) << Describe(r);
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace dove {

struct CtlResult {
  int code = -1;  // exit status; -1 when it did not exit normally
  std::string out;
  std::string err;
};

// Runs dovectl with `args` (no shell involved) and `env` set on top of a copy of ours from
// which DOVE_CONTROLLER, DOVE_TOKEN and DOVE_CACERT are removed, so the caller's shell cannot
// leak in.
inline CtlResult RunCtl(const std::vector<std::string>& args,
                        const std::vector<std::pair<std::string, std::string>>& env = {}) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) return {};
  std::vector<std::string> argv_storage = {DOVE_CTL_BIN};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::unsetenv("DOVE_CONTROLLER");
    ::unsetenv("DOVE_TOKEN");
    ::unsetenv("DOVE_CACERT");
    for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  CtlResult result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (open_fds > 0 && std::chrono::steady_clock::now() < deadline) {
    if (::poll(fds, 2, 200) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t got = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (got > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(got));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& fd : fds) {
    if (fd.fd >= 0) ::close(fd.fd);
  }
  if (open_fds > 0) ::kill(pid, SIGKILL);  // hung: the test fails on the exit code
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline std::string Describe(const CtlResult& result) {
  return "exit " + std::to_string(result.code) + "\nstdout:\n" + result.out + "stderr:\n" +
         result.err;
}

}  // namespace dove
