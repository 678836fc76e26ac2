// dovectl trace SOURCE PACKET: what happens to a packet, from the controller's model
// (POST /v1/trace; docs/dovectl.md). The destination may be an endpoint id instead of an
// address ("icmp to vm2", "tcp to vm2:443"): dovectl puts in its first address, IPv4 first.
#include <CLI/CLI.hpp>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/json_fields.h"
#include "cli/table.h"
#include "net/ip_address.h"
#include "net/mac_address.h"

namespace dove::cli {

namespace {

struct TraceArgs {
  std::string source;
  std::string packet;
};

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// The endpoint's first address, IPv4 before IPv6; "" when it has none.
std::string FirstAddress(const nlohmann::json& endpoint) {
  std::string v6;
  if (!endpoint.contains("ips") || !endpoint["ips"].is_array()) return "";
  for (const auto& item : endpoint["ips"]) {
    if (!item.is_string()) continue;
    const auto ip = net::IpAddress::Parse(item.get<std::string>());
    if (ip && ip->is_v4()) return ip->ToString();
    if (ip && v6.empty()) v6 = ip->ToString();
  }
  return v6;
}

// The packet with an endpoint id in the destination's place replaced by its address; the text
// as typed when the destination is an address already (the controller checks the rest).
Expected<std::string, int> WithAddresses(Context& ctx, ApiClient& client,
                                         const std::string& packet) {
  std::vector<std::string> words = Words(packet);
  if (words.size() < 3 || (words[1] != "to" && words[1] != "who-has")) return packet;
  std::string& target = words[2];
  if (net::IpAddress::Parse(target) || net::MacAddress::Parse(target) || target.front() == '[') {
    return packet;
  }
  // "HOST:PORT", where HOST is no address: an endpoint id.
  std::string host = target;
  std::string port;
  if (const size_t colon = target.rfind(':'); colon != std::string::npos) {
    host = target.substr(0, colon);
    port = target.substr(colon);
  }
  if (net::IpAddress::Parse(host)) return packet;
  auto endpoint = client.Get("/v1/endpoints" + PathSegment(host));
  if (!endpoint) return Unexpected(ctx.Fail(endpoint.error()));
  const std::string address = FirstAddress(endpoint->body);
  if (address.empty()) {
    return Unexpected(ctx.FailUsage("endpoint " + host + " has no address to send to"));
  }
  target = address.find(':') != std::string::npos && !port.empty() ? "[" + address + "]" + port
                                                                   : address + port;
  std::string text;
  for (const auto& word : words) text += (text.empty() ? "" : " ") + word;
  return text;
}

}  // namespace

void AddTraceCommand(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<TraceArgs>();
  auto* trace = app.add_subcommand(
      "trace",
      "Show what happens to a packet an endpoint sends, stage by stage, from the controller's "
      "model: port security, ARP/ND responder, router, policy (with the rule that decided), "
      "L2 lookup, VXLAN encapsulation, the receiving switch");
  trace->add_option("SOURCE", args->source, "The sending endpoint's id")->required();
  trace
      ->add_option("PACKET", args->packet,
                   "What it sends, quoted: 'icmp to IP', 'tcp to IP:PORT', 'udp to IP:PORT', "
                   "'udp to MAC [port N]', 'arp who-has IP'; an endpoint id may stand for its "
                   "address ('tcp to vm2:443')")
      ->required();
  ctx.Bind(trace, [&ctx, args] {
    auto client = ctx.Client();
    if (!client) return client.error();
    auto packet = WithAddresses(ctx, **client, args->packet);
    if (!packet) return packet.error();
    auto result =
        (*client)->Post("/v1/trace", nlohmann::json{{"source", args->source}, {"packet", *packet}});
    if (!result) return ctx.Fail(result.error());
    if (ctx.json_output()) {
      ctx.PrintJson(result->body);
      return 0;
    }
    const nlohmann::json& body = result->body;
    ctx.out() << "trace: " << StringField(body, "source") << " sends "
              << StringField(body, "packet") << "\n";
    Table table({"STAGE", "VERDICT", "DETAIL"});
    if (body.contains("stages") && body["stages"].is_array()) {
      for (const auto& stage : body["stages"]) {
        std::string verdict = StringField(stage, "verdict");
        if (!StringField(stage, "drop_reason").empty()) {
          verdict += " (" + StringField(stage, "drop_reason") + ")";
        }
        table.AddRow({StringField(stage, "stage"), verdict, StringField(stage, "detail")});
      }
    }
    ctx.out() << table.Render();
    std::string outcome = StringField(body, "outcome");
    if (!StringField(body, "drop_reason").empty()) {
      outcome += ": " + StringField(body, "drop_reason");
    }
    if (!JoinedField(body, "reached").empty()) outcome += " to " + JoinedField(body, "reached");
    ctx.out() << "outcome: " << outcome << "\n";
    return 0;
  });
}

}  // namespace dove::cli
