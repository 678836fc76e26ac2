// The Store contract as a parameterised GoogleTest suite, so every implementation answers the
// same cases: store_conformance_test.cc instantiates it for MemoryStore and SqliteStore,
// tests/etcd/ for EtcdStore on a real etcd (one member and three).
//
// Revisions are written relative to the store's revision when the test starts (R(n) = base +
// n): a fresh embedded store starts at 0, while an EtcdStore shares the revision counter of an
// etcd that other tests (in other key prefixes) have already advanced. A Factory must hand
// each test a store whose key space is empty and that nobody else writes meanwhile.
//
// Include in one source per test binary and instantiate there:
//   INSTANTIATE_TEST_SUITE_P(Mine, StoreTest, testing::Values(Factory{"Mine", MakeMine}),
//                            PrintFactory);
#pragma once

#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "store/watch.h"
#include "support/temp_dir.h"
#include "unit/store/store_wait.h"

namespace dove::store {

using test_support::TempDir;

struct Factory {
  std::string name;
  // A store over an empty key space; nullptr after ADD_FAILURE when it cannot be made.
  std::function<std::unique_ptr<Store>(const TempDir&)> make;
  bool starts_at_zero = true;  // a fresh store is at revision 0 with no compaction
};

inline void PrintTo(const Factory& factory, std::ostream* out) { *out << factory.name; }

inline std::string PrintFactory(const testing::TestParamInfo<Factory>& info) {
  return info.param.name;
}

class StoreTest : public testing::TestWithParam<Factory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make(dir_);
    ASSERT_NE(store_, nullptr);
    base_ = Revision();
  }
  void TearDown() override { store_.reset(); }

  Store& store() { return *store_; }
  int64_t Revision() { return store_->CurrentRevision().value(); }
  // The revision of the test's n-th write.
  int64_t R(int64_t n) const { return base_ + n; }
  TxnResponse Put(const std::string& key, const std::string& value) {
    return store_->Put(key, value).value();
  }
  std::vector<std::string> Keys(const std::string& prefix, size_t limit = 0) {
    std::vector<std::string> keys;
    auto range = store_->Range(prefix, limit);
    for (const KeyValue& kv : range.value().kvs) keys.push_back(kv.key);
    return keys;
  }

  // Polls the watch (waiting on its fd) until it delivered `count` events or 10 s passed.
  static std::vector<Event> PollEvents(Watch& watch, size_t count) {
    std::vector<Event> events;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (events.size() < count && std::chrono::steady_clock::now() < deadline) {
      pollfd p{watch.fd(), POLLIN, 0};
      if (poll(&p, 1, 100) != 1) continue;
      auto more = watch.Poll();
      if (!more) break;
      events.insert(events.end(), more->begin(), more->end());
    }
    return events;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  int64_t base_ = 0;
};

TEST_P(StoreTest, EmptyStoreHasNoKeysAndNoHistory) {
  if (GetParam().starts_at_zero) {
    EXPECT_EQ(Revision(), 0);
    EXPECT_EQ(store().CompactedRevision().value(), 0);
  }
  EXPECT_LE(store().CompactedRevision().value(), Revision());
  auto missing = store().Get("/a");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, StoreError::kNotFound);
  EXPECT_TRUE(store().Range("")->kvs.empty());
  EXPECT_TRUE(store().Changes("", R(0))->empty());
}

TEST_P(StoreTest, RevisionsFollowEtcd) {
  EXPECT_EQ(Put("/a", "1"), (TxnResponse{true, R(1)}));
  EXPECT_EQ(store().Get("/a").value(), (KeyValue{"/a", "1", R(1), R(1), 1}));
  EXPECT_EQ(Put("/b", "x"), (TxnResponse{true, R(2)}));
  EXPECT_EQ(Put("/a", "2"), (TxnResponse{true, R(3)}));
  EXPECT_EQ(store().Get("/a").value(), (KeyValue{"/a", "2", R(1), R(3), 2}));
  // The same value again is still a put: new revision, version 3.
  EXPECT_EQ(Put("/a", "2"), (TxnResponse{true, R(4)}));
  EXPECT_EQ(store().Get("/a").value(), (KeyValue{"/a", "2", R(1), R(4), 3}));
  EXPECT_EQ(store().Delete("/a").value(), (TxnResponse{true, R(5)}));
  EXPECT_EQ(store().Get("/a").error().code, StoreError::kNotFound);
  // Recreated: create_revision and version start over.
  EXPECT_EQ(Put("/a", ""), (TxnResponse{true, R(6)}));
  EXPECT_EQ(store().Get("/a").value(), (KeyValue{"/a", "", R(6), R(6), 1}));
  EXPECT_EQ(store().Get("/b").value(), (KeyValue{"/b", "x", R(2), R(2), 1}));
}

