// NftSession: loads the kernel backend's nftables tables (`inet dove`, `netdev dove`,
// `bridge dove`, nft_ruleset.h) through libnftables (a library call: no `nft` process), removes
// them, and reads their named counters.
//
// Contracts:
//   - Apply replaces all three tables in ONE nftables transaction: the kernel either takes the
//     whole new ruleset or keeps the old one (an error then says why, in nft's words). Tables
//     of other owners are never read, flushed or changed.
//   - Counters are totals since the session opened: every Apply recreates the tables (their
//     counters restart at zero), so the session adds what the old counters held before it
//     replaces them. A counter of a table loaded by another process is read as it is.
//   - Works in the network namespace it was opened in. Not thread-safe.
//   - The libnftables context is an RAII member.
//
//   auto nft = NftSession::Open();
//   if (auto ok = (*nft)->Apply(NftRuleset(plan)); !ok) Log(ok.error());
//   for (const auto& c : *(*nft)->Counters()) Export(c.name, c.packets);
//   (*nft)->Remove();
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"

struct nft_ctx;

namespace dove::dswitch::kernel {

struct NftCounter {
  std::string family;  // "inet" or "bridge"
  std::string name;
  uint64_t packets = 0;
  uint64_t bytes = 0;

  friend bool operator==(const NftCounter&, const NftCounter&) = default;
};

// The counters of the tables named `dove` in the output of `nft -j list counters` (the JSON
// schema of libnftables). Errors: text that is not that JSON. Pure; fuzzed
// (tests/fuzz/nft_counters_fuzz.cc).
Expected<std::vector<NftCounter>, std::string> ParseNftCounters(std::string_view json);

class NftSession {
 public:
  static Expected<std::unique_ptr<NftSession>, std::string> Open();
  ~NftSession();
  NftSession(const NftSession&) = delete;
  NftSession& operator=(const NftSession&) = delete;

  // Replaces the three tables with `ruleset` (empty: removes them). Errors: nft's message.
  Expected<void, std::string> Apply(std::string_view ruleset);
  // Removes the three tables (absent tables are not an error).
  Expected<void, std::string> Remove();
  // The tables' counters, totals since Open (see above), sorted by (family, name).
  Expected<std::vector<NftCounter>, std::string> Counters();

  // Runs `commands` as one nftables transaction; JSON output when `json`. Returns the output.
  Expected<std::string, std::string> Run(std::string_view commands, bool json = false);

 private:
  NftSession() = default;
  // Adds the current counters into carried_ (before the tables are replaced or removed).
  void CarryCounters();

  struct ContextDeleter {
    void operator()(nft_ctx* context) const;
  };
  std::unique_ptr<nft_ctx, ContextDeleter> context_;
  std::map<std::pair<std::string, std::string>, NftCounter> carried_;
};

}  // namespace dove::dswitch::kernel
