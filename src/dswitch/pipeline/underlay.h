// Underlay: this switch's end of the VXLAN tunnels, as VxlanEncap and FromTunnel need it.
#pragma once

#include <cstdint>

#include "net/ipv4_address.h"
#include "net/mac_address.h"

namespace dove::dswitch::pipeline {

struct Underlay {
  net::Ipv4Address local_ip;     // this switch's tunnel IP (VTEP): outer source out, destination in
  net::MacAddress local_mac;     // the underlay interface's MAC: outer Ethernet source
  net::MacAddress next_hop_mac;  // the underlay gateway's (or peer's) MAC: outer destination
  uint8_t ttl = 64;
};

}  // namespace dove::dswitch::pipeline
