// The Store contract (store_conformance.h) on the embedded stores: MemoryStore and SqliteStore
// must give the same answers, with etcd's revision semantics. tests/etcd/ runs the same cases
// on a real etcd.
#include "unit/store/store_conformance.h"

#include "store/memory_store.h"
#include "store/sqlite_store.h"

namespace dove::store {
namespace {

std::unique_ptr<Store> MakeMemory(const TempDir& /*dir*/) {
  return std::make_unique<MemoryStore>();
}

std::unique_ptr<Store> MakeSqlite(const TempDir& dir) {
  auto store = SqliteStore::Open(dir.path() / "data");
  if (!store) {
    ADD_FAILURE() << store.error().Describe();
    return nullptr;
  }
  return std::move(*store);
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreTest,
                         testing::Values(Factory{"Memory", MakeMemory},
                                         Factory{"Sqlite", MakeSqlite}),
                         PrintFactory);

}  // namespace
}  // namespace dove::store
