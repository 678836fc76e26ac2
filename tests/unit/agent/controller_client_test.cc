// ControllerClient against an in-process gRPC server: FakeController below is a test double
// of dove-controller's SwitchService (unit tests only; the real one is tested elsewhere).
#include "dswitch/agent/controller_client.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace dove::dswitch::agent {
namespace {

using dove::v1::ControllerMessage;
using dove::v1::Location;
using dove::v1::SwitchMessage;
using std::chrono::milliseconds;

constexpr uint32_t kVni = 100;
constexpr const char* kKnownMac = "52:54:00:00:00:01";
constexpr const char* kPushedMac = "52:54:00:00:00:02";

Location Loc(const std::string& id, const std::string& mac, const std::string& ip,
             const std::string& tunnel_ip, uint32_t version) {
  Location l;
  l.set_endpoint_id(id);
  l.set_vni(kVni);
  l.set_mac(mac);
  l.add_ips(ip);
  l.set_tunnel_ip(tunnel_ip);
  l.set_version(version);
  return l;
}

// A scripted controller: answers Hello with Welcome (snapshot when last_revision is 0),
// `catch_up`, SyncDone at `sync_revision`; answers resolves from `known` unless `silent`
// (MAC "..:dd" is DENIED, "..:ee" refused); records everything the switch sends.
class FakeController final : public dove::v1::SwitchService::Service {
 public:
  std::vector<ControllerMessage> catch_up;
  int64_t sync_revision = 7;
  bool silent = false;           // answers no resolve (heartbeats still)
  bool deaf = false;             // answers nothing at all after SyncDone
  bool mute = false;             // not even a Welcome
  bool cut_before_sync = false;  // ends the stream after catch_up, before SyncDone
  bool batched = false;          // catch_up and SyncDone in one ControllerBatch
  std::vector<Location> known = {Loc("ep-known", kKnownMac, "10.0.0.1", "192.0.2.1", 3)};

  grpc::Status Connect(
      grpc::ServerContext* /*context*/,
      grpc::ServerReaderWriter<ControllerMessage, SwitchMessage>* stream) override {
    SwitchMessage first;
    if (!stream->Read(&first) || !first.has_hello()) {
      return {grpc::StatusCode::FAILED_PRECONDITION, "hello first"};
    }
    if (mute) {
      SwitchMessage ignored;
      while (stream->Read(&ignored)) {
      }
      return grpc::Status::OK;
    }
    {
      std::lock_guard lock(mu_);
      received_.push_back(first);
      stream_ = stream;
      ControllerMessage welcome;
      welcome.set_revision(sync_revision);
      welcome.mutable_welcome()->set_switch_id("sw-1");
      welcome.mutable_welcome()->set_heartbeat_interval_ms(30);
      welcome.mutable_welcome()->set_dead_after_ms(300);
      welcome.mutable_welcome()->set_snapshot(first.hello().last_revision() == 0);
      stream->Write(welcome);
      ControllerMessage done;
      done.set_revision(sync_revision);
      done.mutable_sync_done();
      if (batched) {
        ControllerMessage batch;
        batch.set_revision(sync_revision);
        for (const auto& m : catch_up) *batch.mutable_batch()->add_messages() = m;
        *batch.mutable_batch()->add_messages() = done;
        stream->Write(batch);
      } else {
        for (const auto& m : catch_up) stream->Write(m);
        if (cut_before_sync) return {grpc::StatusCode::UNAVAILABLE, "cut"};
        stream->Write(done);
      }
    }
    SwitchMessage message;
    while (stream->Read(&message)) {
      std::lock_guard lock(mu_);
      received_.push_back(message);
      if (deaf) continue;
      if (message.has_heartbeat()) {
        ControllerMessage beat;
        beat.set_revision(sync_revision);
        beat.mutable_heartbeat()->set_sequence(message.heartbeat().sequence());
        stream->Write(beat);
      }
      if (silent) continue;
      if (message.has_resolve_mac()) {
        stream->Write(Answer(message.resolve_mac().query_id(), message.resolve_mac().mac(), ""));
      } else if (message.has_resolve_ip()) {
        stream->Write(Answer(message.resolve_ip().query_id(), "", message.resolve_ip().ip()));
      }
    }
    std::lock_guard lock(mu_);
    stream_ = nullptr;
    return grpc::Status::OK;
  }

