// FrameBuilder: assembles a frame header by header into a growing byte buffer.
//
// For the cold and warm paths (replies the switch makes, tests, tools): each Append returns
// the offset where the piece landed, so a later step can fill lengths and checksums once the
// payload is known. The data plane's hot path writes into preallocated packet buffers
// instead, with StoreHeader.
//
//   FrameBuilder b;
//   b.Append(EthernetHeader{...});
//   size_t ip_at = b.Append(Ipv4Header{...});
//   b.Append(payload);
//   FinishIpv4(b.From(ip_at));
//   std::vector<uint8_t> frame = std::move(b).Take();
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "net/byte_order.h"

namespace dove::net {

class FrameBuilder {
 public:
  explicit FrameBuilder(size_t reserve = 128) { bytes_.reserve(reserve); }

  // Appends a wire header; returns its offset.
  template <WireHeader H>
  size_t Append(const H& header) {
    const size_t at = bytes_.size();
    bytes_.resize(at + sizeof(H));
    StoreHeader(MutableByteSpan(bytes_).subspan(at), header);
    return at;
  }
  // Appends raw bytes; returns their offset. `data` may be a span of this builder's own
  // bytes (it is copied first, since growing the buffer would move them).
  size_t Append(ByteSpan data) {
    const size_t at = bytes_.size();
    const std::less<const uint8_t*> before;
    if (!data.empty() && !before(data.data(), bytes_.data()) &&
        before(data.data(), bytes_.data() + at)) {
      const std::vector<uint8_t> copy(data.begin(), data.end());
      bytes_.insert(bytes_.end(), copy.begin(), copy.end());
    } else {
      bytes_.insert(bytes_.end(), data.begin(), data.end());
    }
    return at;
  }
  // Appends `count` zero bytes; returns their offset.
  size_t AppendZeros(size_t count) {
    const size_t at = bytes_.size();
    bytes_.resize(at + count);
    return at;
  }

  // The bytes from `offset` to the current end (empty when offset is past the end). Valid
  // until the next Append.
  MutableByteSpan From(size_t offset) {
    return offset >= bytes_.size() ? MutableByteSpan() : MutableByteSpan(bytes_).subspan(offset);
  }
  size_t size() const { return bytes_.size(); }
  // Forgets the bytes but keeps the buffer: a builder reused this way stops allocating once it
  // has held its largest frame.
  void Clear() { bytes_.clear(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> Take() && { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace dove::net
