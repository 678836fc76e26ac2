// Resolver: turns the references an operator types into the objects they name, and ids back
// into names for tables.
//
// References:
//   domain   its name or its id (the API's GET /v1/domains/{ref} accepts both)
//   network  "DOMAIN/NAME" (GET /v1/networks?domain=D&name=N; DOMAIN by name or id) or an id
//   switch   its name or its id
//   endpoint "DOMAIN/NETWORK/NAME" (GET /v1/endpoints?network=ID&name=NAME; the network as
//            above) or an id
// A reference that names nothing is a kStatus 404 ApiError (code not_found), like the API's
// own, so it ends dovectl with exit code 3.
//
// DomainName/NetworkName are best effort, for display only: the first call lists the domains
// (and networks) once and caches them; an id not found, or a failed listing, gives the id
// back unchanged rather than failing the command that only wanted a prettier table.
//
//   Resolver resolver(&client);
//   auto web = resolver.Network("acme/web");   // the Network object as JSON
//   std::string shown = resolver.NetworkName((*web)["id"]);  // "acme/web"
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/expected.h"
#include "cli/api_client.h"

namespace dove::cli {

class Resolver {
 public:
  explicit Resolver(ApiClient* client) : client_(client) {}

  Expected<nlohmann::json, ApiError> Domain(const std::string& ref);
  Expected<nlohmann::json, ApiError> Network(const std::string& ref);
  Expected<nlohmann::json, ApiError> Switch(const std::string& ref);
  Expected<nlohmann::json, ApiError> Endpoint(const std::string& ref);

  std::string DomainName(const std::string& id);
  // "DOMAIN/NAME" of the network with this id (DOMAIN as DomainName gives it).
  std::string NetworkName(const std::string& id);

 private:
  void LoadNames();

  ApiClient* client_;
  bool names_loaded_ = false;
  std::map<std::string, std::string> domain_names_;   // id -> name
  std::map<std::string, std::string> network_names_;  // id -> DOMAIN/NAME
};

}  // namespace dove::cli