TEST_P(StoreTest, DeletingAnAbsentKeyChangesNothing) {
  Put("/a", "1");
  EXPECT_EQ(store().Delete("/zzz").value(), (TxnResponse{true, R(1)}));
  EXPECT_EQ(store().DeletePrefix("/q").value(), (TxnResponse{true, R(1)}));
  EXPECT_EQ(Revision(), R(1));
  EXPECT_EQ(store().Changes("", R(0))->size(), 1u);
}

TEST_P(StoreTest, RangeByPrefix) {
  for (const char* key : {"a", "a/1", "a/2", "ab", "b", "b/1"}) Put(key, key);
  Put(std::string("\xff\x01", 2), "ff1");
  Put(std::string("\xff\xff", 2), "ffff");
  Put(std::string("a\xff", 2), "aff");
  EXPECT_EQ(Keys("a"), (std::vector<std::string>{"a", "a/1", "a/2", "ab", "a\xff"}));
  EXPECT_EQ(Keys("a/"), (std::vector<std::string>{"a/1", "a/2"}));
  EXPECT_EQ(Keys("b"), (std::vector<std::string>{"b", "b/1"}));
  EXPECT_EQ(Keys("c"), (std::vector<std::string>{}));
  EXPECT_EQ(Keys(std::string("\xff", 1)),
            (std::vector<std::string>{std::string("\xff\x01", 2), std::string("\xff\xff", 2)}));
  EXPECT_EQ(Keys(std::string("\xff\xff", 2)), (std::vector<std::string>{"\xff\xff"}));
  EXPECT_EQ(Keys(std::string("a\xff", 2)), (std::vector<std::string>{"a\xff"}));
  EXPECT_EQ(Keys("").size(), 9u);
  EXPECT_EQ(Keys("").front(), "a");
  EXPECT_EQ(Keys("").back(), std::string("\xff\xff", 2));

  auto limited = store().Range("a", 2).value();
  EXPECT_EQ(limited.kvs.size(), 2u);
  EXPECT_TRUE(limited.more);
  EXPECT_EQ(limited.revision, R(9));
  auto exact = store().Range("b", 2).value();
  EXPECT_EQ(exact.kvs.size(), 2u);
  EXPECT_FALSE(exact.more);
}

// `from` starts a prefix's range at a key (the registry's load skips its bookkeeping keys).
TEST_P(StoreTest, RangeFromAKeyWithinThePrefix) {
  for (const char* key : {"a", "a/1", "a/2", "ab", "b", "b/1"}) Put(key, key);
  auto keys = [&](std::string_view prefix, std::string_view from, size_t limit = 0) {
    std::vector<std::string> out;
    auto range = store().Range(prefix, limit, from);
    EXPECT_TRUE(range) << range.error().Describe();
    if (range) {
      for (const auto& kv : range->kvs) out.push_back(kv.key);
    }
    return out;
  };
  EXPECT_EQ(keys("a", "a/2"), (std::vector<std::string>{"a/2", "ab"}));
  EXPECT_EQ(keys("a", "a/15"), (std::vector<std::string>{"a/2", "ab"}));  // not a key itself
  EXPECT_EQ(keys("a", ""), (std::vector<std::string>{"a", "a/1", "a/2", "ab"}));
  EXPECT_EQ(keys("a/", "a"), (std::vector<std::string>{"a/1", "a/2"}));  // before the prefix
  EXPECT_EQ(keys("a", "b"), (std::vector<std::string>{}));               // after it
  EXPECT_EQ(keys("", "ab"), (std::vector<std::string>{"ab", "b", "b/1"}));
  EXPECT_EQ(keys("a", "a/", 1), (std::vector<std::string>{"a/1"}));
  auto limited = store().Range("a", 2, "a/1").value();
  EXPECT_TRUE(limited.more);
  EXPECT_EQ(limited.revision, R(6));
}