  bool Push(const ControllerMessage& message) {
    std::lock_guard lock(mu_);
    return stream_ != nullptr && stream_->Write(message);
  }

  std::vector<SwitchMessage> Received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  std::vector<SwitchMessage> Received(SwitchMessage::BodyCase body) {
    std::vector<SwitchMessage> out;
    for (auto& m : Received()) {
      if (m.body_case() == body) out.push_back(m);
    }
    return out;
  }

 private:
  ControllerMessage Answer(uint64_t query_id, const std::string& mac, const std::string& ip) {
    ControllerMessage reply;
    reply.set_revision(sync_revision);
    if (mac == "52:54:00:00:00:ee") {
      reply.mutable_error()->set_code("invalid_value");
      reply.mutable_error()->set_message("bad mac");
      reply.mutable_error()->set_query_id(query_id);
      return reply;
    }
    auto* r = reply.mutable_resolve_reply();
    r->set_query_id(query_id);
    if (mac == "52:54:00:00:00:dd") {
      r->set_status(dove::v1::ResolveReply::STATUS_DENIED);
      r->set_reason("policy p1 denies it");
      return reply;
    }
    for (const auto& l : known) {
      if ((!mac.empty() && l.mac() == mac) || (!ip.empty() && l.ips(0) == ip)) {
        r->set_status(dove::v1::ResolveReply::STATUS_FOUND);
        *r->mutable_location() = l;
        return reply;
      }
    }
    r->set_status(dove::v1::ResolveReply::STATUS_NOT_FOUND);
    r->set_reason("no such endpoint");
    return reply;
  }

