// Fuzzes the controller's handling of switch messages beyond protobuf decoding: the checks of
// message_check.h and the Directory acting on a stream of messages from several switches.
//
// Input: records of [session byte][length byte][length bytes of a binary SwitchMessage].
// Session byte: low 2 bits pick one of four sessions; 0x80 disconnects that session first;
// 0x40 ticks the clock past the dead-after time. Bytes that do not decode as a SwitchMessage
// are protobuf's business and skipped.
//
// Checks (abort on violation): every output goes to a session that has spoken; a message that
// CheckSwitchMessage refuses from a greeted session gets exactly one Refusal, to that session,
// and closes nothing; a closed session is never sent anything by the same call after its close.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>

#include "controller/registry.h"
#include "controller/southbound/directory.h"
#include "controller/southbound/message_check.h"
#include "dove/v1/switch.pb.h"
#include "store/memory_store.h"

namespace {

using dove::controller::southbound::Clock;
using dove::controller::southbound::Directory;
using dove::controller::southbound::Output;
using dove::controller::southbound::SessionId;

void Require(bool condition) {
  if (!condition) std::abort();
}

void Populate(dove::controller::Registry& registry) {
  dove::v1::Domain domain;
  domain.set_id("d1");
  domain.set_name("acme");
  Require(registry.Create(domain).has_value());
  dove::v1::Network network;
  network.set_id("web");
  network.set_domain_id("d1");
  network.set_name("web");
  network.set_vni(100);
  Require(registry.Create(network).has_value());
  dove::v1::Subnet subnet;
  subnet.set_id("web4");
  subnet.set_network_id("web");
  subnet.set_cidr("10.0.0.0/24");
  Require(registry.Create(subnet).has_value());
  for (int i = 1; i <= 3; ++i) {
    dove::v1::Endpoint endpoint;
    endpoint.set_id("vm" + std::to_string(i));
    endpoint.set_network_id("web");
    endpoint.set_mac("52:54:00:00:00:0" + std::to_string(i));
    endpoint.add_ips("10.0.0.1" + std::to_string(i));
    Require(registry.Create(endpoint).has_value());
  }
}

// Performs the writes `out` asks for, as SwitchService does, and checks the answers.
void Settle(Directory& directory, dove::controller::Registry& registry, const Output& out,
            const std::set<SessionId>& spoken) {
  for (const auto& registration : out.registrations) {
    Require(spoken.count(registration.session) != 0);
    Output answered = directory.OnRegistered(
        registration, dove::controller::southbound::PerformRegistration(registry, registration),
        dove::controller::southbound::Clock::now());
    for (const auto& each : answered.messages) Require(spoken.count(each.session) != 0);
    Require(answered.registrations.empty() && answered.endpoint_writes.empty());
    Settle(directory, registry, answered, spoken);
  }
  for (const auto& write : out.endpoint_writes) {
    Require(spoken.count(write.session) != 0);
    Output answered = directory.OnEndpointWritten(
        write, dove::controller::southbound::PerformEndpointWrite(registry, write));
    for (const auto& each : answered.messages) Require(spoken.count(each.session) != 0);
    Require(answered.endpoint_writes.empty());
  }
  bool more = out.switch_writes;
  for (int round = 0; more; ++round) {
    Require(round < 8);  // each round follows a change of state: they do not go on forever
    more = false;
    for (const auto& write : directory.TakeSwitchWrites()) {
      Output answered = directory.OnSwitchWritten(
          write, dove::controller::southbound::PerformSwitchWrite(registry, nullptr, write));
      more = more || answered.switch_writes;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dove::store::MemoryStore store;
  auto registry = dove::controller::Registry::Open(&store);
  Require(registry.has_value());
  Populate(**registry);
  Directory directory(registry->get(), &store, {});
  auto now = Clock::now();
  std::set<SessionId> spoken;
  std::set<SessionId> greeted;

  size_t at = 0;
  while (at + 2 <= size) {
    const uint8_t selector = data[at];
    const size_t length = data[at + 1];
    at += 2;
    if (at + length > size) break;
    dove::v1::SwitchMessage message;
    const bool decoded = message.ParseFromArray(data + at, static_cast<int>(length));
    at += length;
    const SessionId session = 1 + (selector & 3);
    if ((selector & 0x80) != 0) {
      Settle(directory, **registry, directory.OnDisconnect(session), spoken);
      greeted.erase(session);
    }
    if ((selector & 0x40) != 0) {
      now += std::chrono::seconds(10);
      Output ticked = directory.OnTick(now);
      for (const auto& out : ticked.messages) Require(spoken.count(out.session) != 0);
      Settle(directory, **registry, ticked, spoken);
    }
    if (!decoded) continue;
    spoken.insert(session);
    const bool was_greeted = greeted.count(session) != 0;
    const auto violation = dove::controller::southbound::CheckSwitchMessage(message);
    Output out = directory.OnMessage(session, message, now);
    for (const auto& each : out.messages) Require(spoken.count(each.session) != 0);
    Settle(directory, **registry, out, spoken);
    if (was_greeted && violation && !message.has_hello()) {
      Require(out.closes.empty());
      Require(out.messages.size() == 1);
      Require(out.messages[0].session == session && out.messages[0].message.has_error());
    }
    bool closed_self = false;
    for (const auto& close : out.closes) {
      // The service ends a closed stream, and the directory then hears of it.
      Settle(directory, **registry, directory.OnDisconnect(close.session), spoken);
      greeted.erase(close.session);
      closed_self |= close.session == session;
    }
    if (message.has_hello() && !was_greeted && !closed_self) greeted.insert(session);
  }
  // Every session ends; nothing may be left cached by a session that is gone.
  for (SessionId session = 1; session <= 4; ++session) {
    Settle(directory, **registry, directory.OnDisconnect(session), spoken);
  }
  for (const char* id : {"vm1", "vm2", "vm3"}) Require(directory.CachersOf(id).empty());
  Require(directory.SessionCount() == 0);
  return 0;
}
