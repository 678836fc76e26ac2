#include "controller/southbound/peer_identity.h"

#include <algorithm>

namespace dove::controller::southbound {
namespace {

std::vector<std::string> Values(const grpc::AuthContext& context, const char* property) {
  std::vector<std::string> values;
  for (const auto& value : context.FindPropertyValues(property)) {
    values.emplace_back(value.data(), value.size());
  }
  return values;
}

}  // namespace

PeerIdentity PeerIdentity::Of(const grpc::AuthContext& context) {
  PeerIdentity identity;
  if (auto names = Values(context, "x509_common_name"); !names.empty()) {
    identity.common_name = names.front();
  }
  identity.alt_names = Values(context, "x509_subject_alternative_name");
  return identity;
}

bool PeerIdentity::Allows(std::string_view switch_name) const {
  if (switch_name.empty()) return false;
  return switch_name == common_name ||
         std::find(alt_names.begin(), alt_names.end(), switch_name) != alt_names.end();
}

std::string PeerIdentity::RefusalFor(std::string_view claimed) const {
  std::string names;
  if (!common_name.empty()) names = "CN=" + common_name;
  for (const auto& name : alt_names) names += (names.empty() ? "SAN " : ", SAN ") + name;
  if (names.empty()) names = "no name at all";
  return "switch name \"" + std::string(claimed) + "\" is not a name of its client certificate (" +
         names + ")";
}

}  // namespace dove::controller::southbound
