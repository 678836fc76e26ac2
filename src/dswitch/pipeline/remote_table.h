// RemoteTable: the remote endpoints the switch knows, indexed for the stages by (VNI, MAC) and
// (VNI, IP), changed one endpoint at a time.
//
// Each endpoint is filed under its cache key (the agent's key for it, any string unique per
// endpoint). Upsert with a key already present replaces that endpoint: the MAC and IP index
// entries of its old version go, those of the new one come, so a moved or readdressed
// endpoint leaves nothing stale behind. When two keys claim the same (VNI, MAC) or (VNI, IP)
// (a VM moved and the old record is not yet removed), the latest Upsert wins, and removing the
// loser does not disturb the winner's index entry.
//
// Lookups hash a (VNI, address) pair: no strings on the hot path. Upsert and Remove cost
// O(addresses of that endpoint).
//
//   RemoteTable remotes;
//   remotes.Upsert("100/52:54:00:00:00:09", 100, vm9_mac, peer_vtep, {vm9_ip});
//   auto vtep = remotes.FindMac(100, vm9_mac);   // peer_vtep
//   remotes.Remove("100/52:54:00:00:00:09");
//
// Not thread-safe; changed between batches by the pipeline's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dswitch/pipeline/remote_lookup.h"
#include "net/ip_address.h"
#include "net/ipv4_address.h"
#include "net/mac_address.h"

namespace dove::dswitch::pipeline {

class RemoteTable final : public RemoteLookup {
 public:
  RemoteTable() = default;
  // The index entries point at the entries: a copy would point at the source's. A move takes
  // the entries' nodes along, so the pointers stay right.
  RemoteTable(const RemoteTable&) = delete;
  RemoteTable& operator=(const RemoteTable&) = delete;
  RemoteTable(RemoteTable&&) = default;
  RemoteTable& operator=(RemoteTable&&) = default;
  ~RemoteTable() override = default;

  // Adds the endpoint filed under `key`, or replaces it.
  void Upsert(const std::string& key, uint32_t vni, const net::MacAddress& mac,
              const net::Ipv4Address& tunnel_ip, const std::vector<net::IpAddress>& ips);
  // Removes the endpoint filed under `key`; nothing when absent.
  void Remove(const std::string& key);
  // Removes every endpoint.
  void Clear();
  // Endpoints held.
  size_t size() const { return entries_.size(); }

  std::optional<net::Ipv4Address> FindMac(uint32_t vni, const net::MacAddress& mac) const override;
  std::optional<RemoteEndpoint> FindIp(uint32_t vni, const net::IpAddress& ip) const override;

 private:
  struct Entry {
    uint32_t vni = 0;
    net::MacAddress mac;
    net::Ipv4Address tunnel_ip;
    std::vector<net::IpAddress> ips;
  };
  template <typename Address>
  struct Key {
    uint32_t vni = 0;
    Address address;
    bool operator==(const Key&) const = default;
  };
  template <typename Address>
  struct KeyHash {
    size_t operator()(const Key<Address>& key) const noexcept {
      return std::hash<Address>{}(key.address) ^ (size_t{key.vni} * 0x9e3779b97f4a7c15ULL);
    }
  };
  // An index value: what lookups return, and which entry put it there.
  struct MacValue {
    net::Ipv4Address tunnel_ip;
    const Entry* owner = nullptr;
  };
  struct IpValue {
    RemoteEndpoint endpoint;
    const Entry* owner = nullptr;
  };

  void Index(const Entry& entry);
  void Unindex(const Entry& entry);

  // Entries are nodes of an unordered_map: their addresses are stable while they are held.
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<Key<net::MacAddress>, MacValue, KeyHash<net::MacAddress>> by_mac_;
  std::unordered_map<Key<net::IpAddress>, IpValue, KeyHash<net::IpAddress>> by_ip_;
};

}  // namespace dove::dswitch::pipeline
