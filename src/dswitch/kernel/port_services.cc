#include "dswitch/kernel/port_services.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "dswitch/pipeline/classify.h"

namespace dove::dswitch::kernel {
namespace {

constexpr size_t kFrameRoom = 2048;  // a DHCP request or an RS fits; longer ones are not ours
constexpr int kReadsPerCall = 64;    // so one chatty port cannot hold the backend's loop

sock_filter Statement(uint16_t code, uint32_t k) { return {code, 0, 0, k}; }
sock_filter Jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return {code, jt, jf, k}; }

// IPv4 UDP to 67, not a fragment; IPv6 with ICMPv6 right after the fixed header, type 133 (RS)
// or 134 (RA). Offsets from the Ethernet header (an untagged frame: port security drops the
// tagged ones).
constexpr uint32_t kAccept = 0x40000;
const std::array<sock_filter, 17> kFilter{{
    Statement(BPF_LD | BPF_H | BPF_ABS, 12),          // 0: EtherType
    Jump(BPF_JMP | BPF_JEQ | BPF_K, 0x0800, 0, 7),    // 1: IPv4? else 9
    Statement(BPF_LD | BPF_B | BPF_ABS, 23),          // 2: protocol
    Jump(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 12),       // 3: UDP? else drop
    Statement(BPF_LD | BPF_H | BPF_ABS, 20),          // 4: flags, fragment offset
    Jump(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 10, 0),  // 5: MF or an offset: drop
    Statement(BPF_LDX | BPF_B | BPF_MSH, 14),         // 6: X = IPv4 header length
    Statement(BPF_LD | BPF_H | BPF_IND, 16),          // 7: UDP destination port
    Jump(BPF_JMP | BPF_JEQ | BPF_K, 67, 6, 7),        // 8: 67? accept : drop
    Jump(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0, 6),    // 9: IPv6? else drop
    Statement(BPF_LD | BPF_B | BPF_ABS, 20),          // 10: next header
    Jump(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 4),        // 11: ICMPv6? else drop
    Statement(BPF_LD | BPF_B | BPF_ABS, 54),          // 12: ICMPv6 type
    Jump(BPF_JMP | BPF_JEQ | BPF_K, 133, 1, 0),       // 13: RS: accept
    Jump(BPF_JMP | BPF_JEQ | BPF_K, 134, 0, 1),       // 14: RA: accept, else drop
    Statement(BPF_RET | BPF_K, kAccept),              // 15: accept
    Statement(BPF_RET | BPF_K, 0),                    // 16: drop
}};

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

Expected<void, std::string> AttachServiceFilter(int fd) {
  sock_fprog program{.len = static_cast<uint16_t>(kFilter.size()),
                     .filter = const_cast<sock_filter*>(kFilter.data())};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof(program)) != 0) {
    return Unexpected(Errno("SO_ATTACH_FILTER"));
  }
  return {};
}

