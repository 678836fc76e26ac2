#include "trace/model_trace.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "model/policy.h"
#include "net/ip_prefix.h"

namespace dove::trace {

namespace {

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// Whether `text` is the address `ip`.
bool IsIp(std::string_view text, const net::IpAddress& ip) {
  const auto parsed = net::IpAddress::Parse(text);
  return parsed && *parsed == ip;
}

std::string ProtocolName(uint8_t protocol) {
  switch (protocol) {
    case 0:
      return "any protocol";
    case 1:
      return "icmp";
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 58:
      return "icmpv6";
    default:
      return "protocol " + std::to_string(protocol);
  }
}

std::string ActionName(v1::Policy::Action action) {
  switch (action) {
    case v1::Policy::ACTION_ALLOW:
      return "allow";
    case v1::Policy::ACTION_DENY:
      return "deny";
    case v1::Policy::ACTION_REJECT:
      return "reject";
    default:
      return "unspecified";
  }
}

// "policy P (deny tcp 5432, priority 10)".
std::string RuleText(const v1::Policy& policy) {
  std::string text = "policy " + Quoted(policy.id()) + " (" + ActionName(policy.action()) + " " +
                     ProtocolName(static_cast<uint8_t>(policy.protocol()));
  if (policy.has_port_range()) {
    const auto& range = policy.port_range();
    text += " " + std::to_string(range.first());
    if (range.last() != range.first()) text += "-" + std::to_string(range.last());
  }
  return text + ", priority " + std::to_string(policy.priority()) + ")";
}

class Tracer {
 public:
  Tracer(const model::ModelView& view, const TraceContext& context, const v1::Endpoint& source,
         const PacketSpec& packet)
      : view_(view), context_(context), source_(source), packet_(packet) {
    result_.set_source(source.id());
    result_.set_packet(packet.Text());
  }

  v1::TraceResult Run() {
    network_ = view_.FindNetwork(source_.network_id());
    if (network_ == nullptr) {
      return Drop("source", "unknown_network",
                  "endpoint " + Quoted(source_.id()) + " names network " +
                      Quoted(source_.network_id()) + ", which does not exist");
    }
    if (!Source()) return Finish();
    if (!PortSecurity()) return Finish();
    if (packet_.kind == PacketSpec::Kind::kArp) {
      Responder(*packet_.ip);
    } else if (packet_.mac) {
      ToMac(*packet_.mac);
    } else {
      ToIp(*packet_.ip);
    }
    return Finish();
  }

 private:
  void Add(const std::string& stage, const std::string& verdict, const std::string& detail,
           const std::string& drop_reason = {}, const std::string& policy_id = {}) {
    v1::TraceStage* added = result_.add_stages();
    added->set_stage(stage);
    added->set_verdict(verdict);
    added->set_detail(detail);
    added->set_policy_id(policy_id);
    added->set_drop_reason(drop_reason);
  }
  v1::TraceResult Drop(const std::string& stage, const std::string& reason,
                       const std::string& detail) {
    Add(stage, "drop", detail, reason);
    result_.set_outcome("dropped");
    result_.set_drop_reason(reason);
    return result_;
  }
  void End(const std::string& outcome) { result_.set_outcome(outcome); }
  v1::TraceResult Finish() { return result_; }

  std::string NetworkText(const v1::Network& network) const {
    return "network " + Quoted(network.name()) + " (VNI " + std::to_string(network.vni()) + ")";
  }
  std::string SwitchText(const std::string& name, const std::optional<SwitchInfo>& info) const {
    if (!info) return "switch " + Quoted(name) + " (not registered)";
    return "switch " + Quoted(name) + " (tunnel IP " + info->tunnel_ip + ", " +
           (info->up ? "up" : "DOWN") + ")";
  }
  std::string PortText(const v1::Endpoint& endpoint) const {
    return endpoint.port_name().empty() ? "the port its switch names"
                                        : "port " + endpoint.port_name();
  }