TEST_P(StoreTest, DeletePrefixRemovesOnlyThePrefixInOneRevision) {
  for (const char* key : {"a", "a/1", "a/2", "b"}) Put(key, "v");
  EXPECT_EQ(store().DeletePrefix("a/").value(), (TxnResponse{true, R(5)}));
  EXPECT_EQ(Keys(""), (std::vector<std::string>{"a", "b"}));
  auto events = store().Changes("", R(5)).value();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], (Event{Event::kDelete, KeyValue{"a/1", "", 0, R(5), 0}}));
  EXPECT_EQ(events[1], (Event{Event::kDelete, KeyValue{"a/2", "", 0, R(5), 0}}));
  EXPECT_EQ(store().DeletePrefix("").value(), (TxnResponse{true, R(6)}));
  EXPECT_TRUE(Keys("").empty());
}

struct CompareCase {
  const char* what;
  Compare compare;
  bool holds;
};

TEST_P(StoreTest, CompareEveryTargetAndOp) {
  Put("/k", "m");     // rev 1
  Put("/other", "");  // rev 2
  Put("/k", "m");     // rev 3: /k create 1, mod 3, version 2, value "m"
  using C = Compare;
  const CompareCase cases[] = {
      {"value ==", C::Value("/k", C::kEqual, "m"), true},
      {"value == other", C::Value("/k", C::kEqual, "n"), false},
      {"value !=", C::Value("/k", C::kNotEqual, "n"), true},
      {"value <", C::Value("/k", C::kLess, "n"), true},
      {"value < self", C::Value("/k", C::kLess, "m"), false},
      {"value >", C::Value("/k", C::kGreater, "l"), true},
      {"value > longer", C::Value("/k", C::kGreater, "ma"), false},
      {"value of absent key never holds", C::Value("/absent", C::kEqual, ""), false},
      {"value != of absent key never holds", C::Value("/absent", C::kNotEqual, "x"), false},
      {"version ==", C::Version("/k", C::kEqual, 2), true},
      {"version !=", C::Version("/k", C::kNotEqual, 2), false},
      {"version <", C::Version("/k", C::kLess, 3), true},
      {"version >", C::Version("/k", C::kGreater, 2), false},
      {"absent version is 0", C::Version("/absent", C::kEqual, 0), true},
      {"create ==", C::CreateRevision("/k", C::kEqual, R(1)), true},
      {"create >", C::CreateRevision("/k", C::kGreater, R(1)), false},
      {"create <", C::CreateRevision("/k", C::kLess, R(2)), true},
      {"absent create is 0", C::CreateRevision("/absent", C::kEqual, 0), true},
      {"mod ==", C::ModRevision("/k", C::kEqual, R(3)), true},
      {"mod == old", C::ModRevision("/k", C::kEqual, R(1)), false},
      {"mod >", C::ModRevision("/k", C::kGreater, R(2)), true},
      {"mod !=", C::ModRevision("/k", C::kNotEqual, R(3)), false},
      {"absent mod is 0", C::ModRevision("/absent", C::kLess, 1), true},
  };
  for (const CompareCase& test : cases) {
    SCOPED_TRACE(test.what);
    TxnRequest request;
    request.compares.push_back(test.compare);
    auto response = store().Txn(request).value();
    EXPECT_EQ(response.succeeded, test.holds);
    EXPECT_EQ(response.revision, R(3));  // no ops: nothing changes
  }
  EXPECT_EQ(Revision(), R(3));
}

