#include "kernel_backend_figures.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include "lab/netns.h"
#include "net/ip_address.h"
#include "net/mac_address.h"
#include "netlink/neigh_events.h"

namespace dove::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kArpFrameBytes = 42;  // Ethernet 14 + ARP 28 (the veth pads nothing)

// An AF_PACKET socket bound to eth0 of `ns`, and eth0's ifindex there.
struct PacketSocket {
  int fd = -1;
  int ifindex = 0;
  ~PacketSocket() {
    if (fd >= 0) ::close(fd);
  }
};

Expected<std::unique_ptr<PacketSocket>, std::string> OpenPacketSocket(const std::string& ns) {
  auto socket = std::make_unique<PacketSocket>();
  std::string error;
  auto entered = lab::RunInNetns(ns, [&] {
    socket->ifindex = static_cast<int>(::if_nametoindex("eth0"));
    socket->fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);  // send only: no protocol
    if (socket->ifindex == 0 || socket->fd < 0) error = std::strerror(errno);
  });
  if (!entered) return Unexpected(entered.error());
  if (!error.empty()) return Unexpected("AF_PACKET socket on eth0 in " + ns + ": " + error);
  return socket;
}

// A broadcast ARP request from `sender` for `target` (host byte order IPv4).
std::array<uint8_t, kArpFrameBytes> ArpRequest(const net::MacAddress& mac, uint32_t sender_ip,
                                               uint32_t target_ip) {
  std::array<uint8_t, kArpFrameBytes> frame{};
  std::memset(frame.data(), 0xff, 6);
  std::memcpy(frame.data() + 6, mac.bytes().data(), 6);
  frame[12] = 0x08;
  frame[13] = 0x06;
  uint8_t* arp = frame.data() + 14;
  const uint8_t header[] = {0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01};  // Ethernet, IPv4, request
  std::memcpy(arp, header, sizeof header);
  std::memcpy(arp + 8, mac.bytes().data(), 6);
  const uint32_t sender_be = htonl(sender_ip);
  const uint32_t target_be = htonl(target_ip);
  std::memcpy(arp + 14, &sender_be, 4);
  std::memcpy(arp + 24, &target_be, 4);  // target MAC (arp + 18) stays zero
  return frame;
}

bool Send(const PacketSocket& socket, const std::array<uint8_t, kArpFrameBytes>& frame) {
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_ifindex = socket.ifindex;
  address.sll_halen = 6;
  std::memset(address.sll_addr, 0xff, 6);
  return ::sendto(socket.fd, frame.data(), frame.size(), 0,
                  reinterpret_cast<const sockaddr*>(&address),
                  sizeof address) == static_cast<ssize_t>(frame.size());
}

Expected<std::pair<net::MacAddress, uint32_t>, std::string> ParseSender(const MissSender& sender) {
  auto mac = net::MacAddress::Parse(sender.mac);
  auto ip = net::IpAddress::Parse(sender.ip);
  if (!mac || !ip || !ip->is_v4()) {
    return Unexpected("bad sender " + sender.mac + " " + sender.ip);
  }
  return std::make_pair(*mac, ip->v4().ToUint32());
}

}  // namespace

Expected<MissLatency, std::string> MeasureMissToEntry(const std::string& host_ns,
                                                      const MissSender& sender,
                                                      const std::vector<std::string>& targets,
                                                      std::chrono::milliseconds timeout) {
  auto parsed = ParseSender(sender);
  if (!parsed) return Unexpected(parsed.error());
  std::unique_ptr<netlink::NeighListener> listener;
  std::string error;
  auto entered = lab::RunInNetns(host_ns, [&] {
    auto opened = netlink::NeighListener::Open();
    if (opened) {
      listener = std::move(*opened);
    } else {
      error = opened.error().message;
    }
  });
  if (!entered) return Unexpected(entered.error());
  if (!listener) return Unexpected("NeighListener in " + host_ns + ": " + error);
  auto socket = OpenPacketSocket(sender.ns);
  if (!socket) return Unexpected(socket.error());

  MissLatency result;
  const auto drain = [&](const std::function<void(const netlink::NeighEvent&)>& on_event) {
    auto read = listener->Read(on_event);
    if (!read && read.error().code == ENOBUFS) ++result.listener_overruns;
  };
  for (const auto& text : targets) {
    auto target = net::IpAddress::Parse(text);
    if (!target || !target->is_v4()) return Unexpected("bad target " + text);
    drain([](const netlink::NeighEvent&) {});  // what came before this target
    const auto frame = ArpRequest(parsed->first, parsed->second, target->v4().ToUint32());
    const auto sent_at = Clock::now();
    if (!Send(**socket, frame)) return Unexpected("sendto: " + std::string(std::strerror(errno)));
    const auto deadline = sent_at + timeout;
    bool seen = false;
    Clock::time_point seen_at;
    while (!seen && Clock::now() < deadline) {
      pollfd waiting{.fd = listener->fd(), .events = POLLIN, .revents = 0};
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (::poll(&waiting, 1, static_cast<int>(std::max<int64_t>(left, 1))) <= 0) continue;
      drain([&](const netlink::NeighEvent& event) {
        if (seen || event.kind != netlink::NeighEvent::Kind::kNewNeigh) return;
        if (!event.ip || *event.ip != *target || (event.state & NUD_PERMANENT) == 0) return;
        seen = true;
        seen_at = Clock::now();
      });
    }
    if (seen) {
      result.ms.push_back(std::chrono::duration<double, std::milli>(seen_at - sent_at).count());
    } else {
      ++result.timed_out;
    }
  }
  return result;
}

struct MissFlood::State {
  std::unique_ptr<PacketSocket> socket;
  net::MacAddress mac;
  uint32_t ip = 0;
  int rate = 0;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sent{0};
  Clock::time_point started;
  Clock::time_point stopped;
  std::thread thread;
};

Expected<std::unique_ptr<MissFlood>, std::string> MissFlood::Start(const MissSender& sender,
                                                                   int rate) {
  auto parsed = ParseSender(sender);
  if (!parsed) return Unexpected(parsed.error());
  auto socket = OpenPacketSocket(sender.ns);
  if (!socket) return Unexpected(socket.error());
  auto flood = std::unique_ptr<MissFlood>(new MissFlood());
  flood->state_ = std::make_unique<State>();
  State& state = *flood->state_;
  state.socket = std::move(*socket);
  state.mac = parsed->first;
  state.ip = parsed->second;
  state.rate = rate;
  state.started = Clock::now();
  state.thread = std::thread([&state] {
    constexpr uint32_t kFirstTarget = (10U << 24) | (200U << 16);  // 10.200.0.0
    uint32_t next = 1;
    // Batches every millisecond; each batch brings the count up to rate * elapsed.
    while (!state.stop.load()) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - state.started).count();
      const auto due = static_cast<uint64_t>(elapsed * state.rate);
      while (state.sent.load() < due && !state.stop.load()) {
        if (Send(*state.socket, ArpRequest(state.mac, state.ip, kFirstTarget + next++))) {
          state.sent.fetch_add(1);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  return flood;
}

MissFlood::~MissFlood() { Stop(); }

void MissFlood::Stop() {
  if (!state_ || !state_->thread.joinable()) return;
  state_->stop.store(true);
  state_->thread.join();
  state_->stopped = Clock::now();
}

uint64_t MissFlood::Sent() const { return state_->sent.load(); }

double MissFlood::Seconds() const {
  const auto end = state_->thread.joinable() ? Clock::now() : state_->stopped;
  return std::chrono::duration<double>(end - state_->started).count();
}

}  // namespace dove::bench
