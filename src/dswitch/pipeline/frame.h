// Frame and Batch: what the pipeline's stages take and give.
//
// A Frame is the bytes of one Ethernet frame plus where it came from or goes to: a local port,
// a network (VNI) once known, and a remote VTEP (the outer source of a frame from the tunnel,
// the outer destination of one going to it). Stages read and rewrite these fields; which ones
// are meaningful is said by each stage.
//
// A Batch is what one receive call gives (at most kBatchSize frames) and what one send call
// takes. Output batches may hold more than kBatchSize frames (a broadcast replicated to many
// ports); the device that sends them splits them.
//
//   Batch in;
//   in.Push(Frame{.bytes = std::move(bytes), .port = 3});
//   from_port.Process(in);  // drops what port security refuses, in place
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "net/byte_order.h"
#include "net/ipv4_address.h"

namespace dove::dswitch::pipeline {

using PortId = uint32_t;
inline constexpr PortId kNoPort = std::numeric_limits<PortId>::max();
// VNIs are 24 bits: this value is never one.
inline constexpr uint32_t kNoVni = std::numeric_limits<uint32_t>::max();
inline constexpr size_t kBatchSize = 32;

struct Frame {
  std::vector<uint8_t> bytes;
  PortId port = kNoPort;    // the ingress port, or the egress port on the way out
  uint32_t vni = kNoVni;    // the network, once a stage has decided it
  net::Ipv4Address tunnel;  // the remote VTEP: outer source in, outer destination out

  net::ByteSpan span() const { return bytes; }
};

class Batch {
 public:
  Batch() { frames_.reserve(kBatchSize); }

  void Push(Frame frame) { frames_.push_back(std::move(frame)); }
  size_t size() const { return frames_.size(); }
  bool empty() const { return frames_.empty(); }
  void clear() { frames_.clear(); }
  Frame& operator[](size_t i) { return frames_[i]; }
  const Frame& operator[](size_t i) const { return frames_[i]; }
  auto begin() { return frames_.begin(); }
  auto end() { return frames_.end(); }
  auto begin() const { return frames_.begin(); }
  auto end() const { return frames_.end(); }

  // Keeps the frames for which `keep(frame)` returns true, in order; `keep` may move out of
  // the frames it rejects. This is how a stage filters its input in place.
  template <typename Keep>
  void Retain(Keep&& keep) {
    size_t kept = 0;
    for (size_t i = 0; i < frames_.size(); ++i) {
      if (!keep(frames_[i])) continue;
      if (kept != i) frames_[kept] = std::move(frames_[i]);
      ++kept;
    }
    frames_.resize(kept);
  }

 private:
  std::vector<Frame> frames_;
};

}  // namespace dove::dswitch::pipeline
