#include "controller/string_pool.h"

namespace dove::controller {

const std::string* StringPool::Hold(std::string_view text) {
  if (text.empty()) return nullptr;
  auto it = counts_.find(text);
  if (it == counts_.end()) it = counts_.emplace(std::string(text), 0).first;
  ++it->second;
  return &it->first;
}

void StringPool::Release(const std::string* held) {
  if (held == nullptr) return;
  auto it = counts_.find(*held);
  if (it != counts_.end() && --it->second == 0) counts_.erase(it);
}

const std::string& TextOf(const std::string* held) {
  static const std::string kEmpty;
  return held == nullptr ? kEmpty : *held;
}

}  // namespace dove::controller
