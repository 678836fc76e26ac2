// --log-level for the daemons' command lines (CLI11), and `log-level` in their --config files:
// one of error, warning, info, debug; anything else is a usage error naming the choices.
//
//   std::string level = "info";
//   dove::base::AddLogLevelFlag(app, level);
//   app.parse(argc, argv);
//   dove::base::SetLogLevel(*dove::base::ParseLogLevel(level));  // checked by the flag
#pragma once

#include <CLI/CLI.hpp>
#include <iterator>
#include <string>
#include <vector>

#include "base/log.h"

namespace dove::base {

inline CLI::Option* AddLogLevelFlag(CLI::App& app, std::string& level) {
  return app
      .add_option("--log-level", level,
                  "Which records to write: error, warning, info (also the lifecycle: start, "
                  "stop, connections, ports, switches) or debug (also periodic and "
                  "per-request chatter)")
      ->capture_default_str()
      ->check(CLI::IsMember(
          std::vector<std::string>(std::begin(kLogLevelNames), std::end(kLogLevelNames))));
}

}  // namespace dove::base