Expected<io::FileDescriptor, std::string> OpenServiceSocket(int ifindex) {
  // Protocol 0 receives nothing until the bind, so no frame gets in before the filter is set.
  io::FileDescriptor fd(::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Unexpected(Errno("AF_PACKET socket"));
  if (auto attached = AttachServiceFilter(fd.get()); !attached) {
    return Unexpected(attached.error());
  }
  const int one = 1;
  // Since Linux 4.20; without it the frames the host sends are read and skipped (below).
  (void)::setsockopt(fd.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = ifindex;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return Unexpected(Errno("bind AF_PACKET to interface " + std::to_string(ifindex)));
  }
  return fd;
}

PortServices::PortServices(uint32_t overlay_mtu)
    : pool_(packet::PoolOptions{.small_slots = 64, .large_slots = 1}),
      dhcp_(tables_, counters_, pool_, pipeline::DhcpResponderOptions{.overlay_mtu = overlay_mtu}),
      advertiser_(tables_, counters_, pool_, overlay_mtu),
      buffer_(kFrameRoom) {
  for (const char* name :
       {"services.received", "services.ignored", "services.bad_mac", "services.send_errors",
        "services.socket_errors", "services.table_errors"}) {
    own_[name] = 0;
  }
}

void PortServices::UpsertNetwork(const pipeline::NetworkSettings& settings) {
  if (auto upserted = tables_.UpsertNetwork(settings); !upserted) own_["services.table_errors"]++;
}

void PortServices::RemoveNetwork(uint32_t vni) {
  std::vector<std::string> names;
  for (const auto& [name, port] : ports_) {
    if (port.vni == vni) names.push_back(name);
  }
  for (const auto& name : names) ClosePort(name);
  tables_.RemoveNetwork(vni);
}

pipeline::PortId PortServices::NewId() {
  if (free_ids_.empty()) return next_id_++;
  const pipeline::PortId id = free_ids_.back();
  free_ids_.pop_back();
  return id;
}

Expected<int, std::string> PortServices::OpenPort(const std::string& name, int ifindex,
                                                  uint32_t vni, const net::MacAddress& mac,
                                                  const std::vector<net::IpAddress>& ips) {
  auto found = ports_.find(name);
  if (found != ports_.end() && (found->second.ifindex != ifindex || found->second.vni != vni)) {
    ClosePort(name);
    found = ports_.end();
  }
  const bool opened = found == ports_.end();
  const pipeline::PortId id = opened ? NewId() : found->second.id;
  if (auto upserted = tables_.UpsertPort({.id = id, .vni = vni, .mac = mac, .ips = ips});
      !upserted) {
    if (opened) free_ids_.push_back(id);
    return Unexpected(upserted.error());
  }
  if (!opened) {
    found->second.mac = mac;
    return -1;
  }
  auto socket = OpenServiceSocket(ifindex);
  if (!socket) {
    tables_.RemovePort(id);
    free_ids_.push_back(id);
    own_["services.socket_errors"]++;
    return Unexpected(socket.error());
  }
  const int fd = socket->get();
  Port& port = ports_[name];
  port = Port{.id = id, .ifindex = ifindex, .vni = vni, .mac = mac, .socket = std::move(*socket)};
  by_fd_[fd] = name;
  counters_.AddPort(id);
  // A VM that solicited before its port was served learns its prefixes now.
  pipeline::PacketBatch replies;
  advertiser_.Announce(id, replies);
  Send(port, replies);
  return fd;
}

void PortServices::ClosePort(const std::string& name) {
  auto found = ports_.find(name);
  if (found == ports_.end()) return;
  by_fd_.erase(found->second.socket.get());
  tables_.RemovePort(found->second.id);
  free_ids_.push_back(found->second.id);
  ports_.erase(found);
}

bool PortServices::Read(int fd) {
  auto owner = by_fd_.find(fd);
  if (owner == by_fd_.end()) return false;
  Port& port = ports_.at(owner->second);
  for (int i = 0; i < kReadsPerCall; ++i) {
    sockaddr_ll from{};
    socklen_t from_size = sizeof(from);
    const ssize_t got = ::recvfrom(fd, buffer_.data(), buffer_.size(), MSG_TRUNC,
                                   reinterpret_cast<sockaddr*>(&from), &from_size);
    if (got < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        own_["services.socket_errors"]++;
      }
      break;
    }
    own_["services.received"]++;
    if (from.sll_pkttype == PACKET_OUTGOING || static_cast<size_t>(got) > buffer_.size()) {
      own_["services.ignored"]++;
      continue;
    }
    Handle(port, net::ByteSpan(buffer_.data(), static_cast<size_t>(got)));
  }
  return true;
}

void PortServices::Handle(Port& port, net::ByteSpan frame) {
  if (frame.size() < 14 ||
      !std::equal(port.mac.bytes().begin(), port.mac.bytes().end(), frame.begin() + 6)) {
    own_["services.bad_mac"]++;
    return;
  }
  pipeline::Packet* packet = pool_.Alloc(frame.size());
  if (packet == nullptr || !packet->Assign(frame) || !pipeline::Classify(*packet)) {
    own_["services.ignored"]++;
    pool_.Free(packet);
    return;
  }
  packet->meta.in_port = port.id;
  packet->meta.vni = port.vni;
  counters_.Received(port.id, packet->size());
  pipeline::PacketBatch batch;
  pipeline::PacketBatch replies;
  batch.Push(packet);
  dhcp_.Process(batch, replies);
  advertiser_.Process(batch, replies);
  own_["services.ignored"] += batch.size();
  pool_.Free(batch);
  Send(port, replies);
}

void PortServices::Send(const Port& port, pipeline::PacketBatch& replies) {
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = port.ifindex;
  to.sll_halen = 6;
  for (pipeline::Packet* reply : replies) {
    const ssize_t sent = ::sendto(port.socket.get(), reply->data(), reply->size(), 0,
                                  reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    if (sent != static_cast<ssize_t>(reply->size())) own_["services.send_errors"]++;
  }
  pool_.Free(replies);
}

std::map<std::string, uint64_t> PortServices::Dump() const {
  std::map<std::string, uint64_t> out = own_;
  for (const auto& [name, value] : dhcp_.counters().Dump()) out[name] = value;
  for (const auto& [name, value] : advertiser_.counters().Dump()) out[name] = value;
  return out;
}

std::map<std::string, uint64_t> PortServices::Drops() const {
  std::map<std::string, uint64_t> out;
  for (const auto reason :
       {pipeline::DropReason::kDhcpMalformed, pipeline::DropReason::kDhcpNoAddress,
        pipeline::DropReason::kDhcpNotAnswered, pipeline::DropReason::kRsNotAnswered,
        pipeline::DropReason::kRaFromPort, pipeline::DropReason::kPoolExhausted}) {
    out[std::string(pipeline::DropReasonName(reason))] = counters_.drops(reason);
  }
  return out;
}

}  // namespace dove::dswitch::kernel
