// The endpoints' layout that bench/switch_sim drives and bench/controller_memory_bench
// mirrors without gRPC (one definition, so both count the same objects): which switch and
// network each endpoint is in, its MAC, its subnet and address, and the ids and names
// switch_sim gives the objects it creates.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

namespace dove::bench {

// Which endpoint is where. Switch s holds endpoints [s*M, (s+1)*M). Switches are grouped in
// blocks of `spread`; within a block the endpoints are numbered switch-fastest ("slots"), and
// consecutive slots form a network, so a network spans the switches of (about) one block.
struct Layout {
  int switches = 0;
  int per_switch = 0;
  int per_network = 0;
  int spread = 0;
  int attaches = 0;  // unplaced endpoints, numbered after the placed ones
  int domains = 1;   // network n is in domain DomainOf(n): consecutive networks, so consecutive
                     // blocks of switches

  int Endpoints() const { return switches * per_switch; }  // the placed ones
  int AllEndpoints() const { return Endpoints() + attaches; }
  // The unplaced endpoint a = e - Endpoints() is in network a % Networks(), at the top of its
  // subnet (.254 down), clear of the placed ones (.2 up).
  int NetworkOfAny(int e) const {
    return e < Endpoints() ? NetworkOf(e) : (e - Endpoints()) % Networks();
  }
  int HostOf(int e) const {
    return e < Endpoints() ? IndexInNetwork(e) + 2 : 254 - (e - Endpoints()) / Networks();
  }
  int Networks() const { return (Endpoints() + per_network - 1) / per_network; }
  int DomainOf(int n) const {
    return static_cast<int>(static_cast<int64_t>(n) * domains / Networks());
  }
  // The first network of domain d (d == domains: one past the last network).
  int DomainFirst(int d) const {
    return static_cast<int>((static_cast<int64_t>(d) * Networks() + domains - 1) / domains);
  }
  int HomeSwitch(int e) const { return e / per_switch; }
  int BlockFirst(int s) const { return s / spread * spread; }
  int BlockSize(int s) const { return std::min(spread, switches - BlockFirst(s)); }
  int Slot(int e) const {
    const int s = HomeSwitch(e);
    const int first = BlockFirst(s);
    return first * per_switch + (s - first) + BlockSize(s) * (e % per_switch);
  }
  int NetworkOf(int e) const { return Slot(e) / per_network; }
  int IndexInNetwork(int e) const { return Slot(e) % per_network; }
};

// The MAC of endpoint e: 02:00 and e + 1 in the last four bytes.
inline std::string Mac(int e) {
  const auto n = static_cast<unsigned>(e) + 1;
  char mac[18];
  std::snprintf(mac, sizeof(mac), "02:00:%02x:%02x:%02x:%02x", (n >> 24) & 0xff, (n >> 16) & 0xff,
                (n >> 8) & 0xff, n & 0xff);
  return mac;
}

// "10.X.Y." of network n's /24.
inline std::string SubnetPrefix(int n) {
  return "10." + std::to_string((n >> 8) & 0xff) + "." + std::to_string(n & 0xff) + ".";
}

// Endpoint e's address: the placed ones from .2 up, the unplaced ones from .254 down.
inline std::string Ip(const Layout& layout, int e) {
  return SubnetPrefix(layout.NetworkOfAny(e)) + std::to_string(layout.HostOf(e));
}

inline std::string EndpointId(int e) { return "ep-" + std::to_string(e); }
inline std::string NetworkId(int n) { return "net-" + std::to_string(n); }
inline std::string DomainId(int d) { return "sim-" + std::to_string(d); }
inline std::string PortName(int e) { return "tap-" + std::to_string(e); }

inline std::string SwitchName(int s) {
  char name[16];
  std::snprintf(name, sizeof(name), "sw-%04d", s);
  return name;
}

// Switch s's tunnel IP: 10.255.x.y, s + 1 in the last two bytes.
inline std::string TunnelIp(int s) {
  const int n = s + 1;
  return "10.255." + std::to_string((n >> 8) & 0xff) + "." + std::to_string(n & 0xff);
}

}  // namespace dove::bench
