#include "controller/store_keys.h"

namespace dove::controller {

std::string KindPrefix(std::string_view plural) {
  std::string prefix(kKeyPrefix);
  prefix += plural;
  prefix += '/';
  return prefix;
}

std::string ClaimKey(std::string_view what, std::string_view value) {
  std::string key(kClaimsPrefix);
  key += what;
  key += '/';
  key += value;
  return key;
}

std::string SessionKey(std::string_view switch_name) {
  std::string key(kSessionsPrefix);
  key += switch_name;
  return key;
}

bool IsBookkeepingKey(std::string_view key) {
  return key.starts_with(kClaimsPrefix) || key.starts_with(kChildrenPrefix) ||
         key.starts_with(kSessionsPrefix);
}

std::optional<ParsedKey> ParseKey(std::string_view key) {
  if (!key.starts_with(kKeyPrefix)) return std::nullopt;
  key.remove_prefix(kKeyPrefix.size());
  const auto slash = key.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == key.size()) {
    return std::nullopt;
  }
  return ParsedKey{key.substr(0, slash), key.substr(slash + 1)};
}

}  // namespace dove::controller
