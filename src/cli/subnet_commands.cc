// dovectl subnet list|show|create|delete.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/object_output.h"
#include "cli/subnet_body.h"

namespace dove::cli {
namespace {

struct SubnetArgs {
  std::string id;
  std::string network;
  std::string domain;
  SubnetFlags subnet;
  bool force = false;
};

}  // namespace

void AddSubnetCommands(CLI::App& app, Context& ctx) {
  auto* subnet = app.add_subcommand("subnet", "Manage subnets (by id)");
  subnet->require_subcommand(1);
  auto args = std::make_shared<SubnetArgs>();

  auto* list = subnet->add_subcommand("list", "List subnets");
  list->add_option("--network", args->network, "Only this network's (DOMAIN/NAME or id)");
  list->add_option("--domain", args->domain, "Only this domain's (name or id)");
  ctx.Bind(list, [&ctx, args] {
    auto client = ctx.Client();
    if (!client) return client.error();
    auto network_id = ctx.NetworkId(args->network);
    if (!network_id) return network_id.error();
    return ListObjects(ctx,
                       "/v1/subnets" + Query({{"domain", args->domain}, {"network", *network_id}}),
                       SubnetColumns());
  });

  auto* show = subnet->add_subcommand("show", "Show one subnet");
  show->add_option("ID", args->id, "Subnet id")->required();
  ctx.Bind(show, [&ctx, args] {
    return ShowObject(ctx, "/v1/subnets" + PathSegment(args->id), SubnetColumns());
  });

  auto* create = subnet->add_subcommand("create", "Add a subnet to a network");
  create->add_option("NETWORK", args->network, "DOMAIN/NAME or network id")->required();
  create->add_option("CIDR", args->subnet.cidr, "e.g. 10.1.0.0/24 or 2001:db8:1::/64")->required();
  AddSubnetFlags(create, &args->subnet, nullptr);
  ctx.Bind(create, [&ctx, args] {
    auto client = ctx.Client();
    if (!client) return client.error();
    if (auto checked = SubnetBody("", args->subnet); !checked) {
      return ctx.FailUsage(checked.error());
    }
    auto network_id = ctx.NetworkId(args->network);
    if (!network_id) return network_id.error();
    return CreateObject(ctx, "/v1/subnets", *SubnetBody(*network_id, args->subnet),
                        SubnetColumns());
  });

  auto* remove = subnet->add_subcommand("delete", "Delete a subnet");
  remove->add_option("ID", args->id, "Subnet id")->required();
  remove->add_flag("--force", args->force,
                   "Also delete the endpoints holding addresses in it (refused without it while "
                   "there are any)");
  ctx.Bind(remove, [&ctx, args] {
    return DeleteObject(ctx, "/v1/subnets" + PathSegment(args->id), args->force);
  });
}

}  // namespace dove::cli
