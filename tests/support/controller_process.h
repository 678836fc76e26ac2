// ControllerProcess: a real dove-controller started as a child process, for tests that talk to
// it over HTTP (tests/api) or through dovectl.
//
// The contract with dove-controller it relies on: once the controller accepts connections it
// prints exactly one line "dove-controller: listening on HOST:PORT" on stdout (PORT is the
// actual port, so `--listen 127.0.0.1:0` picks a free one). Start() waits for that line
// (Launch() then WaitReady() do the same in two steps, to start several at once). The
// line "dove-controller: southbound on HOST:PORT" printed before it gives southbound_port()
// (0 when absent).
// Everything the controller writes to stderr goes to a log file whose text Log() returns, for
// failure messages.
//
// The destructor kills the child with SIGKILL (if still running) and reaps it, so a failing
// test leaves no process behind; the child also gets SIGKILL when the test process dies
// (PR_SET_PDEATHSIG), for a test killed before its destructors run. Not thread-safe; call from the
// test's thread.
//
//   TempDir dir("dove-api");
//   auto controller = ControllerProcess::Start({"--data-dir", dir.path() / "data"});
//   ASSERT_TRUE(controller) << controller.error();
//   httplib::Client client("127.0.0.1", (*controller)->port());
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "base/expected.h"
#include "support/temp_dir.h"

namespace dove::test_support {

#if defined(DOVE_CONTROLLER_BIN)
inline constexpr const char* kControllerBinary = DOVE_CONTROLLER_BIN;
#define DOVE_HAS_CONTROLLER_BINARY 1
#elif defined(DOVE_CONTROLLER_BIN_EXTERN)
// Defined in a source the build generates (tests/api/CMakeLists.txt), so that the absolute path
// is compiled into one TU rather than into every TU that includes this header.
extern const char* const kControllerBinary;
#define DOVE_HAS_CONTROLLER_BINARY 1
#endif

class ControllerProcess {
 public:
  struct Options {
    std::vector<std::string> args;  // after the binary; add --listen yourself
    std::vector<std::pair<std::string, std::string>> env;  // set in the child (on top of ours)
    std::chrono::milliseconds ready_timeout{15000};
    std::string binary;  // empty: kControllerBinary
  };

  // Starts the controller with `args` plus "--listen 127.0.0.1:0" unless args has --listen,
  // "--southbound 127.0.0.1:0" unless args has --southbound (so tests never collide on the
  // default southbound port), and "--southbound-plaintext" unless args has it or any --tls-*
  // flag (TLS tests pass their own --tls-cert/--tls-key/--tls-client-ca; a test of the flag
  // errors can pass some of them alone).
  static Expected<std::unique_ptr<ControllerProcess>, std::string> Start(
      std::vector<std::string> args) {
    Options options;
    options.args = std::move(args);
    return Start(std::move(options));
  }

  static Expected<std::unique_ptr<ControllerProcess>, std::string> Start(Options options) {
    auto process = Launch(std::move(options));
    if (!process) return process;
    if (auto ready = (*process)->WaitReady(); !ready) {
      return Unexpected<std::string>(ready.error());
    }
    return process;
  }

  // Start in two steps, for several controllers starting at once: Launch forks and execs the
  // controller (call it from the thread that outlives the child: PR_SET_PDEATHSIG follows the
  // forking thread) and returns at once; WaitReady then waits for the ready line, up to the
  // ready_timeout given to Launch. Start is Launch + WaitReady.
  static Expected<std::unique_ptr<ControllerProcess>, std::string> Launch(Options options) {
    if (options.binary.empty()) {
#ifdef DOVE_HAS_CONTROLLER_BINARY
      options.binary = kControllerBinary;
#else
      return Unexpected<std::string>(std::string("no controller binary configured"));
#endif
    }
    bool has_listen = false;
    bool has_southbound = false;
    bool has_security = false;
    for (const auto& arg : options.args) {
      has_listen |= arg == "--listen";
      has_southbound |= arg == "--southbound";
      has_security |= arg == "--southbound-plaintext" || arg.rfind("--tls-", 0) == 0;
    }
    if (!has_listen) {
      options.args.emplace_back("--listen");
      options.args.emplace_back("127.0.0.1:0");
    }
    if (!has_southbound) {
      options.args.emplace_back("--southbound");
      options.args.emplace_back("127.0.0.1:0");
    }
    if (!has_security) options.args.emplace_back("--southbound-plaintext");
    auto process = std::unique_ptr<ControllerProcess>(new ControllerProcess());
    if (auto started = process->Spawn(options); !started) {
      return Unexpected<std::string>(started.error());
    }
    process->ready_deadline_ = std::chrono::steady_clock::now() + options.ready_timeout;
    return process;
  }