  // The subnet of `network` that contains `ip`, or nullptr.
  const v1::Subnet* SubnetOf(const v1::Network& network, const net::IpAddress& ip) const {
    for (const v1::Subnet* subnet : view_.SubnetsOfNetwork(network.id())) {
      const auto prefix = net::IpPrefix::Parse(subnet->cidr());
      if (prefix && prefix->Contains(ip)) return subnet;
    }
    return nullptr;
  }
  // The subnet of any network of the source's domain that contains `ip` (the router's routes).
  const v1::Subnet* RouteOf(const net::IpAddress& ip) const {
    for (const v1::Network* network : view_.NetworksOfDomain(network_->domain_id())) {
      if (const v1::Subnet* subnet = SubnetOf(*network, ip)) return subnet;
    }
    return nullptr;
  }
  // A subnet of the domain whose gateway is `ip`, or nullptr.
  const v1::Subnet* GatewaySubnet(const net::IpAddress& ip) const {
    for (const v1::Network* network : view_.NetworksOfDomain(network_->domain_id())) {
      for (const v1::Subnet* subnet : view_.SubnetsOfNetwork(network->id())) {
        if (IsIp(subnet->gateway(), ip)) return subnet;
      }
    }
    return nullptr;
  }

  bool Source() {
    if (source_.switch_name().empty()) {
      Drop("source", "unknown_port",
           "endpoint " + Quoted(source_.id()) + " is on no switch: nothing sends for it");
      return false;
    }
    source_switch_ = context_.switches(source_.switch_name());
    const std::string detail = "endpoint " + Quoted(source_.id()) + " (" + source_.mac() + ") in " +
                               NetworkText(*network_) + " on " +
                               SwitchText(source_.switch_name(), source_switch_) + ", " +
                               PortText(source_);
    if (!source_switch_ || !source_switch_->up) {
      Add("source", "warn",
          detail + ": the controller does not see that switch up; the trace assumes it runs");
    } else {
      Add("source", "pass", detail);
    }
    return true;
  }

  bool PortSecurity() {
    const bool v6 = packet_.ip && packet_.ip->is_v6();
    for (const auto& text : source_.ips()) {
      const auto ip = net::IpAddress::Parse(text);
      if (ip && ip->is_v6() == v6) {
        source_ip_ = *ip;
        break;
      }
    }
    if (!source_ip_) {
      Drop("port_security", "source_ip_spoofed",
           "endpoint " + Quoted(source_.id()) + " has no " + (v6 ? "IPv6" : "IPv4") +
               " address: whatever it sends from one is dropped");
      return false;
    }
    Add("port_security", "pass",
        "from the endpoint's own MAC " + source_.mac() + " and IP " + source_ip_->ToString());
    return true;
  }

  // An ARP request / Neighbor Solicitation for `ip`, sent by the source.
  void Responder(const net::IpAddress& ip) {
    const bool v6 = ip.is_v6();
    const std::string what = v6 ? "a Neighbor Solicitation" : "an ARP request";
    const std::string kind = v6 ? "nd" : "arp";
    for (const auto& own : source_.ips()) {
      if (IsIp(own, ip)) {
        Drop("responder", kind + "_for_own_address",
             what +
                 " for the endpoint's own address is not answered (it would tell the VM its "
                 "address is taken)");
        return;
      }
    }
    if (const v1::Subnet* subnet = SubnetOf(*network_, ip);
        subnet != nullptr && IsIp(subnet->gateway(), ip)) {
      Add("responder", "answer",
          what + " for " + ip.ToString() + ", the gateway of subnet " + subnet->cidr() +
              ": answered by the switch with the router MAC " + context_.router_mac +
              " (the distributed router); it never crosses the underlay");
      End("answered");
      return;
    }
    const auto holder = view_.FindEndpointByIp(network_->domain_id(), ip);
    if (!holder || holder->network_id() != network_->id()) {
      Add("responder", "miss",
          what + " for " + ip.ToString() + ": the switch asks the controller, which knows no " +
              "endpoint of " + NetworkText(*network_) + " with it");
      Drop("responder", "resolve_failed",
           what + " nobody in the network can answer is dropped once the controller said so " +
               "(never flooded)");
      return;
    }
    Add("responder", "answer",
        what + " for " + ip.ToString() + ": answered by the switch with " + holder->mac() +
            " of endpoint " + Quoted(holder->id()) +
            " (from its cache, or once the controller told it); it never crosses the underlay");
    End("answered");
  }

