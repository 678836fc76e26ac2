// TapDevice: one TAP interface, the switch's end of a VM port.
//
// The switch reads what the VM (or a namespace) on the other side sends, and writes what the
// pipeline delivers to that port. The device is opened with IFF_VNET_HDR and
// TUNSETOFFLOAD(CSUM | TSO4 | TSO6): the other side may then send TCP segments of up to 64 KiB
// with their checksums left partial, one write each, as it would to a NIC with offloads, which
// is what makes a TAP port fast. ReadBatch pays for it by applying each frame's virtio header
// (gso.h) before the pipeline sees it: what ReadBatch returns is always wire-valid frames.
// Writes carry a zeroed virtio header: the frames come unchanged from a remote switch or the
// pipeline, so nothing is claimed about their checksums (DATA_VALID is not set).
//
// Lifetime: a TAP the switch creates disappears when its last descriptor closes, unless made
// persistent. The switch makes the TAPs it creates persistent, so that after a crash or a
// restart Open(name, /*create=*/false) finds them again and the VMs' links never drop; Remove()
// deletes one for good. A TAP made with `ip tuntap add dev NAME mode tap vnet_hdr` is persistent
// already and is attached to the same way.
//
// Threading: one thread drives a device. The descriptor is non-blocking: ReadBatch and Write
// never wait; the caller polls fd() for readability. Move-only; the destructor closes the
// descriptor (the device stays if persistent).
//
//   auto tap = TapDevice::Open("dove-p1", /*create=*/true);
//   if (!tap) return Fail(tap.error());
//   tap->SetPersistent(true);
//   pipeline::Batch batch;
//   tap->ReadBatch(batch, /*port=*/1, counters);
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/expected.h"
#include "dswitch/io/file_descriptor.h"
#include "dswitch/io/io_counters.h"
#include "dswitch/pipeline/frame.h"
#include "net/byte_order.h"

namespace dove::dswitch::io {

class TapDevice {
 public:
  // Attaches to the TAP called `name`, creating it first when `create` is true and it does not
  // exist; configures the virtio header and offloads, makes the descriptor non-blocking and
  // sets the link up. Needs CAP_NET_ADMIN. Errors: a name that is empty or longer than 15
  // bytes; "no TAP device NAME" when `create` is false and there is none; a device of that name
  // that is not a TAP; any failing system call (the message names it).
  static Expected<TapDevice, std::string> Open(const std::string& name, bool create);

  TapDevice(TapDevice&&) = default;
  TapDevice& operator=(TapDevice&&) = default;
  ~TapDevice() = default;

  // Makes the device outlive its descriptor (true) or not (false).
  Expected<void, std::string> SetPersistent(bool persistent);
  // Deletes the device: SetPersistent(false), then closes the descriptor, which removes it
  // (unless another process holds a descriptor of it). The object is unusable afterwards.
  Expected<void, std::string> Remove();

  // Reads until the device has nothing more or kBatchSize reads were made, and appends the
  // resulting frames to `out` with Frame::port = `port`. A GSO super-frame becomes several
  // frames, so `out` may grow by more than kBatchSize. Frames refused by ApplyVirtioHeader and
  // failed reads are counted in `counters` and dropped. Returns the number of frames appended.
  size_t ReadBatch(pipeline::Batch& out, pipeline::PortId port, IoCounters& counters);

  // Writes one frame (a zeroed virtio header, then the frame, in one writev). False, and the
  // frame counted as dropped (tx_queue_full when the queue is full, write_errors otherwise),
  // when it was not written whole. Never blocks.
  bool Write(net::ByteSpan frame, IoCounters& counters);
  // Writes the frames of `frames` whose Frame::port is `port` (the caller groups the
  // pipeline's output by port; other frames are skipped, not counted). Returns how many were
  // written.
  size_t WriteBatch(const pipeline::Batch& frames, pipeline::PortId port, IoCounters& counters);

  int fd() const { return fd_.get(); }
  const std::string& name() const { return name_; }
  int ifindex() const { return ifindex_; }

 private:
  TapDevice(FileDescriptor fd, std::string name, int ifindex);

  FileDescriptor fd_;
  std::string name_;
  int ifindex_ = 0;
  std::vector<uint8_t> read_buffer_;  // one virtio header + the largest frame
};

}  // namespace dove::dswitch::io
