// Store key layout of the registry: one key per object, "/dove/v1/<kind>/<id>", the value the
// message's binary protobuf encoding (SerializeAsString). Three more families, never objects
// (the index skips them: IsBookkeepingKey; the southbound ignores the first two):
//   claims     "/dove/v1/claims/<what>/<value>" -> the owner's id: a unique value (a domain
//              name, a VNI, an endpoint IP in its domain...) held by one object; written in
//              the owner's txn with a compare (absent, or ours), so replicas cannot both take it.
//   children   "/dove/v1/children/<kind>/<id>": a parent's generation; every write of a child
//              blind-puts it, so a parent's delete can compare that no child came since the
//              revision its emptiness check read.
//   sessions   "/dove/v1/sessions/<switch name>" -> which replica serves the switch's stream
//              (SessionValue), put with that replica's store lease: the switch is live while
//              it exists (southbound/directory.h, "Replicas").
//
// Kind<T> names each kind (plural for keys and filters, singular for messages); ParseKey
// splits a stored key back into kind and id. Pure functions, no state, thread-safe.
//
//   KeyOf<v1::Network>("n1")            // "/dove/v1/networks/n1"
//   auto key = ParseKey("/dove/v1/networks/n1");   // key->kind == "networks", key->id == "n1"
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dove/v1/model.pb.h"

namespace dove::controller {

inline constexpr std::string_view kKeyPrefix = "/dove/v1/";

template <typename T>
struct Kind;
template <>
struct Kind<v1::Domain> {
  static constexpr std::string_view kPlural = "domains";
  static constexpr std::string_view kSingular = "domain";
};
template <>
struct Kind<v1::Network> {
  static constexpr std::string_view kPlural = "networks";
  static constexpr std::string_view kSingular = "network";
};
template <>
struct Kind<v1::Subnet> {
  static constexpr std::string_view kPlural = "subnets";
  static constexpr std::string_view kSingular = "subnet";
};
template <>
struct Kind<v1::Endpoint> {
  static constexpr std::string_view kPlural = "endpoints";
  static constexpr std::string_view kSingular = "endpoint";
};
template <>
struct Kind<v1::Switch> {
  static constexpr std::string_view kPlural = "switches";
  static constexpr std::string_view kSingular = "switch";
};
template <>
struct Kind<v1::Policy> {
  static constexpr std::string_view kPlural = "policies";
  static constexpr std::string_view kSingular = "policy";
};

// "/dove/v1/<plural>/"
std::string KindPrefix(std::string_view plural);

template <typename T>
std::string KeyOf(std::string_view id) {
  return KindPrefix(Kind<T>::kPlural) + std::string(id);
}

inline constexpr std::string_view kClaimsPrefix = "/dove/v1/claims/";
inline constexpr std::string_view kChildrenPrefix = "/dove/v1/children/";
inline constexpr std::string_view kSessionsPrefix = "/dove/v1/sessions/";

// "/dove/v1/claims/<what>/<value>"; the parts are names, ids or canonical addresses (no '/').
std::string ClaimKey(std::string_view what, std::string_view value);
// "/dove/v1/children/<plural of T>/<id>"
template <typename T>
std::string ChildrenKey(std::string_view id) {
  std::string key(kChildrenPrefix);
  key += Kind<T>::kPlural;
  key += '/';
  key += id;
  return key;
}
// "/dove/v1/sessions/<switch name>"
std::string SessionKey(std::string_view switch_name);
// Whether `key` is a claim, generation or session key (not an object's).
bool IsBookkeepingKey(std::string_view key);

struct ParsedKey {
  std::string_view kind;  // the plural, as stored (not checked against the known kinds)
  std::string_view id;
};

// nullopt when `key` is not "/dove/v1/<kind>/<id>" with non-empty kind and id.
std::optional<ParsedKey> ParseKey(std::string_view key);

}  // namespace dove::controller