  void ToIp(const net::IpAddress& ip) {
    for (const auto& own : source_.ips()) {
      if (IsIp(own, ip)) {
        Add("source", "answer", "to the endpoint's own address: its own stack takes it");
        End("answered");
        return;
      }
    }
    const v1::Subnet* subnet = SubnetOf(*network_, *source_ip_);
    if (subnet != nullptr) {
      const auto prefix = net::IpPrefix::Parse(subnet->cidr());
      if (prefix && prefix->Contains(ip) && !IsIp(subnet->gateway(), ip)) {
        OnLink(ip, *subnet);
        return;
      }
    }
    Routed(ip, subnet);
  }

  // To an address of the source's own subnet: resolved, then switched.
  void OnLink(const net::IpAddress& ip, const v1::Subnet& subnet) {
    const auto destination = view_.FindEndpointByIp(network_->domain_id(), ip);
    const std::string what = ip.is_v6() ? "Neighbor Solicitation" : "ARP request";
    if (!destination || destination->network_id() != network_->id()) {
      Add("responder", "miss",
          "the VM resolves " + ip.ToString() + " (in its subnet " + subnet.cidr() +
              "): the switch asks the controller, which knows no endpoint with it");
      Drop("responder", "resolve_failed",
           "the " + what + " is dropped once the controller said so: nothing is sent to " +
               ip.ToString());
      return;
    }
    Add("responder", "answer",
        "the VM resolves " + ip.ToString() + " (on-link, subnet " + subnet.cidr() +
            "): the switch answers " + destination->mac());
    Add("policy", "pass", "inside one network: always allowed");
    Forward(*destination, *network_, /*routed=*/false);
  }

  // To anywhere else: through the subnet's gateway, the distributed router.
  void Routed(const net::IpAddress& ip, const v1::Subnet* subnet) {
    std::optional<net::IpAddress> gateway;
    if (subnet != nullptr) {
      if (auto parsed = net::IpAddress::Parse(subnet->gateway())) gateway = *parsed;
    }
    if (subnet == nullptr || !gateway) {
      Drop("router", "route_none",
           ip.ToString() + " is outside the endpoint's subnet" +
               (subnet == nullptr ? "" : " " + subnet->cidr()) +
               ", which has no gateway: the VM has no route to it");
      return;
    }
    Add("responder", "answer",
        "the VM sends to its gateway " + gateway->ToString() + ": the switch answers its " +
            (ip.is_v6() ? "Neighbor Solicitation" : "ARP request") + " with the router MAC " +
            context_.router_mac);
    if (const v1::Subnet* of = GatewaySubnet(ip)) {
      if (packet_.kind == PacketSpec::Kind::kIcmp) {
        Add("router", "answer",
            "an echo request to " + ip.ToString() + ", the gateway of subnet " + of->cidr() +
                ": the switch's router answers it (router.echo_replies)");
        End("answered");
      } else {
        Drop("router", "router_to_gateway",
             ip.ToString() + " is a gateway address: the router answers pings only");
      }
      return;
    }
    const v1::Subnet* route = RouteOf(ip);
    if (route == nullptr) {
      Drop("router", "route_none",
           "no subnet of the domain contains " + ip.ToString() +
               ": ICMP destination unreachable (no route) from " + gateway->ToString());
      return;
    }
    const v1::Network* destination_network = view_.FindNetwork(route->network_id());
    if (destination_network == nullptr) {
      Drop("router", "route_none", "subnet " + route->cidr() + " names no existing network");
      return;
    }
    Add("router", "pass",
        "routed from " + NetworkText(*network_) + " to " + NetworkText(*destination_network) +
            " (route " + route->cidr() + "): TTL decremented, source MAC := the router MAC");
    if (!Policy(*destination_network)) return;
    const auto destination = view_.FindEndpointByIp(network_->domain_id(), ip);
    if (!destination || destination->network_id() != destination_network->id()) {
      Add("l2_lookup", "miss",
          "the switch asks the controller for " + ip.ToString() + " in " +
              NetworkText(*destination_network) + ": no endpoint has it");
      Drop("l2_lookup", "route_host_unknown",
           "ICMP destination unreachable (host unreachable) from " + gateway->ToString());
      return;
    }
    Forward(*destination, *destination_network, /*routed=*/true);
  }

