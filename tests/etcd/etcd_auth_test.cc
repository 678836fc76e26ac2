// EtcdStore and dove-controller against an etcd with user/password authentication enabled
// (etcdctl: root user, user "dove" whose role may read and write "/auth-*", `auth enable`) and
// simple tokens that expire after 2 s idle (--auth-token-ttl): the Store conformance suite as
// user dove; a wrong password and no credentials are clear errors at Open; an expired token and
// a member restart (which forgets every token) are survived by reads, writes and the watch;
// dove-controller with --etcd-user and --etcd-password-file serves the REST API.
//
// One cluster for the binary's auth tests (etcd_auth_cluster.h; the conformance suite is
// instantiated on it in etcd_store_test.cc); every test in its own key prefix under "/auth-".
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "etcd/etcd_auth_cluster.h"
#include "store/etcd_store.h"
#include "store/watch.h"
#include "support/controller_process.h"
#include "support/rest_call.h"
#include "support/temp_dir.h"

namespace dove::store {
namespace {

using test_support::AuthCluster;
using test_support::DoveOptions;
using test_support::EtcdCluster;
using test_support::kDovePassword;
using test_support::kTokenTtlSeconds;
using test_support::TempDir;

// The events of `watch` until one has key `key` or 20 s pass.
std::vector<Event> PollUntil(Watch& watch, const std::string& key) {
  std::vector<Event> seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{watch.fd(), POLLIN, 0};
    ::poll(&p, 1, 100);
    auto polled = watch.Poll();
    if (!polled) {
      ADD_FAILURE() << polled.error().Describe();
      return seen;
    }
    for (const Event& event : *polled) {
      seen.push_back(event);
      if (event.kv.key == key) return seen;
    }
  }
  ADD_FAILURE() << "no event for " << key;
  return seen;
}

TEST(EtcdAuth, TheRightUserReadsWritesWatchesAndLeases) {
  EtcdCluster* cluster = AuthCluster();
  ASSERT_NE(cluster, nullptr);
  auto store = EtcdStore::Open(DoveOptions(*cluster));
  ASSERT_TRUE(store) << store.error().Describe();
  EtcdStore& s = **store;
  auto watch = s.StartWatch("/k/", s.CurrentRevision().value() + 1).value();
  ASSERT_TRUE(s.Put("/k/a", "1"));
  EXPECT_EQ(s.Get("/k/a")->value, "1");
  TxnRequest txn;
  txn.compares.push_back(Compare::Value("/k/a", Compare::kEqual, "1"));
  txn.success.push_back(Op::Put("/k/b", "2"));
  auto swapped = s.Txn(txn);
  ASSERT_TRUE(swapped) << swapped.error().Describe();
  EXPECT_TRUE(swapped->succeeded);
  EXPECT_EQ(s.Range("/k/")->kvs.size(), 2u);
  auto lease = s.GrantLease(5);
  ASSERT_TRUE(lease) << lease.error().Describe();
  TxnRequest leased;
  leased.success.push_back(Op::Put("/k/leased", "x", lease->id));
  ASSERT_TRUE(s.Txn(leased));
  EXPECT_TRUE(s.KeepAliveLease(lease->id));
  ASSERT_TRUE(s.RevokeLease(lease->id));
  EXPECT_EQ(s.Get("/k/leased").error().code, StoreError::kNotFound);
  const std::vector<Event> events = PollUntil(*watch, "/k/leased");
  EXPECT_GE(events.size(), 3u);
  EXPECT_GE(s.Authentications(), 1);
}

TEST(EtcdAuth, AWrongPasswordFailsOpenClearly) {
  EtcdCluster* cluster = AuthCluster();
  ASSERT_NE(cluster, nullptr);
  EtcdStore::Options options = DoveOptions(*cluster);
  options.password = "not the password";
  auto store = EtcdStore::Open(options);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, StoreError::kAccessDenied);
  EXPECT_NE(store.error().message.find("etcd at " + cluster->Endpoint(0) +
                                       ": authentication failed for user dove: "),
            std::string::npos)
      << store.error().message;
  options.user = "nobody";
  auto unknown = EtcdStore::Open(options);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, StoreError::kAccessDenied) << unknown.error().message;
}

