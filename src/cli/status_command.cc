// dovectl status: is the controller there, and at which revision.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/json_fields.h"
#include "cli/table.h"

namespace dove::cli {

void AddStatusCommand(CLI::App& app, Context& ctx) {
  auto* status = app.add_subcommand("status", "Show the controller's address, health and revision");
  ctx.Bind(status, [&ctx] {
    auto client = ctx.Client();
    if (!client) return client.error();
    auto health = (*client)->Get("/healthz");
    if (!health) return ctx.Fail(health.error());
    if (ctx.json_output()) {
      ctx.PrintJson(health->body);
      return 0;
    }
    Table table({});
    table.AddRow({"CONTROLLER", (*client)->url().ToString()});
    table.AddRow({"STATUS", StringField(health->body, "status")});
    table.AddRow({"REVISION", NumberField(health->body, "revision")});
    ctx.out() << table.Render();
    return 0;
  });
}

}  // namespace dove::cli
