// Directory: the southbound core. Which switches are connected, which switch cached which
// endpoint, who floods to whom; for each input (a switch's message, a store change, a clock
// tick) the ControllerMessages to send and to which session. No gRPC, no threads, no I/O of
// its own: the registry is the only thing it reads and writes (switch_service.h drives it).
//
// Sessions: one per switch stream, identified by a SessionId the caller chooses (unique per
// stream). Hello binds the session to a switch name (registering the switch when unknown,
// state UP); nothing else is accepted before it (the output closes the session with
// FAILED_PRECONDITION). A tunnel IP held by another live session is refused (conflict) and the
// session closed with ALREADY_EXISTS.
//
// Caches: a FOUND resolve records that the session cached the endpoint. When the endpoint
// changes (an Attach/Detach through here, or any store change that reaches OnStoreEvents)
// those sessions get a LocationUpdate (Invalidate when it is deleted); when it moved to another
// switch, the session of the switch it left gets EndpointMoved. Every message carries the
// store revision of the change it reflects. A change is reported once: the store event of a
// change already reported by Attach/Detach (same endpoint version) is ignored.
//
// Errors: refusals are messages (Refusal, ResolveReply NOT_FOUND/DENIED) to the asking session
// only; protocol violations are Output::close. A registry failure is a Refusal with its code.
//
// Threading: not thread-safe; the caller serialises every call (one mutex). `registry` must
// outlive the Directory.
//
//   Directory directory(registry, {.controller_id = "c1"});
//   auto out = directory.OnHello(1, hello, now);   // Welcome, NetworkConfig..., SyncDone
//   for (auto& [session, message] : out.messages) Send(session, message);
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controller/registry.h"
#include "dove/v1/switch.pb.h"
#include "store/store.h"

namespace dove::directory {

using SessionId = uint64_t;
using Clock = std::chrono::steady_clock;

struct DirectoryOptions {
  std::string controller_id = "dove-controller";
  std::chrono::milliseconds heartbeat_interval{1000};
  std::chrono::milliseconds dead_after{3000};
};

// One message for one session.
struct Outbound {
  SessionId session = 0;
  v1::ControllerMessage message;
};

// The stream of `session` must end with this status (after the messages before it are sent).
// `code` is a grpc::StatusCode value (kept as int so this header needs no gRPC).
struct Close {
  SessionId session = 0;
  int code = 0;
  std::string message;
};

struct Output {
  std::vector<Outbound> messages;
  std::vector<Close> closes;
};

class Directory {
 public:
  Directory(controller::Registry* registry, DirectoryOptions options);

  // Every SwitchMessage of a session, in order.
  Output OnMessage(SessionId session, const v1::SwitchMessage& message, Clock::time_point now);
  // The stream ended (either side). Forgets the session and what it cached.
  void OnDisconnect(SessionId session);
  // Changes of the store under "/dove/v1/", in revision order.
  Output OnStoreEvents(const std::vector<store::Event>& events);
  // Marks DOWN (in the registry) the switches whose last heartbeat is older than dead_after;
  // their endpoints stay where they are, and the switches that cached one get a LocationUpdate
  // with switch_down set. A heartbeat (or a new Hello) brings the switch back UP, and tells
  // them again.
  Output OnTick(Clock::time_point now);

  // For tests and metrics.
  bool IsLive(const std::string& switch_name) const;
  std::set<SessionId> CachersOf(const std::string& endpoint_id) const;

 private:
  struct Session {
    std::string switch_name;  // empty until Hello
    std::string tunnel_ip;
    bool live = false;
    Clock::time_point last_heartbeat;
    std::set<std::string> networks;  // network ids whose NetworkConfig it was sent
  };

  Output OnHello(SessionId id, Session& session, const v1::Hello& hello, Clock::time_point now);
  Output OnAttach(SessionId id, const Session& session, const v1::Attach& attach);
  Output OnDetach(SessionId id, const Session& session, const v1::Detach& detach);
  Output OnResolveMac(SessionId id, const v1::ResolveMac& resolve);
  Output OnResolveIp(SessionId id, const v1::ResolveIp& resolve);
  // Fan-out of one endpoint's new state (put) at `revision`.
  void EndpointChanged(const v1::Endpoint& endpoint, int64_t revision, Output& out);
  void EndpointDeleted(const std::string& endpoint_id, int64_t revision, Output& out);
  v1::Location LocationOf(const v1::Endpoint& endpoint) const;
  std::optional<v1::Network> NetworkByVni(uint32_t vni) const;
  std::optional<v1::NetworkConfig> ConfigOf(const std::string& network_id,
                                            const std::string& switch_name) const;
  std::vector<std::string> FloodTunnelIps(const std::string& network_id,
                                          const std::string& except_switch) const;
  // A LocationUpdate (switch_down as stored) to the cachers of every endpoint on the switch.
  void TellCachersOfSwitch(const std::string& switch_name, Output& out);
  void SendFloodLists(const std::string& network_id, int64_t revision, Output& out);
  std::optional<SessionId> SessionOf(const std::string& switch_name) const;
  static v1::ControllerMessage Refuse(int64_t revision, std::string code, std::string message,
                                      uint64_t query_id, std::string endpoint_id);

  controller::Registry* registry_;
  DirectoryOptions options_;
  std::map<SessionId, Session> sessions_;
  std::map<std::string, std::set<SessionId>> cachers_;  // endpoint id -> sessions
  std::map<std::string, v1::Endpoint> known_;           // endpoint id -> as last reported
};

}  // namespace dove::directory
