#include "dswitch/io/packet_port.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "dswitch/io/interface_mtu.h"
#include "dswitch/io/virtio_frames.h"
#include "dswitch/packet/offload_info.h"
#include "dswitch/packet/packet_pool.h"
#include "dswitch/packet/virtio_net_header.h"

namespace dove::dswitch::io {

namespace {

constexpr size_t kVirtioHeaderSize = sizeof(packet::VirtioNetHeader);
constexpr size_t kRingBytes = PacketPort::kRingBlocks * PacketPort::kBlockSize;
constexpr size_t kFramesPerBlock = PacketPort::kBlockSize / PacketPort::kFrameSize;
constexpr size_t kRingFrames = PacketPort::kRingBlocks * kFramesPerBlock;
static_assert(PacketPort::kFrameSize % TPACKET_ALIGNMENT == 0);
// The frame's data begins after the header, the address, alignment and the virtio header
// (tpacket_rcv's macoff: well under 256 bytes); a frame must fit after it.
static_assert(PacketPort::kFrameSize >= PacketPort::kMaxFrame + 128);
static_assert(PacketPort::kMaxFrame <= packet::PacketPool::kLargeRoom);

std::string Failed(const char* what, const std::string& name) {
  return std::string(what) + " failed for " + name + ": " + std::strerror(errno);
}

template <typename T>
bool SetOption(int fd, int name, const T& value) {
  return ::setsockopt(fd, SOL_PACKET, name, &value, sizeof(value)) == 0;
}

}  // namespace

PacketPort::PacketPort(FileDescriptor fd, std::string name, int ifindex, packet::PortId id,
                       uint8_t* ring, size_t max_frame)
    : fd_(std::move(fd)),
      name_(std::move(name)),
      ifindex_(ifindex),
      id_(id),
      ring_(ring),
      max_frame_(max_frame) {}

PacketPort::~PacketPort() {
  if (ring_ != nullptr) ::munmap(ring_, kRingBytes);
}

Expected<std::unique_ptr<PacketPort>, std::string> PacketPort::Open(const std::string& name,
                                                                    packet::PortId id) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return Unexpected("an interface name must have 1 to " + std::to_string(IFNAMSIZ - 1) +
                      " bytes: \"" + name + "\"");
  }
  const unsigned ifindex = ::if_nametoindex(name.c_str());
  if (ifindex == 0) return Unexpected("no interface " + name);
  const auto mtu = GetInterfaceMtu(name);
  if (!mtu) return Unexpected(mtu.error());
  // Protocol 0: nothing is queued to the socket before it is bound, with its ring, below.
  FileDescriptor fd(::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Unexpected(Failed("socket(AF_PACKET)", name));
  // The virtio header must be asked for before the ring is set up (the kernel refuses after).
  if (!SetOption(fd.get(), PACKET_VNET_HDR, 1)) {
    return Unexpected(Failed("PACKET_VNET_HDR", name));
  }
  if (!SetOption(fd.get(), PACKET_VERSION, static_cast<int>(TPACKET_V2))) {
    return Unexpected(Failed("PACKET_VERSION", name));
  }
  const tpacket_req request{.tp_block_size = kBlockSize,
                            .tp_block_nr = kRingBlocks,
                            .tp_frame_size = kFrameSize,
                            .tp_frame_nr = kRingFrames};
  if (!SetOption(fd.get(), PACKET_RX_RING, request)) {
    return Unexpected(Failed("PACKET_RX_RING", name));
  }
  if (!SetOption(fd.get(), PACKET_IGNORE_OUTGOING, 1)) {
    return Unexpected(Failed("PACKET_IGNORE_OUTGOING", name));
  }
  void* ring = ::mmap(nullptr, kRingBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (ring == MAP_FAILED) return Unexpected(Failed("mmap of the packet ring", name));
  // Owned from here: the destructor unmaps it.
  std::unique_ptr<PacketPort> port(new PacketPort(std::move(fd), name, static_cast<int>(ifindex),
                                                  id, static_cast<uint8_t*>(ring),
                                                  *mtu + size_t{18}));
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = static_cast<int>(ifindex);
  if (::bind(port->fd(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return Unexpected(Failed("bind(AF_PACKET)", name));
  }
  if (auto up = SetInterfaceUp(name); !up) return Unexpected(up.error());
  return port;
}

bool PacketPort::Healthy() const {
  return ::if_nametoindex(name_.c_str()) == static_cast<unsigned>(ifindex_);
}

uint8_t* PacketPort::Frame(size_t index) const {
  return ring_ + (index / kFramesPerBlock) * kBlockSize + (index % kFramesPerBlock) * kFrameSize;
}

uint32_t PacketPort::Status(const uint8_t* frame) {
  // The kernel hands a frame over by its status word, written last: read it first, with
  // acquire ordering; it is given back with release ordering once the bytes are copied.
  const auto* header = reinterpret_cast<const tpacket2_hdr*>(frame);
  return __atomic_load_n(&header->tp_status, __ATOMIC_ACQUIRE);
}

void PacketPort::CountRingDrops(IoCounters& counters) {
  tpacket_stats stats{};
  socklen_t size = sizeof(stats);
  // Reading the statistics resets them: each drop is counted once.
  if (::getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &stats, &size) == 0) {
    counters.ring_full += stats.tp_drops;
  }
}

size_t PacketPort::Receive(packet::PacketPool& pool, packet::PacketBatch& out,
                           IoCounters& counters) {
  // The kernel drops only while every ring frame is ours, and then the one before next_ (the
  // last it filled) is ours too; or, later, it marks the next frame it fills LOSING.
  bool dropped = (Status(Frame((next_ + kRingFrames - 1) % kRingFrames)) & TP_STATUS_USER) != 0;
  size_t received = 0;
  for (size_t reads = 0; reads < packet::kMaxBurst; ++reads) {
    uint8_t* frame = Frame(next_);
    auto* header = reinterpret_cast<tpacket2_hdr*>(frame);
    const uint32_t status = Status(frame);
    if ((status & TP_STATUS_USER) == 0) break;
    if ((status & TP_STATUS_LOSING) != 0) dropped = true;
    const size_t size = header->tp_snaplen;
    if (size < header->tp_len) {
      counters.read_truncated++;
    } else if ((status & TP_STATUS_VLAN_VALID) != 0) {
      counters.read_vlan_refused++;
    } else if (header->tp_mac < kVirtioHeaderSize || header->tp_mac + size > kFrameSize) {
      counters.read_errors++;  // not what the kernel writes
    } else {
      packet::VirtioNetHeader virtio;
      std::memcpy(&virtio, frame + header->tp_mac - kVirtioHeaderSize, kVirtioHeaderSize);
      const auto offload = packet::FromVirtio(virtio, size);
      if (!offload) {
        counters.*RefusalCounter(virtio) += 1;
      } else {
        packet::Packet* packet = pool.Alloc(size);
        if (packet == nullptr) break;  // counted by the pool; the frame stays in the ring
        packet->Assign({frame + header->tp_mac, size});
        HandOnReceived(packet, *offload, id_, out, counters);
        ++received;
      }
    }
    __atomic_store_n(&header->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    next_ = (next_ + 1) % kRingFrames;
  }
  if (dropped) CountRingDrops(counters);
  if (received == 0) {
    // Woken with nothing to read: an error is pending (ENETDOWN: the interface went down or
    // away). Reading it clears it, so that epoll does not wake the loop for it again.
    int error = 0;
    socklen_t size = sizeof(error);
    if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error != 0) {
      counters.read_errors++;
    }
  }
  return received;
}

size_t PacketPort::Send(packet::PacketPool& pool, packet::PacketBatch& batch,
                        IoCounters& counters) {
  return SendWithVirtioHeaders(fd_.get(), pool, batch, counters);
}

}  // namespace dove::dswitch::io
