#include "dswitch/kernel/nft_session.h"

#include <nftables/libnftables.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

namespace dove::dswitch::kernel {
namespace {

// Declaring then deleting a table is the nftables idiom for "remove if present" inside one
// transaction.
constexpr std::string_view kRemoveTables =
    "table inet dove\ndelete table inet dove\ntable netdev dove\ndelete table netdev dove\n"
    "table bridge dove\ndelete table bridge dove\n";

}  // namespace

Expected<std::vector<NftCounter>, std::string> ParseNftCounters(std::string_view json) {
  const auto document = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    return Unexpected(std::string("nft counters: not a JSON object"));
  }
  const auto items = document.find("nftables");
  if (items == document.end() || !items->is_array()) {
    return Unexpected(std::string("nft counters: no \"nftables\" array"));
  }
  std::vector<NftCounter> counters;
  for (const auto& item : *items) {
    if (!item.is_object()) return Unexpected(std::string("nft counters: an item is not an object"));
    const auto counter = item.find("counter");
    if (counter == item.end()) continue;  // metainfo
    if (!counter->is_object()) return Unexpected(std::string("nft counters: bad counter"));
    const auto table = counter->find("table");
    const auto family = counter->find("family");
    const auto name = counter->find("name");
    const auto packets = counter->find("packets");
    const auto bytes = counter->find("bytes");
    if (table == counter->end() || family == counter->end() || name == counter->end() ||
        packets == counter->end() || bytes == counter->end() || !table->is_string() ||
        !family->is_string() || !name->is_string() || !packets->is_number_unsigned() ||
        !bytes->is_number_unsigned()) {
      return Unexpected(std::string("nft counters: a counter lacks a field"));
    }
    if (table->get<std::string>() != "dove") continue;
    counters.push_back({family->get<std::string>(), name->get<std::string>(),
                        packets->get<uint64_t>(), bytes->get<uint64_t>()});
  }
  return counters;
}

void NftSession::ContextDeleter::operator()(nft_ctx* context) const { nft_ctx_free(context); }

Expected<std::unique_ptr<NftSession>, std::string> NftSession::Open() {
  std::unique_ptr<NftSession> session(new NftSession());
  session->context_.reset(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!session->context_) return Unexpected(std::string("nft: cannot create a context"));
  if (nft_ctx_buffer_output(session->context_.get()) != 0 ||
      nft_ctx_buffer_error(session->context_.get()) != 0) {
    return Unexpected(std::string("nft: cannot buffer output"));
  }
  return session;
}

NftSession::~NftSession() = default;

Expected<std::string, std::string> NftSession::Run(std::string_view commands, bool json) {
  nft_ctx* context = context_.get();
  nft_ctx_output_set_flags(context, json ? NFT_CTX_OUTPUT_JSON : 0);
  const std::string text(commands);
  const int rc = nft_run_cmd_from_buffer(context, text.c_str());
  std::string output = nft_ctx_get_output_buffer(context);
  std::string error = nft_ctx_get_error_buffer(context);
  if (rc != 0) return Unexpected("nft: " + (error.empty() ? std::string("failed") : error));
  return output;
}

void NftSession::CarryCounters() {
  auto current = Counters();
  if (!current) return;
  carried_.clear();
  for (auto& counter : *current) {
    carried_[{counter.family, counter.name}] = std::move(counter);
  }
}

Expected<void, std::string> NftSession::Apply(std::string_view ruleset) {
  CarryCounters();
  auto done = Run(std::string(kRemoveTables) + std::string(ruleset));
  if (!done) return Unexpected(done.error());
  return {};
}

Expected<void, std::string> NftSession::Remove() {
  CarryCounters();
  auto done = Run(kRemoveTables);
  if (!done) return Unexpected(done.error());
  return {};
}

Expected<std::vector<NftCounter>, std::string> NftSession::Counters() {
  auto json = Run("list counters", /*json=*/true);
  if (!json) return Unexpected(json.error());
  auto listed = ParseNftCounters(*json);
  if (!listed) return Unexpected(listed.error());
  std::map<std::pair<std::string, std::string>, NftCounter> totals = carried_;
  for (auto& counter : *listed) {
    auto& total = totals[{counter.family, counter.name}];
    if (total.name.empty()) {
      total = std::move(counter);
    } else {
      total.packets += counter.packets;
      total.bytes += counter.bytes;
    }
  }
  std::vector<NftCounter> out;
  out.reserve(totals.size());
  for (auto& [key, counter] : totals) out.push_back(std::move(counter));
  return out;
}

}  // namespace dove::dswitch::kernel
