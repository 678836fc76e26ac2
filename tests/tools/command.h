// Helpers for tests that run a tool nobody here wrote and read what it prints: find a program
// on PATH, run it with an argument vector (no shell, so no quoting), capture its output, and a
// temporary directory that is removed however the test ends.
//
// Header-only because tests/tools/CMakeLists.txt compiles only *_test.cc files.
//
//   auto tshark = FindProgram("tshark");
//   if (!tshark) FAIL() << "tshark is not installed";
//   TempDir dir("dove-tshark");
//   CommandResult run = RunCommand({*tshark, "-r", dir.path() / "x.pcap"});
//   if (!run.Succeeded()) FAIL() << run.Describe();
//
// Not thread-safe in the sense that fork() is not: call from a single-threaded test.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "support/temp_dir.h"

namespace dove::test_tools {

// The full path of `name` found in the directories of $PATH, or nullopt when none holds an
// executable file of that name.
inline std::optional<std::filesystem::path> FindProgram(std::string_view name) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const size_t colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    if (dir.empty()) continue;
    std::filesystem::path candidate = std::filesystem::path(dir) / name;
    std::error_code ignored;
    if (std::filesystem::is_regular_file(candidate, ignored) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

using test_support::TempDir;

// What a finished command did.
struct CommandResult {
  std::vector<std::string> argv;
  int exit_code = -1;   // the exit status, or -1 when killed by a signal or never started
  int term_signal = 0;  // the signal that killed it, or 0
  std::string out;      // everything it wrote to stdout
  std::string err;      // everything it wrote to stderr, or why it could not be started

  bool Succeeded() const { return exit_code == 0; }

  // The command line, how it ended and its stderr: for failure messages.
  std::string Describe() const {
    std::ostringstream text;
    for (const std::string& arg : argv) text << arg << ' ';
    if (term_signal != 0) {
      text << "killed by signal " << term_signal;
    } else {
      text << "exited with " << exit_code;
    }
    if (!err.empty()) text << "; stderr:\n" << err;
    return text.str();
  }
};

// Runs argv[0] (a path; see FindProgram) with the given arguments and stdin from /dev/null,
// waits for it, and returns its exit status and both output streams. Both pipes are drained
// together, so a tool that fills one while we wait on the other cannot deadlock. Never throws
// for the command's own failures: a program that cannot be executed gives exit code 127 and
// the reason in `err`.
inline CommandResult RunCommand(const std::vector<std::string>& argv) {
  CommandResult result;
  result.argv = argv;
  if (argv.empty()) {
    result.err = "empty command";
    return result;
  }
  std::array<int, 2> out_pipe{};
  std::array<int, 2> err_pipe{};
  if (::pipe2(out_pipe.data(), O_CLOEXEC) != 0) {
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  if (::pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
    result.err = std::string("pipe: ") + std::strerror(errno);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return result;
  }

  // Built before fork: the child must not allocate.
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null_in = ::open("/dev/null", O_RDONLY);
    if (null_in >= 0) ::dup2(null_in, STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::execv(args[0], args.data());
    const char* reason = std::strerror(errno);
    [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, "exec failed: ", 13);
    written = ::write(STDERR_FILENO, reason, std::strlen(reason));
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid < 0) {
    result.err = std::string("fork: ") + std::strerror(errno);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return result;
  }

  std::array<pollfd, 2> fds{{{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}}};
  std::array<std::string*, 2> sinks{&result.out, &result.err};
  int open_count = 2;
  std::array<char, 4096> buffer{};
  while (open_count > 0) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer.data(), buffer.size());
      if (n > 0) {
        sinks[i]->append(buffer.data(), static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  for (const pollfd& fd : fds) {
    if (fd.fd >= 0) ::close(fd.fd);
  }

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return result;
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  return result;
}

// `text` cut at every `separator`; an empty text gives one empty field.
inline std::vector<std::string> Split(std::string_view text, char separator) {
  std::vector<std::string> fields;
  while (true) {
    const size_t at = text.find(separator);
    fields.emplace_back(text.substr(0, at));
    if (at == std::string_view::npos) return fields;
    text.remove_prefix(at + 1);
  }
}

}  // namespace dove::test_tools
