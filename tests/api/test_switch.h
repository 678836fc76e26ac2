// TestSwitch: one simulated switch for the api tests, a raw SwitchService.Connect stream on
// its own channel, read synchronously (every read bounded by the stream's 10 s deadline).
// Not thread-safe: one test thread drives it.
//
//   TestSwitch a(controller.southbound_port());
//   ASSERT_TRUE(a.Hello("host-a", "192.0.2.1"));
//   auto reply = a.ResolveMac(1, 100, "52:54:00:00:00:01");
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dove/v1/switch.grpc.pb.h"

namespace dove::api_test {

class TestSwitch {
 public:
  // Connects to 127.0.0.1:port with `credentials` (plaintext by default) and `args` (e.g. a
  // TLS target name override); the whole stream has 10 s.
  explicit TestSwitch(int port,
                      const std::shared_ptr<grpc::ChannelCredentials>& credentials =
                          grpc::InsecureChannelCredentials(),
                      const grpc::ChannelArguments& args = {})
      : stub_(v1::SwitchService::NewStub(
            grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), credentials, args))) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    stream_ = stub_->Connect(&context_);
  }

  bool Write(const v1::SwitchMessage& message) { return stream_->Write(message); }

  // Reads until a message for which `want` holds; nullopt when the stream ends first.
  std::optional<v1::ControllerMessage> ReadUntil(
      const std::function<bool(const v1::ControllerMessage&)>& want) {
    v1::ControllerMessage message;
    while (stream_->Read(&message)) {
      if (want(message)) return message;
    }
    return std::nullopt;
  }

  // Hello, then everything up to SyncDone; the Welcome.
  std::optional<v1::Welcome> Hello(const std::string& name, const std::string& tunnel_ip) {
    v1::SwitchMessage hello;
    hello.mutable_hello()->set_switch_name(name);
    hello.mutable_hello()->set_tunnel_ip(tunnel_ip);
    if (!Write(hello)) return std::nullopt;
    auto welcome = ReadUntil([](const auto& m) { return m.has_welcome(); });
    if (!welcome) return std::nullopt;
    if (!ReadUntil([](const auto& m) { return m.has_sync_done(); })) return std::nullopt;
    return welcome->welcome();
  }

  // Attach, then its acknowledgement (our own LocationUpdate with the new version and the port
  // name); nullopt when refused (the Refusal in last_refusal()) or the stream ended.
  std::optional<v1::Location> Attach(const std::string& endpoint_id) {
    v1::SwitchMessage attach;
    attach.mutable_attach()->set_endpoint_id(endpoint_id);
    attach.mutable_attach()->set_port_name("tap-" + endpoint_id);
    if (!Write(attach)) return std::nullopt;
    auto ack = ReadUntil([&](const auto& m) {
      return (m.has_location_update() &&
              m.location_update().location().endpoint_id() == endpoint_id &&
              m.location_update().location().port_name() == "tap-" + endpoint_id) ||
             m.has_error();
    });
    if (ack && ack->has_error()) last_refusal_ = ack->error();
    if (!ack || ack->has_error()) return std::nullopt;
    return ack->location_update().location();
  }

  // The Refusal of the last refused Attach.
  const v1::Refusal& last_refusal() const { return last_refusal_; }

  // Hello, like Hello(), listing `cached` as the endpoints the switch caches; every message up
  // to SyncDone (empty when the stream ended first).
  std::vector<v1::ControllerMessage> Rejoin(const std::string& name, const std::string& tunnel_ip,
                                            const std::vector<std::string>& cached) {
    v1::SwitchMessage hello;
    hello.mutable_hello()->set_switch_name(name);
    hello.mutable_hello()->set_tunnel_ip(tunnel_ip);
    for (const auto& id : cached) hello.mutable_hello()->add_cached_endpoint_ids(id);
    std::vector<v1::ControllerMessage> seen;
    if (!Write(hello)) return seen;
    auto done = ReadUntil([&](const auto& m) {
      seen.push_back(m);
      return m.has_sync_done();
    });
    if (!done) seen.clear();
    return seen;
  }

  // A Heartbeat and its answer: every message read until then (the answer last).
  std::vector<v1::ControllerMessage> Beat(uint64_t sequence) {
    v1::SwitchMessage beat;
    beat.mutable_heartbeat()->set_sequence(sequence);
    std::vector<v1::ControllerMessage> seen;
    if (!Write(beat)) return seen;
    ReadUntil([&](const auto& m) {
      seen.push_back(m);
      return m.has_heartbeat() && m.heartbeat().sequence() == sequence;
    });
    return seen;
  }

  // Ends the stream from this side (as a switch that stops cleanly); its status.
  grpc::Status Close() {
    stream_->WritesDone();
    return Finish();
  }

  std::optional<v1::ResolveReply> ResolveMac(uint64_t query, uint32_t vni, const std::string& mac) {
    v1::SwitchMessage resolve;
    resolve.mutable_resolve_mac()->set_query_id(query);
    resolve.mutable_resolve_mac()->set_vni(vni);
    resolve.mutable_resolve_mac()->set_mac(mac);
    return Resolve(resolve, query);
  }

  std::optional<v1::ResolveReply> ResolveIp(uint64_t query, uint32_t vni, const std::string& ip) {
    v1::SwitchMessage resolve;
    resolve.mutable_resolve_ip()->set_query_id(query);
    resolve.mutable_resolve_ip()->set_vni(vni);
    resolve.mutable_resolve_ip()->set_ip(ip);
    return Resolve(resolve, query);
  }

  // Reads to the end of the stream; its status.
  grpc::Status Finish() {
    ReadUntil([](const auto&) { return false; });
    return stream_->Finish();
  }

 private:
  std::optional<v1::ResolveReply> Resolve(const v1::SwitchMessage& message, uint64_t query) {
    if (!Write(message)) return std::nullopt;
    auto reply = ReadUntil([&](const auto& m) {
      return m.has_resolve_reply() && m.resolve_reply().query_id() == query;
    });
    if (!reply) return std::nullopt;
    return reply->resolve_reply();
  }

  std::unique_ptr<v1::SwitchService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::SwitchMessage, v1::ControllerMessage>> stream_;
  v1::Refusal last_refusal_;
};

}  // namespace dove::api_test
