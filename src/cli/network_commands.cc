// dovectl network list|show|create|delete.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/json_fields.h"
#include "cli/object_output.h"
#include "cli/subnet_body.h"

namespace dove::cli {
namespace {

struct NetworkArgs {
  std::string ref;
  std::string domain;
  std::string full_name;  // DOMAIN/NAME
  std::string name;       // rename: the new name
  uint32_t vni = 0;
  SubnetFlags subnet;
  bool force = false;
};

// Creates the network and, with --subnet, its subnet. A refused subnet deletes the network
// again, so the command is all or nothing and can simply be retried once fixed.
int CreateNetwork(Context& ctx, const NetworkArgs& args) {
  const size_t slash = args.full_name.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == args.full_name.size()) {
    return ctx.FailUsage("network to create must be DOMAIN/NAME, got \"" + args.full_name + "\"");
  }
  const std::string name = args.full_name.substr(slash + 1);
  if (!args.subnet.cidr.empty()) {
    // Check the subnet flags before anything is created.
    if (auto body = SubnetBody("", args.subnet); !body) return ctx.FailUsage(body.error());
  }
  auto client = ctx.Client();
  if (!client) return client.error();
  auto domain = ctx.resolver().Domain(args.full_name.substr(0, slash));
  if (!domain) return ctx.Fail(domain.error());
  nlohmann::json body = {{"domain_id", StringField(*domain, "id")}, {"name", name}};
  if (args.vni != 0) body["vni"] = args.vni;
  auto network = (*client)->Post("/v1/networks", body);
  if (!network) return ctx.Fail(network.error());
  if (args.subnet.cidr.empty()) {
    PrintObject(ctx, network->body, NetworkColumns());
    return 0;
  }

  const std::string network_id = StringField(network->body, "id");
  auto subnet = (*client)->Post("/v1/subnets", *SubnetBody(network_id, args.subnet));
  if (!subnet) {
    const ApiError& refused = subnet.error();
    const std::string undo_path = "/v1/networks" + PathSegment(network_id);
    if (auto undone = (*client)->Delete(undo_path); !undone) {
      return ctx.FailWith(ExitCodeFor(refused),
                          "subnet " + args.subnet.cidr + " refused: " + refused.message +
                              "; network " + args.full_name + " WAS created (id " + network_id +
                              ") and could not be deleted again: " + undone.error().message,
                          refused.code);
    }
    return ctx.FailWith(ExitCodeFor(refused),
                        "subnet " + args.subnet.cidr + " refused: " + refused.message +
                            "; network " + args.full_name + " was not kept (created, then deleted)",
                        refused.code);
  }
  if (ctx.json_output()) {
    ctx.PrintJson({{"network", network->body}, {"subnet", subnet->body}});
    return 0;
  }
  PrintObject(ctx, network->body, NetworkColumns());
  ctx.out() << "\n";
  PrintObject(ctx, subnet->body, SubnetColumns());
  return 0;
}

}  // namespace

void AddNetworkCommands(CLI::App& app, Context& ctx) {
  auto* network = app.add_subcommand(
      "network", "Manage networks (a network is DOMAIN/NAME or its id wherever one is taken)");
  network->require_subcommand(1);
  auto args = std::make_shared<NetworkArgs>();

  auto* list = network->add_subcommand("list", "List networks");
  list->add_option("--domain", args->domain, "Only the networks of this domain (name or id)");
  ctx.Bind(list, [&ctx, args] {
    return ListObjects(ctx, "/v1/networks" + Query({{"domain", args->domain}}), NetworkColumns());
  });

  auto* show = network->add_subcommand("show", "Show one network");
  show->add_option("NETWORK", args->ref, "DOMAIN/NAME or network id")->required();
  ctx.Bind(show, [&ctx, args] {
    auto client = ctx.Client();
    if (!client) return client.error();
    auto found = ctx.resolver().Network(args->ref);
    if (!found) return ctx.Fail(found.error());
    PrintObject(ctx, *found, NetworkColumns());
    return 0;
  });

  auto* create = network->add_subcommand(
      "create",
      "Create a network, and with --subnet its subnet. If the controller refuses the subnet, "
      "dovectl deletes the network again (all or nothing) and exits with the subnet's error; "
      "should that delete fail too, the message says so and gives the network's id. With "
      "-o json and --subnet the output is {\"network\": ..., \"subnet\": ...}.");
  create->add_option("DOMAIN/NAME", args->full_name, "The new network's domain and name")
      ->required();
  create->add_option("--vni", args->vni,
                     "VXLAN network identifier (default: the controller picks)");
  auto* subnet_flag =
      create->add_option("--subnet", args->subnet.cidr, "Also create a subnet with this CIDR");
  AddSubnetFlags(create, &args->subnet, subnet_flag);
  ctx.Bind(create, [&ctx, args] { return CreateNetwork(ctx, *args); });

  auto* rename = network->add_subcommand(
      "rename", "Give a network a new name in its domain (its id, VNI and endpoints stay)");
  rename->add_option("NETWORK", args->ref, "DOMAIN/NAME or network id")->required();
  rename->add_option("NAME", args->name, "The new name, unique in the domain")->required();
  ctx.Bind(rename, [&ctx, args] {
    auto client = ctx.Client();
    if (!client) return client.error();
    auto found = ctx.resolver().Network(args->ref);
    if (!found) return ctx.Fail(found.error());
    return UpdateObject(
        ctx, "/v1/networks" + PathSegment(StringField(*found, "id")),
        [&](nlohmann::json& n) {
          n["name"] = args->name;
          return 0;
        },
        NetworkColumns());
  });

  auto* remove = network->add_subcommand("delete", "Delete a network and its subnets");
  remove->add_option("NETWORK", args->ref, "DOMAIN/NAME or network id")->required();
  remove->add_flag("--force", args->force,
                   "Also delete its endpoints and the policies naming it (refused without it "
                   "while there are any)");
  ctx.Bind(remove, [&ctx, args] {
    auto client = ctx.Client();
    if (!client) return client.error();
    auto found = ctx.resolver().Network(args->ref);
    if (!found) return ctx.Fail(found.error());
    return DeleteObject(ctx, "/v1/networks" + PathSegment(StringField(*found, "id")), args->force);
  });
}

}  // namespace dove::cli
