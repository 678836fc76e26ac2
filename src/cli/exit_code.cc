#include "cli/exit_code.h"

namespace dove::cli {

ExitCode ExitCodeForStatus(int status) {
  if (status >= 200 && status < 300) return ExitCode::kOk;
  if (status == 401 || status == 403) return ExitCode::kAuth;
  if (status == 404) return ExitCode::kNotFound;
  if (status >= 400 && status < 500) return ExitCode::kRefused;
  return ExitCode::kUnavailable;
}

}  // namespace dove::cli
