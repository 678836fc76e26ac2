// dovectl domain list|show|create|delete.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/object_output.h"

namespace dove::cli {
namespace {

struct DomainArgs {
  std::string ref;
  std::string name;
  std::string id;
  bool force = false;
};

}  // namespace

void AddDomainCommands(CLI::App& app, Context& ctx) {
  auto* domain = app.add_subcommand("domain", "Manage domains (tenants)");
  domain->require_subcommand(1);
  auto args = std::make_shared<DomainArgs>();

  auto* list = domain->add_subcommand("list", "List domains");
  ctx.Bind(list, [&ctx] { return ListObjects(ctx, "/v1/domains", DomainColumns()); });

  auto* show = domain->add_subcommand("show", "Show one domain");
  show->add_option("DOMAIN", args->ref, "Domain name or id")->required();
  ctx.Bind(show, [&ctx, args] {
    return ShowObject(ctx, "/v1/domains" + PathSegment(args->ref), DomainColumns());
  });

  auto* create = domain->add_subcommand("create", "Create a domain");
  create->add_option("NAME", args->name, "Domain name (unique)")->required();
  create->add_option("--id", args->id, "Domain id (default: the controller picks one)");
  ctx.Bind(create, [&ctx, args] {
    nlohmann::json body = {{"name", args->name}};
    if (!args->id.empty()) body["id"] = args->id;
    return CreateObject(ctx, "/v1/domains", body, DomainColumns());
  });

  auto* rename = domain->add_subcommand("rename", "Give a domain a new name");
  rename->add_option("DOMAIN", args->ref, "Domain name or id")->required();
  rename->add_option("NAME", args->name, "The new name (unique)")->required();
  ctx.Bind(rename, [&ctx, args] {
    return UpdateObject(
        ctx, "/v1/domains" + PathSegment(args->ref),
        [&](nlohmann::json& d) {
          d["name"] = args->name;
          return 0;
        },
        DomainColumns());
  });

  auto* remove = domain->add_subcommand("delete", "Delete a domain");
  remove->add_option("DOMAIN", args->ref, "Domain name or id")->required();
  remove->add_flag("--force", args->force,
                   "Also delete its policies, networks, subnets and endpoints (refused "
                   "without it while the domain has any)");
  ctx.Bind(remove, [&ctx, args] {
    return DeleteObject(ctx, "/v1/domains" + PathSegment(args->ref), args->force);
  });
}

}  // namespace dove::cli
