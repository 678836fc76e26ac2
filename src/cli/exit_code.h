// ExitCode: what dovectl's exit status tells a script, and how HTTP statuses map onto it.
//
//   0 success
//   1 the controller refused the request (a 4xx other than 401 and 404: invalid, conflict...)
//   2 bad command line (unknown flag, missing argument, a value dovectl can check itself)
//   3 not found (404: the object, or an object a reference or filter names)
//   4 the controller is unreachable, timed out, answered 5xx or something unreadable
//   5 authentication refused (401, 403)
//   6 dovectl trace --live: the switches did not do what the model says (or could not trace)
// Scripts branch on these, so they are part of the CLI's contract: do not renumber.
//
//   return static_cast<int>(ExitCodeForStatus(409));  // 1
#pragma once

namespace dove::cli {

enum class ExitCode {
  kOk = 0,
  kRefused = 1,
  kUsage = 2,
  kNotFound = 3,
  kUnavailable = 4,
  kAuth = 5,
  kDisagree = 6,
};

// The exit code for an HTTP status the controller answered with (2xx is kOk; a status outside
// the classes the API uses is treated as the controller misbehaving: kUnavailable).
ExitCode ExitCodeForStatus(int status);

// The exit-code table, as --help prints it.
inline constexpr const char* kExitCodeHelp =
    "Exit codes:\n"
    "  0  success\n"
    "  1  the controller refused the request (4xx other than 401/404)\n"
    "  2  bad command line\n"
    "  3  not found (404)\n"
    "  4  controller unreachable, timed out, or a server error (5xx)\n"
    "  5  authentication refused (401)\n"
    "  6  trace --live: the switches and the model disagree\n";

}  // namespace dove::cli
