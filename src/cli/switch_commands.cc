// dovectl switch list|show|create|delete.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/object_output.h"

namespace dove::cli {
namespace {

struct SwitchArgs {
  std::string ref;
  std::string name;
  std::string tunnel_ip;
};

}  // namespace

void AddSwitchCommands(CLI::App& app, Context& ctx) {
  auto* sw = app.add_subcommand("switch", "Manage the virtual switches (hypervisor hosts)");
  sw->require_subcommand(1);
  auto args = std::make_shared<SwitchArgs>();

  auto* list = sw->add_subcommand("list", "List switches");
  ctx.Bind(list, [&ctx] { return ListObjects(ctx, "/v1/switches", SwitchColumns()); });

  auto* show = sw->add_subcommand("show", "Show one switch");
  show->add_option("SWITCH", args->ref, "Switch name or id")->required();
  ctx.Bind(show, [&ctx, args] {
    return ShowObject(ctx, "/v1/switches" + PathSegment(args->ref), SwitchColumns());
  });

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
