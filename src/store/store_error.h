// StoreError: why a store operation did not happen.
//
// Every Store method returns Expected<T, StoreError>. `code` is what a caller branches on;
// `message` names the specifics (path, key size, SQLite's own words) for a log line.
// Describe() gives both as a sentence a person understands.
//
//   auto changes = store.Changes("/vnets/", from);
//   if (!changes && changes.error().code == StoreError::kCompacted) TakeFullSnapshot();
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dove::store {

struct StoreError {
  enum Code : uint8_t {
    kCompacted,          // the revision asked for is older than the compacted history
    kNotFound,           // Get of a key that does not exist
    kIo,                 // the disk or database failed (message says how); nothing was acknowledged
    kCorrupt,            // the database file is damaged or is not a DOVE store
    kInvalidArgument,    // empty or oversized key/value, duplicate keys in a txn, bad revision
    kClosed,             // the store was closed (or the watch outlived it)
    kLocked,             // another process (controller) holds the data directory
    kUnsupportedSchema,  // the data directory was written by a newer DOVE
    kUnavailable,        // a remote store (etcd) is unreachable, has no leader or timed out;
                         // the operation may or may not have happened
    kAccessDenied,       // a remote store (etcd) refused the credentials, their absence, or
                         // the user's permissions; nothing was done
  };

  Code code;
  std::string message;

  // "the requested history has been compacted; read a full snapshot and watch from its
  // revision (revision 4 is before the compacted revision 9)"
  std::string Describe() const;
};

// Stable lower-case name of a code ("compacted", "not_found", ...) for logs and metrics.
std::string_view StoreErrorName(StoreError::Code code);

}  // namespace dove::store
