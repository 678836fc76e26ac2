#include "cli/object_output.h"

#include <cctype>
#include <cstdlib>

#include "cli/json_fields.h"
#include "cli/policy_args.h"
#include "cli/table.h"

namespace dove::cli {
namespace {

// "STATE_UP" -> "up", "ACTION_ALLOW" -> "allow": the enum names without their prefix.
std::string EnumName(const std::string& value, const std::string& prefix) {
  std::string name = value.rfind(prefix, 0) == 0 ? value.substr(prefix.size()) : value;
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

std::string RangeText(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains(key)) return "";
  const auto& range = object[key];
  // NumberField reads both kinds: the numeric ports and the string addresses.
  const std::string first = NumberField(range, "first");
  const std::string last = NumberField(range, "last");
  if (first.empty() || first == "0") return "";
  return first == last ? first : first + "-" + last;
}

// An endpoint's port: its name, and its kind when the switch does not own it.
std::string PortText(const nlohmann::json& e) {
  const std::string name = StringField(e, "port_name");
  return StringField(e, "port_kind") == "PORT_KIND_PACKET" ? name + " (packet)" : name;
}

// An endpoint's labels as "k=v,k2=v2", in key order.
std::string LabelsText(const nlohmann::json& e) {
  if (!e.is_object() || !e.contains("labels") || !e["labels"].is_object()) return "";
  std::string text;
  for (const auto& [key, value] : e["labels"].items()) {
    if (!text.empty()) text += ',';
    text += key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return text;
}

}  // namespace

Columns DomainColumns() {
  return {{"ID", "NAME"}, [](const nlohmann::json& d, Resolver&) {
            return std::vector<std::string>{StringField(d, "id"), StringField(d, "name")};
          }};
}

Columns NetworkColumns() {
  return {{"ID", "DOMAIN", "NAME", "VNI"}, [](const nlohmann::json& n, Resolver& resolver) {
            return std::vector<std::string>{StringField(n, "id"),
                                            resolver.DomainName(StringField(n, "domain_id")),
                                            StringField(n, "name"), NumberField(n, "vni")};
          }};
}

Columns SubnetColumns() {
  return {{"ID", "NETWORK", "CIDR", "GATEWAY", "DHCP_RANGE", "DNS", "MTU"},
          [](const nlohmann::json& s, Resolver& resolver) {
            const std::string mtu = NumberField(s, "mtu");
            return std::vector<std::string>{
                StringField(s, "id"),       resolver.NetworkName(StringField(s, "network_id")),
                StringField(s, "cidr"),     StringField(s, "gateway"),
                RangeText(s, "dhcp_range"), JoinedField(s, "dns_servers"),
                mtu == "0" ? "" : mtu};
          }};
}

Columns EndpointColumns() {
  return {{"ID", "NAME", "NETWORK", "MAC", "IPS", "SWITCH", "PORT", "LABELS", "VERSION"},
          [](const nlohmann::json& e, Resolver& resolver) {
            return std::vector<std::string>{StringField(e, "id"),
                                            StringField(e, "name"),
                                            resolver.NetworkName(StringField(e, "network_id")),
                                            StringField(e, "mac"),
                                            JoinedField(e, "ips"),
                                            StringField(e, "switch_name"),
                                            PortText(e),
                                            LabelsText(e),
                                            NumberField(e, "version")};
          }};
}

Columns SwitchColumns() {
  return {{"ID", "NAME", "TUNNEL_IP", "STATE", "VERSION", "LAST_HEARTBEAT"},
          [](const nlohmann::json& s, Resolver&) {
            return std::vector<std::string>{StringField(s, "id"),
                                            StringField(s, "name"),
                                            StringField(s, "tunnel_ip"),
                                            EnumName(StringField(s, "state"), "STATE_"),
                                            StringField(s, "software_version"),
                                            StringField(s, "last_heartbeat")};
          }};
}

Columns PolicyColumns() {
  return {
      {"ID", "DOMAIN", "SOURCE", "DESTINATION", "ACTION", "PROTO", "PORTS", "PRIORITY"},
      [](const nlohmann::json& p, Resolver& resolver) {
        const std::string protocol = NumberField(p, "protocol");
        const std::string ports = RangeText(p, "port_range");
        return std::vector<std::string>{
            StringField(p, "id"),
            resolver.DomainName(StringField(p, "domain_id")),
            resolver.NetworkName(StringField(p, "source_network_id")),
            resolver.NetworkName(StringField(p, "destination_network_id")),
            EnumName(StringField(p, "action"), "ACTION_"),
            protocol.empty()
                ? ""
                : ProtocolName(static_cast<uint32_t>(std::strtoul(protocol.c_str(), nullptr, 10))),
            ports.empty() ? "any" : ports,
            NumberField(p, "priority")};
      }};
}

void PrintObject(Context& ctx, const nlohmann::json& object, const Columns& columns) {
  if (ctx.json_output()) {
    ctx.PrintJson(object);
    return;
  }
  const std::vector<std::string> row = columns.row(object, ctx.resolver());
  Table table({});
  for (size_t i = 0; i < columns.headers.size(); ++i) {
    table.AddRow({columns.headers[i], i < row.size() ? row[i] : ""});
  }
  ctx.out() << table.Render();
}

int ListObjects(Context& ctx, const std::string& path, const Columns& columns) {
  auto client = ctx.Client();
  if (!client) return client.error();
  auto got = (*client)->Get(path);
  if (!got) return ctx.Fail(got.error());
  if (ctx.json_output()) {
    ctx.PrintJson(Items(got->body));
    return 0;
  }
  Table table(columns.headers);
  for (const auto& item : Items(got->body)) table.AddRow(columns.row(item, ctx.resolver()));
  ctx.out() << table.Render();
  return 0;
}

int ShowObject(Context& ctx, const std::string& path, const Columns& columns) {
  auto client = ctx.Client();
  if (!client) return client.error();
  auto got = (*client)->Get(path);
  if (!got) return ctx.Fail(got.error());
  PrintObject(ctx, got->body, columns);
  return 0;
}

int CreateObject(Context& ctx, const std::string& collection, const nlohmann::json& body,
                 const Columns& columns) {
  auto client = ctx.Client();
  if (!client) return client.error();
  auto created = (*client)->Post(collection, body);
  if (!created) return ctx.Fail(created.error());
  PrintObject(ctx, created->body, columns);
  return 0;
}

int UpdateObject(Context& ctx, const std::string& path,
                 const std::function<int(nlohmann::json&)>& change, const Columns& columns) {
  auto client = ctx.Client();
  if (!client) return client.error();
  for (int attempt = 1;; ++attempt) {
    auto got = (*client)->Get(path);
    if (!got) return ctx.Fail(got.error());
    nlohmann::json object = std::move(got->body);
    if (const int refused = change(object); refused != 0) return refused;
    auto put = (*client)->Put(path, object);
    if (put) {
      PrintObject(ctx, put->body, columns);
      return 0;
    }
    const bool stale = put.error().code == "conflict" &&
                       put.error().message.find("stale version") != std::string::npos;
    if (!stale || attempt == kUpdateAttempts) return ctx.Fail(put.error());
  }
}

int DeleteObject(Context& ctx, const std::string& path, bool force) {
  auto client = ctx.Client();
  if (!client) return client.error();
  auto deleted = (*client)->Delete(path + (force ? "?force=true" : ""));
  if (!deleted) return ctx.Fail(deleted.error());
  if (ctx.json_output()) {
    ctx.PrintJson(deleted->body);
    return 0;
  }
  const std::string count = NumberField(deleted->body, "deleted");
  ctx.out() << "deleted " << (count.empty() ? "1" : count) << " object(s), revision "
            << NumberField(deleted->body, "revision") << "\n";
  return 0;
}

}  // namespace dove::cli
