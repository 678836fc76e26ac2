#include "netlink/neigh_events.h"

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

namespace dove::netlink {
namespace {

// Netlink aligns messages and attributes to 4 bytes.
constexpr size_t Align4(size_t n) { return (n + 3) & ~size_t{3}; }

template <typename T>
T Load(std::span<const uint8_t> bytes) {
  T value{};
  std::memcpy(&value, bytes.data(), sizeof(T));
  return value;
}

}  // namespace

Expected<NeighEvent, std::string> DecodeNeighMessage(std::span<const uint8_t> message) {
  if (message.size() < sizeof(nlmsghdr)) return Unexpected(std::string("shorter than nlmsghdr"));
  const auto header = Load<nlmsghdr>(message);
  if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > message.size()) {
    return Unexpected("nlmsg_len " + std::to_string(header.nlmsg_len) + " outside the " +
                      std::to_string(message.size()) + " bytes received");
  }
  const auto payload = message.subspan(sizeof(nlmsghdr), header.nlmsg_len - sizeof(nlmsghdr));
  NeighEvent event;
  if (header.nlmsg_type != RTM_NEWNEIGH && header.nlmsg_type != RTM_DELNEIGH &&
      header.nlmsg_type != RTM_GETNEIGH) {
    return event;  // kOther
  }
  if (payload.size() < sizeof(ndmsg)) return Unexpected(std::string("shorter than ndmsg"));
  const auto ndm = Load<ndmsg>(payload);
  event.family = ndm.ndm_family;
  event.ifindex = ndm.ndm_ifindex;
  event.state = ndm.ndm_state;
  event.flags = ndm.ndm_flags;

  auto attributes = payload.subspan(sizeof(ndmsg));
  while (!attributes.empty()) {
    if (attributes.size() < sizeof(nlattr)) return Unexpected(std::string("truncated attribute"));
    const auto attr = Load<nlattr>(attributes);
    if (attr.nla_len < sizeof(nlattr) || attr.nla_len > attributes.size()) {
      return Unexpected("attribute of length " + std::to_string(attr.nla_len) + " with " +
                        std::to_string(attributes.size()) + " bytes left");
    }
    const auto value = attributes.subspan(sizeof(nlattr), attr.nla_len - sizeof(nlattr));
    const uint16_t type = attr.nla_type & NLA_TYPE_MASK;
    if (type == NDA_LLADDR && value.size() == 6) {
      std::array<uint8_t, 6> b{};
      std::memcpy(b.data(), value.data(), 6);
      event.mac = net::MacAddress(b);
    } else if (type == NDA_DST) {
      if (value.size() == 4) {
        std::array<uint8_t, 4> b{};
        std::memcpy(b.data(), value.data(), 4);
        event.ip = net::IpAddress(net::Ipv4Address(b));
      } else if (value.size() == 16) {
        std::array<uint8_t, 16> b{};
        std::memcpy(b.data(), value.data(), 16);
        event.ip = net::IpAddress(net::Ipv6Address(b));
      } else {
        return Unexpected("NDA_DST of " + std::to_string(value.size()) + " bytes");
      }
    }
    attributes = attributes.subspan(std::min(Align4(attr.nla_len), attributes.size()));
  }

  switch (header.nlmsg_type) {
    case RTM_NEWNEIGH:
      event.kind = NeighEvent::Kind::kNewNeigh;
      break;
    case RTM_DELNEIGH:
      event.kind = NeighEvent::Kind::kDelNeigh;
      break;
    default:  // RTM_GETNEIGH
      if ((header.nlmsg_flags & NLM_F_REQUEST) != 0 && event.state == NUD_INCOMPLETE && event.ip) {
        event.kind = NeighEvent::Kind::kAppSolicit;
      } else if (header.nlmsg_flags == 0 && event.state == NUD_STALE && event.mac && !event.ip) {
        event.kind = NeighEvent::Kind::kL2Miss;
      } else if (header.nlmsg_flags == 0 && event.state == NUD_STALE && event.ip && !event.mac) {
        event.kind = NeighEvent::Kind::kL3Miss;
      }
      break;
  }
  return event;
}

struct NeighListener::Socket {
  int fd = -1;
  std::vector<uint8_t> buffer = std::vector<uint8_t>(size_t{64} * 1024);
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

Result<std::unique_ptr<NeighListener>> NeighListener::Open(int receive_buffer) {
  auto socket = std::make_unique<Socket>();
  socket->fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (socket->fd < 0) {
    return Unexpected(
        Error{errno, std::string("open neighbour listener: ") + std::strerror(errno)});
  }
  // SO_RCVBUFFORCE passes rmem_max (needs CAP_NET_ADMIN); without it SO_RCVBUF is capped.
  if (::setsockopt(socket->fd, SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer,
                   sizeof(receive_buffer)) != 0 &&
      ::setsockopt(socket->fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer)) !=
          0) {
    return Unexpected(Error{
        errno, std::string("set neighbour listener's receive buffer: ") + std::strerror(errno)});
  }
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = 1U << (RTNLGRP_NEIGH - 1);
  if (::bind(socket->fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return Unexpected(Error{
        errno, std::string("bind neighbour listener to RTNLGRP_NEIGH: ") + std::strerror(errno)});
  }
  auto listener = std::unique_ptr<NeighListener>(new NeighListener());
  listener->socket_ = std::move(socket);
  return listener;
}

NeighListener::~NeighListener() = default;

int NeighListener::fd() const { return socket_->fd; }

uint64_t NeighListener::malformed() const { return malformed_; }

Result<size_t> NeighListener::Read(const std::function<void(const NeighEvent&)>& on_event) {
  size_t events = 0;
  for (;;) {
    sockaddr_nl sender{};
    iovec iov{.iov_base = socket_->buffer.data(), .iov_len = socket_->buffer.size()};
    msghdr msg{};
    msg.msg_name = &sender;
    msg.msg_namelen = sizeof(sender);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    const ssize_t n = ::recvmsg(socket_->fd, &msg, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return events;
      const int code = errno;
      return Unexpected(
          Error{code, std::string("read neighbour notifications: ") + std::strerror(code)});
    }
    // Only the kernel (port 0) speaks for the neighbour tables; a datagram cut short by the
    // buffer is not trusted either.
    if (sender.nl_pid != 0 || (msg.msg_flags & MSG_TRUNC) != 0) {
      ++malformed_;
      continue;
    }
    std::span<const uint8_t> rest(socket_->buffer.data(), static_cast<size_t>(n));
    while (!rest.empty()) {
      auto event = DecodeNeighMessage(rest);
      if (!event) {
        ++malformed_;
        break;  // the message's length is not to be trusted: the rest of the datagram neither
      }
      on_event(*event);
      ++events;
      const uint32_t length = Load<nlmsghdr>(rest).nlmsg_len;
      rest = rest.subspan(std::min(Align4(length), rest.size()));
    }
  }
}

}  // namespace dove::netlink
