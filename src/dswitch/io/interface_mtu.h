// The MTU of network interfaces: read (SIOCGIFMTU), set (SIOCSIFMTU), and found for the
// interface that holds an IPv4 address (getifaddrs), which is how the switch learns the
// underlay MTU from --tunnel-ip; and an interface's admin state set up (SIOCSIFFLAGS). Slow
// path (start-up, a port's creation): each call opens a socket.
//
//   auto underlay = InterfaceWithAddress(tunnel_ip);   // {"eth0", 1500}
//   SetInterfaceMtu("dv1234", underlay->mtu - 50);
#pragma once

#include <cstdint>
#include <string>

#include "base/expected.h"
#include "net/ipv4_address.h"

namespace dove::dswitch::io {

struct InterfaceMtu {
  std::string name;
  uint32_t mtu = 0;
};

// The interface `address` is configured on, with its MTU. Errors (one sentence): no interface
// holds it, or getifaddrs / SIOCGIFMTU failed.
Expected<InterfaceMtu, std::string> InterfaceWithAddress(const net::Ipv4Address& address);

// The MTU of interface `name`. Errors: no such interface, or the ioctl failed.
Expected<uint32_t, std::string> GetInterfaceMtu(const std::string& name);

// Sets the MTU of interface `name` (needs CAP_NET_ADMIN). Errors: a name too long, no such
// interface, an MTU the device refuses, no permission.
Expected<void, std::string> SetInterfaceMtu(const std::string& name, uint32_t mtu);

// Sets interface `name` up (IFF_UP) unless it is already (needs CAP_NET_ADMIN then). Errors:
// no such interface, no permission (the message names the ioctl).
Expected<void, std::string> SetInterfaceUp(const std::string& name);

}  // namespace dove::dswitch::io

namespace dove::dswitch::io {

// The kernel's path MTU toward `destination`: what it learned from ICMP fragmentation-needed
// messages answering our UDP datagrams (a route exception, which expires after
// net.ipv4.route.mtu_expires), else the route's or its device's MTU. Read with IP_MTU on a UDP
// socket connected to it (connecting a UDP socket sends nothing). 0 when it cannot be read (no
// route). Three system calls: a slow path.
uint32_t KernelPathMtu(const net::Ipv4Address& destination);

}  // namespace dove::dswitch::io
