// RedirectTable: the endpoints that just left this switch, and where they went. When a VM moves
// to another switch, peers whose caches are not updated yet keep sending its frames here for a
// moment; FromTunnel sends those on to the new location (counted as `redirected`) instead of
// dropping them, until the entry expires (the switch's --redirect-grace).
//
// Keyed by (VNI, MAC). An entry holds the new tunnel IP, when it expires, and the VTEPs that
// may send to it (the network's flood list when the endpoint left: the network itself may be
// gone from this switch by the time a late frame arrives).
//
//   RedirectTable redirects;
//   redirects.Upsert(100, vm_mac, {.tunnel_ip = new_vtep, .until = now + 10s, .peers = flood});
//   if (const auto* to = redirects.Find(100, vm_mac)) Send(to->tunnel_ip);
//   redirects.Expire(now);  // drops the entries whose time is up
//
// Find costs one hash; Expire O(entries). Not thread-safe: the datapath's loop thread changes
// it between batches and the stages read it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "net/ipv4_address.h"
#include "net/mac_address.h"

namespace dove::dswitch::pipeline {

struct Redirect {
  net::Ipv4Address tunnel_ip;  // the endpoint's new VTEP
  std::chrono::steady_clock::time_point until;
  std::vector<net::Ipv4Address> peers;  // the VTEPs frames to it are accepted from
};

class RedirectTable final {
 public:
  // Adds the redirect of (vni, mac), or replaces it.
  void Upsert(uint32_t vni, const net::MacAddress& mac, Redirect redirect);
  // Removes it (the endpoint came back, or is gone); nothing when absent.
  void Remove(uint32_t vni, const net::MacAddress& mac);
  // nullptr when there is none (expiry is Expire's job, not Find's). Valid until the next change.
  const Redirect* Find(uint32_t vni, const net::MacAddress& mac) const;
  // Removes the entries whose `until` is not after `now`; returns how many.
  size_t Expire(std::chrono::steady_clock::time_point now);

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  struct Key {
    uint32_t vni = 0;
    net::MacAddress mac;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& key) const noexcept {
      return std::hash<net::MacAddress>{}(key.mac) ^ (size_t{key.vni} * 0x9e3779b97f4a7c15ULL);
    }
  };
  std::unordered_map<Key, Redirect, KeyHash> entries_;
};

}  // namespace dove::dswitch::pipeline
