// ModelView: a read-only snapshot of the model, the input of every validation rule.
//
// The rules in validation.h, ipam.h and policy.h are pure functions of (view, object): they
// read the view, never change it, and do no I/O. The controller implements ModelView over
// its store; InMemoryModelView is the implementation for tests (and small tools).
//
// Returned pointers stay valid until the view is next modified; lists are in insertion
// order. Endpoints are returned as copies: the controller's index keeps 100,000s of them in a
// compact (encoded) form and materialises a v1::Endpoint only when asked. Lookups of an id that is
// absent return nullptr / an empty list. Not thread-safe against concurrent modification.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "dove/v1/model.pb.h"
#include "net/ip_address.h"
#include "net/mac_address.h"

namespace dove::model {

class AddressPool;
class FreeRanges;

class ModelView {
 public:
  virtual ~ModelView() = default;

  virtual const v1::Domain* FindDomain(std::string_view id) const = 0;
  virtual const v1::Network* FindNetwork(std::string_view id) const = 0;
  virtual const v1::Network* FindNetworkByVni(uint32_t vni) const = 0;
  virtual std::vector<const v1::Network*> NetworksOfDomain(std::string_view domain_id) const = 0;
  virtual std::vector<const v1::Subnet*> SubnetsOfNetwork(std::string_view network_id) const = 0;
  virtual std::vector<v1::Endpoint> EndpointsOfNetwork(std::string_view network_id) const = 0;
  virtual std::vector<const v1::Policy*> PoliciesOfDomain(std::string_view domain_id) const = 0;

  // The VNIs no network uses (free_ranges.h), kept current with the networks, or nullptr (the
  // default) when the view keeps none; AllocateVni then tries VNIs one by one.
  virtual const FreeRanges* FreeVnis() const { return nullptr; }
  // The free addresses of the subnet (address_pool.h), kept current with the endpoints, or
  // nullptr (the default) when the view keeps none; IPAM then builds one from the network's
  // endpoints. A view that returns a stale pool breaks IPAM's lowest-free promise.
  virtual const AddressPool* FindAddressPool(std::string_view /*subnet_id*/) const {
    return nullptr;
  }
  // Every subnet of every network of the domain.
  std::vector<const v1::Subnet*> SubnetsOfDomain(std::string_view domain_id) const;
  // Every endpoint of every network of the domain.
  std::vector<v1::Endpoint> EndpointsOfDomain(std::string_view domain_id) const;

  // The endpoint of the network whose MAC is `mac`, or nullptr. The defaults scan (linear in
  // the endpoints of the network / domain); an indexed view overrides them with a hash lookup,
  // which makes the uniqueness rules and IPAM's "is this address taken" O(1) per address.
  virtual std::optional<v1::Endpoint> FindEndpointByMac(std::string_view network_id,
                                                        const net::MacAddress& mac) const;
  // An endpoint of a network of the domain that holds `ip`, or nullptr.
  virtual std::optional<v1::Endpoint> FindEndpointByIp(std::string_view domain_id,
                                                       const net::IpAddress& ip) const;
  // The endpoint of the network named `name` (Endpoint.name, never empty here), or nullptr.
  virtual std::optional<v1::Endpoint> FindEndpointByName(std::string_view network_id,
                                                         std::string_view name) const;
};

// Objects held by value; Put replaces the object of the same id, or appends.
class InMemoryModelView : public ModelView {
 public:
  void Put(const v1::Domain& domain);
  void Put(const v1::Network& network);
  void Put(const v1::Subnet& subnet);
  void Put(const v1::Endpoint& endpoint);
  void Put(const v1::Policy& policy);
  // Removes the endpoint of that id, if any (IPAM tests: freed addresses are reused).
  void RemoveEndpoint(std::string_view id);

  const v1::Domain* FindDomain(std::string_view id) const override;
  const v1::Network* FindNetwork(std::string_view id) const override;
  const v1::Network* FindNetworkByVni(uint32_t vni) const override;
  std::vector<const v1::Network*> NetworksOfDomain(std::string_view domain_id) const override;
  std::vector<const v1::Subnet*> SubnetsOfNetwork(std::string_view network_id) const override;
  std::vector<v1::Endpoint> EndpointsOfNetwork(std::string_view network_id) const override;
  std::vector<const v1::Policy*> PoliciesOfDomain(std::string_view domain_id) const override;

 private:
  std::vector<v1::Domain> domains_;
  std::vector<v1::Network> networks_;
  std::vector<v1::Subnet> subnets_;
  std::vector<v1::Endpoint> endpoints_;
  std::vector<v1::Policy> policies_;
};

}  // namespace dove::model