  bool Policy(const v1::Network& destination) {
    const auto decision =
        model::Decide(view_, network_->id(), destination.id(), packet_.protocol(), packet_.port);
    const std::string between = "from " + NetworkText(*network_) + " to " +
                                NetworkText(destination) + ", " + ProtocolName(packet_.protocol()) +
                                (packet_.port != 0 ? " port " + std::to_string(packet_.port) : "");
    if (decision.same_network) {
      Add("policy", "pass", "inside one network: always allowed");
      return true;
    }
    if (decision.allowed) {
      Add("policy", "pass", between + ": allowed by " + RuleText(*decision.rule), {},
          decision.rule->id());
      return true;
    }
    if (decision.rule == nullptr) {
      Drop("policy", "policy_default_deny", between + ": no policy matches, denied by default");
      return false;
    }
    const bool reject = decision.rule->action() == v1::Policy::ACTION_REJECT;
    Add("policy", "drop",
        between + ": denied by " + RuleText(*decision.rule) +
            (reject ? "; the sender gets ICMP administratively prohibited" : ""),
        "policy_denied", decision.rule->id());
    result_.set_outcome("dropped");
    result_.set_drop_reason("policy_denied");
    return false;
  }

  // To `destination`, an endpoint of `network` (the packet's VNI from here on).
  void Forward(const v1::Endpoint& destination, const v1::Network& network, bool routed) {
    if (destination.id() == source_.id()) {
      Drop("l2_lookup", "hairpin", "back to the port it came from");
      return;
    }
    if (destination.switch_name().empty()) {
      Drop("l2_lookup", routed ? "route_host_unknown" : "resolve_failed",
           "endpoint " + Quoted(destination.id()) + " is on no switch");
      return;
    }
    if (destination.switch_name() == source_.switch_name()) {
      Add("l2_lookup", "pass",
          "endpoint " + Quoted(destination.id()) + " (" + destination.mac() +
              ") is on the same switch: no encapsulation");
      Deliver(destination);
      return;
    }
    const auto info = context_.switches(destination.switch_name());
    if (!info) {
      Drop("l2_lookup", "resolve_failed",
           "endpoint " + Quoted(destination.id()) + " is on switch " +
               Quoted(destination.switch_name()) + ", which is not registered: no tunnel IP");
      return;
    }
    Add("l2_lookup", info->up ? "pass" : "warn",
        "endpoint " + Quoted(destination.id()) + " (" + destination.mac() + ") is on " +
            SwitchText(destination.switch_name(), info) +
            (info->up ? "" : ": its switch may not be running"));
    Add("encapsulation", "pass",
        "VXLAN VNI " + std::to_string(network.vni()) + " (" + Quoted(network.name()) + "), from " +
            (source_switch_ ? source_switch_->tunnel_ip : std::string("?")) + " to " +
            info->tunnel_ip + " UDP 4789");
    result_.mutable_stages()->rbegin()->set_tunnel_ip(info->tunnel_ip);
    if (routed) {
      Add("receiving_switch", "pass",
          "a routed frame (inner source MAC = the router MAC) from a switch of the domain: "
          "accepted; the policy is checked again there, with the same rules");
    } else if (!source_switch_ || !source_switch_->up) {
      Add("receiving_switch", "warn",
          "the sending switch is not up in the controller's view, so it may be missing from " +
              NetworkText(network) + "'s flood list there (vtep_not_allowed)");
    } else {
      Add("receiving_switch", "pass",
          "from a VTEP in " + NetworkText(network) +
              "'s flood list (the sending switch has a port in it): accepted");
    }
    Deliver(destination);
  }

