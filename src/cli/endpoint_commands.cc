// dovectl endpoint list|show|create|delete|move|rename|label.
#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

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
  std::string name;
  std::string label_selector;       // list --label
  std::vector<std::string> labels;  // create --label, label KEY=VALUE|KEY-
};

// "KEY=VALUE" sets a label, "KEY-" removes one (as kubectl label does). The controller checks
// the keys and values themselves; here only the form.
struct LabelChanges {
  std::map<std::string, std::string> set;
  std::vector<std::string> remove;
};

Expected<LabelChanges, std::string> ParseLabelChanges(const std::vector<std::string>& args,
                                                      bool allow_remove) {
  LabelChanges changes;
  for (const std::string& arg : args) {
    const size_t equals = arg.find('=');
    if (equals != std::string::npos && equals > 0) {
      changes.set[arg.substr(0, equals)] = arg.substr(equals + 1);
    } else if (allow_remove && arg.size() > 1 && arg.back() == '-' && equals == std::string::npos) {
      changes.remove.push_back(arg.substr(0, arg.size() - 1));
    } else {
      return Unexpected("label \"" + arg + "\" is not KEY=VALUE" +
                        (allow_remove ? std::string(" or KEY- (to remove it)") : std::string()));
    }
  }
  return changes;
}

// The endpoint `ref` names (an id or DOMAIN/NETWORK/NAME), as its API path.
Expected<std::string, int> EndpointPath(Context& ctx, const std::string& ref) {
  auto client = ctx.Client();
  if (!client) return Unexpected(client.error());
  auto found = ctx.resolver().Endpoint(ref);
  if (!found) return Unexpected(ctx.Fail(found.error()));
  return "/v1/endpoints" + PathSegment(StringField(*found, "id"));
}

// GET the endpoint `ref` names, change it, PUT it back (object_output.h: UpdateObject).
int UpdateEndpoint(Context& ctx, const std::string& ref,
                   const std::function<int(nlohmann::json&)>& change) {
  auto path = EndpointPath(ctx, ref);
  if (!path) return path.error();
  return UpdateObject(ctx, *path, change, EndpointColumns());
}

// Endpoints name their switch by name, and the switch need not be registered yet: a
// registered switch's id becomes its name, anything else is taken as the name itself.
std::string SwitchName(Context& ctx, const std::string& ref) {
  if (ref.empty()) return ref;
  auto found = ctx.resolver().Switch(ref);
  if (!found) return ref;
  const std::string name = StringField(*found, "name");
  return name.empty() ? ref : name;
}

// move, rename, label: read, change, write back (UpdateObject).
void AddEndpointUpdateCommands(CLI::App* endpoint, Context& ctx) {
  auto args = std::make_shared<EndpointArgs>();

  auto* move = endpoint->add_subcommand(
      "move",
      "Place an endpoint on another switch (a VM migration): the switch it leaves drops its "
      "port, the new one makes it, every switch that cached it learns the new location");
  move->add_option("ENDPOINT", args->id, "Endpoint id or DOMAIN/NETWORK/NAME")->required();
  move->add_option("--switch", args->switch_ref, "The switch it moves to (name or id)")->required();
  move->add_option("--port", args->port,
                   "The port on the new switch (default: the switch names a TAP; needed for a "
                   "packet port)");
  move->add_option("--port-kind", args->port_kind, "tap or packet (default: as before)")
      ->check(CLI::IsMember({"tap", "packet"}));
  ctx.Bind(move, [&ctx, args] {
    auto client = ctx.Client();
    if (!client) return client.error();
    const std::string switch_name = SwitchName(ctx, args->switch_ref);
    return UpdateEndpoint(ctx, args->id, [&](nlohmann::json& e) {
      std::string kind = StringField(e, "port_kind");
      if (args->port_kind == "packet") kind = "PORT_KIND_PACKET";
      if (args->port_kind == "tap") kind = "PORT_KIND_TAP";
      if (kind == "PORT_KIND_PACKET" && args->port.empty()) {
        return ctx.FailUsage("endpoint " + args->id +
                             " has a packet port, which names an interface on the new switch: "
                             "give it with --port (or --port-kind tap)");
      }
      e["switch_name"] = switch_name;
      e["port_name"] = args->port;  // a TAP's name on the old switch means nothing on the new
      e["port_kind"] = kind.empty() ? "PORT_KIND_UNSPECIFIED" : kind;
      return 0;
    });
  });

  auto* rename = endpoint->add_subcommand("rename", "Give an endpoint a new name");
  rename->add_option("ENDPOINT", args->id, "Endpoint id or DOMAIN/NETWORK/NAME")->required();
  rename->add_option("NAME", args->name, "The new name, unique in its network")->required();
  ctx.Bind(rename, [&ctx, args] {
    return UpdateEndpoint(ctx, args->id, [&](nlohmann::json& e) {
      e["name"] = args->name;
      return 0;
    });
  });

  auto* label = endpoint->add_subcommand(
      "label", "Set or remove an endpoint's labels (external ids): KEY=VALUE sets, KEY- removes");
  label->add_option("ENDPOINT", args->id, "Endpoint id or DOMAIN/NETWORK/NAME")->required();
  label->add_option("LABEL", args->labels, "KEY=VALUE or KEY-")->required();
  ctx.Bind(label, [&ctx, args] {
    auto changes = ParseLabelChanges(args->labels, /*allow_remove=*/true);
    if (!changes) return ctx.FailUsage(changes.error());
    return UpdateEndpoint(ctx, args->id, [&](nlohmann::json& e) {
      if (!e.contains("labels") || !e["labels"].is_object()) e["labels"] = nlohmann::json::object();
      for (const auto& key : changes->remove) e["labels"].erase(key);
      for (const auto& [key, value] : changes->set) e["labels"][key] = value;
      return 0;
    });
  });
}

}  // namespace

