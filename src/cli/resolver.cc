#include "cli/resolver.h"

#include "cli/json_fields.h"

namespace dove::cli {
namespace {

ApiError NotFound(const std::string& what) {
  return ApiError{ApiError::Kind::kStatus, 404, "not_found", what + " not found"};
}

}  // namespace

Expected<nlohmann::json, ApiError> Resolver::Domain(const std::string& ref) {
  auto got = client_->Get("/v1/domains" + PathSegment(ref));
  if (!got) return Unexpected(got.error());
  return std::move(got->body);
}

Expected<nlohmann::json, ApiError> Resolver::Switch(const std::string& ref) {
  auto got = client_->Get("/v1/switches" + PathSegment(ref));
  if (!got) return Unexpected(got.error());
  return std::move(got->body);
}

Expected<nlohmann::json, ApiError> Resolver::Network(const std::string& ref) {
  const size_t slash = ref.find('/');
  if (slash == std::string::npos) {
    auto got = client_->Get("/v1/networks" + PathSegment(ref));
    if (!got) return Unexpected(got.error());
    return std::move(got->body);
  }
  const std::string domain = ref.substr(0, slash);
  const std::string name = ref.substr(slash + 1);
  if (domain.empty() || name.empty()) return Unexpected(NotFound("network \"" + ref + "\""));
  auto got = client_->Get("/v1/networks" + Query({{"domain", domain}, {"name", name}}));
  if (!got) return Unexpected(got.error());
  const auto& items = Items(got->body);
  if (items.empty()) return Unexpected(NotFound("network " + ref));
  return items.front();
}

Expected<nlohmann::json, ApiError> Resolver::Endpoint(const std::string& ref) {
  const size_t slash = ref.rfind('/');
  if (slash == std::string::npos) {
    auto got = client_->Get("/v1/endpoints" + PathSegment(ref));
    if (!got) return Unexpected(got.error());
    return std::move(got->body);
  }
  const std::string network_ref = ref.substr(0, slash);
  const std::string name = ref.substr(slash + 1);
  if (network_ref.find('/') == std::string::npos || name.empty()) {
    return Unexpected(NotFound("endpoint \"" + ref + "\" (an id, or DOMAIN/NETWORK/NAME)"));
  }
  auto network = Network(network_ref);
  if (!network) return Unexpected(network.error());
  auto got = client_->Get("/v1/endpoints" +
                          Query({{"network", StringField(*network, "id")}, {"name", name}}));
  if (!got) return Unexpected(got.error());
  const auto& items = Items(got->body);
  if (items.empty()) return Unexpected(NotFound("endpoint " + ref));
  return items.front();
}

void Resolver::LoadNames() {
  if (names_loaded_) return;
  names_loaded_ = true;
  if (auto domains = client_->Get("/v1/domains"); domains) {
    for (const auto& domain : Items(domains->body)) {
      domain_names_[StringField(domain, "id")] = StringField(domain, "name");
    }
  }
  if (auto networks = client_->Get("/v1/networks"); networks) {
    for (const auto& network : Items(networks->body)) {
      const std::string domain_id = StringField(network, "domain_id");
      const auto domain = domain_names_.find(domain_id);
      network_names_[StringField(network, "id")] =
          (domain != domain_names_.end() ? domain->second : domain_id) + "/" +
          StringField(network, "name");
    }
  }
}

std::string Resolver::DomainName(const std::string& id) {
  LoadNames();
  const auto it = domain_names_.find(id);
  return it != domain_names_.end() ? it->second : id;
}

std::string Resolver::NetworkName(const std::string& id) {
  LoadNames();
  const auto it = network_names_.find(id);
  return it != network_names_.end() ? it->second : id;
}

}  // namespace dove::cli
