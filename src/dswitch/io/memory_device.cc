#include "dswitch/io/memory_device.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>

#include "dswitch/io/fit_to_caps.h"
#include "dswitch/packet/packet_pool.h"

namespace dove::dswitch::io {

namespace {

// Bytes in front of the frame the OffloadInfo describes.
size_t PrefixOf(MemoryDevice::Kind kind) { return kind == MemoryDevice::Kind::kTunnel ? 8 : 0; }

}  // namespace

MemoryDevice::MemoryDevice(Options options)
    : options_(std::move(options)), event_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!event_.valid()) std::abort();  // only when out of descriptors: a test cannot go on
}

MemoryDevice::~MemoryDevice() {
  if (options_.on_destroy) options_.on_destroy(this);
}

void MemoryDevice::SetReadable(bool readable) {
  // The eventfd's counter is non-zero exactly while frames wait.
  if (readable) {
    const uint64_t one = 1;
    (void)::write(event_.get(), &one, sizeof(one));
  } else {
    uint64_t value = 0;
    (void)::read(event_.get(), &value, sizeof(value));
  }
}

bool MemoryDevice::Inject(net::ByteSpan bytes, const packet::OffloadInfo& offload,
                          const Source& source) {
  if (bytes.size() > packet::PacketPool::kLargeRoom) return false;
  Frame frame;
  frame.bytes.assign(bytes.begin(), bytes.end());
  frame.offload = offload;
  if (options_.kind == Kind::kPort) frame.meta.in_port = options_.port;
  if (source.in_port) frame.meta.in_port = *source.in_port;
  if (source.tunnel) frame.meta.tunnel = *source.tunnel;
  queue_.push_back(std::move(frame));
  if (queue_.size() == 1) SetReadable(true);
  return true;
}

std::vector<MemoryDevice::Frame> MemoryDevice::Drain() { return std::exchange(sent_, {}); }

size_t MemoryDevice::Receive(packet::PacketPool& pool, packet::PacketBatch& out,
                             IoCounters& counters) {
  size_t received = 0;
  while (received < packet::kMaxBurst && !queue_.empty()) {
    const Frame& frame = queue_.front();
    packet::Packet* packet = pool.Alloc(frame.bytes.size());
    if (packet == nullptr) break;  // counted by the pool; the frame waits for the next call
    packet->Assign(frame.bytes);
    packet->meta = frame.meta;
    packet->offload = frame.offload;
    out.Push(packet);
    if (options_.kind == Kind::kTunnel) {
      counters.underlay_rx++;
    } else {
      counters.read_frames++;
      if (packet->offload.is_gso()) counters.read_super_frames++;
    }
    queue_.pop_front();  // `frame` is gone from here on
    ++received;
  }
  if (received > 0 && queue_.empty()) SetReadable(false);
  return received;
}

size_t MemoryDevice::Send(packet::PacketPool& pool, packet::PacketBatch& batch,
                          IoCounters& counters) {
  const bool tunnel = options_.kind == Kind::kTunnel;
  size_t sent = 0;
  for (packet::Packet* packet : batch) {
    if (fail_sends_ > 0) {
      --fail_sends_;
      (tunnel ? counters.underlay_tx_errors : counters.write_errors)++;
      pool.Free(packet);
      continue;
    }
    const bool super = packet->offload.is_gso();
    const size_t pieces =
        FitToCaps(packet, options_.caps, PrefixOf(options_.kind), pool, ready_, counters);
    if (pieces == 0) continue;
    ++sent;
    if (tunnel) {
      counters.underlay_tx += pieces;
    } else {
      counters.write_frames += pieces;
      if (super && options_.caps.tso) counters.write_super_frames++;
    }
  }
  batch.clear();
  sent_frames_ += ready_.size();
  for (packet::Packet* packet : ready_) {
    if (!options_.record) break;
    sent_.push_back(Frame{.bytes = {packet->span().begin(), packet->span().end()},
                          .meta = packet->meta,
                          .offload = packet->offload});
  }
  pool.Free(ready_);
  return sent;
}

}  // namespace dove::dswitch::io
