// dovectl: the operator's command line for a DOVE controller. All logic is in dovectl.cc.
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/dovectl.h"

namespace {

std::optional<std::string> Env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  dove::cli::Environment env;
  env.controller = Env("DOVE_CONTROLLER");
  env.token = Env("DOVE_TOKEN");
  env.cacert = Env("DOVE_CACERT");
  return dove::cli::Run(args, env, std::cout, std::cerr);
}
