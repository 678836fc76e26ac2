#include "controller/southbound/message_check.h"

#include <string>
#include <string_view>
#include <utility>

#include "model/validation.h"
#include "net/ip_address.h"
#include "net/mac_address.h"

namespace dove::controller::southbound {
namespace {

constexpr size_t kMaxIdBytes = 64;
constexpr size_t kMaxPortNameBytes = 15;
constexpr size_t kMaxCounterNameBytes = 64;
constexpr size_t kMaxSoftwareVersionBytes = 256;

Violation Invalid(std::string message) { return {"invalid_value", std::move(message)}; }

std::optional<Violation> CheckId(std::string_view field, const std::string& id) {
  if (id.empty() || id.size() > kMaxIdBytes) {
    return Invalid(std::string(field) + " must be 1 to 64 bytes long");
  }
  return std::nullopt;
}

bool PortNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

bool CounterNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

std::optional<Violation> CheckHello(const v1::Hello& hello) {
  if (auto ok = model::ValidateName("switch_name", hello.switch_name()); !ok) {
    return Invalid("hello." + ok.error().message);
  }
  auto ip = net::IpAddress::Parse(hello.tunnel_ip());
  if (!ip) return Invalid("hello.tunnel_ip is not an IP address");
  const bool multicast = ip->is_v4() ? ip->v4().IsMulticast() : ip->v6().IsMulticast();
  if (ip->IsUnspecified() || multicast || (ip->is_v4() && ip->v4().IsBroadcast())) {
    return Invalid("hello.tunnel_ip must be a unicast address");
  }
  if (hello.software_version().size() > kMaxSoftwareVersionBytes) {
    return Invalid("hello.software_version is longer than 256 bytes");
  }
  if (hello.last_revision() < 0) return Invalid("hello.last_revision must not be negative");
  if (static_cast<size_t>(hello.cached_endpoint_ids_size()) > kMaxCachedEndpoints) {
    return Invalid("hello.cached_endpoint_ids holds more than 50000 ids");
  }
  for (const auto& id : hello.cached_endpoint_ids()) {
    if (auto bad = CheckId("hello.cached_endpoint_ids[]", id)) return bad;
  }
  if (hello.protocol_version() > kProtocolVersion) {
    return Violation{"failed_precondition", "hello.protocol_version " +
                                                std::to_string(hello.protocol_version()) +
                                                " is not supported (this controller speaks 1)"};
  }
  return std::nullopt;
}

std::optional<Violation> CheckPortName(const std::string& name) {
  if (name.size() > kMaxPortNameBytes) return Invalid("attach.port_name is longer than 15 bytes");
  for (char c : name) {
    if (!PortNameChar(c)) return Invalid("attach.port_name may hold only A-Z a-z 0-9 _ . -");
  }
  return std::nullopt;
}

std::optional<Violation> CheckStats(const v1::StatsSummary& stats) {
  if (static_cast<size_t>(stats.counters_size()) > kMaxCounters) {
    return Invalid("stats.counters holds more than 256 counters");
  }
  for (const auto& [name, value] : stats.counters()) {
    (void)value;
    if (name.empty() || name.size() > kMaxCounterNameBytes) {
      return Invalid("stats.counters names must be 1 to 64 bytes long");
    }
    for (char c : name) {
      if (!CounterNameChar(c)) return Invalid("stats.counters names may hold only a-z 0-9 _");
    }
  }
  return std::nullopt;
}

// The batch's own rules; each message in it is checked when it is handled, as if alone.
std::optional<Violation> CheckBatch(const v1::SwitchBatch& batch) {
  if (static_cast<size_t>(batch.messages_size()) > kMaxBatchMessages) {
    return Invalid("batch.messages holds " + std::to_string(batch.messages_size()) +
                   " messages; at most " + std::to_string(kMaxBatchMessages));
  }
  for (int i = 0; i < batch.messages_size(); ++i) {
    const auto body = batch.messages(i).body_case();
    if (body == v1::SwitchMessage::kHello || body == v1::SwitchMessage::kBatch) {
      return Invalid("batch.messages[" + std::to_string(i) + "] is a " +
                     (body == v1::SwitchMessage::kHello ? "hello" : "batch") +
                     ", which a batch may not hold");
    }
  }
  return std::nullopt;
}

std::optional<Violation> CheckTraceReport(const v1::TraceReport& report) {
  constexpr int kMaxStages = 256;  // the switch's own bound (userspace/trace_recorder.h)
  constexpr size_t kMaxText = 1024;
  if (report.trace_id() == 0) return Invalid("trace_report.trace_id is 0");
  if (report.stages_size() > kMaxStages) {
    return Invalid("trace_report has more than " + std::to_string(kMaxStages) + " stages");
  }
  if (report.error().size() > kMaxText) return Invalid("trace_report.error is too long");
  for (const auto& stage : report.stages()) {
    if (stage.stage().size() > 64 || stage.verdict().size() > 64 ||
        stage.drop_reason().size() > 64 || stage.detail().size() > kMaxText ||
        stage.policy_id().size() > kMaxText || stage.endpoint_ids_size() > 16) {
      return Invalid("trace_report has a stage with a field over its size");
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<Violation> CheckSwitchMessage(const v1::SwitchMessage& message) {
  switch (message.body_case()) {
    case v1::SwitchMessage::kHello:
      return CheckHello(message.hello());
    case v1::SwitchMessage::kHeartbeat:
      return std::nullopt;
    case v1::SwitchMessage::kAttach:
      if (auto bad = CheckId("attach.endpoint_id", message.attach().endpoint_id())) return bad;
      return CheckPortName(message.attach().port_name());
    case v1::SwitchMessage::kDetach:
      return CheckId("detach.endpoint_id", message.detach().endpoint_id());
    case v1::SwitchMessage::kResolveMac:
      if (!net::MacAddress::Parse(message.resolve_mac().mac())) {
        return Invalid("resolve_mac.mac is not a MAC address");
      }
      return std::nullopt;
    case v1::SwitchMessage::kResolveIp:
      if (!net::IpAddress::Parse(message.resolve_ip().ip())) {
        return Invalid("resolve_ip.ip is not an IP address");
      }
      return std::nullopt;
    case v1::SwitchMessage::kStats:
      return CheckStats(message.stats());
    case v1::SwitchMessage::kBatch:
      return CheckBatch(message.batch());
    case v1::SwitchMessage::kTraceReport:
      return CheckTraceReport(message.trace_report());
    case v1::SwitchMessage::BODY_NOT_SET:
      break;
  }
  return Invalid("a message with no body");
}

}  // namespace dove::controller::southbound