  std::mutex mu_;
  grpc::ServerReaderWriter<ControllerMessage, SwitchMessage>* stream_ = nullptr;
  std::vector<SwitchMessage> received_;
};

// The fake behind a real gRPC server on 127.0.0.1.
class TestServer {
 public:
  // port 0: any free port. `setup` configures the fake before it serves.
  explicit TestServer(int port = 0, const std::function<void(FakeController&)>& setup = {})
      : controller_(std::make_unique<FakeController>()) {
    if (setup) setup(*controller_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(controller_.get());
    server_ = builder.BuildAndStart();
  }
  ~TestServer() { Stop(); }
  void Stop() {
    if (!server_) return;
    server_->Shutdown(std::chrono::system_clock::now() + milliseconds(50));
    server_->Wait();
    server_.reset();
  }
  bool ok() const { return server_ != nullptr && port_ > 0; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  FakeController& controller() { return *controller_; }

 private:
  std::unique_ptr<FakeController> controller_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

bool Eventually(const std::function<bool()>& condition, milliseconds timeout = milliseconds(3000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return condition();
}

ClientOptions TestOptions(std::vector<std::string> controllers) {
  return ClientOptions{.controllers = std::move(controllers),
                       .switch_name = "host-17",
                       .tunnel_ip = "192.0.2.17",
                       .software_version = "test",
                       .backoff = {.initial = milliseconds(10), .max = milliseconds(50)},
                       .connect_timeout = milliseconds(500),
                       .resolve_timeout = milliseconds(500),
                       .plaintext = true};
}

ResolveResult Get(std::future<ResolveResult> future) {
  if (future.wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
    return Unexpected(ResolveError{ResolveError::Code::kStopped, "test: future never completed"});
  }
  return future.get();
}

class ControllerClientTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.ok()); }
  bool Connected(ControllerClient& client, uint64_t connections = 1) {
    return Eventually([&] {
      auto state = client.State();
      return state.controller != "none" && state.connections >= connections &&
             state.last_revision > 0;
    });
  }
  TestServer server_;
};

TEST_F(ControllerClientTest, HelloCarriesIdentityAndLastRevision) {
  ControllerMessage update;
  update.set_revision(6);
  *update.mutable_location_update()->mutable_location() =
      Loc("ep-pushed", kPushedMac, "10.0.0.2", "192.0.2.2", 1);
  TestServer server(0, [&](FakeController& fake) { fake.catch_up.push_back(update); });
  ASSERT_TRUE(server.ok());

  ControllerClient client(TestOptions({server.address()}));
  client.Start();
  ASSERT_TRUE(Connected(client));
  auto hellos = server.controller().Received(SwitchMessage::kHello);
  ASSERT_EQ(hellos.size(), 1u);
  EXPECT_EQ(hellos[0].hello().switch_name(), "host-17");
  EXPECT_EQ(hellos[0].hello().tunnel_ip(), "192.0.2.17");
  EXPECT_EQ(hellos[0].hello().software_version(), "test");
  EXPECT_EQ(hellos[0].hello().last_revision(), 0);

  ClientState state = client.State();
  EXPECT_EQ(state.controller, server.address());
  EXPECT_EQ(state.switch_id, "sw-1");
  EXPECT_EQ(state.last_revision, 7);
  EXPECT_EQ(state.cache_size, 1u);
  EXPECT_EQ(state.heartbeat_interval, milliseconds(30));
  EXPECT_TRUE(Eventually([&] {
    return server.controller().Received(SwitchMessage::kHeartbeat).size() >= 2;
  })) << "heartbeats at the Welcome's interval";
  auto beats = server.controller().Received(SwitchMessage::kHeartbeat);
  EXPECT_EQ(beats[0].heartbeat().sequence(), 1u);
  EXPECT_EQ(beats[1].heartbeat().sequence(), 2u);
}

TEST_F(ControllerClientTest, AppliesPushedUpdatesAndServesThemFromTheCache) {
  ControllerClient client(TestOptions({server_.address()}));
  client.Start();
  ASSERT_TRUE(Connected(client));

  ControllerMessage update;
  update.set_revision(8);
  *update.mutable_location_update()->mutable_location() =
      Loc("ep-pushed", kPushedMac, "10.0.0.2", "192.0.2.2", 1);
  ASSERT_TRUE(server_.controller().Push(update));
  ASSERT_TRUE(Eventually([&] { return client.State().last_revision == 8; }));

  auto hit = Get(client.Resolve(kVni, kPushedMac));
  ASSERT_TRUE(hit) << hit.error().message;
  EXPECT_EQ(hit->tunnel_ip(), "192.0.2.2");
  auto by_ip = Get(client.ResolveIp(kVni, "10.0.0.2"));
  ASSERT_TRUE(by_ip);
  EXPECT_EQ(by_ip->endpoint_id(), "ep-pushed");
  EXPECT_TRUE(server_.controller().Received(SwitchMessage::kResolveMac).empty()) << "cache hit";
  EXPECT_TRUE(server_.controller().Received(SwitchMessage::kResolveIp).empty()) << "cache hit";

  ControllerMessage invalidate;
  invalidate.set_revision(9);
  invalidate.mutable_invalidate()->set_endpoint_id("ep-pushed");
  ASSERT_TRUE(server_.controller().Push(invalidate));
  ASSERT_TRUE(Eventually([&] { return client.State().last_revision == 9; }));
  EXPECT_EQ(client.State().cache_size, 0u);
  EXPECT_TRUE(client.DumpCache().endpoints.empty());
}

TEST_F(ControllerClientTest, ResolveRoundTripsWithQueryIdsAndCachesTheAnswer) {
  ControllerClient client(TestOptions({server_.address()}));
  client.Start();
  ASSERT_TRUE(Connected(client));

  auto found = Get(client.Resolve(kVni, kKnownMac));
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->endpoint_id(), "ep-known");
  auto not_found = Get(client.Resolve(kVni, "52:54:00:00:00:99"));
  ASSERT_FALSE(not_found);
  EXPECT_EQ(not_found.error().code, ResolveError::Code::kNotFound);
  EXPECT_EQ(not_found.error().message, "no such endpoint");
  auto denied = Get(client.Resolve(kVni, "52:54:00:00:00:dd"));
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ResolveError::Code::kDenied);
  EXPECT_EQ(denied.error().message, "policy p1 denies it");
  auto refused = Get(client.Resolve(kVni, "52:54:00:00:00:ee"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ResolveError::Code::kRefused);
  EXPECT_EQ(refused.error().message, "invalid_value: bad mac");

  auto queries = server_.controller().Received(SwitchMessage::kResolveMac);
  ASSERT_EQ(queries.size(), 4u);
  std::set<uint64_t> ids;
  for (const auto& q : queries) ids.insert(q.resolve_mac().query_id());
  EXPECT_EQ(ids.size(), 4u) << "distinct query ids";
  EXPECT_EQ(ids.count(0), 0u) << "0 means none in Refusal.query_id";

  // The FOUND answer is cached: no second query, and ResolveIp hits it too.
  auto again = Get(client.Resolve(kVni, kKnownMac));
  ASSERT_TRUE(again);
  auto by_ip = Get(client.ResolveIp(kVni, "10.0.0.1"));
  ASSERT_TRUE(by_ip);
  EXPECT_EQ(server_.controller().Received(SwitchMessage::kResolveMac).size(), 4u);
  EXPECT_EQ(server_.controller().Received(SwitchMessage::kResolveIp).size(), 0u);

  // A miss by IP goes to the controller as ResolveIp.
  auto ip_miss = Get(client.ResolveIp(kVni, "10.0.0.50"));
  EXPECT_FALSE(ip_miss);
  auto ip_queries = server_.controller().Received(SwitchMessage::kResolveIp);
  ASSERT_EQ(ip_queries.size(), 1u);
  EXPECT_EQ(ip_queries[0].resolve_ip().vni(), kVni);
  EXPECT_EQ(ip_queries[0].resolve_ip().ip(), "10.0.0.50");
  EXPECT_EQ(client.State().pending_queries, 0u);
}

TEST_F(ControllerClientTest, ResolveTimesOutWhenTheControllerIsSilent) {
  TestServer server(0, [](FakeController& fake) { fake.silent = true; });
  ASSERT_TRUE(server.ok());
  ClientOptions options = TestOptions({server.address()});
  options.resolve_timeout = milliseconds(100);
  ControllerClient client(options);
  client.Start();
  ASSERT_TRUE(Connected(client));
  const auto start = std::chrono::steady_clock::now();
  auto result = Get(client.Resolve(kVni, kKnownMac));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ResolveError::Code::kTimeout);
  EXPECT_GE(took, milliseconds(90));
  EXPECT_LT(took, milliseconds(1000));
  EXPECT_EQ(client.State().pending_queries, 0u);
}

