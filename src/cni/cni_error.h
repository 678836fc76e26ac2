// CniError: a failure as the CNI specification reports it: a numeric code, a one-sentence
// message and optional details, printed as the spec's error JSON on stdout while the plugin
// exits non-zero.
//
// Codes 1..99 are the spec's (CNI SPEC 1.0, "Error"); 100 and up are this plugin's own.
//
//   return Unexpected(CniError{kInvalidConfig, "\"network\" is missing.", ""});
//   std::cout << ErrorJson(error, "1.0.0");  // {"cniVersion":"1.0.0","code":7,"msg":...}
#pragma once

#include <string>
#include <string_view>

namespace dove::cni {

enum ErrorCode : int {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnvironment = 4,
  kIoFailure = 5,
  kDecodingFailure = 6,
  kInvalidConfig = 7,
  kTryAgainLater = 11,  // the controller or the switch cannot be reached now
  // This plugin's own.
  kControllerRefused = 100,  // the controller answered with an error (its words in msg)
  kInterfaceFailure = 101,   // making or configuring the veth pair failed
  kCheckFailed = 102,        // CHECK found the container's network not as ADD left it
  kAlreadyAdded = 103,       // ADD for a container id + interface that is already added
};

struct CniError {
  int code = 0;
  std::string msg;      // one sentence
  std::string details;  // may be empty
};

// The spec's error object, one line of JSON with a trailing newline. `cni_version` is the
// config's (empty: the newest this plugin speaks).
std::string ErrorJson(const CniError& error, std::string_view cni_version);

}  // namespace dove::cni
