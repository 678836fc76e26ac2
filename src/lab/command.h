// Running other programs (iproute2, tc, tcpdump, tshark, dove-controller, dove-switch) by
// fork/exec with an argv vector: no shell, so no quoting problems and no injection.
//
// RunCommand waits for the program and captures its stdout and stderr; RunChecked turns a
// failure into one sentence naming the command and its stderr. ChildProcess keeps a program
// running in the background with its output appended to a log file, and stops it with SIGTERM
// then SIGKILL.
//
// Children start in their own process group with default signal dispositions and an empty
// signal mask, so a Ctrl-C in the terminal reaches only dove-lab, which then stops them in
// order. Thread-safe (no shared state); a ChildProcess is used from one thread at a time.
//
//   auto out = RunChecked({"ip", "-n", "dl42-h1", "-j", "link", "show"});
//   if (!out) return Unexpected(out.error());  // "`ip -n dl42-h1 ...` failed (exit 1): ..."
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/expected.h"

namespace dove::lab {

struct CommandResult {
  int exit_code = -1;  // the exit status; 128 + N when killed by signal N; 127: could not run
  std::string out;
  std::string err;
  bool timed_out = false;  // killed after the timeout
};

// "ip -n x link show" (argv joined by spaces, for messages).
std::string Join(const std::vector<std::string>& argv);

// Runs argv[0] (searched in PATH) and waits at most `timeout`, then SIGKILLs it.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

// RunCommand; its stdout when it exited 0, else "`CMD` failed (exit N): STDERR".
Expected<std::string, std::string> RunChecked(
    const std::vector<std::string>& argv,
    std::chrono::milliseconds timeout = std::chrono::seconds(60));

class ChildProcess {
 public:
  // Starts argv with stdin from /dev/null and stdout+stderr appended to `log_path`.
  static Expected<std::unique_ptr<ChildProcess>, std::string> Spawn(
      const std::vector<std::string>& argv, const std::string& log_path);

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // Stop()

  pid_t pid() const { return pid_; }
  const std::string& command() const { return command_; }
  // False once the child exited (it is then reaped; exit_status() tells how).
  bool Running();
  int exit_status() const { return status_; }
  void Signal(int signal) const;
  // SIGTERM, up to `grace` to exit, then SIGKILL; reaps the child. No-op once it exited.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(3));

 private:
  ChildProcess(pid_t pid, std::string command) : pid_(pid), command_(std::move(command)) {}

  pid_t pid_;
  std::string command_;
  int status_ = -1;
};

}  // namespace dove::lab
