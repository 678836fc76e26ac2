// StoreError: the sentence a person reads and the stable names logs and metrics use.
#include "store/store_error.h"

#include <gtest/gtest.h>

namespace dove::store {
namespace {

TEST(StoreErrorTest, DescribeIsASentenceWithTheDetails) {
  EXPECT_EQ((StoreError{StoreError::kCompacted, "revision 4 is before the compacted revision 9"})
                .Describe(),
            "the requested history has been compacted; read a full snapshot and watch from its "
            "revision (revision 4 is before the compacted revision 9)");
  EXPECT_EQ(
      (StoreError{StoreError::kLocked, "/var/lib/dove/dove.lock is locked by another process"})
          .Describe(),
      "the data directory is in use by another controller (/var/lib/dove/dove.lock is "
      "locked by another process)");
  EXPECT_EQ((StoreError{StoreError::kClosed, ""}).Describe(), "the store is closed");
  EXPECT_EQ((StoreError{StoreError::kAccessDenied,
                        "etcd at http://e:2379: Txn: etcdserver: "
                        "permission denied"})
                .Describe(),
            "the store's server refused this controller's credentials or permissions (etcd at "
            "http://e:2379: Txn: etcdserver: permission denied)");
}

TEST(StoreErrorTest, EveryCodeHasItsOwnName) {
  EXPECT_EQ(StoreErrorName(StoreError::kCompacted), "compacted");
  EXPECT_EQ(StoreErrorName(StoreError::kNotFound), "not_found");
  EXPECT_EQ(StoreErrorName(StoreError::kIo), "io");
  EXPECT_EQ(StoreErrorName(StoreError::kCorrupt), "corrupt");
  EXPECT_EQ(StoreErrorName(StoreError::kInvalidArgument), "invalid_argument");
  EXPECT_EQ(StoreErrorName(StoreError::kClosed), "closed");
  EXPECT_EQ(StoreErrorName(StoreError::kLocked), "locked");
  EXPECT_EQ(StoreErrorName(StoreError::kUnsupportedSchema), "unsupported_schema");
  EXPECT_EQ(StoreErrorName(StoreError::kUnavailable), "unavailable");
  EXPECT_EQ(StoreErrorName(StoreError::kAccessDenied), "access_denied");
}

}  // namespace
}  // namespace dove::store
