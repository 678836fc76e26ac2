// The dovectl subcommands, one Add*Commands per object kind (each in <kind>_commands.cc).
//
// Each adds its subcommand tree to `app` (the dovectl root) and binds every leaf to an action
// through ctx.Bind; the action runs after parsing, returns the exit code, and reads its
// arguments from state the lambdas own (shared_ptr), so no global state is involved.
//
//   CLI::App app;  Context ctx(env, std::cout, std::cerr);
//   AddDomainCommands(app, ctx);
#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace dove::cli {

void AddDomainCommands(CLI::App& app, Context& ctx);
void AddNetworkCommands(CLI::App& app, Context& ctx);
void AddSubnetCommands(CLI::App& app, Context& ctx);
void AddEndpointCommands(CLI::App& app, Context& ctx);
void AddSwitchCommands(CLI::App& app, Context& ctx);
// `command` (show, ports, cache, counters) asked of the switch on `socket` ("" = default);
// printed as a table or JSON; exit 4 when no switch answers.
int RunSwitchLocal(Context& ctx, const std::string& socket, const std::string& command);
void AddPolicyCommands(CLI::App& app, Context& ctx);
void AddStatusCommand(CLI::App& app, Context& ctx);
// dovectl trace SOURCE PACKET (trace_command.cc).
void AddTraceCommand(CLI::App& app, Context& ctx);
// dovectl show DOMAIN: the domain as a tree (show_command.cc).
void AddShowCommand(CLI::App& app, Context& ctx);

}  // namespace dove::cli
