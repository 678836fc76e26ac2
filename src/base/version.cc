#include "base/version.h"

namespace dove::base {

std::string_view Version() { return DOVE_VERSION; }

std::string_view Commit() { return kBuildCommit; }

std::string VersionLine(std::string_view program) {
  return std::string(program) + " " + std::string(Version()) + " (commit " + std::string(Commit()) +
         ")";
}

void AddBuildInfo(MetricsPage& page) {
  page.Gauge("dove_build_info", "The build this process runs: its version and git commit.",
             {"version", "commit"})
      .Add({Version(), Commit()}, 1);
}

}  // namespace dove::base
