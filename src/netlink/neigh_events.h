// NeighEvents: the kernel's neighbour notifications (group RTNLGRP_NEIGH), decoded. What the
// DOVE extensions of a vxlan device send on a miss, and what the kernel's neighbour code sends
// with app_solicit: ../shared/reference/linux-vxlan-dove.md, "Miss notifications".
//
// DecodeNeighMessage is the parser (pure, never reads outside the span, fuzzed:
// tests/fuzz/neigh_message_fuzz.cc); NeighListener is the socket: non-blocking, a large
// receive buffer, fd() for epoll, Read() drains what is queued.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "base/expected.h"
#include "net/ip_address.h"
#include "net/mac_address.h"
#include "netlink/rtnetlink.h"

namespace dove::netlink {

struct NeighEvent {
  enum class Kind : uint8_t {
    kL2Miss,      // RTM_GETNEIGH, flags 0, NUD_STALE, NDA_LLADDR: unknown destination MAC
    kL3Miss,      // RTM_GETNEIGH, flags 0, NUD_STALE, NDA_DST: unknown ARP/ND target
    kAppSolicit,  // RTM_GETNEIGH with NLM_F_REQUEST, NUD_INCOMPLETE, NDA_DST (app_solicit)
    kNewNeigh,    // RTM_NEWNEIGH (an entry added or changed; our own writes echo here)
    kDelNeigh,    // RTM_DELNEIGH
    kOther,       // a well-formed message that is none of those
  };
  Kind kind = Kind::kOther;
  uint8_t family = 0;  // AF_INET, AF_INET6, AF_BRIDGE
  int ifindex = 0;
  uint16_t state = 0;
  uint8_t flags = 0;                   // ndm_flags (NTF_SELF, NTF_ROUTER, ...)
  std::optional<net::MacAddress> mac;  // NDA_LLADDR
  std::optional<net::IpAddress> ip;    // NDA_DST
};

// One netlink message (header included). Errors: a truncated or inconsistent message.
Expected<NeighEvent, std::string> DecodeNeighMessage(std::span<const uint8_t> message);

class NeighListener {
 public:
  // Subscribes to RTNLGRP_NEIGH in the caller's network namespace, with a receive buffer of
  // `receive_buffer` bytes (SO_RCVBUFFORCE where permitted).
  static Result<std::unique_ptr<NeighListener>> Open(int receive_buffer = 8 << 20);
  ~NeighListener();

  int fd() const;
  // Reads every queued datagram without blocking, decodes each message and calls `on_event`;
  // malformed messages are counted in malformed(). Returns the number of events; an error with
  // code ENOBUFS means the kernel dropped notifications (the caller resynchronises; the socket
  // stays usable).
  Result<size_t> Read(const std::function<void(const NeighEvent&)>& on_event);
  uint64_t malformed() const;

 private:
  NeighListener() = default;
  struct Socket;
  std::unique_ptr<Socket> socket_;
  uint64_t malformed_ = 0;
};

}  // namespace dove::netlink