TEST(EtcdAuth, NoCredentialsFailOpenClearly) {
  EtcdCluster* cluster = AuthCluster();
  ASSERT_NE(cluster, nullptr);
  EtcdStore::Options options = DoveOptions(*cluster);
  options.user.clear();
  options.password.clear();
  auto store = EtcdStore::Open(options);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, StoreError::kAccessDenied);
  EXPECT_NE(store.error().message.find("user name is empty (this etcd has authentication "
                                       "enabled: a user and password are needed)"),
            std::string::npos)
      << store.error().message;
}

TEST(EtcdAuth, AUserOutsideItsRoleIsDenied) {
  EtcdCluster* cluster = AuthCluster();
  ASSERT_NE(cluster, nullptr);
  EtcdStore::Options options = DoveOptions(*cluster);
  options.key_prefix = "/elsewhere-" + std::to_string(::getpid()) + "/";
  auto store = EtcdStore::Open(options);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, StoreError::kAccessDenied);
  EXPECT_NE(store.error().message.find("permission denied"), std::string::npos)
      << store.error().message;
}

TEST(EtcdAuth, UserAndPasswordGoTogether) {
  EtcdStore::Options options;
  options.user = "dove";
  EXPECT_EQ(EtcdStore::ValidateOptions(options).error().code, StoreError::kInvalidArgument);
  options.user.clear();
  options.password = "secret";
  EXPECT_EQ(EtcdStore::ValidateOptions(options).error().code, StoreError::kInvalidArgument);
}

// etcd drops a simple token unused for --auth-token-ttl (checked every second). Whether it has
// is not observable without using the token, which renews it, so the test waits past TTL + 1 s
// + margin without touching the store, then requires that the store had to authenticate again:
// a wait too short fails the test instead of passing it without testing anything.
TEST(EtcdAuth, AnExpiredTokenIsRenewedForReadsWritesAndTheWatch) {
  EtcdCluster* cluster = AuthCluster();
  ASSERT_NE(cluster, nullptr);
  auto store = EtcdStore::Open(DoveOptions(*cluster));
  ASSERT_TRUE(store) << store.error().Describe();
  EtcdStore& s = **store;
  auto watch = s.StartWatch("/k/", s.CurrentRevision().value() + 1).value();
  ASSERT_TRUE(s.Put("/k/before", "1"));
  PollUntil(*watch, "/k/before");
  const int64_t before = s.Authentications();
  std::this_thread::sleep_for(std::chrono::seconds(kTokenTtlSeconds + 2));
  auto read = s.Get("/k/before");
  ASSERT_TRUE(read) << read.error().Describe();
  EXPECT_EQ(read->value, "1");
  EXPECT_GT(s.Authentications(), before) << "the token did not expire: nothing was tested";
  std::this_thread::sleep_for(std::chrono::seconds(kTokenTtlSeconds + 2));
  auto written = s.Put("/k/after", "2");
  ASSERT_TRUE(written) << written.error().Describe();
  const std::vector<Event> events = PollUntil(*watch, "/k/after");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kv.value, "2");
  auto lease = s.GrantLease(5);
  EXPECT_TRUE(lease) << lease.error().Describe();
}

// Eight threads whose calls etcd refuses for the same expired token renew it once: one
// Authenticate, the others wait for it and use its token (no stampede on etcd's bcrypt).
TEST(EtcdAuth, ThreadsRefusedTogetherAuthenticateOnce) {
  EtcdCluster* cluster = AuthCluster();
  ASSERT_NE(cluster, nullptr);
  auto store = EtcdStore::Open(DoveOptions(*cluster));
  ASSERT_TRUE(store) << store.error().Describe();
  EtcdStore& s = **store;
  ASSERT_TRUE(s.Put("/k/shared", "1"));
  const int64_t before = s.Authentications();
  std::this_thread::sleep_for(std::chrono::seconds(kTokenTtlSeconds + 2));  // see above
  std::atomic<int> answered{0};
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      if (s.Get("/k/shared")) ++answered;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(answered.load(), kThreads);
  EXPECT_EQ(s.Authentications(), before + 1);
}