TEST_P(StoreTest, TxnRunsOneBranchAtomically) {
  Put("/lock", "owner-a");  // rev 1
  TxnRequest request;
  request.compares = {Compare::Value("/lock", Compare::kEqual, "owner-a"),
                      Compare::Version("/lock", Compare::kEqual, 1)};
  request.success = {Op::Put("/s1", "1"), Op::Put("/s2", "2"), Op::Delete("/lock")};
  request.failure = {Op::Put("/f", "1")};
  EXPECT_EQ(store().Txn(request).value(), (TxnResponse{true, R(2)}));
  EXPECT_EQ(store().Get("/s1")->mod_revision, R(2));
  EXPECT_EQ(store().Get("/s2")->mod_revision, R(2));
  EXPECT_EQ(store().Get("/lock").error().code, StoreError::kNotFound);
  EXPECT_EQ(store().Get("/f").error().code, StoreError::kNotFound);
  // Again: the lock is gone, so the failure branch runs.
  EXPECT_EQ(store().Txn(request).value(), (TxnResponse{false, R(3)}));
  EXPECT_EQ(store().Get("/f").value(), (KeyValue{"/f", "1", R(3), R(3), 1}));
  auto events = store().Changes("", R(2)).value();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0], (Event{Event::kPut, KeyValue{"/s1", "1", R(2), R(2), 1}}));
  EXPECT_EQ(events[1], (Event{Event::kPut, KeyValue{"/s2", "2", R(2), R(2), 1}}));
  EXPECT_EQ(events[2], (Event{Event::kDelete, KeyValue{"/lock", "", 0, R(2), 0}}));
  EXPECT_EQ(events[3], (Event{Event::kPut, KeyValue{"/f", "1", R(3), R(3), 1}}));
}

TEST_P(StoreTest, FailedCompareWithEmptyFailureBranchKeepsTheRevision) {
  Put("/a", "1");
  TxnRequest request;
  request.compares = {Compare::Value("/a", Compare::kEqual, "2")};
  request.success = {Op::Put("/a", "3")};
  EXPECT_EQ(store().Txn(request).value(), (TxnResponse{false, R(1)}));
  EXPECT_EQ(store().Txn(TxnRequest{}).value(), (TxnResponse{true, R(1)}));
  EXPECT_EQ(Revision(), R(1));
  EXPECT_EQ(store().Get("/a")->value, "1");
}

TEST_P(StoreTest, PutIfAbsentAndCompareAndPut) {
  EXPECT_EQ(store().PutIfAbsent("/p", "first").value(), (TxnResponse{true, R(1)}));
  EXPECT_EQ(store().PutIfAbsent("/p", "second").value(), (TxnResponse{false, R(1)}));
  EXPECT_EQ(store().Get("/p")->value, "first");
  EXPECT_EQ(store().CompareAndPut("/p", R(1), "third").value(), (TxnResponse{true, R(2)}));
  EXPECT_EQ(store().CompareAndPut("/p", R(1), "stale").value(), (TxnResponse{false, R(2)}));
  EXPECT_EQ(store().CompareAndPut("/new", 0, "x").value(), (TxnResponse{true, R(3)}));
  EXPECT_EQ(store().Get("/p").value(), (KeyValue{"/p", "third", R(1), R(2), 2}));
}

TEST_P(StoreTest, InvalidArgumentsChangeNothing) {
  Put("/a", "1");
  const std::string big_key(kMaxKeySize + 1, 'k');
  const std::string max_key(kMaxKeySize, 'k');
  const std::string big_value(kMaxValueSize + 1, 'v');
  const std::string max_value(kMaxValueSize, 'v');
  auto expect_invalid = [&](const TxnRequest& request, const char* what) {
    SCOPED_TRACE(what);
    auto response = store().Txn(request);
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, StoreError::kInvalidArgument);
    EXPECT_FALSE(response.error().Describe().empty());
  };
  // Each carries a valid put first, to show that nothing of the txn is applied.
  expect_invalid({{}, {Op::Put("/ok", "1"), Op::Put("", "v")}, {}}, "empty key");
  expect_invalid({{}, {Op::Put("/ok", "1"), Op::Put(big_key, "v")}, {}}, "key too long");
  expect_invalid({{}, {Op::Put("/ok", "1"), Op::Put("/v", big_value)}, {}}, "value too long");
  expect_invalid({{}, {Op::Put("/ok", "1"), Op::Delete("")}, {}}, "empty delete");
  expect_invalid({{}, {Op::Put("/ok", "1"), Op::Put("/ok", "2")}, {}}, "same key twice");
  expect_invalid({{}, {Op::Put("/ok", "1"), Op::DeletePrefix("/")}, {}}, "put inside deleted");
  expect_invalid({{}, {}, {Op::Put("/ok", "1"), Op::Delete("/ok")}}, "failure branch checked");
  expect_invalid({{Compare::Version("", Compare::kEqual, 0)}, {Op::Put("/ok", "1")}, {}},
                 "empty compare key");
  EXPECT_EQ(store().Get("").error().code, StoreError::kInvalidArgument);
  EXPECT_EQ(store().Get(big_key).error().code, StoreError::kInvalidArgument);
  EXPECT_EQ(Revision(), R(1));
  EXPECT_EQ(Keys(""), (std::vector<std::string>{"/a"}));
  // The limits themselves are allowed.
  EXPECT_EQ(Put(max_key, max_value), (TxnResponse{true, R(2)}));
  EXPECT_EQ(store().Get(max_key)->value.size(), kMaxValueSize);
}

