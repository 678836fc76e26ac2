// dovectl endpoint list|show|create|delete.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/json_fields.h"
#include "cli/object_output.h"

namespace dove::cli {
namespace {

struct EndpointArgs {
  std::string id;
  std::string network;
  std::string domain;
  std::string switch_ref;
  std::string mac;
  std::vector<std::string> ips;
  std::string port;
  std::string port_kind;
};

// Endpoints name their switch by name, and the switch need not be registered yet: a
// registered switch's id becomes its name, anything else is taken as the name itself.
std::string SwitchName(Context& ctx, const std::string& ref) {
  if (ref.empty()) return ref;
  auto found = ctx.resolver().Switch(ref);
  if (!found) return ref;
  const std::string name = StringField(*found, "name");
  return name.empty() ? ref : name;
}

}  // namespace

void AddEndpointCommands(CLI::App& app, Context& ctx) {
  auto* endpoint = app.add_subcommand("endpoint", "Manage endpoints (VM interfaces, by id)");
  endpoint->require_subcommand(1);
  auto args = std::make_shared<EndpointArgs>();

  auto* list = endpoint->add_subcommand("list", "List endpoints");
  list->add_option("--network", args->network, "Only this network's (DOMAIN/NAME or id)");
  list->add_option("--switch", args->switch_ref, "Only those placed on this switch (name or id)");
  list->add_option("--domain", args->domain, "Only this domain's (name or id)");
  ctx.Bind(list, [&ctx, args] {
    auto client = ctx.Client();
    if (!client) return client.error();
    auto network_id = ctx.NetworkId(args->network);
    if (!network_id) return network_id.error();
    return ListObjects(ctx,
                       "/v1/endpoints" + Query({{"domain", args->domain},
                                                {"network", *network_id},
                                                {"switch", SwitchName(ctx, args->switch_ref)}}),
                       EndpointColumns());
  });

  auto* show = endpoint->add_subcommand("show", "Show one endpoint");
  show->add_option("ID", args->id, "Endpoint id")->required();
  ctx.Bind(show, [&ctx, args] {
    return ShowObject(ctx, "/v1/endpoints" + PathSegment(args->id), EndpointColumns());
  });

  auto* create = endpoint->add_subcommand(
      "create", "Create an endpoint; the controller picks the MAC and IPs not given");
  create->add_option("NETWORK", args->network, "DOMAIN/NAME or network id")->required();
  create->add_option("--id", args->id, "Endpoint id (default: the controller picks one)");
  create->add_option("--mac", args->mac, "MAC address (default: the controller picks one)");
  create->add_option("--ip", args->ips, "IP address (repeatable; default: one per subnet)")
      ->allow_extra_args(false);
  create->add_option("--switch", args->switch_ref, "The switch it sits on (name or id)");
  create->add_option("--port", args->port,
                     "The switch port: the TAP's name (default: the switch names one), or with "
                     "--port-kind packet the interface to attach to");
  create
      ->add_option("--port-kind", args->port_kind,
                   "tap (default): a TAP the switch opens, creating it when missing; packet: an "
                   "interface the switch does not own (a TAP QEMU/libvirt holds, a container's "
                   "veth), served through a packet socket; needs --port")
      ->check(CLI::IsMember({"tap", "packet"}));
  ctx.Bind(create, [&ctx, args] {
    auto client = ctx.Client();
    if (!client) return client.error();
    auto network_id = ctx.NetworkId(args->network);
    if (!network_id) return network_id.error();
    nlohmann::json body = {{"network_id", *network_id}};
    if (!args->id.empty()) body["id"] = args->id;
    if (!args->mac.empty()) body["mac"] = args->mac;
    if (!args->ips.empty()) body["ips"] = args->ips;
    if (!args->switch_ref.empty()) body["switch_name"] = SwitchName(ctx, args->switch_ref);
    if (!args->port.empty()) body["port_name"] = args->port;
    if (args->port_kind == "packet") body["port_kind"] = "PORT_KIND_PACKET";
    if (args->port_kind == "tap") body["port_kind"] = "PORT_KIND_TAP";
    return CreateObject(ctx, "/v1/endpoints", body, EndpointColumns());
  });

  auto* remove = endpoint->add_subcommand("delete", "Delete an endpoint");
  remove->add_option("ID", args->id, "Endpoint id")->required();
  ctx.Bind(remove, [&ctx, args] {
    return DeleteObject(ctx, "/v1/endpoints" + PathSegment(args->id), false);
  });
}

}  // namespace dove::cli
