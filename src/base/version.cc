#include "base/version.h"

namespace dove::base {

std::string_view Version() { return DOVE_VERSION; }

std::string_view Commit() { return kBuildCommit; }

std::string VersionLine(std::string_view program) {
  return std::string(program) + " " + std::string(Version()) + " (commit " + std::string(Commit()) +
         ")";
}

std::string BuildInfoMetric() {
  // Label values need no escaping: the version is CMake's dotted number, the commit hex with
  // "+dirty" or "unknown".
  return "# HELP dove_build_info The build this process runs: its version and git commit.\n"
         "# TYPE dove_build_info gauge\n"
         "dove_build_info{version=\"" +
         std::string(Version()) + "\",commit=\"" + std::string(Commit()) + "\"} 1\n";
}

}  // namespace dove::base