TEST_F(ControllerClientTest, HeadlessServesTheCacheThenReconnectsWithItsRevision) {
  ControllerClient client(TestOptions({server_.address()}));
  client.Start();
  ASSERT_TRUE(Connected(client));
  ASSERT_TRUE(Get(client.Resolve(kVni, kKnownMac)));  // now cached
  const int port = server_.port();

  server_.Stop();
  ASSERT_TRUE(Eventually([&] { return client.State().controller == "none"; }));
  auto hit = Get(client.Resolve(kVni, kKnownMac));
  ASSERT_TRUE(hit) << "headless: the cache still answers";
  EXPECT_EQ(hit->tunnel_ip(), "192.0.2.1");
  auto miss = Get(client.Resolve(kVni, "52:54:00:00:00:99"));
  ASSERT_FALSE(miss);
  EXPECT_EQ(miss.error().code, ResolveError::Code::kUnavailable);
  EXPECT_FALSE(client.Attach("ep-local", "tap0", 1));
  ClientState headless = client.State();
  EXPECT_EQ(headless.last_revision, 7);
  EXPECT_NE(headless.last_error, "");

  TestServer restarted(port, [](FakeController& fake) { fake.sync_revision = 12; });
  ASSERT_TRUE(restarted.ok());
  ASSERT_TRUE(Connected(client, /*connections=*/2));
  auto hellos = restarted.controller().Received(SwitchMessage::kHello);
  ASSERT_EQ(hellos.size(), 1u);
  EXPECT_EQ(hellos[0].hello().last_revision(), 7) << "asks only for what changed since";
  EXPECT_TRUE(Eventually([&] { return client.State().last_revision == 12; }));
  EXPECT_EQ(client.State().cache_size, 1u) << "no snapshot: the cache was kept";
  EXPECT_GE(client.State().attempts, 2u);
}

// A port bound but not listening: connections to it are refused.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~RefusingPort() { close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST_F(ControllerClientTest, FailsOverToTheNextAddressWhenTheFirstRefuses) {
  RefusingPort refusing;
  ASSERT_GT(refusing.port(), 0);
  ControllerClient client(TestOptions({refusing.address(), server_.address()}));
  const auto start = std::chrono::steady_clock::now();
  client.Start();
  ASSERT_TRUE(Connected(client));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000))
      << "a refused connection does not wait for connect_timeout";
  ClientState state = client.State();
  EXPECT_EQ(state.controller, server_.address());
  EXPECT_GE(state.attempts, 2u);
  EXPECT_NE(state.last_error.find(refusing.address()), std::string::npos) << state.last_error;
}