void AddEndpointCommands(CLI::App& app, Context& ctx) {
  auto* endpoint = app.add_subcommand(
      "endpoint", "Manage endpoints (VM interfaces; by id or DOMAIN/NETWORK/NAME)");
  endpoint->require_subcommand(1);
  auto args = std::make_shared<EndpointArgs>();

  auto* list = endpoint->add_subcommand("list", "List endpoints");
  list->add_option("--network", args->network, "Only this network's (DOMAIN/NAME or id)");
  list->add_option("--switch", args->switch_ref, "Only those placed on this switch (name or id)");
  list->add_option("--domain", args->domain, "Only this domain's (name or id)");
  list->add_option("--name", args->name, "Only the one of this name");
  list->add_option("--label", args->label_selector,
                   "Only those matching this label selector: comma-separated KEY=VALUE (the "
                   "label has this value) or KEY (the label is there), all of which must hold");
  ctx.Bind(list, [&ctx, args] {
    auto client = ctx.Client();
    if (!client) return client.error();
    auto network_id = ctx.NetworkId(args->network);
    if (!network_id) return network_id.error();
    return ListObjects(ctx,
                       "/v1/endpoints" + Query({{"domain", args->domain},
                                                {"network", *network_id},
                                                {"switch", SwitchName(ctx, args->switch_ref)},
                                                {"name", args->name},
                                                {"label", args->label_selector}}),
                       EndpointColumns());
  });

  auto* show = endpoint->add_subcommand("show", "Show one endpoint");
  show->add_option("ENDPOINT", args->id, "Endpoint id or DOMAIN/NETWORK/NAME")->required();
  ctx.Bind(show, [&ctx, args] {
    auto path = EndpointPath(ctx, args->id);
    if (!path) return path.error();
    return ShowObject(ctx, *path, EndpointColumns());
  });

  auto* create = endpoint->add_subcommand(
      "create", "Create an endpoint; the controller picks the MAC and IPs not given");
  create->add_option("NETWORK", args->network, "DOMAIN/NAME or network id")->required();
  create->add_option("--id", args->id, "Endpoint id (default: the controller picks one)");
  create->add_option("--name", args->name, "A name, unique in the network (default: none)");
  create->add_option("--label", args->labels,
                     "KEY=VALUE: an external id to keep with it (repeatable), e.g. vm-uuid=4f2a");
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
    auto labels = ParseLabelChanges(args->labels, /*allow_remove=*/false);
    if (!labels) return ctx.FailUsage(labels.error());
    auto client = ctx.Client();
    if (!client) return client.error();
    auto network_id = ctx.NetworkId(args->network);
    if (!network_id) return network_id.error();
    nlohmann::json body = {{"network_id", *network_id}};
    if (!args->id.empty()) body["id"] = args->id;
    if (!args->name.empty()) body["name"] = args->name;
    if (!labels->set.empty()) body["labels"] = labels->set;
    if (!args->mac.empty()) body["mac"] = args->mac;
    if (!args->ips.empty()) body["ips"] = args->ips;
    if (!args->switch_ref.empty()) body["switch_name"] = SwitchName(ctx, args->switch_ref);
    if (!args->port.empty()) body["port_name"] = args->port;
    if (args->port_kind == "packet") body["port_kind"] = "PORT_KIND_PACKET";
    if (args->port_kind == "tap") body["port_kind"] = "PORT_KIND_TAP";
    return CreateObject(ctx, "/v1/endpoints", body, EndpointColumns());
  });

  auto* remove = endpoint->add_subcommand("delete", "Delete an endpoint");
  remove->add_option("ENDPOINT", args->id, "Endpoint id or DOMAIN/NETWORK/NAME")->required();
  ctx.Bind(remove, [&ctx, args] {
    auto path = EndpointPath(ctx, args->id);
    if (!path) return path.error();
    return DeleteObject(ctx, *path, false);
  });

  AddEndpointUpdateCommands(endpoint, ctx);
}

}  // namespace dove::cli
