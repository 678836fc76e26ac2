// ResolveResult: what ControllerClient::Resolve / ResolveIp deliver: the endpoint's Location,
// or a ResolveError saying why not.
//
//   client.Resolve(100, "52:54:00:12:34:56", [](ResolveResult r) {
//     if (r) Forward(r->tunnel_ip());
//     else if (r.error().code == ResolveError::Code::kTimeout) ...
//   });
#pragma once

#include <string>

#include "base/expected.h"
#include "dove/v1/switch.pb.h"

namespace dove::dswitch::agent {

struct ResolveError {
  enum class Code {
    kNotFound,     // ResolveReply STATUS_NOT_FOUND (or a reply without status/location)
    kDenied,       // ResolveReply STATUS_DENIED: policy forbids it
    kRefused,      // a Refusal carrying the query id (message = "code: message")
    kTimeout,      // no answer within ClientOptions::resolve_timeout
    kUnavailable,  // not in the cache and no controller connected (or the stream broke)
    kStopped,      // the client stopped before an answer came
  };
  Code code = Code::kUnavailable;
  std::string message;  // one sentence (the controller's reason when it gave one)
};

using ResolveResult = Expected<dove::v1::Location, ResolveError>;

const char* ResolveErrorCodeName(ResolveError::Code code);

}  // namespace dove::dswitch::agent
