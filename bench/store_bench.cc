// Puts per second: SqliteStore (WAL, synchronous=FULL: one fsync per acknowledged txn)
// against MemoryStore, the in-process reference, with one put per txn and 100 per txn.
//
//   build/bench/store_bench [--benchmark_min_time=2s]
//
// After Google Benchmark's table, prints each SQLite figure as a fraction of the MemoryStore
// figure measured in the same run. The data directory is a fresh one under $TMPDIR.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "store/memory_store.h"
#include "store/sqlite_store.h"

namespace dove::store {
namespace {

std::map<std::string, double>& Rates() {
  static std::map<std::string, double> rates;
  return rates;
}

std::filesystem::path BenchDir() {
  return std::filesystem::temp_directory_path() / ("dove-store-bench-" + std::to_string(getpid()));
}

std::unique_ptr<Store> MakeStore(bool sqlite) {
  if (!sqlite) return std::make_unique<MemoryStore>();
  std::filesystem::remove_all(BenchDir());
  auto store = SqliteStore::Open(BenchDir());
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().Describe().c_str());
    std::abort();
  }
  return std::move(*store);
}

// state.range(0): 0 = MemoryStore, 1 = SqliteStore; state.range(1): puts per txn.
void BM_Put(benchmark::State& state) {
  const bool sqlite = state.range(0) == 1;
  const auto batch = static_cast<int>(state.range(1));
  auto store = MakeStore(sqlite);
  const std::string value(100, 'v');
  int64_t next = 0;
  for (auto _ : state) {
    TxnRequest request;
    for (int i = 0; i < batch; ++i) {
      request.success.push_back(Op::Put("/bench/key" + std::to_string(next++ % 10000), value));
    }
    auto response = store->Txn(request);
    if (!response) state.SkipWithError(response.error().Describe().c_str());
  }
  const double puts = static_cast<double>(state.iterations()) * batch;
  state.counters["puts_per_s"] = benchmark::Counter(puts, benchmark::Counter::kIsRate);
  store.reset();
  if (sqlite) std::filesystem::remove_all(BenchDir());
}

// Records each run's rate for the ratio table printed after the benchmarks.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      auto it = run.counters.find("puts_per_s");
      if (it != run.counters.end()) Rates()[run.benchmark_name()] = it->second.value;
    }
  }
};

BENCHMARK(BM_Put)
    ->ArgNames({"sqlite", "batch"})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Args({0, 100})
    ->Args({1, 100})
    ->UseRealTime();

}  // namespace
}  // namespace dove::store

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  dove::store::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  auto& rates = dove::store::Rates();
  std::printf("\nputs/s relative to MemoryStore (reference = 1.0):\n");
  for (const char* batch : {"1", "100"}) {
    const std::string memory = std::string("BM_Put/sqlite:0/batch:") + batch + "/real_time";
    const std::string sqlite = std::string("BM_Put/sqlite:1/batch:") + batch + "/real_time";
    if (rates.count(memory) == 0 || rates.count(sqlite) == 0) continue;
    std::printf("  batch %3s: MemoryStore %12.0f puts/s, SqliteStore %10.0f puts/s, ratio %.4f\n",
                batch, rates[memory], rates[sqlite], rates[sqlite] / rates[memory]);
  }
  return 0;
}
