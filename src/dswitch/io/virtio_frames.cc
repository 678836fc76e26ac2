#include "dswitch/io/virtio_frames.h"

#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "dswitch/packet/offload_info.h"
#include "net/ethernet.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/tcp.h"

namespace dove::dswitch::io {

namespace {
constexpr size_t kVirtioHeaderSize = sizeof(packet::VirtioNetHeader);
}  // namespace

uint64_t IoCounters::*RefusalCounter(const packet::VirtioNetHeader& header) {
  switch (header.gso_kind()) {
    case packet::VirtioNetHeader::kGsoNone:
      return &IoCounters::csum_refused;
    case packet::VirtioNetHeader::kGsoTcpV4:
    case packet::VirtioNetHeader::kGsoTcpV6:
      return &IoCounters::gso_refused;
    default:
      return &IoCounters::gso_unsupported;
  }
}

void HandOnReceived(packet::Packet* packet, const packet::OffloadInfo& offload, packet::PortId port,
                    packet::PacketBatch& out, IoCounters& counters) {
  packet->offload = offload;
  packet->meta.in_port = port;
  out.Push(packet);
  counters.read_frames++;
  if (offload.is_gso()) counters.read_super_frames++;
}

uint16_t TcpHeadersLength(const packet::Packet& packet) {
  const net::ByteSpan frame = packet.span();
  size_t l4 = 0;
  if (packet.meta.parsed && packet.meta.l4_offset != 0) {
    l4 = packet.meta.l4_offset;
  } else {
    const auto ethernet = net::ParseEthernet(frame);
    if (!ethernet) return 0;
    if (ethernet->ether_type == net::ether_type::kIpv4) {
      const auto ip = net::ParseIpv4(ethernet->payload, /*verify_checksum=*/false);
      if (!ip || ip->protocol() != net::ip_proto::kTcp) return 0;
      l4 = ethernet->header_size + ip->header_size;
    } else if (ethernet->ether_type == net::ether_type::kIpv6) {
      const auto ip = net::ParseIpv6(ethernet->payload);
      if (!ip || ip->upper_protocol != net::ip_proto::kTcp) return 0;
      l4 = ethernet->header_size + ip->header_size;
    } else {
      return 0;
    }
  }
  const auto tcp = net::ParseTcp(frame.subspan(std::min(l4, frame.size())));
  if (!tcp) return 0;
  return static_cast<uint16_t>(l4 + tcp->header_size);
}

size_t SendWithVirtioHeaders(int fd, packet::PacketPool& pool, packet::PacketBatch& batch,
                             IoCounters& counters) {
  size_t sent = 0;
  for (packet::Packet* packet : batch) {
    const bool super = packet->offload.is_gso();
    packet::VirtioNetHeader header =
        packet::ToVirtio(packet->offload, super ? TcpHeadersLength(*packet) : 0);
    std::array<iovec, 2> parts = {{
        {&header, kVirtioHeaderSize},
        {packet->data(), packet->size()},
    }};
    ssize_t n = -1;
    do {
      n = ::writev(fd, parts.data(), static_cast<int>(parts.size()));
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(kVirtioHeaderSize + packet->size())) {
      ++sent;
      counters.write_frames++;
      if (super) counters.write_super_frames++;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      counters.tx_queue_full++;
    } else {
      counters.write_errors++;
    }
  }
  pool.Free(batch);
  return sent;
}

}  // namespace dove::dswitch::io
