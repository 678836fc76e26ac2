// Fuzzes the index cache's reader (ParseIndexSnapshot, controller/index_snapshot.h): whatever
// it accepts has records of a known kind, each at a revision in 1..the file's revision, and the
// identity it was asked for; anything else is refused as kUnusable, never kMissing.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "controller/index_snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dove::controller::SnapshotError;
  using dove::controller::SnapshotKind;
  using dove::controller::SnapshotRecord;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  int64_t highest = 0;
  auto parsed = dove::controller::ParseIndexSnapshot(
      bytes, "etcd cluster 1 key prefix /dove/", [&](const SnapshotRecord& record) {
        if (record.kind < SnapshotKind::kDomain || record.kind > SnapshotKind::kPolicy) {
          std::abort();
        }
        if (record.mod_revision < 1) std::abort();
        if (record.mod_revision > highest) highest = record.mod_revision;
        return dove::Expected<void, std::string>();
      });
  if (parsed) {
    if (*parsed < 1 || highest > *parsed) std::abort();
  } else if (parsed.error().code != SnapshotError::kUnusable || parsed.error().message.empty()) {
    std::abort();
  }
  return 0;
}