  // Waits for the ready line of a Launch()ed controller (see Launch); its ports are known after.
  Expected<void, std::string> WaitReady() { return ReadReadyLine(); }

  ControllerProcess(const ControllerProcess&) = delete;
  ControllerProcess& operator=(const ControllerProcess&) = delete;
  ~ControllerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      Reap();
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
  }

  int port() const { return port_; }
  int southbound_port() const { return southbound_port_; }
  pid_t pid() const { return pid_; }

  // Sends `signal`; does not wait.
  void Signal(int signal) const {
    if (pid_ > 0) ::kill(pid_, signal);
  }

  // Waits up to `timeout` for the child to exit; its wait status, or nullopt on timeout.
  std::optional<int> WaitForExit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        return status;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      ::usleep(10000);
    }
    return std::nullopt;
  }

  // SIGKILL and reap: the crash of the controller.
  void KillNow() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    Reap();
  }

  // The directory of the log (removed by the destructor; for a process that exits without
  // running destructors to remove it itself).
  const std::filesystem::path& LogDir() const { return log_dir_.path(); }

  // What the controller wrote on stderr so far (and stdout after the ready line).
  std::string Log() const {
    std::ifstream in(log_dir_.path() / "controller.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  ControllerProcess() : log_dir_("dove-controller-log") {}

  void Reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  Expected<void, std::string> Spawn(const Options& options) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
      return Unexpected<std::string>(std::string("pipe: ") + std::strerror(errno));
    }
    const std::string log_path = (log_dir_.path() / "controller.log").string();
    std::vector<std::string> argv_storage;
    argv_storage.push_back(options.binary);
    argv_storage.insert(argv_storage.end(), options.args.begin(), options.args.end());
    std::vector<char*> argv;
    for (auto& arg : argv_storage) argv.push_back(arg.data());
    argv.push_back(nullptr);

    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return Unexpected<std::string>(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      // Dies with the test, also when the test is killed before its destructors run.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::dup2(pipe_fds[1], STDOUT_FILENO);
      const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log_fd >= 0) ::dup2(log_fd, STDERR_FILENO);
      for (const auto& [name, value] : options.env) ::setenv(name.c_str(), value.c_str(), 1);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(pipe_fds[1]);
    pid_ = pid;
    stdout_fd_ = pipe_fds[0];
    return {};
  }

  Expected<void, std::string> ReadReadyLine() {
    // Read stdout until the ready line, the child's exit, or the timeout.
    const std::string marker = "dove-controller: listening on ";
    std::string seen;
    const auto deadline = ready_deadline_;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return Unexpected<std::string>(
            "dove-controller printed no ready line in time; stdout: " + seen + "\nlog: " + Log());
      }
      pollfd poll_fd{stdout_fd_, POLLIN, 0};
      if (::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) continue;
      char buffer[512];
      const ssize_t got = ::read(stdout_fd_, buffer, sizeof(buffer));
      if (got <= 0) {
        return Unexpected<std::string>(
            "dove-controller exited before it was ready; stdout: " + seen + "\nlog: " + Log());
      }
      seen.append(buffer, static_cast<size_t>(got));
      const size_t at = seen.find(marker);
      if (at == std::string::npos) continue;
      const size_t end = seen.find('\n', at);
      if (end == std::string::npos) continue;
      const std::string address = seen.substr(at + marker.size(), end - at - marker.size());
      const size_t colon = address.rfind(':');
      if (colon == std::string::npos) {
        return Unexpected<std::string>("unreadable ready line: " + address);
      }
      port_ = std::stoi(address.substr(colon + 1));
      const std::string southbound_marker = "dove-controller: southbound on ";
      if (const size_t sb = seen.find(southbound_marker); sb != std::string::npos && sb < at) {
        const size_t sb_end = seen.find('\n', sb);
        const std::string sb_address =
            seen.substr(sb + southbound_marker.size(), sb_end - sb - southbound_marker.size());
        southbound_port_ = std::stoi(sb_address.substr(sb_address.rfind(':') + 1));
      }
      // The controller writes nothing else to stdout; our end stays open until destruction.
      return {};
    }
  }

  TempDir log_dir_;
  std::chrono::steady_clock::time_point ready_deadline_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  int southbound_port_ = 0;
};

}  // namespace dove::test_support