// A restarted member has forgotten every token: the next call is refused ("invalid auth
// token") and renewed, and the watch stream, reopened on the restarted member, is refused at
// creation and reopened with a renewed token. The watching store makes no call of its own
// after the restart (Poll reads its window, no RPC): only its stream's renewal can bring it the
// other store's write.
TEST(EtcdAuth, AMemberRestartIsSurvivedByCallsAndTheWatch) {
  EtcdCluster* cluster = AuthCluster();
  ASSERT_NE(cluster, nullptr);
  const EtcdStore::Options options = DoveOptions(*cluster);
  auto watcher = EtcdStore::Open(options);
  auto writer = EtcdStore::Open(options);
  ASSERT_TRUE(watcher && writer);
  auto watch = (*watcher)->StartWatch("/k/", (*watcher)->CurrentRevision().value() + 1).value();
  const int64_t watcher_before = (*watcher)->Authentications();
  const int64_t writer_before = (*writer)->Authentications();
  cluster->Kill(0);
  auto restarted = cluster->Restart(0);
  ASSERT_TRUE(restarted) << restarted.error();
  // gRPC reconnects to the restarted member after its backoff (up to seconds): reads are
  // asked until one is answered.
  Expected<RangeResponse, StoreError> read = Unexpected(StoreError{StoreError::kUnavailable, ""});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!read && std::chrono::steady_clock::now() < deadline) read = (*writer)->Range("/k/");
  ASSERT_TRUE(read) << read.error().Describe();
  auto written = (*writer)->Put("/k/after-restart", "yes");
  ASSERT_TRUE(written) << written.error().Describe();
  EXPECT_GT((*writer)->Authentications(), writer_before);
  const std::vector<Event> events = PollUntil(*watch, "/k/after-restart");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kv.value, "yes");
  EXPECT_GT((*watcher)->Authentications(), watcher_before);
}

// dove-controller with --etcd-user and --etcd-password-file serves the API; a wrong password
// stops it at start with etcd's refusal.
TEST(EtcdAuth, TheControllerAuthenticatesWithAPasswordFile) {
  EtcdCluster* cluster = AuthCluster();
  ASSERT_NE(cluster, nullptr);
  TempDir dir("dove-etcd-auth");
  const std::string good = (dir.path() / "password").string();
  const std::string bad = (dir.path() / "wrong").string();
  std::ofstream(good) << kDovePassword << "\n";
  std::ofstream(bad) << "wrong\n";
  const std::string prefix = test_support::FreshAuthPrefix();
  auto start = [&](const std::string& password_file) {
    return test_support::ControllerProcess::Start(
        {"--store", "etcd", "--etcd-endpoints", cluster->Endpoints(), "--etcd-prefix", prefix,
         "--etcd-user", "dove", "--etcd-password-file", password_file});
  };
  {
    auto controller = start(good);
    ASSERT_TRUE(controller) << controller.error();
    const int port = (*controller)->port();
    ASSERT_EQ(
        test_support::Call(port, "POST", "/v1/domains", {{"id", "d1"}, {"name", "acme"}}).status,
        201);
    const test_support::Answer got = test_support::Call(port, "GET", "/v1/domains/d1");
    ASSERT_EQ(got.status, 200) << got.body.dump();
    EXPECT_EQ(got.body["name"], "acme");
  }
  auto refused = start(bad);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("authentication failed for user dove"), std::string::npos)
      << refused.error();
}

}  // namespace
}  // namespace dove::store
