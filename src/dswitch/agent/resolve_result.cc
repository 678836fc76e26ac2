#include "dswitch/agent/resolve_result.h"

namespace dove::dswitch::agent {

const char* ResolveErrorCodeName(ResolveError::Code code) {
  switch (code) {
    case ResolveError::Code::kNotFound:
      return "not_found";
    case ResolveError::Code::kDenied:
      return "denied";
    case ResolveError::Code::kRefused:
      return "refused";
    case ResolveError::Code::kTimeout:
      return "timeout";
    case ResolveError::Code::kUnavailable:
      return "unavailable";
    case ResolveError::Code::kStopped:
      return "stopped";
  }
  return "unknown";
}

}  // namespace dove::dswitch::agent
