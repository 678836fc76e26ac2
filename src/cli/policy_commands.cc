// dovectl policy list|allow|deny|reject|create|update|show|delete: the policies between the
// networks of a domain, which the switches enforce on routed traffic.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/json_fields.h"
#include "cli/object_output.h"
#include "cli/policy_args.h"

namespace dove::cli {
namespace {

struct PolicyArgs {
  std::string id;
  std::string domain;
  std::string source;
  std::string destination;
  std::string action;  // create --action: allow, deny or reject
  std::string protocol = "any";
  std::string ports;
  uint32_t priority = 0;
  // update: which flags were given (an empty --port removes the port range).
  bool any_port = false;
};

// `dovectl policy update ID [--action A] [--proto P] [--port R | --any-port] [--priority N]`:
// the flags given change the policy, the others keep what it has; its networks stay.
void AddUpdateCommand(CLI::App* policy, Context& ctx) {
  auto args = std::make_shared<PolicyArgs>();
  auto* update = policy->add_subcommand(
      "update", "Change a policy's action, protocol, port range or priority (its networks stay)");
  update->add_option("ID", args->id, "Policy id")->required();
  auto* action = update->add_option("--action", args->action, "allow, deny or reject");
  auto* proto = update->add_option("--proto", args->protocol,
                                   "tcp, udp, icmp, any, or an IP protocol number 0..255");
  auto* port = update->add_option("--port", args->ports, "Destination port P or range P-Q");
  auto* any_port =
      update->add_flag("--any-port", args->any_port, "Remove the port range: any port matches");
  port->excludes(any_port);
  auto* priority = update->add_option("--priority", args->priority, "Higher wins");
  ctx.Bind(update, [&ctx, args, action, proto, port, any_port, priority] {
    if (action->count() + proto->count() + port->count() + any_port->count() + priority->count() ==
        0) {
      return ctx.FailUsage(
          "nothing to change: give --action, --proto, --port, --any-port or --priority");
    }
    std::optional<std::string> new_action;
    if (action->count() > 0) {
      auto parsed = ParseAction(args->action);
      if (!parsed) return ctx.FailUsage(parsed.error());
      new_action = *parsed;
    }
    std::optional<uint32_t> new_protocol;
    if (proto->count() > 0) {
      auto parsed = ParseProtocol(args->protocol);
      if (!parsed) return ctx.FailUsage(parsed.error());
      new_protocol = *parsed;
    }
    std::optional<PortRange> new_ports;
    if (port->count() > 0) {
      auto parsed = ParsePortRange(args->ports);
      if (!parsed) return ctx.FailUsage(parsed.error());
      new_ports = *parsed;
    }
    return UpdateObject(
        ctx, "/v1/policies" + PathSegment(args->id),
        [&](nlohmann::json& p) {
          if (new_action) p["action"] = *new_action;
          if (new_protocol) p["protocol"] = *new_protocol;
          if (priority->count() > 0) p["priority"] = args->priority;
          if (new_ports) p["port_range"] = {{"first", new_ports->first}, {"last", new_ports->last}};
          if (args->any_port) p.erase("port_range");
          const auto protocol = p.value("protocol", 0U);
          if (p.contains("port_range") && p["port_range"].value("first", 0U) != 0 &&
              protocol != 6 && protocol != 17) {
            return ctx.FailUsage("policy " + args->id +
                                 " would have a port range with a protocol other than tcp or "
                                 "udp: give --proto tcp|udp, or --any-port");
          }
          return 0;
        },
        PolicyColumns());
  });
}

int CreatePolicy(Context& ctx, const PolicyArgs& args, const std::string& action) {
  auto protocol = ParseProtocol(args.protocol);
  if (!protocol) return ctx.FailUsage(protocol.error());
  nlohmann::json body = {{"action", action}, {"protocol", *protocol}, {"priority", args.priority}};
  if (!args.ports.empty()) {
    auto ports = ParsePortRange(args.ports);
    if (!ports) return ctx.FailUsage(ports.error());
    if (*protocol != 6 && *protocol != 17) return ctx.FailUsage("--port needs --proto tcp or udp");
    body["port_range"] = {{"first", ports->first}, {"last", ports->last}};
  }
  auto client = ctx.Client();
  if (!client) return client.error();
  auto source = ctx.resolver().Network(args.source);
  if (!source) return ctx.Fail(source.error());
  auto destination = ctx.resolver().Network(args.destination);
  if (!destination) return ctx.Fail(destination.error());
  const std::string domain_id = StringField(*source, "domain_id");
  if (domain_id != StringField(*destination, "domain_id")) {
    return ctx.FailUsage("SRC " + args.source + " and DST " + args.destination +
                         " are in different domains; a policy joins networks of one domain");
  }
  body["domain_id"] = domain_id;
  body["source_network_id"] = StringField(*source, "id");
  body["destination_network_id"] = StringField(*destination, "id");
  return CreateObject(ctx, "/v1/policies", body, PolicyColumns());
}

// The options every rule command shares.
CLI::App* AddRuleOptions(CLI::App* policy, const char* verb, const char* description,
                         PolicyArgs& args) {
  auto* rule = policy->add_subcommand(verb, description);
  rule->add_option("SRC", args.source, "Source network (DOMAIN/NAME or id)")->required();
  rule->add_option("DST", args.destination, "Destination network, same domain")->required();
  rule->add_option("--proto", args.protocol,
                   "tcp, udp, icmp, any, or an IP protocol number 0..255 (default: any)");
  rule->add_option("--port", args.ports, "Destination port P or range P-Q (tcp/udp only)");
  rule->add_option("--priority", args.priority,
                   "Higher wins when policies overlap; in a tie a deny or reject wins (default 0)");
  return rule;
}

// `dovectl policy allow|deny|reject`: the action is the verb.
void AddRuleCommand(CLI::App* policy, Context& ctx, const char* verb, const char* action,
                    const char* description) {
  auto args = std::make_shared<PolicyArgs>();
  auto* rule = AddRuleOptions(policy, verb, description, *args);
  ctx.Bind(rule,
           [&ctx, args, action = std::string(action)] { return CreatePolicy(ctx, *args, action); });
}

// `dovectl policy create SRC DST --action allow|deny|reject`: the action is a flag (scripts).
void AddCreateCommand(CLI::App* policy, Context& ctx) {
  auto args = std::make_shared<PolicyArgs>();
  auto* rule = AddRuleOptions(policy, "create", "Create a policy from SRC to DST", *args);
  rule->add_option("--action", args->action,
                   "allow, deny, or reject (deny, and the sender gets ICMP administratively "
                   "prohibited)")
      ->required();
  ctx.Bind(rule, [&ctx, args] {
    auto action = ParseAction(args->action);
    if (!action) return ctx.FailUsage(action.error());
    return CreatePolicy(ctx, *args, *action);
  });
}

}  // namespace

void AddPolicyCommands(CLI::App& app, Context& ctx) {
  auto* policy = app.add_subcommand(
      "policy",
      "Manage policies between networks of a domain (enforced by the switches on routed traffic)");
  policy->require_subcommand(1);
  auto args = std::make_shared<PolicyArgs>();

  auto* list = policy->add_subcommand("list", "List policies");
  list->add_option("--domain", args->domain, "Only this domain's (name or id)");
  ctx.Bind(list, [&ctx, args] {
    return ListObjects(ctx, "/v1/policies" + Query({{"domain", args->domain}}), PolicyColumns());
  });

  AddRuleCommand(policy, ctx, "allow", "ACTION_ALLOW", "Allow traffic from SRC to DST");
  AddRuleCommand(policy, ctx, "deny", "ACTION_DENY", "Deny traffic from SRC to DST (dropped)");
  AddRuleCommand(policy, ctx, "reject", "ACTION_REJECT",
                 "Reject traffic from SRC to DST (dropped, and the sender gets ICMP "
                 "administratively prohibited)");
  AddCreateCommand(policy, ctx);
  AddUpdateCommand(policy, ctx);

  auto* show = policy->add_subcommand("show", "Show one policy");
  show->add_option("ID", args->id, "Policy id")->required();
  ctx.Bind(show, [&ctx, args] {
    return ShowObject(ctx, "/v1/policies" + PathSegment(args->id), PolicyColumns());
  });

  auto* remove = policy->add_subcommand("delete", "Delete a policy");
  remove->add_option("ID", args->id, "Policy id")->required();
  ctx.Bind(remove, [&ctx, args] {
    return DeleteObject(ctx, "/v1/policies" + PathSegment(args->id), false);
  });
}

}  // namespace dove::cli
