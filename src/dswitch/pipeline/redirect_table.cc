#include "dswitch/pipeline/redirect_table.h"

#include <utility>

namespace dove::dswitch::pipeline {

void RedirectTable::Upsert(uint32_t vni, const net::MacAddress& mac, Redirect redirect) {
  entries_[Key{.vni = vni, .mac = mac}] = std::move(redirect);
}

void RedirectTable::Remove(uint32_t vni, const net::MacAddress& mac) {
  entries_.erase(Key{.vni = vni, .mac = mac});
}

const Redirect* RedirectTable::Find(uint32_t vni, const net::MacAddress& mac) const {
  if (entries_.empty()) return nullptr;
  const auto it = entries_.find(Key{.vni = vni, .mac = mac});
  return it == entries_.end() ? nullptr : &it->second;
}

size_t RedirectTable::Expire(std::chrono::steady_clock::time_point now) {
  return std::erase_if(entries_, [now](const auto& entry) { return entry.second.until <= now; });
}

}  // namespace dove::dswitch::pipeline