TEST_F(ControllerClientTest, FailsOverWhenTheFirstAcceptsButNeverWelcomes) {
  TestServer mute(0, [](FakeController& fake) { fake.mute = true; });
  ASSERT_TRUE(mute.ok());
  ClientOptions options = TestOptions({mute.address(), server_.address()});
  options.connect_timeout = milliseconds(150);
  ControllerClient client(options);
  client.Start();
  ASSERT_TRUE(Connected(client));
  ClientState state = client.State();
  EXPECT_EQ(state.controller, server_.address());
  EXPECT_EQ(state.last_error, mute.address() + ": no Welcome within connect_timeout");
}

TEST_F(ControllerClientTest, AControllerSilentAfterItsWelcomeIsLeftForTheNext) {
  TestServer deaf(0, [](FakeController& fake) { fake.deaf = true; });
  ASSERT_TRUE(deaf.ok());
  ControllerClient client(TestOptions({deaf.address(), server_.address()}));
  client.Start();
  // Welcomed by the deaf one first; 300 ms of silence later it moves on to the good one.
  ASSERT_TRUE(Eventually([&] { return client.State().controller == server_.address(); }));
  EXPECT_GE(client.State().connections, 2u);
  EXPECT_FALSE(deaf.controller().Received(SwitchMessage::kHeartbeat).empty());
}

TEST_F(ControllerClientTest, HelloListsTheCachedEndpointsAndTheProtocolVersion) {
  ControllerClient client(TestOptions({server_.address()}));
  client.Start();
  ASSERT_TRUE(Connected(client));
  ASSERT_TRUE(Get(client.Resolve(kVni, kKnownMac)));  // cached
  const int port = server_.port();
  server_.Stop();
  ASSERT_TRUE(Eventually([&] { return client.State().controller == "none"; }));
  TestServer again(port);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(Eventually([&] { return client.State().controller != "none"; }));
  auto hellos = again.controller().Received(SwitchMessage::kHello);
  ASSERT_EQ(hellos.size(), 1u);
  EXPECT_EQ(hellos[0].hello().protocol_version(), 1u);
  EXPECT_TRUE(hellos[0].hello().accepts_batches());
  ASSERT_EQ(hellos[0].hello().cached_endpoint_ids_size(), 1);
  EXPECT_EQ(hellos[0].hello().cached_endpoint_ids(0), "ep-known");
  // Not a snapshot (last_revision 7): the cache survives the reconnect.
  EXPECT_EQ(client.State().cache_size, 1u);
}

TEST_F(ControllerClientTest, ABrokenStreamFailsPendingResolves) {
  TestServer server(0, [](FakeController& fake) { fake.silent = true; });
  ASSERT_TRUE(server.ok());
  ClientOptions options = TestOptions({server.address()});
  options.resolve_timeout = milliseconds(2000);
  ControllerClient client(options);
  client.Start();
  ASSERT_TRUE(Connected(client));
  auto pending = client.Resolve(kVni, kKnownMac);
  ASSERT_TRUE(Eventually([&] { return client.State().pending_queries == 1; }));
  server.Stop();
  auto result = Get(std::move(pending));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ResolveError::Code::kUnavailable);
  EXPECT_EQ(client.State().pending_queries, 0u);
}

TEST_F(ControllerClientTest, ACatchUpCutBeforeSyncDoneIsAskedForAgain) {
  ControllerMessage update;
  update.set_revision(7);
  *update.mutable_location_update()->mutable_location() =
      Loc("ep-pushed", kPushedMac, "10.0.0.2", "192.0.2.2", 1);
  TestServer server(0, [&](FakeController& fake) {
    fake.catch_up.push_back(update);
    fake.cut_before_sync = true;
  });
  ASSERT_TRUE(server.ok());
  ControllerClient client(TestOptions({server.address()}));
  client.Start();
  ASSERT_TRUE(
      Eventually([&] { return server.controller().Received(SwitchMessage::kHello).size() >= 3; }));
  for (const auto& hello : server.controller().Received(SwitchMessage::kHello)) {
    EXPECT_EQ(hello.hello().last_revision(), 0) << "never claims a revision it did not finish";
  }
  EXPECT_EQ(client.State().last_revision, 0);
  // What did arrive still serves (a reconnect's snapshot Welcome may have just cleared it).
  EXPECT_TRUE(Eventually([&] { return client.DumpCache().endpoints.size() == 1; }));
}