  void Deliver(const v1::Endpoint& destination) {
    Add("delivery", "deliver",
        "to " + PortText(destination) + " of endpoint " + Quoted(destination.id()));
    result_.add_reached(destination.id());
    End("delivered");
  }

  void ToMac(const net::MacAddress& mac) {
    if (mac.IsMulticast()) {
      Flood(mac);
      return;
    }
    const auto destination = view_.FindEndpointByMac(network_->id(), mac);
    if (!destination) {
      Add("l2_lookup", "miss",
          "no endpoint of " + NetworkText(*network_) + " has MAC " + mac.ToString() +
              ": the frame is parked and the switch asks the controller, which knows none");
      Drop("l2_lookup", "resolve_failed", "the parked frame is dropped");
      return;
    }
    Add("policy", "pass", "inside one network: always allowed");
    Forward(*destination, *network_, /*routed=*/false);
  }

  // Head-end replication to every other port of the network: the local ones, and one copy per
  // switch of the network's flood list (UP switches with ports in it).
  void Flood(const net::MacAddress& mac) {
    std::vector<std::string> local;
    std::map<std::string, std::vector<std::string>> remote;  // switch -> endpoints
    std::vector<std::string> unreachable;
    for (const auto& endpoint : view_.EndpointsOfNetwork(network_->id())) {
      if (endpoint.id() == source_.id() || endpoint.switch_name().empty()) continue;
      if (endpoint.switch_name() == source_.switch_name()) {
        local.push_back(endpoint.id());
        continue;
      }
      const auto info = context_.switches(endpoint.switch_name());
      if (info && info->up) {
        remote[endpoint.switch_name()].push_back(endpoint.id());
      } else {
        unreachable.push_back(endpoint.id());
      }
    }
    if (local.empty() && remote.empty()) {
      Drop("l2_lookup", "flood_no_destination",
           "a " + std::string(mac.IsBroadcast() ? "broadcast" : "multicast") +
               " with no other port in " + NetworkText(*network_));
      return;
    }
    std::string vteps;
    for (const auto& [name, endpoints] : remote) {
      vteps += (vteps.empty() ? "" : ", ") + context_.switches(name)->tunnel_ip;
    }
    Add("l2_lookup", "flood",
        std::string(mac.IsBroadcast() ? "broadcast" : "multicast") + " to " + mac.ToString() +
            ": a copy to each of " + std::to_string(local.size()) + " other local port(s) and to " +
            std::to_string(remote.size()) + " switch(es) of the flood list" +
            (vteps.empty() ? "" : " (" + vteps + ")"));
    if (!remote.empty()) {
      Add("encapsulation", "pass",
          "VXLAN VNI " + std::to_string(network_->vni()) + " to " + vteps + " UDP 4789");
      Add("receiving_switch", "pass",
          "each delivers it to its own ports of " + NetworkText(*network_));
    }
    std::vector<std::string> reached = local;
    for (const auto& [name, endpoints] : remote) {
      reached.insert(reached.end(), endpoints.begin(), endpoints.end());
    }
    std::sort(reached.begin(), reached.end());
    for (const auto& id : reached) result_.add_reached(id);
    if (!unreachable.empty()) {
      Add("delivery", "warn",
          std::to_string(unreachable.size()) +
              " endpoint(s) on switches that are down or unregistered get no copy");
    }
    Add("delivery", "flood",
        "to " + std::to_string(reached.size()) + " endpoint(s) of " + NetworkText(*network_));
    End("flooded");
  }

  const model::ModelView& view_;
  const TraceContext& context_;
  const v1::Endpoint& source_;
  const PacketSpec& packet_;
  const v1::Network* network_ = nullptr;
  std::optional<SwitchInfo> source_switch_;
  std::optional<net::IpAddress> source_ip_;
  v1::TraceResult result_;
};

}  // namespace

v1::TraceResult TraceFromModel(const model::ModelView& view, const TraceContext& context,
                               const v1::Endpoint& source, const PacketSpec& packet) {
  return Tracer(view, context, source, packet).Run();
}

}  // namespace dove::trace
