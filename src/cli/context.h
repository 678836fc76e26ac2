// Context: what every dovectl command shares: the global options, the connection to the
// controller, where output goes, and how failures are reported.
//
// The global flags are parsed into `options` by CLI11 before any command runs; Client()
// turns them (with the environment) into an ApiClient on first use, so a command that fails
// on its own arguments never needs a valid --controller. Every failure goes through one of
// the Fail* methods, which print "dovectl: <message> (<code>)" on the error stream and
// return the exit code (exit_code.h) the command then returns.
//
//   int DomainShow(Context& ctx, const std::string& ref) {
//     auto client = ctx.Client();
//     if (!client) return client.error();
//     auto got = (*client)->Get("/v1/domains" + PathSegment(ref));
//     if (!got) return ctx.Fail(got.error());
//     ...
//   }
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "base/expected.h"
#include "cli/api_client.h"
#include "cli/resolver.h"

namespace dove::cli {

// What the environment contributes (main.cc reads the variables; tests pass their own).
struct Environment {
  std::optional<std::string> controller;  // DOVE_CONTROLLER
  std::optional<std::string> token;       // DOVE_TOKEN
  std::optional<std::string> cacert{};    // DOVE_CACERT
};

struct GlobalOptions {
  std::optional<std::string> controller;
  std::optional<std::string> token;
  std::optional<std::string> token_file;
  std::optional<std::string> cacert{};  // https: PEM CA file (wins over DOVE_CACERT)
  std::string output = "table";
  double timeout_seconds = 10;
};

class Context {
 public:
  Context(Environment env, std::ostream& out, std::ostream& err)
      : env_(std::move(env)), out_(out), err_(err) {}

  GlobalOptions& options() { return options_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  bool json_output() const { return options_.output == "json"; }

  // The client for the controller the options name; on a bad --controller or token file,
  // the error is reported and the exit code returned.
  Expected<ApiClient*, int> Client();
  // Valid only after Client() succeeded.
  Resolver& resolver() { return *resolver_; }

  // The id of the network `ref` (DOMAIN/NAME or id) names, "" for an empty ref; a failure is
  // reported and its exit code returned. Call after Client() succeeded.
  Expected<std::string, int> NetworkId(const std::string& ref);

  int Fail(const ApiError& error);
  // A bad command line that CLI11 could not see (exit code 2).
  int FailUsage(const std::string& message);
  // Prints the message with code and returns `code`.
  int FailWith(ExitCode code, const std::string& message, const std::string& error_code);

  // Prints `value` pretty as JSON (for -o json).
  void PrintJson(const nlohmann::json& value);

  // Makes `action` the command to run when CLI11 selects `leaf`.
  void Bind(CLI::App* leaf, std::function<int()> action);
  // The action bound to the selected command; null when none was selected.
  const std::function<int()>& selected() const { return selected_; }

 private:
  Environment env_;
  std::ostream& out_;
  std::ostream& err_;
  GlobalOptions options_;
  std::unique_ptr<ApiClient> client_;
  std::unique_ptr<Resolver> resolver_;
  std::function<int()> selected_;
};

}  // namespace dove::cli
