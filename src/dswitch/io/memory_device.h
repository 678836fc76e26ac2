// MemoryDevice: the in-memory twin of TapPort and UdpTunnel (Open vSwitch's dummy netdev), so
// the datapath runs packet-in, packet-out in tests, without root or a kernel.
//
// A test Injects frames (bytes, the offload state a kernel would have given, and where they
// came from); Receive hands them out as pool packets with that metadata, kMaxBurst at most per
// call, like a device reading its queue. Send records a copy of what it is given (bytes,
// metadata, offload state) for the test to Drain. fd() is an eventfd, readable exactly while
// injected frames wait, so an event loop polls a MemoryDevice like a real one.
//
// Kinds: a kPort device stands for a TAP (frames are Ethernet frames, meta.in_port defaults to
// the device's port id, counted as read_frames / write_frames); a kTunnel device stands for the
// underlay (data starts at the VXLAN header, the OffloadInfo describes the inner frame 8 bytes
// on, meta.tunnel says who sent it; counted as underlay_rx / underlay_tx).
//
// Caps are configurable so tests cover both paths: when they lack tso or csum_partial, Send
// finishes the work in software exactly as a real device must (FitToCaps), and records the
// segments / completed frames that would reach the wire. FailNextSends(n) makes the next n
// packets fail to send (counted as write_errors / underlay_tx_errors) to test drop counting.
//
// Threading: one thread. Not copyable or movable (the eventfd and the factory hook).
//
//   MemoryDevice port({.name = "p1", .port = 1});
//   port.Inject(frame);
//   datapath.Poll();
//   std::vector<MemoryDevice::Frame> sent = other.Drain();
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dswitch/io/device.h"
#include "dswitch/io/file_descriptor.h"
#include "dswitch/packet/offload_info.h"
#include "dswitch/packet/packet_meta.h"
#include "net/byte_order.h"
#include "net/ipv4_address.h"

namespace dove::dswitch::io {

class MemoryDevice final : public Device {
 public:
  enum class Kind : uint8_t { kPort, kTunnel };

  // What a TapPort offers: the default.
  static constexpr DeviceCaps kTapCaps = {
      .tso = true, .csum_partial = true, .max_frame = 65535 + 18};
  // A device that takes only finished, wire-sized frames.
  static constexpr DeviceCaps kPlainCaps = {.tso = false, .csum_partial = false, .max_frame = 1518};

  struct Options {
    std::string name;
    Kind kind = Kind::kPort;
    packet::PortId port = packet::kNoPort;  // meta.in_port of what it receives (kPort)
    DeviceCaps caps = kTapCaps;
    // Called from the destructor (MemoryPortFactory forgets the device).
    std::function<void(MemoryDevice*)> on_destroy = nullptr;
    // Whether Send keeps a copy of what it was given for Drain (true), or only counts it
    // (false: a sink that allocates nothing, for benchmarks).
    bool record = true;
  };

  // A frame as injected or as sent.
  struct Frame {
    std::vector<uint8_t> bytes;
    packet::PacketMeta meta;
    packet::OffloadInfo offload;
  };

  // Where an injected frame came from; unset fields take the device's defaults (in_port: its
  // port id for a kPort device; tunnel: 0.0.0.0).
  struct Source {
    std::optional<packet::PortId> in_port = std::nullopt;
    std::optional<net::Ipv4Address> tunnel = std::nullopt;
  };

  explicit MemoryDevice(Options options);
  MemoryDevice(const MemoryDevice&) = delete;
  MemoryDevice& operator=(const MemoryDevice&) = delete;
  ~MemoryDevice() override;

  // Queues a frame for Receive. False (nothing queued) when it is larger than any pool slot.
  bool Inject(net::ByteSpan bytes, const packet::OffloadInfo& offload, const Source& source);
  bool Inject(net::ByteSpan bytes, const packet::OffloadInfo& offload = {}) {
    return Inject(bytes, offload, Source{});
  }
  // The frames Send recorded since the last Drain, in order; forgets them.
  std::vector<Frame> Drain();
  // Makes the next `count` packets given to Send fail (dropped, counted as errors).
  void FailNextSends(size_t count) { fail_sends_ = count; }

  // Drops the on_destroy hook (its owner goes away first).
  void ForgetDestroyHook() { options_.on_destroy = nullptr; }

  size_t queued() const { return queue_.size(); }
  // Frames Send has taken in all (recorded or not; a super-frame cut in software counts each
  // piece).
  uint64_t sent_frames() const { return sent_frames_; }
  packet::PortId port() const { return options_.port; }

  size_t Receive(packet::PacketPool& pool, packet::PacketBatch& out, IoCounters& counters) override;
  size_t Send(packet::PacketPool& pool, packet::PacketBatch& batch, IoCounters& counters) override;
  int fd() const override { return event_.get(); }
  DeviceCaps caps() const override { return options_.caps; }
  const std::string& name() const override { return options_.name; }

 private:
  void SetReadable(bool readable);

  Options options_;
  FileDescriptor event_;
  std::deque<Frame> queue_;
  std::vector<Frame> sent_;
  size_t fail_sends_ = 0;
  uint64_t sent_frames_ = 0;
  packet::PacketBatch ready_;  // what Send finally records, after FitToCaps
};

}  // namespace dove::dswitch::io
