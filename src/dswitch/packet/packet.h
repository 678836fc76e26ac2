// Packet: a handle on one slot of a PacketPool: the bytes of one frame, with room before them
// (headroom) to prepend headers in place and after them to grow, plus its metadata and offload
// state. A Packet never reallocates: an operation that would need more room than the slot has
// fails and changes nothing.
//
//   slot:  [ headroom ........ | data (size bytes) ....... | tailroom ........ ]
//           ^ buffer            ^ data()                    ^ data() + size()
//
// Packets are made only by PacketPool (Alloc) and given back with PacketPool::Free; the pool
// owns the memory, a Packet* is the handle stages and batches pass around. A freshly allocated
// packet has size 0, kDefaultHeadroom bytes of headroom, default metadata and no offload.
//
// Not thread-safe; a packet belongs to one thread at a time.
//
//   Packet* p = pool.Alloc(frame.size());
//   p->Assign(frame);                        // copies the bytes in
//   uint8_t* vxlan = p->Prepend(8);          // encapsulate in place
//   if (vxlan == nullptr) return Drop(...);  // no headroom left (never with the default)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dswitch/packet/offload_info.h"
#include "dswitch/packet/packet_meta.h"
#include "net/byte_order.h"

namespace dove::dswitch::packet {

class PacketPool;

class Packet {
 public:
  // Room for the largest outer headers: Ethernet 14 + VLAN 4 + IPv6 40 + UDP 8 + VXLAN 8 = 74,
  // and a virtio-net header (10 or 12) in front of those, rounded up.
  static constexpr size_t kDefaultHeadroom = 128;

  Packet(const Packet&) = delete;
  Packet& operator=(const Packet&) = delete;

  uint8_t* data() { return buffer_ + offset_; }
  const uint8_t* data() const { return buffer_ + offset_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  net::ByteSpan span() const { return {data(), size_}; }
  net::MutableByteSpan mutable_span() { return {data(), size_}; }

  size_t headroom() const { return offset_; }
  size_t tailroom() const { return capacity_ - offset_ - size_; }
  // The most bytes this packet's slot can hold from its current first byte.
  size_t room() const { return capacity_ - offset_; }
  // Whether the slot is one of the pool's large (super-frame) slots.
  bool large() const { return large_; }

  // Makes `n` more bytes in front of the data and returns them (the new data()); nullptr, and
  // nothing changed, when the headroom is smaller than `n`.
  uint8_t* Prepend(size_t n) {
    if (n > offset_) return nullptr;
    offset_ -= static_cast<uint32_t>(n);
    size_ += static_cast<uint32_t>(n);
    return data();
  }
  // Removes `n` bytes from the front; false, and nothing changed, when size() < n.
  bool Strip(size_t n) {
    if (n > size_) return false;
    offset_ += static_cast<uint32_t>(n);
    size_ -= static_cast<uint32_t>(n);
    return true;
  }
  // Sets the length (bytes beyond the old end are left as the slot holds them); false, and
  // nothing changed, when `n` exceeds room().
  bool Resize(size_t n) {
    if (n > room()) return false;
    size_ = static_cast<uint32_t>(n);
    return true;
  }
  // Replaces the data with a copy of `bytes` starting `headroom` bytes into the slot; false,
  // and nothing changed, when it does not fit. Metadata and offload state are kept.
  bool Assign(net::ByteSpan bytes, size_t headroom = kDefaultHeadroom) {
    if (headroom > capacity_ || bytes.size() > capacity_ - headroom) return false;
    offset_ = static_cast<uint32_t>(headroom);
    size_ = static_cast<uint32_t>(bytes.size());
    if (!bytes.empty()) std::memcpy(data(), bytes.data(), bytes.size());
    return true;
  }
  // Back to a fresh packet: default headroom, size 0, default metadata, no offload.
  void Reset() {
    offset_ = static_cast<uint32_t>(kDefaultHeadroom);
    size_ = 0;
    meta = PacketMeta{};
    offload = OffloadInfo{};
  }

  PacketMeta meta;
  OffloadInfo offload;

 private:
  friend class PacketPool;
  Packet() = default;

  uint8_t* buffer_ = nullptr;
  uint32_t capacity_ = 0;  // bytes in the slot
  uint32_t offset_ = 0;    // of data() from the slot's start
  uint32_t size_ = 0;
  bool large_ = false;
  bool in_use_ = false;
};

}  // namespace dove::dswitch::packet
