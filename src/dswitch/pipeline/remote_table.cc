#include "dswitch/pipeline/remote_table.h"

namespace dove::dswitch::pipeline {

void RemoteTable::Upsert(const std::string& key, uint32_t vni, const net::MacAddress& mac,
                         const net::Ipv4Address& tunnel_ip,
                         const std::vector<net::IpAddress>& ips) {
  Entry& entry = entries_[key];
  Unindex(entry);
  entry.vni = vni;
  entry.mac = mac;
  entry.tunnel_ip = tunnel_ip;
  entry.ips = ips;
  Index(entry);
}

void RemoteTable::Remove(const std::string& key) {
  const auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Unindex(it->second);
  entries_.erase(it);
}

void RemoteTable::Clear() {
  by_mac_.clear();
  by_ip_.clear();
  entries_.clear();
}

void RemoteTable::Index(const Entry& entry) {
  by_mac_[{entry.vni, entry.mac}] = MacValue{entry.tunnel_ip, &entry};
  for (const net::IpAddress& ip : entry.ips) {
    by_ip_[{entry.vni, ip}] = IpValue{{entry.mac, entry.tunnel_ip}, &entry};
  }
}

void RemoteTable::Unindex(const Entry& entry) {
  if (const auto it = by_mac_.find({entry.vni, entry.mac});
      it != by_mac_.end() && it->second.owner == &entry) {
    by_mac_.erase(it);
  }
  for (const net::IpAddress& ip : entry.ips) {
    if (const auto it = by_ip_.find({entry.vni, ip});
        it != by_ip_.end() && it->second.owner == &entry) {
      by_ip_.erase(it);
    }
  }
}

std::optional<net::Ipv4Address> RemoteTable::FindMac(uint32_t vni,
                                                     const net::MacAddress& mac) const {
  const auto it = by_mac_.find({vni, mac});
  if (it == by_mac_.end()) return std::nullopt;
  return it->second.tunnel_ip;
}

std::optional<RemoteEndpoint> RemoteTable::FindIp(uint32_t vni, const net::IpAddress& ip) const {
  const auto it = by_ip_.find({vni, ip});
  if (it == by_ip_.end()) return std::nullopt;
  return it->second.endpoint;
}

}  // namespace dove::dswitch::pipeline
