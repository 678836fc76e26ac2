// CheckSwitchMessage: what the controller checks in a SwitchMessage beyond protobuf decoding,
// before the Directory acts on it. Pure function, thread-safe.
//
// Rules (a violation names the field and says what is wrong, in one sentence):
//   hello      switch_name follows the model's name rules; tunnel_ip is a unicast address, not
//              0.0.0.0/::, multicast or broadcast; software_version at most 256 bytes;
//              last_revision >= 0; at most
//              kMaxCachedEndpoints cached ids, each 1..64 bytes; protocol_version 0 or 1.
//   attach     endpoint_id 1..64 bytes; port_name at most 15 bytes (the kernel's IFNAMSIZ - 1)
//              of [A-Za-z0-9_.-].
//   detach     endpoint_id 1..64 bytes.
//   resolve_*  a MAC / an IP address that parses; query_id is free.
//   stats      at most kMaxCounters counters, names [a-z0-9_]{1,64}.
//   batch      at most kMaxBatchMessages messages, none a hello or a batch; the messages in it
//              are checked one by one as they are handled (Directory::OnMessage), so a bad one
//              is refused alone and the others are handled.
//   no body    refused.
// Canonical spelling is not required (the Directory canonicalises MACs and IPs).
//
//   if (auto violation = CheckSwitchMessage(message)) Refuse(violation->message);
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "dove/v1/switch.pb.h"

namespace dove::controller::southbound {

inline constexpr size_t kMaxCachedEndpoints = 50000;
inline constexpr size_t kMaxCounters = 256;
inline constexpr size_t kMaxBatchMessages = 1000;
inline constexpr uint32_t kProtocolVersion = 1;

struct Violation {
  std::string code;     // invalid_value, or failed_precondition for an unsupported protocol
  std::string message;  // one sentence naming the field
};

std::optional<Violation> CheckSwitchMessage(const v1::SwitchMessage& message);

}  // namespace dove::controller::southbound
