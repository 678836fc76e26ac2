// The build's identity, for --version, /metrics (dove_build_info) and a switch's Hello.
//
//   dove::base::Version()              "0.1.0" (CMakeLists.txt's project VERSION)
//   dove::base::Commit()               "4d782bb1c0de", "4d782bb1c0de+dirty" (tracked files
//                                      differed from it at build time) or "unknown" (not
//                                      built from a git checkout)
//   dove::base::VersionLine("dovectl") "dovectl 0.1.0 (commit 4d782bb1c0de)"
//   dove::base::AddBuildInfo(page)     adds the gauge dove_build_info{version=..,commit=..} 1
//                                      to a /metrics page (prometheus_text.h)
//
// The commit is written into the build tree at every build (cmake/write_commit.cmake), so it
// names the tree the binary was built from, not the one CMake was configured in.
#pragma once

#include <string>
#include <string_view>

#include "base/prometheus_text.h"

namespace dove::base {

extern const char* const kBuildCommit;  // defined in the generated build_commit.cc

std::string_view Version();
std::string_view Commit();
std::string VersionLine(std::string_view program);
void AddBuildInfo(MetricsPage& page);

}  // namespace dove::base
