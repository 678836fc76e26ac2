// dovectl trace SOURCE PACKET: what happens to a packet, from the controller's model
// (POST /v1/trace; docs/dovectl.md). The destination may be an endpoint id instead of an
// address ("icmp to vm2", "tcp to vm2:443"): dovectl puts in its first address, IPv4 first.
// --live also runs it through the switches and shows what each did, and where they and the
// model disagree (exit code 6 then).
#include <CLI/CLI.hpp>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/json_fields.h"
#include "cli/table.h"
#include "net/ip_address.h"
#include "net/mac_address.h"

namespace dove::cli {

namespace {

struct TraceArgs {
  std::string source;
  std::string packet;
  bool live = false;
  bool deliver = false;
};

// One table of stages (the model's, or a switch's).
std::string StagesTable(const nlohmann::json& stages) {
  Table table({"STAGE", "VERDICT", "DETAIL"});
  if (stages.is_array()) {
    for (const auto& stage : stages) {
      std::string verdict = StringField(stage, "verdict");
      if (!StringField(stage, "drop_reason").empty()) {
        verdict += " (" + StringField(stage, "drop_reason") + ")";
      }
      if (!StringField(stage, "policy_id").empty()) {
        verdict += " [policy " + StringField(stage, "policy_id") + "]";
      }
      table.AddRow({StringField(stage, "stage"), verdict, StringField(stage, "detail")});
    }
  }
  return table.Render();
}

std::string OutcomeText(const std::string& outcome, const std::string& drop_reason,
                        const std::string& reached) {
  std::string text = outcome;
  if (!drop_reason.empty()) text += ": " + drop_reason;
  if (!reached.empty()) text += " to " + reached;
  return text;
}

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
  trace->add_option("SOURCE", args->source, "The sending endpoint: its id or DOMAIN/NETWORK/NAME")
      ->required();
  trace
      ->add_option("PACKET", args->packet,
                   "What it sends, quoted: 'icmp to IP', 'tcp to IP:PORT', 'udp to IP:PORT', "
                   "'udp to MAC [port N]', 'arp who-has IP'; an endpoint id may stand for its "
                   "address ('tcp to vm2:443')")
      ->required();
  trace->add_flag("--live", args->live,
                  "Also run the packet through the switches: the source endpoint's switch builds "
                  "it and injects it into its real pipeline in trace mode, every switch it "
                  "reaches reports what it did; shows each switch's stages and where they "
                  "disagree with the model (exit code 6). Userspace switches only; the source's "
                  "switch must be connected to this controller. Takes up to 3 s");
  trace->add_flag("--deliver", args->deliver,
                  "With --live: hand the traced packet to the endpoints it reaches (by default "
                  "it is not: the VM never sees a trace)");
  ctx.Bind(trace, [&ctx, args] {
    if (args->deliver && !args->live) return ctx.FailUsage("--deliver needs --live");
    auto client = ctx.Client();
    if (!client) return client.error();
    auto packet = WithAddresses(ctx, **client, args->packet);
    if (!packet) return packet.error();
    std::string source = args->source;
    if (source.find('/') != std::string::npos) {
      auto found = ctx.resolver().Endpoint(source);
      if (!found) return ctx.Fail(found.error());
      source = StringField(*found, "id");
    }
    nlohmann::json request{{"source", source}, {"packet", *packet}};
    if (args->live) request["live"] = true;
    if (args->deliver) request["deliver"] = true;
    auto result = (*client)->Post("/v1/trace", request);
    if (!result) return ctx.Fail(result.error());
    const nlohmann::json& body = result->body;
    const bool disagree = args->live && body.contains("disagreements") &&
                          body["disagreements"].is_array() && !body["disagreements"].empty();
    const int status = disagree ? static_cast<int>(ExitCode::kDisagree) : 0;
    if (ctx.json_output()) {
      ctx.PrintJson(body);
      return status;
    }
    ctx.out() << "trace: " << StringField(body, "source") << " sends "
              << StringField(body, "packet") << (args->live ? "\nmodel:\n" : "\n");
    ctx.out() << StagesTable(body.value("stages", nlohmann::json::array()));
    const std::string model_outcome =
        OutcomeText(StringField(body, "outcome"), StringField(body, "drop_reason"),
                    JoinedField(body, "reached"));
    if (!args->live) {
      ctx.out() << "outcome: " << model_outcome << "\n";
      return 0;
    }
    if (body.contains("switches") && body["switches"].is_array()) {
      for (const auto& each : body["switches"]) {
        ctx.out() << "switch " << StringField(each, "switch_name") << " ("
                  << StringField(each, "role") << "):\n";
        if (!StringField(each, "error").empty()) {
          ctx.out() << "  error: " << StringField(each, "error") << "\n";
        }
        ctx.out() << StagesTable(each.value("stages", nlohmann::json::array()));
      }
    }
    ctx.out() << "model:    " << model_outcome << "\n"
              << "switches: "
              << OutcomeText(StringField(body, "live_outcome"),
                             StringField(body, "live_drop_reason"),
                             JoinedField(body, "live_reached"))
              << "\n";
    if (!disagree) {
      ctx.out() << "the switches agree with the model\n";
      return 0;
    }
    for (const auto& line : body["disagreements"]) {
      if (line.is_string()) ctx.out() << "DISAGREE: " << line.get<std::string>() << "\n";
    }
    return status;
  });
}

}  // namespace dove::cli