TEST_P(StoreTest, ChangesFromARevision) {
  Put("/a", "1");                     // 1
  Put("/b", "1");                     // 2
  Put("/a", "2");                     // 3
  ASSERT_TRUE(store().Delete("/b"));  // 4
  auto all = store().Changes("", R(0)).value();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0], (Event{Event::kPut, KeyValue{"/a", "1", R(1), R(1), 1}}));
  EXPECT_EQ(all[2], (Event{Event::kPut, KeyValue{"/a", "2", R(1), R(3), 2}}));
  EXPECT_EQ(all[3], (Event{Event::kDelete, KeyValue{"/b", "", 0, R(4), 0}}));
  EXPECT_EQ(store().Changes("", R(1))->size(), 4u);
  EXPECT_EQ(store().Changes("", R(3))->size(), 2u);
  auto current = store().Changes("", R(4)).value();  // exactly the current revision
  ASSERT_EQ(current.size(), 1u);
  EXPECT_EQ(current[0].kv.mod_revision, R(4));
  EXPECT_TRUE(store().Changes("", R(5))->empty());  // the future: nothing yet
  EXPECT_TRUE(store().Changes("", R(100))->empty());
  EXPECT_EQ(store().Changes("", -1).error().code, StoreError::kInvalidArgument);
  EXPECT_EQ(store().StartWatch("", -1).error().code, StoreError::kInvalidArgument);
  auto only_a = store().Changes("/a", R(0)).value();
  ASSERT_EQ(only_a.size(), 2u);
  EXPECT_EQ(only_a[1].kv.mod_revision, R(3));
}

TEST_P(StoreTest, CompactionDropsHistoryBeforeTheRevision) {
  for (int i = 0; i < 5; ++i) Put("/k" + std::to_string(i), "v");  // revisions 1..5
  ASSERT_TRUE(store().Compact(R(3)));
  EXPECT_EQ(store().CompactedRevision().value(), R(3));
  auto before = store().Changes("", R(2));
  ASSERT_FALSE(before);
  EXPECT_EQ(before.error().code, StoreError::kCompacted);
  EXPECT_EQ(store().Changes("", 0).error().code, StoreError::kCompacted);
  auto from = store().Changes("", R(3)).value();
  ASSERT_EQ(from.size(), 3u);
  EXPECT_EQ(from[0].kv.mod_revision, R(3));
  // The keys themselves stay.
  EXPECT_EQ(Keys("").size(), 5u);
  // Older or equal compaction: nothing to do; future or zero: invalid.
  EXPECT_TRUE(store().Compact(R(2)));
  EXPECT_EQ(store().CompactedRevision().value(), R(3));
  EXPECT_EQ(store().Compact(R(6)).error().code, StoreError::kInvalidArgument);
  EXPECT_EQ(store().Compact(0).error().code, StoreError::kInvalidArgument);
  ASSERT_TRUE(store().Compact(R(5)));
  EXPECT_EQ(store().Changes("", R(4)).error().code, StoreError::kCompacted);
  EXPECT_EQ(store().Changes("", R(5))->size(), 1u);
}

inline bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

// Leases. A lease that was never granted: etcd makes ids from its member id and the time, so
// this one is not going to be real.
inline constexpr int64_t kNeverGranted = 0x7eadbeefcafe1234;

