// ChangeHistory: what changed in the store, by revision, in the terms a Hello's catch-up needs
// (Directory::CatchUp): which endpoints, which switches (by name), whether any policy, which
// networks were deleted. The Directory notes every event its store watch delivers, and once, at
// a controller's start, the store's own recent history (Directory::BackfillHistory), so a
// reconnect storm's Hellos are answered from memory instead of each reading the store's history
// (every event with its value, under the lock that serialises the Directory).
//
// Complete from from() on: every change with a revision >= from() that the watch delivered is
// noted. Notes are kept in revision order; the oldest go when there are more than `max_notes`
// (from() moves past them), or on TrimBefore (the store's own compaction).
//
// Not thread-safe (the Directory's caller serialises it).
//
//   ChangeHistory history(100000);
//   history.Start(42);  // the watch delivers from revision 42 on
//   history.Note(43, ChangeHistory::Kind::kEndpoint, "e1");
//   auto since = history.After(41);  // {endpoints: {e1}}; nullopt for After(40): incomplete
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dove::controller::southbound {

class ChangeHistory {
 public:
  enum class Kind : uint8_t { kEndpoint, kSwitch, kPolicy, kNetworkRemoved };

  // What changed after a revision.
  struct Changes {
    std::set<std::string> endpoints;  // ids, put or deleted
    std::set<std::string> switches;   // names, put or deleted
    std::vector<std::string> removed_networks;
    bool policies = false;
  };

  explicit ChangeHistory(size_t max_notes) : max_notes_(max_notes) {}

  // Forgets every note: complete from `revision` on (the first one the watch delivers).
  void Start(int64_t revision);
  bool started() const { return from_ > 0; }
  // The first revision the notes are complete from (0: not started).
  int64_t from() const { return from_; }
  // The highest revision noted, or from() - 1 when none was.
  int64_t last() const { return last_; }
  size_t size() const { return notes_.size(); }

  // A change at `revision` (>= last(); older ones are ignored).
  void Note(int64_t revision, Kind kind, std::string id);
  // Every change up to `revision` was delivered (the notes are complete up to it, also when
  // the last changes were of kinds that make no note).
  void Reached(int64_t revision);
  // Older changes (ascending revisions, all below from()), complete from `revision` on:
  // placed before the notes held, and from() becomes `revision`. Ignored unless
  // `revision` <= from() and the notes fit below it.
  struct Older {
    int64_t revision;
    Kind kind;
    std::string id;
  };
  void Prepend(int64_t revision, std::vector<Older> older);
  // Drops the notes below `revision` (from() becomes at least `revision`).
  void TrimBefore(int64_t revision);

  // Everything noted after `revision`; nullopt when the notes do not reach back to it
  // (`revision` + 1 < from(), or not started): the caller reads the store or sends a snapshot.
  std::optional<Changes> After(int64_t revision) const;

 private:
  struct Entry {
    int64_t revision;
    Kind kind;
    std::string id;
  };
  void DropOldest();

  size_t max_notes_;
  std::deque<Entry> notes_;
  int64_t from_ = 0;
  int64_t last_ = -1;
};

}  // namespace dove::controller::southbound