TEST_F(ControllerClientTest, AttachAndDetachReachTheController) {
  ControllerClient client(TestOptions({server_.address()}));
  client.Start();
  ASSERT_TRUE(Connected(client));
  ASSERT_TRUE(client.Attach("ep-local", "tap0", 4));
  ASSERT_TRUE(client.Detach("ep-local", 5));
  ASSERT_TRUE(Eventually(
      [&] { return server_.controller().Received(SwitchMessage::kDetach).size() == 1; }));
  auto attaches = server_.controller().Received(SwitchMessage::kAttach);
  ASSERT_EQ(attaches.size(), 1u);
  EXPECT_EQ(attaches[0].attach().endpoint_id(), "ep-local");
  EXPECT_EQ(attaches[0].attach().port_name(), "tap0");
  EXPECT_EQ(attaches[0].attach().version(), 4u);
  EXPECT_EQ(server_.controller().Received(SwitchMessage::kDetach)[0].detach().version(), 5u);

  ControllerMessage refusal;
  refusal.set_revision(8);
  refusal.mutable_error()->set_code("conflict");
  refusal.mutable_error()->set_message("stale version");
  refusal.mutable_error()->set_endpoint_id("ep-local");
  ASSERT_TRUE(server_.controller().Push(refusal));
  EXPECT_TRUE(Eventually([&] {
    return client.State().last_error == "refused: conflict: stale version (ep-local)";
  })) << client.State().last_error;
}

TEST_F(ControllerClientTest, AttachAllSendsOneBatchInOrder) {
  ControllerClient client(TestOptions({server_.address()}));
  client.Start();
  ASSERT_TRUE(Connected(client));
  ASSERT_TRUE(client.AttachAll({{"ep-a", "tap0", 1}, {"ep-b", "tap1", 2}, {"ep-c", "tap2", 0}}));
  ASSERT_TRUE(client.AttachAll({{"ep-d", "tap3", 4}}));  // one alone: a plain Attach
  ASSERT_TRUE(Eventually(
      [&] { return server_.controller().Received(SwitchMessage::kAttach).size() == 1; }));
  auto batches = server_.controller().Received(SwitchMessage::kBatch);
  ASSERT_EQ(batches.size(), 1u);
  std::vector<std::string> sent;
  for (const auto& each : batches[0].batch().messages()) {
    ASSERT_TRUE(each.has_attach());
    sent.push_back(each.attach().endpoint_id() + " " + each.attach().port_name() + " " +
                   std::to_string(each.attach().version()));
  }
  EXPECT_EQ(sent, (std::vector<std::string>{"ep-a tap0 1", "ep-b tap1 2", "ep-c tap2 0"}));
  EXPECT_EQ(server_.controller().Received(SwitchMessage::kAttach)[0].attach().endpoint_id(),
            "ep-d");
}

