// dovectl show DOMAIN: one domain as a tree: its networks (VNI) with their subnets (gateway,
// MTU) and endpoints (MAC, IPs, switch and port), then its policies, from five GETs (the domain,
// then four lists filtered by it). With -o json, the same as one document: {"domain", "networks":
// [{..., "subnets", "endpoints"}], "policies"}.
#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/json_fields.h"
#include "cli/policy_args.h"

namespace dove::cli {

namespace {

// "allow tcp 5432 web -> db (priority 10)".
std::string PolicyLine(const nlohmann::json& policy,
                       const std::map<std::string, std::string>& names) {
  const auto name_of = [&names](const std::string& id) {
    const auto found = names.find(id);
    return found == names.end() ? id : found->second;
  };
  std::string action = StringField(policy, "action");
  if (action.rfind("ACTION_", 0) == 0) action = action.substr(7);
  for (char& c : action) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string line = action + " ";
  const bool has_protocol = policy.contains("protocol") && policy["protocol"].is_number_unsigned();
  line += ProtocolName(has_protocol ? policy["protocol"].get<uint32_t>() : 0);
  if (policy.contains("port_range")) {
    const std::string first = NumberField(policy["port_range"], "first");
    const std::string last = NumberField(policy["port_range"], "last");
    line += " " + (first == last ? first : first + "-" + last);
  }
  line += " " + name_of(StringField(policy, "source_network_id")) + " -> " +
          name_of(StringField(policy, "destination_network_id"));
  const std::string priority = NumberField(policy, "priority");
  line += " (priority " + (priority.empty() ? std::string("0") : priority) + ", id " +
          StringField(policy, "id") + ")";
  return line;
}

}  // namespace

void AddShowCommand(CLI::App& app, Context& ctx) {
  auto domain_ref = std::make_shared<std::string>();
  auto* show = app.add_subcommand(
      "show",
      "Show a domain as a tree: networks, subnets, endpoints (with their switch and "
      "port), policies");
  show->add_option("DOMAIN", *domain_ref, "Domain name or id")->required();
  ctx.Bind(show, [&ctx, domain_ref] {
    auto client = ctx.Client();
    if (!client) return client.error();
    auto domain = ctx.resolver().Domain(*domain_ref);
    if (!domain) return ctx.Fail(domain.error());
    const std::string id = StringField(*domain, "id");
    const auto list = [&](const std::string& collection) -> Expected<nlohmann::json, int> {
      auto got = (*client)->Get("/v1/" + collection + Query({{"domain", id}}));
      if (!got) return Unexpected(ctx.Fail(got.error()));
      const auto& body = got->body;  // {"items": [...], "revision": N}
      return body.contains("items") && body["items"].is_array() ? body["items"]
                                                                : nlohmann::json::array();
    };
    auto networks = list("networks");
    if (!networks) return networks.error();
    auto subnets = list("subnets");
    if (!subnets) return subnets.error();
    auto endpoints = list("endpoints");
    if (!endpoints) return endpoints.error();
    auto policies = list("policies");
    if (!policies) return policies.error();

    nlohmann::json tree = {
        {"domain", *domain}, {"networks", nlohmann::json::array()}, {"policies", *policies}};
    std::map<std::string, std::string> names;  // network id -> name
    for (const auto& network : *networks) {
      nlohmann::json node = network;
      node["subnets"] = nlohmann::json::array();
      node["endpoints"] = nlohmann::json::array();
      const std::string network_id = StringField(network, "id");
      names[network_id] = StringField(network, "name");
      for (const auto& subnet : *subnets) {
        if (StringField(subnet, "network_id") == network_id) node["subnets"].push_back(subnet);
      }
      for (const auto& endpoint : *endpoints) {
        if (StringField(endpoint, "network_id") == network_id)
          node["endpoints"].push_back(endpoint);
      }
      tree["networks"].push_back(std::move(node));
    }
    if (ctx.json_output()) {
      ctx.PrintJson(tree);
      return 0;
    }
    auto& out = ctx.out();
    out << "domain " << StringField(*domain, "name") << " (id " << id << ")\n";
    const auto& all = tree["networks"];
    for (size_t n = 0; n < all.size(); ++n) {
      const auto& network = all[n];
      const bool last_network = n + 1 == all.size() && policies->empty();
      const std::string stem = last_network ? "    " : "|   ";
      out << (last_network ? "`-- " : "|-- ") << "network " << StringField(network, "name")
          << " (VNI " << NumberField(network, "vni") << ", id " << StringField(network, "id")
          << ")\n";
      std::vector<std::string> children;
      for (const auto& subnet : network["subnets"]) {
        std::string line = "subnet " + StringField(subnet, "cidr");
        if (!StringField(subnet, "gateway").empty()) {
          line += " gateway " + StringField(subnet, "gateway");
        }
        const std::string mtu = NumberField(subnet, "mtu");
        if (!mtu.empty() && mtu != "0") line += " mtu " + mtu;
        children.push_back(line);
      }
      for (const auto& endpoint : network["endpoints"]) {
        std::string line = "endpoint " + StringField(endpoint, "id") + " " +
                           StringField(endpoint, "mac") + " " + JoinedField(endpoint, "ips");
        const std::string switch_name = StringField(endpoint, "switch_name");
        line += switch_name.empty() ? " (on no switch)" : " on " + switch_name;
        if (!StringField(endpoint, "port_name").empty()) {
          line += " port " + StringField(endpoint, "port_name");
          if (StringField(endpoint, "port_kind") == "PORT_KIND_PACKET") line += " (packet)";
        }
        children.push_back(line);
      }
      for (size_t c = 0; c < children.size(); ++c) {
        out << stem << (c + 1 == children.size() ? "`-- " : "|-- ") << children[c] << "\n";
      }
    }
    for (size_t p = 0; p < policies->size(); ++p) {
      out << (p + 1 == policies->size() ? "`-- " : "|-- ") << "policy "
          << PolicyLine((*policies)[p], names) << "\n";
    }
    return 0;
  });
}

}  // namespace dove::cli