TEST_P(StoreTest, LeaseGrantChecksItsTtl) {
  for (int64_t ttl :
       {int64_t{0}, int64_t{-1}, kMaxLeaseTtlSeconds + 1, std::numeric_limits<int64_t>::min()}) {
    SCOPED_TRACE(ttl);
    auto grant = store().GrantLease(ttl);
    ASSERT_FALSE(grant);
    EXPECT_EQ(grant.error().code, StoreError::kInvalidArgument);
  }
  auto first = store().GrantLease(5).value();
  auto second = store().GrantLease(5).value();
  EXPECT_GT(first.id, 0);
  EXPECT_GT(second.id, 0);
  EXPECT_NE(first.id, second.id);
  EXPECT_GE(first.ttl_seconds, 5);
  auto longest = store().GrantLease(kMaxLeaseTtlSeconds).value();
  EXPECT_EQ(longest.ttl_seconds, kMaxLeaseTtlSeconds);
  EXPECT_EQ(store().KeepAliveLease(longest.id).value(), kMaxLeaseTtlSeconds);
  for (const LeaseGrant& lease : {first, second, longest}) {
    EXPECT_TRUE(store().RevokeLease(lease.id));
  }
  EXPECT_EQ(Revision(), R(0));  // leases without keys change no revision
}

TEST_P(StoreTest, LeaseRevokeDeletesItsKeysInOneRevision) {
  const int64_t lease = store().GrantLease(60).value().id;
  auto watch = store().StartWatch("/l/", R(1)).value();
  TxnRequest request;
  request.success = {Op::Put("/l/a", "1", lease), Op::Put("/l/b", "2", lease)};
  EXPECT_EQ(store().Txn(request).value(), (TxnResponse{true, R(1)}));
  Put("/l/c", "3");  // 2: no lease
  EXPECT_EQ(store().Get("/l/a").value(), (KeyValue{"/l/a", "1", R(1), R(1), 1, lease}));
  EXPECT_EQ(store().Get("/l/c")->lease, 0);
  ASSERT_TRUE(store().RevokeLease(lease));
  EXPECT_EQ(Revision(), R(3));
  EXPECT_EQ(Keys("/l/"), (std::vector<std::string>{"/l/c"}));
  const std::vector<Event> expected = {
      Event{Event::kPut, KeyValue{"/l/a", "1", R(1), R(1), 1, lease}},
      Event{Event::kPut, KeyValue{"/l/b", "2", R(1), R(1), 1, lease}},
      Event{Event::kPut, KeyValue{"/l/c", "3", R(2), R(2), 1, 0}},
      Event{Event::kDelete, KeyValue{"/l/a", "", 0, R(3), 0}},
      Event{Event::kDelete, KeyValue{"/l/b", "", 0, R(3), 0}},
  };
  // etcd: the revoke's deletes reach this store through its watch stream, like other writers'.
  EXPECT_EQ(PollEvents(*watch, expected.size()), expected);
  EXPECT_EQ(store().Changes("/l/", R(1)).value(), expected);
  EXPECT_EQ(store().RevokeLease(lease).error().code, StoreError::kNotFound);
  EXPECT_EQ(store().KeepAliveLease(lease).error().code, StoreError::kNotFound);
  EXPECT_EQ(Revision(), R(3));
}

TEST_P(StoreTest, LeaseUnknownIsNotFoundAndChangesNothing) {
  Put("/a", "1");
  EXPECT_EQ(store().RevokeLease(kNeverGranted).error().code, StoreError::kNotFound);
  EXPECT_EQ(store().KeepAliveLease(kNeverGranted).error().code, StoreError::kNotFound);
  TxnRequest request;
  request.success = {Op::Put("/b", "1"), Op::Put("/c", "1", kNeverGranted)};
  auto unknown = store().Txn(request);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, StoreError::kNotFound);
  // A revoked lease is as unknown.
  const int64_t revoked = store().GrantLease(60).value().id;
  ASSERT_TRUE(store().RevokeLease(revoked));
  request.success = {Op::Put("/b", "1"), Op::Put("/c", "1", revoked)};
  auto gone = store().Txn(request);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, StoreError::kNotFound);
  EXPECT_EQ(Revision(), R(1));
  EXPECT_EQ(Keys(""), (std::vector<std::string>{"/a"}));
}

