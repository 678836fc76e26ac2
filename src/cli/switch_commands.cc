// dovectl switch list|show|create|delete (the controller's records) and show|ports|cache|counters
// of one running switch (its control socket; switch_local_commands.cc).
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/object_output.h"

namespace dove::cli {
namespace {

struct SwitchArgs {
  std::string ref;
  std::string name;
  std::string tunnel_ip;
  std::string socket;
};

}  // namespace

void AddSwitchCommands(CLI::App& app, Context& ctx) {
  auto* sw = app.add_subcommand("switch", "Manage the virtual switches (hypervisor hosts)");
  sw->require_subcommand(1);
  auto args = std::make_shared<SwitchArgs>();

  auto* list = sw->add_subcommand("list", "List switches");
  ctx.Bind(list, [&ctx] { return ListObjects(ctx, "/v1/switches", SwitchColumns()); });

  auto* show = sw->add_subcommand(
      "show",
      "Show one switch as the controller has it (SWITCH), or, without SWITCH, what the switch "
      "on this host says about itself (its control socket)");
  show->add_option("SWITCH", args->ref, "Switch name or id");
  const std::string socket_help =
      "The switch's control socket (default: $DOVE_SWITCH_SOCKET, "
      "else /run/dove/dove-switch.sock)";
  show->add_option("--socket", args->socket, socket_help);
  ctx.Bind(show, [&ctx, args] {
    if (args->ref.empty()) return RunSwitchLocal(ctx, args->socket, "show");
    return ShowObject(ctx, "/v1/switches" + PathSegment(args->ref), SwitchColumns());
  });
  const std::pair<const char*, const char*> local[] = {
      {"ports", "The switch's ports: endpoint, addresses, state, frame counters"},
      {"cache", "What the controller told the switch: remote endpoints and where they are"},
      {"counters", "Every non-zero counter of the switch, drop reasons included"}};
  for (const auto& [name, help] : local) {
    auto* command = sw->add_subcommand(name, help);
    command->add_option("--socket", args->socket, socket_help);
    ctx.Bind(command, [&ctx, args, verb = std::string(name)] {
      return RunSwitchLocal(ctx, args->socket, verb);
    });
  }

  auto* create = sw->add_subcommand("create", "Register a switch");
  create->add_option("NAME", args->name, "Switch name (unique)")->required();
  create
      ->add_option("--tunnel-ip", args->tunnel_ip,
                   "Underlay address VXLAN packets for this switch are sent to")
      ->required();
  ctx.Bind(create, [&ctx, args] {
    const nlohmann::json body = {{"name", args->name}, {"tunnel_ip", args->tunnel_ip}};
    return CreateObject(ctx, "/v1/switches", body, SwitchColumns());
  });

  auto* remove = sw->add_subcommand("delete", "Delete a switch");
  remove->add_option("SWITCH", args->ref, "Switch name or id")->required();
  ctx.Bind(remove, [&ctx, args] {
    return DeleteObject(ctx, "/v1/switches" + PathSegment(args->ref), false);
  });
}

}  // namespace dove::cli
