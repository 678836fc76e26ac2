#include "cli/dovectl.h"

#include <CLI/CLI.hpp>
#include <algorithm>

#include "base/version.h"
#include "cli/commands.h"
#include "cli/completion.h"
#include "cli/exit_code.h"
#include "cli/suggest.h"

namespace dove::cli {
namespace {

// Subcommands' help does not list the root's options, so their footer does.
constexpr const char* kGlobalOptionsHelp =
    "\nGlobal options (before or after the command):\n"
    "  --controller URL   http(s)://HOST:PORT or HOST[:PORT] (default http://127.0.0.1:8740)\n"
    "  --cacert FILE      https: PEM CA that signs the controller's certificate (default:\n"
    "                     the system's trusted roots; wins over DOVE_CACERT)\n"
    "  --token T          bearer token (wins over --token-file and DOVE_TOKEN)\n"
    "  --token-file F     read the bearer token from file F (wins over DOVE_TOKEN)\n"
    "  -o,--output FMT    table (default, for people) or json (the server's JSON)\n"
    "  --timeout S        seconds to wait for the controller (default 10)\n";

constexpr const char* kFooter =
    "\nEnvironment:\n"
    "  DOVE_CONTROLLER  controller address when --controller is not given\n"
    "                   (default http://127.0.0.1:8740)\n"
    "  DOVE_TOKEN       bearer token when neither --token nor --token-file is given\n"
    "  DOVE_CACERT      CA file for https:// controllers when --cacert is not given\n"
    "\n"
    "References: a domain or switch by name or id; a network as DOMAIN/NAME or by id;\n"
    "subnets, endpoints and policies by id.\n"
    "\n";

void AddGlobalOptions(CLI::App& app, GlobalOptions& options) {
  app.add_option("--controller", options.controller,
                 "Controller address, http://HOST:PORT, https://HOST:PORT or HOST[:PORT] (port "
                 "default 8740; env DOVE_CONTROLLER; default http://127.0.0.1:8740)");
  app.add_option("--cacert", options.cacert,
                 "With an https:// controller: PEM CA certificate(s) its certificate must chain "
                 "to (env DOVE_CACERT; default: the system's trusted roots). The certificate "
                 "must also name the URL's host");
  auto* token = app.add_option("--token", options.token,
                               "Bearer token for the controller (wins over --token-file and "
                               "env DOVE_TOKEN)");
  app.add_option("--token-file", options.token_file,
                 "Read the bearer token from this file (wins over env DOVE_TOKEN)")
      ->excludes(token);
  app.add_option("-o,--output", options.output,
                 "Output format: table (for people) or json (the server's JSON, for scripts)")
      ->check(CLI::IsMember({"table", "json"}));
  app.add_option("--timeout", options.timeout_seconds,
                 "Seconds to wait for the controller to connect and for each answer (default 10)")
      ->check(CLI::PositiveNumber);
}

}  // namespace

void BuildApp(CLI::App& app, Context& ctx) {
  app.set_version_flag("--version", dove::base::VersionLine("dovectl"));
  // Set before adding subcommands: they inherit both, so global flags work after the
  // subcommand and every --help ends with the environment variables and exit codes.
  app.fallthrough();
  app.footer(std::string(kGlobalOptionsHelp) + kFooter + kExitCodeHelp);
  app.require_subcommand(1);
  AddGlobalOptions(app, ctx.options());
  AddDomainCommands(app, ctx);
  AddNetworkCommands(app, ctx);
  AddSubnetCommands(app, ctx);
  AddEndpointCommands(app, ctx);
  AddSwitchCommands(app, ctx);
  AddPolicyCommands(app, ctx);
  AddStatusCommand(app, ctx);
  AddTraceCommand(app, ctx);
  AddShowCommand(app, ctx);
  AddCompletionCommand(app, ctx);
  // The root's own help lists the global options already.
  app.footer(std::string(kFooter) + kExitCodeHelp);
}

int Run(const std::vector<std::string>& args, const Environment& env, std::ostream& out,
        std::ostream& err) {
  Context ctx(env, out, err);
  CLI::App app("dovectl: operate a DOVE controller through its REST API", "dovectl");
  BuildApp(app, ctx);

  // CLI11 takes the arguments last-first.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      app.exit(e, out, err);  // --help, --help-all, --version
      return 0;
    }
    // An unknown command or option is named, with the nearest one when it is close.
    const std::string suggestion = Suggest(app, args);
    err << "dovectl: " << (suggestion.empty() ? std::string(e.what()) : suggestion) << " (usage)\n"
        << "Run 'dovectl --help' (or 'dovectl COMMAND --help') for usage.\n";
    return static_cast<int>(ExitCode::kUsage);
  }
  if (!ctx.selected()) {
    err << "dovectl: no command given (usage)\n";
    return static_cast<int>(ExitCode::kUsage);
  }
  return ctx.selected()();
}

}  // namespace dove::cli