TEST_P(StoreTest, LeasePutWithoutItDetachesTheKey) {
  const int64_t lease = store().GrantLease(60).value().id;
  TxnRequest request;
  request.success = {Op::Put("/a", "1", lease), Op::Put("/b", "1", lease)};
  ASSERT_TRUE(store().Txn(request));  // 1
  Put("/a", "2");                     // 2: no lease any more
  EXPECT_EQ(store().Get("/a").value(), (KeyValue{"/a", "2", R(1), R(2), 2, 0}));
  request.success = {Op::Put("/b", "2", lease)};
  ASSERT_TRUE(store().Txn(request));  // 3: the same lease again
  EXPECT_EQ(store().Get("/b")->lease, lease);
  ASSERT_TRUE(store().RevokeLease(lease));  // 4
  EXPECT_EQ(Keys(""), (std::vector<std::string>{"/a"}));
  EXPECT_EQ(Revision(), R(4));
}

TEST_P(StoreTest, LeaseExpiresWithoutKeepAlive) {
  const auto start = std::chrono::steady_clock::now();
  const LeaseGrant keyless = store().GrantLease(1).value();
  const LeaseGrant lease = store().GrantLease(1).value();  // etcd raises it to its minimum
  TxnRequest request;
  request.success = {Op::Put("/e/a", "1", lease.id), Op::Put("/e/b", "1", lease.id)};
  ASSERT_TRUE(store().Txn(request));  // 1
  auto watch = store().StartWatch("/e/", R(2)).value();
  EXPECT_TRUE(watch->Poll()->empty());
  EXPECT_EQ(store().Get("/e/a")->lease, lease.id);
  // An embedded store expires a lease when called after its deadline: ExpireLeases is the only
  // call here, so the watch wakes from it (etcd expires leases by itself).
  const auto deadline = start + std::chrono::seconds(lease.ttl_seconds + 10);
  while (!Readable(watch->fd()) && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(store().ExpireLeases());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::seconds(lease.ttl_seconds));
  EXPECT_TRUE(WaitUntilGone(store(), "/e/a", std::chrono::seconds(10)));
  EXPECT_TRUE(Keys("/e/").empty());
  const std::vector<Event> expected = {
      Event{Event::kDelete, KeyValue{"/e/a", "", 0, R(2), 0}},
      Event{Event::kDelete, KeyValue{"/e/b", "", 0, R(2), 0}},
  };
  EXPECT_EQ(PollEvents(*watch, expected.size()), expected);
  EXPECT_EQ(store().Changes("/e/", R(2)).value(), expected);
  EXPECT_EQ(store().KeepAliveLease(lease.id).error().code, StoreError::kNotFound);
  // The keyless lease (due first) expired too, and added no revision.
  EXPECT_EQ(store().KeepAliveLease(keyless.id).error().code, StoreError::kNotFound);
  EXPECT_EQ(Revision(), R(2));
}

TEST_P(StoreTest, LeaseKeepAliveKeepsItsKeys) {
  const auto start = std::chrono::steady_clock::now();
  const LeaseGrant lease = store().GrantLease(2).value();
  TxnRequest request;
  request.success = {Op::Put("/k", "1", lease.id)};
  ASSERT_TRUE(store().Txn(request));  // 1
  const auto ttl = std::chrono::seconds(lease.ttl_seconds);
  // Renewed every tenth of its TTL: past two TTLs, the key is still there.
  while (std::chrono::steady_clock::now() - start < 2 * ttl + std::chrono::milliseconds(500)) {
    ASSERT_EQ(store().KeepAliveLease(lease.id).value(), lease.ttl_seconds);
    std::this_thread::sleep_for(ttl / 10);
  }
  EXPECT_EQ(store().Get("/k").value(), (KeyValue{"/k", "1", R(1), R(1), 1, lease.id}));
  EXPECT_EQ(Revision(), R(1));
  EXPECT_TRUE(store().RevokeLease(lease.id));
}

