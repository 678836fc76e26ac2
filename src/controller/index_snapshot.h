// The registry's objects at one store revision, in a local file (the "index cache"), so that a
// controller on etcd restarts by reading this file and then only what etcd changed since
// (Registry::Open), instead of reading every object from etcd: three replicas restarting
// together read 3 x 100,000 objects from etcd, ~2.4 s of etcd's CPU, where the file is
// decoded in ~0.6 s. The file is a cache, never the truth: it names the store it was taken
// from (`identity`: etcd's cluster id and key prefix), and whatever does not match, does not
// parse, or is too old for the store's history is set aside and the store read whole.
//
// File format, version 1; every integer a protobuf varint (but the hash: 8 bytes, little
// endian), every string a varint length and its bytes:
//   "DOVE-INDEX-SNAPSHOT\n"  format version (1)  identity  revision
//   records: kind (1..6, SnapshotKind)  mod_revision  object (its protobuf encoding)
//   end: kind 0  the number of records  the FNV-1a 64-bit hash of the header and the records
// (the hash covers the identity's bytes, the revision as 8 little-endian bytes, then each
// record's kind byte, its mod_revision as 8 little-endian bytes and the object's bytes, in
// order). Nothing may follow the end.
//
// Writing goes to FILE.tmp, which Commit() fsyncs, renames over FILE and makes durable with
// an fsync of the directory: a reader finds the previous file or the whole new one, never a
// part. Memory: both sides stream (64 KiB buffers); nothing holds the whole file.
//
// CacheDirLock: one controller per directory (an exclusive flock on DIR/lock, held while the
// object lives), as two replicas writing one file would each load the other's.
//
//   auto lock = CacheDirLock::Acquire(dir);  // "... is locked by another process"
//   auto writer = IndexSnapshotWriter::Create(dir / "index", "etcd cluster 1f prefix /dove/", 42);
//   writer->Add(SnapshotKind::kEndpoint, 40, endpoint.SerializeAsString());
//   writer->Commit();
//   auto revision = ReadIndexSnapshot(dir / "index", identity, [&](const SnapshotRecord& r) {
//     return Decode(r);  // Expected<void, std::string>: an error stops the read
//   });
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/expected.h"

namespace dove::controller {

enum class SnapshotKind : uint8_t {
  kDomain = 1,
  kNetwork = 2,
  kSubnet = 3,
  kEndpoint = 4,
  kSwitch = 5,
  kPolicy = 6,
};

struct SnapshotRecord {
  SnapshotKind kind;
  int64_t mod_revision;
  std::string_view object;  // valid during the visit only
};

class IndexSnapshotWriter {
 public:
  // Creates FILE.tmp (replacing a leftover one). Errors name the path and errno's words.
  static Expected<std::unique_ptr<IndexSnapshotWriter>, std::string> Create(
      const std::filesystem::path& file, std::string_view identity, int64_t revision);
  // Removes FILE.tmp unless committed.
  ~IndexSnapshotWriter();
  IndexSnapshotWriter(const IndexSnapshotWriter&) = delete;
  IndexSnapshotWriter& operator=(const IndexSnapshotWriter&) = delete;

  void Add(SnapshotKind kind, int64_t mod_revision, std::string_view object);
  // Writes the end record, fsyncs, renames over FILE, fsyncs the directory. An error (a
  // failed write anywhere before, a full disk) leaves FILE as it was.
  Expected<void, std::string> Commit();
  // The bytes written so far (after Commit: the file's size).
  uint64_t bytes() const;

 private:
  struct State;
  explicit IndexSnapshotWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Why a snapshot was not read: kMissing (no file: nothing to say) or kUnusable (the message
// says why: another store, another format, truncated, a hash mismatch, a record `visit`
// refused).
struct SnapshotError {
  enum Code : uint8_t { kMissing, kUnusable };
  Code code;
  std::string message;
};

// Reads FILE written for `identity`, calling `visit` for every record in file order; its
// revision. Every check (magic, version, identity, record kinds, count, hash, nothing after
// the end) is made; records visited before a failure must be discarded by the caller.
Expected<int64_t, SnapshotError> ReadIndexSnapshot(
    const std::filesystem::path& file, std::string_view identity,
    const std::function<Expected<void, std::string>(const SnapshotRecord&)>& visit);

// The same checks over a snapshot held in memory (the fuzz target's entry).
Expected<int64_t, SnapshotError> ParseIndexSnapshot(
    std::string_view bytes, std::string_view identity,
    const std::function<Expected<void, std::string>(const SnapshotRecord&)>& visit);

class CacheDirLock {
 public:
  // Creates `dir` if missing and takes its lock; an error names the directory and why.
  static Expected<std::unique_ptr<CacheDirLock>, std::string> Acquire(
      const std::filesystem::path& dir);
  ~CacheDirLock();
  CacheDirLock(const CacheDirLock&) = delete;
  CacheDirLock& operator=(const CacheDirLock&) = delete;

 private:
  explicit CacheDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace dove::controller
