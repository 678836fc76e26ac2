// A small model for the tests: two domains, three networks, subnets and one endpoint.
//   d1: n1 (vni 100; s4 10.0.0.0/24 gw 10.0.0.1 dhcp .100-.200, s6 2001:db8::/64 gw ::1)
//       n2 (vni 200; s2 10.1.0.0/24)
//       e1 on n1: 52:54:00:00:00:01, 10.0.0.5
//   d2: n3 (vni 300; s3 10.0.0.0/24, the same prefix as s4: other domains may reuse it)
#pragma once

#include <string>

#include "dove/v1/model.pb.h"
#include "model/model_view.h"

namespace dove::model::testing {

inline v1::Network MakeNetwork(std::string id, std::string domain, uint32_t vni) {
  v1::Network n;
  n.set_id(id);
  n.set_domain_id(domain);
  n.set_name(id);
  n.set_vni(vni);
  return n;
}

inline v1::Subnet MakeSubnet(std::string id, std::string network, std::string cidr,
                             std::string gateway = "") {
  v1::Subnet s;
  s.set_id(id);
  s.set_network_id(network);
  s.set_cidr(cidr);
  s.set_gateway(gateway);
  return s;
}

inline v1::Endpoint MakeEndpoint(std::string id, std::string network, std::string mac,
                                 std::string ip = "") {
  v1::Endpoint e;
  e.set_id(id);
  e.set_network_id(network);
  e.set_mac(mac);
  if (!ip.empty()) e.add_ips(ip);
  return e;
}

inline InMemoryModelView MakeWorld() {
  InMemoryModelView view;
  for (const char* id : {"d1", "d2"}) {
    v1::Domain d;
    d.set_id(id);
    d.set_name(id);
    view.Put(d);
  }
  view.Put(MakeNetwork("n1", "d1", 100));
  view.Put(MakeNetwork("n2", "d1", 200));
  view.Put(MakeNetwork("n3", "d2", 300));
  auto s4 = MakeSubnet("s4", "n1", "10.0.0.0/24", "10.0.0.1");
  s4.mutable_dhcp_range()->set_first("10.0.0.100");
  s4.mutable_dhcp_range()->set_last("10.0.0.200");
  view.Put(s4);
  view.Put(MakeSubnet("s6", "n1", "2001:db8::/64", "2001:db8::1"));
  view.Put(MakeSubnet("s2", "n2", "10.1.0.0/24"));
  view.Put(MakeSubnet("s3", "n3", "10.0.0.0/24"));
  view.Put(MakeEndpoint("e1", "n1", "52:54:00:00:00:01", "10.0.0.5"));
  return view;
}

}  // namespace dove::model::testing