// What on_delta / on_change / a resolve callback saw, in the order they ran.
class CallbackLog {
 public:
  void Hook(ClientOptions& options) {
    options.on_delta = [this](const EndpointCache& cache, const CacheChanges& changes) {
      if (changes.reset) return Add("reset");  // a snapshot: everything is derived again
      std::string line = "delta";
      for (const auto& key : changes.endpoints) line += " " + key;
      for (uint32_t vni : changes.networks) line += " vni" + std::to_string(vni);
      if (cache.syncing()) line += " (syncing!)";
      Add(line);
    };
  }
  void Add(const std::string& line) {
    std::lock_guard lock(mu_);
    lines_.push_back(line);
  }
  std::vector<std::string> Lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }
  size_t Count(const std::string& line) {
    auto lines = Lines();
    return static_cast<size_t>(std::count(lines.begin(), lines.end(), line));
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

ControllerMessage Pushed(int64_t revision, const Location& location) {
  ControllerMessage update;
  update.set_revision(revision);
  *update.mutable_location_update()->mutable_location() = location;
  return update;
}

TEST_F(ControllerClientTest, ASnapshotCatchUpIsOneResetThenEachChangeADelta) {
  TestServer server(0, [&](FakeController& fake) {
    fake.catch_up.push_back(
        Pushed(5, Loc("ep-a", "52:54:00:00:00:0a", "10.0.0.10", "192.0.2.2", 1)));
    fake.catch_up.push_back(
        Pushed(6, Loc("ep-b", "52:54:00:00:00:0b", "10.0.0.11", "192.0.2.2", 1)));
  });
  ASSERT_TRUE(server.ok());
  CallbackLog log;
  ClientOptions options = TestOptions({server.address()});
  log.Hook(options);
  ControllerClient client(options);
  client.Start();
  ASSERT_TRUE(Connected(client));
  ASSERT_TRUE(Eventually([&] { return !log.Lines().empty(); }));
  EXPECT_EQ(log.Lines(), std::vector<std::string>{"reset"})
      << "the catch-up's updates come with the reset, not one by one";

  ASSERT_TRUE(server.controller().Push(
      Pushed(8, Loc("ep-pushed", kPushedMac, "10.0.0.2", "192.0.2.2", 1))));
  ASSERT_TRUE(Eventually([&] { return log.Count("delta ep-pushed") == 1; }));

  // A resolve answer is one delta, posted before the resolve's own callback runs.
  std::promise<void> resolved;
  client.Resolve(kVni, kKnownMac, [&](const ResolveResult& result) {
    log.Add(result ? "resolved" : "resolve failed");
    resolved.set_value();
  });
  ASSERT_EQ(resolved.get_future().wait_for(std::chrono::seconds(3)), std::future_status::ready);
  // Heartbeats and their answers changed nothing meanwhile: no delta for them.
  EXPECT_EQ(log.Lines(),
            (std::vector<std::string>{"reset", "delta ep-pushed", "delta ep-known", "resolved"}));

  // A cache hit changes nothing.
  ASSERT_TRUE(Get(client.Resolve(kVni, kKnownMac)));
  EXPECT_EQ(log.Lines().size(), 4u);
}

TEST_F(ControllerClientTest, AnIncrementalCatchUpIsOneDeltaAtSyncDone) {
  CallbackLog log;
  ClientOptions options = TestOptions({server_.address()});
  log.Hook(options);
  ControllerClient client(options);
  client.Start();
  ASSERT_TRUE(Connected(client));
  ASSERT_TRUE(Get(client.Resolve(kVni, kKnownMac)));  // cached: ep-known
  const int port = server_.port();
  server_.Stop();
  ASSERT_TRUE(Eventually([&] { return client.State().controller == "none"; }));

  ControllerMessage invalidate;
  invalidate.set_revision(9);
  invalidate.mutable_invalidate()->set_endpoint_id("ep-known");
  TestServer restarted(port, [&](FakeController& fake) {
    fake.sync_revision = 12;
    fake.catch_up.push_back(Pushed(8, Loc("ep-new", kPushedMac, "10.0.0.2", "192.0.2.2", 1)));
    fake.catch_up.push_back(invalidate);
  });
  ASSERT_TRUE(restarted.ok());
  ASSERT_TRUE(Eventually([&] { return client.State().last_revision == 12; }));
  ASSERT_TRUE(Eventually([&] { return log.Lines().size() == 3; }));
  EXPECT_EQ(log.Lines(),
            (std::vector<std::string>{"reset", "delta ep-known", "delta ep-known ep-new"}))
      << "one delta for the whole catch-up, delivered after SyncDone";
}

TEST_F(ControllerClientTest, ACatchUpInOneBatchIsAppliedAsItsMessages) {
  ControllerMessage invalidate;
  invalidate.set_revision(9);
  invalidate.mutable_invalidate()->set_endpoint_id("ep-gone");
  ControllerMessage nested;  // the controller never nests: ignored
  nested.set_revision(10);
  *nested.mutable_batch()->add_messages() =
      Pushed(10, Loc("ep-nested", "52:54:00:00:00:0a", "10.0.0.10", "192.0.2.10", 1));
  TestServer server(0, [&](FakeController& fake) {
    fake.batched = true;
    fake.sync_revision = 12;
    fake.catch_up.push_back(Pushed(8, Loc("ep-gone", kPushedMac, "10.0.0.2", "192.0.2.2", 1)));
    fake.catch_up.push_back(invalidate);
    fake.catch_up.push_back(nested);
    fake.catch_up.push_back(
        Pushed(11, Loc("ep-new", "52:54:00:00:00:03", "10.0.0.3", "192.0.2.3", 1)));
  });
  ASSERT_TRUE(server.ok());
  ControllerClient client(TestOptions({server.address()}));
  client.Start();
  ASSERT_TRUE(Eventually([&] { return client.State().last_revision == 12; }))
      << "the SyncDone inside the batch ends the catch-up";
  std::vector<std::string> cached;
  for (const auto& entry : client.DumpCache().endpoints)
    cached.push_back(entry.location.endpoint_id());
  EXPECT_EQ(cached, (std::vector<std::string>{"ep-new"}))
      << "the pushed one invalidated in order, the nested batch ignored";
}

TEST_F(ControllerClientTest, ACatchUpThatNeverEndsDeliversNothing) {
  TestServer server(0, [&](FakeController& fake) {
    fake.catch_up.push_back(Pushed(7, Loc("ep-pushed", kPushedMac, "10.0.0.2", "192.0.2.2", 1)));
    fake.cut_before_sync = true;
  });
  ASSERT_TRUE(server.ok());
  CallbackLog log;
  ClientOptions options = TestOptions({server.address()});
  log.Hook(options);
  ControllerClient client(options);
  client.Start();
  ASSERT_TRUE(
      Eventually([&] { return server.controller().Received(SwitchMessage::kHello).size() >= 3; }));
  EXPECT_TRUE(log.Lines().empty()) << "the cache is mid catch-up: nothing to hand over yet";
}

TEST(ControllerClientStandaloneTest, WithoutControllerAndAfterStop) {
  RefusingPort refusing;
  ControllerClient client(TestOptions({refusing.address()}));
  auto before_start = Get(client.Resolve(kVni, kKnownMac));
  ASSERT_FALSE(before_start);
  EXPECT_EQ(before_start.error().code, ResolveError::Code::kUnavailable);
  client.Start();
  EXPECT_TRUE(Eventually([&] { return client.State().attempts >= 3; })) << "keeps retrying";
  EXPECT_EQ(client.State().controller, "none");
  client.Stop();
  auto after_stop = Get(client.Resolve(kVni, kKnownMac));
  ASSERT_FALSE(after_stop);
  EXPECT_EQ(after_stop.error().code, ResolveError::Code::kStopped);
  client.Stop();  // idempotent
}

TEST(ControllerClientTraceOrderTest, AnOrderIsCheckedBeforeTheSwitchRunsIt) {
  dove::v1::TraceOrder order;
  order.set_trace_id(1);
  order.set_marker(std::string(16, 'm'));
  order.set_timeout_ms(1000);
  EXPECT_EQ(ControllerClient::CheckTraceOrder(order), "") << "a watcher needs no more";
  order.set_inject(true);
  EXPECT_EQ(ControllerClient::CheckTraceOrder(order), "an order to inject names no endpoint");
  order.set_endpoint_id("vm1");
  EXPECT_EQ(ControllerClient::CheckTraceOrder(order), "the order names no packet kind");
  order.set_kind(dove::v1::TraceOrder::KIND_TCP);
  order.set_ip("10.0.0.2");
  EXPECT_EQ(ControllerClient::CheckTraceOrder(order),
            "a tcp trace needs an IP and a port of 1..65535");
  order.set_port(443);
  EXPECT_EQ(ControllerClient::CheckTraceOrder(order), "");
  order.set_ip("10.0.0.300");
  EXPECT_EQ(ControllerClient::CheckTraceOrder(order), "the IP does not parse");
  order.set_kind(dove::v1::TraceOrder::KIND_UDP);
  order.set_ip("10.0.0.2");
  order.set_mac("52:54:00:00:00:02");
  EXPECT_EQ(ControllerClient::CheckTraceOrder(order),
            "a udp trace needs an IP or a MAC (one of them) and a port of 0..65535");
  order.set_marker("short");
  EXPECT_EQ(ControllerClient::CheckTraceOrder(order), "the marker is not 16 bytes");
  order.set_marker(std::string(16, 'm'));
  order.set_timeout_ms(60000);
  EXPECT_EQ(ControllerClient::CheckTraceOrder(order), "timeout_ms is not within 1..10000");
}

}  // namespace
}  // namespace dove::dswitch::agent