TEST_P(StoreTest, WatchSignalsItsFdAndDeliversInOrder) {
  Put("/w/a", "1");  // 1
  Put("/x", "1");    // 2
  auto watch = store().StartWatch("/w/", R(1)).value();
  EXPECT_TRUE(Readable(watch->fd()));  // history from revision 1 is pending
  auto first = watch->Poll().value();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].kv.key, "/w/a");
  EXPECT_FALSE(Readable(watch->fd()));
  EXPECT_EQ(watch->next_revision(), R(2));

  Put("/x", "2");  // 3: outside the prefix, no wake-up
  EXPECT_FALSE(Readable(watch->fd()));
  Put("/w/b", "1");                     // 4
  ASSERT_TRUE(store().Delete("/w/a"));  // 5
  EXPECT_TRUE(Readable(watch->fd()));
  auto next = watch->Poll().value();
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0], (Event{Event::kPut, KeyValue{"/w/b", "1", R(4), R(4), 1}}));
  EXPECT_EQ(next[1], (Event{Event::kDelete, KeyValue{"/w/a", "", 0, R(5), 0}}));
  EXPECT_TRUE(watch->Poll()->empty());
  EXPECT_EQ(watch->next_revision(), R(6));
}

TEST_P(StoreTest, WatchFromCurrentAndFutureRevisions) {
  Put("/a", "1");  // 1
  auto at_current = store().StartWatch("", R(1)).value();
  auto in_future = store().StartWatch("", R(3)).value();
  EXPECT_EQ(at_current->Poll()->size(), 1u);
  EXPECT_TRUE(in_future->Poll()->empty());
  Put("/a", "2");  // 2
  EXPECT_EQ(at_current->Poll()->size(), 1u);
  EXPECT_TRUE(in_future->Poll()->empty());
  Put("/a", "3");  // 3
  auto events = in_future->Poll().value();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.mod_revision, R(3));
}

TEST_P(StoreTest, WatchBehindCompactionAndAfterClose) {
  Put("/a", "1");
  Put("/a", "2");
  auto watch = store().StartWatch("", R(1)).value();
  ASSERT_TRUE(store().Compact(R(2)));
  auto compacted = watch->Poll();
  ASSERT_FALSE(compacted);
  EXPECT_EQ(compacted.error().code, StoreError::kCompacted);
  EXPECT_TRUE(Readable(watch->fd()));  // stays readable until the owner drops it
  auto live = store().StartWatch("", R(3)).value();
  store_.reset();  // the watch may outlive its store
  EXPECT_TRUE(Readable(live->fd()));
  EXPECT_EQ(live->Poll().error().code, StoreError::kClosed);
}

TEST_P(StoreTest, CloseMakesEveryCallFail) {
  Put("/a", "1");
  store().Close();
  EXPECT_EQ(store().Get("/a").error().code, StoreError::kClosed);
  EXPECT_EQ(store().Put("/a", "2").error().code, StoreError::kClosed);
  EXPECT_EQ(store().CurrentRevision().error().code, StoreError::kClosed);
  EXPECT_EQ(store().Changes("", 0).error().code, StoreError::kClosed);
  store().Close();  // idempotent
}

TEST_P(StoreTest, ConcurrentWritersGetUniqueDenseRevisions) {
  constexpr int kThreads = 4;
  constexpr int kPutsEach = 50;
  std::vector<std::vector<int64_t>> revisions(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPutsEach; ++i) {
        auto response = store().Put("/t" + std::to_string(t) + "/" + std::to_string(i), "v");
        revisions[t].push_back(response ? response->revision : -1);
        // Readers race the writers too.
        [[maybe_unused]] auto range = store().Range("/t");
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<int64_t> all;
  for (const auto& list : revisions) {
    // Each thread's own revisions increase.
    for (size_t i = 1; i < list.size(); ++i) EXPECT_LT(list[i - 1], list[i]);
    all.insert(all.end(), list.begin(), list.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPutsEach));
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], R(static_cast<int64_t>(i) + 1));
  EXPECT_EQ(Revision(), R(kThreads * kPutsEach));
  EXPECT_EQ(Keys("").size(), static_cast<size_t>(kThreads * kPutsEach));
  EXPECT_EQ(store().Changes("", R(1))->size(), static_cast<size_t>(kThreads * kPutsEach));
}

}  // namespace dove::store
