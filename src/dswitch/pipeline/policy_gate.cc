#include "dswitch/pipeline/policy_gate.h"

#include <string>

#include "net/byte_order.h"
#include "net/ethernet.h"
#include "net/icmpv4.h"
#include "net/icmpv6.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/ipv6.h"

namespace dove::dswitch::pipeline {
namespace {

uint16_t Load16(net::ByteSpan bytes, size_t at) {
  return static_cast<uint16_t>(bytes[at] << 8 | bytes[at + 1]);
}

bool IsIcmpv4Error(uint8_t type) {
  return type == net::icmpv4::kDestinationUnreachable || type == net::icmpv4::kTimeExceeded ||
         type == 4 /* source quench */ || type == 5 /* redirect */ || type == 12 /* parameter */;
}

// The ports of a quoted L4 header `l4` of `protocol` (TCP/UDP ports, the echo identifier in
// both for an echo): false when the quote is too short or has none.
bool QuotedPorts(uint8_t protocol, net::ByteSpan l4, IpFields& ip) {
  if (protocol == net::ip_proto::kTcp || protocol == net::ip_proto::kUdp) {
    if (l4.size() < 4) return false;
    ip.quoted_source_port = Load16(l4, 0);
    ip.quoted_destination_port = Load16(l4, 2);
    return true;
  }
  const bool echo =
      protocol == net::ip_proto::kIcmp
          ? l4.size() >= 6 &&
                (l4[0] == net::icmpv4::kEchoRequest || l4[0] == net::icmpv4::kEchoReply)
          : protocol == net::ip_proto::kIcmpv6 && l4.size() >= 6 &&
                (l4[0] == net::icmpv6::kEchoRequest || l4[0] == net::icmpv6::kEchoReply);
  if (!echo) return false;
  ip.quoted_source_port = ip.quoted_destination_port = Load16(l4, 4);
  return true;
}

// Reads the packet an ICMP error quotes (`quote`: what follows the 8-byte ICMP header).
void ReadQuoted(bool v6, net::ByteSpan quote, IpFields& ip) {
  if (!v6) {
    if (quote.size() < 20 || (quote[0] >> 4) != 4) return;
    const size_t header = size_t{quote[0] & 0x0fU} * 4;
    if (header < 20 || quote.size() < header) return;
    const auto quoted = net::LoadHeader<net::Ipv4Header>(quote);
    if (!quoted) return;
    ip.quoted_source = quoted->source;
    ip.quoted_destination = quoted->destination;
    ip.quoted_protocol = quoted->protocol;
    ip.has_quoted = QuotedPorts(quoted->protocol, quote.subspan(header), ip);
    return;
  }
  const auto quoted = net::LoadHeader<net::Ipv6Header>(quote);
  if (!quoted || quoted->version() != 6) return;
  ip.quoted_source = quoted->source;
  ip.quoted_destination = quoted->destination;
  ip.quoted_protocol = quoted->next_header;  // extension headers: not followed
  ip.has_quoted = QuotedPorts(quoted->next_header, quote.subspan(sizeof(net::Ipv6Header)), ip);
}

}  // namespace

std::optional<IpFields> ReadIpFields(const Packet& packet) {
  const packet::PacketMeta& meta = packet.meta;
  if (!meta.parsed || meta.l3_offset == 0 || meta.l3_offset >= packet.size()) return std::nullopt;
  const net::ByteSpan l3 = packet.span().subspan(meta.l3_offset);
  IpFields ip;
  if (meta.ether_type == net::ether_type::kIpv4) {
    const auto header = net::LoadHeader<net::Ipv4Header>(l3);
    if (!header) return std::nullopt;
    ip.source = header->source;
    ip.destination = header->destination;
    ip.ttl = header->ttl;
  } else if (meta.ether_type == net::ether_type::kIpv6) {
    const auto header = net::LoadHeader<net::Ipv6Header>(l3);
    if (!header) return std::nullopt;
    ip.v6 = true;
    ip.source = header->source;
    ip.destination = header->destination;
    ip.ttl = header->hop_limit;
  } else {
    return std::nullopt;
  }
  ip.protocol = meta.ip_proto;
  if (meta.l4_offset == 0 || meta.l4_offset + 8U > packet.size()) return ip;
  const net::ByteSpan l4 = packet.span().subspan(meta.l4_offset);
  switch (meta.ip_proto) {
    case net::ip_proto::kTcp:
    case net::ip_proto::kUdp:
      ip.has_ports = true;
      ip.source_port = Load16(l4, 0);
      ip.destination_port = Load16(l4, 2);
      break;
    case net::ip_proto::kIcmp:
    case net::ip_proto::kIcmpv6: {
      const uint8_t type = l4[0];
      const bool echo = meta.ip_proto == net::ip_proto::kIcmp
                            ? type == net::icmpv4::kEchoRequest || type == net::icmpv4::kEchoReply
                            : type == net::icmpv6::kEchoRequest || type == net::icmpv6::kEchoReply;
      if (echo) {
        // The identifier in both: a request's key reversed is its reply's.
        ip.source_port = ip.destination_port = Load16(l4, 4);
      } else if (meta.ip_proto == net::ip_proto::kIcmp ? IsIcmpv4Error(type)
                                                       : type < net::icmpv6::kEchoRequest) {
        ReadQuoted(ip.v6, l4.subspan(8), ip);
      }
      break;
    }
    default:
      break;
  }
  return ip;
}

void PolicyGate::Sync() {
  if (tables_.policy_generation() == generation_) return;
  generation_ = tables_.policy_generation();
  flows_.Flush();
}

PolicyGate::Decision PolicyGate::Check(const PolicyTable& rules, uint32_t source_vni,
                                       uint32_t destination_vni, const IpFields& ip) {
  const bool tcp_or_udp =
      ip.has_ports && (ip.protocol == net::ip_proto::kTcp || ip.protocol == net::ip_proto::kUdp);
  const PolicyVerdict verdict =
      rules.Evaluate(source_vni, destination_vni, ip.protocol, tcp_or_udp, ip.destination_port);
  const FlowKey key{source_vni,  destination_vni, ip.source,          ip.destination,
                    ip.protocol, ip.source_port,  ip.destination_port};
  if (verdict.allowed()) {
    if (flows_.Remember(key, now_) == ReturnFlows::Remembered::kFull) {
      counters_.router().return_flows_full++;
    }
    return {.rule = verdict.rule};
  }
  if (flows_.IsReply(key, now_)) {
    counters_.router().return_flow_passed++;
    return {.return_flow = true};
  }
  if (ip.has_quoted && ip.quoted_source == ip.destination) {
    // An error about a packet that went the other way: the flow of that packet remembered.
    const FlowKey quoted{destination_vni,           source_vni,         ip.quoted_source,
                         ip.quoted_destination,     ip.quoted_protocol, ip.quoted_source_port,
                         ip.quoted_destination_port};
    if (flows_.IsReply(quoted.Reversed(), now_)) {
      counters_.router().return_flow_passed++;
      return {.return_flow = true};
    }
  }
  if (verdict.rule == nullptr) {
    return {.pass = false, .drop = DropReason::kPolicyDefaultDeny};
  }
  counters_.PolicyDenied(verdict.rule->id);
  return {.pass = false,
          .reject = verdict.action == PolicyRule::Action::kReject,
          .drop = DropReason::kPolicyDenied,
          .rule = verdict.rule};
}

TraceNote PolicyGate::Note(const Decision& decision, uint32_t source_vni,
                           uint32_t destination_vni) {
  const std::string between =
      "from VNI " + std::to_string(source_vni) + " to VNI " + std::to_string(destination_vni);
  TraceNote note{.stage = "policy", .verdict = decision.pass ? "pass" : "drop"};
  if (decision.rule != nullptr) note.policy_id = decision.rule->id;
  if (decision.return_flow) {
    note.detail = between + ": no rule allows it, but it is the reply of a flow one allowed";
  } else if (decision.pass) {
    note.detail =
        between + (decision.rule != nullptr ? ": allowed by policy \"" + decision.rule->id + "\""
                                            : ": inside one network, allowed");
  } else if (decision.rule != nullptr) {
    note.detail = between + ": " + (decision.reject ? "rejected" : "denied") + " by policy \"" +
                  decision.rule->id + "\"" +
                  (decision.reject ? " (ICMP administratively prohibited to the sender)" : "");
  } else {
    note.detail = between + ": no rule allows it (default deny)";
  }
  note.drop = decision.drop;
  return note;
}

}  // namespace dove::dswitch::pipeline
