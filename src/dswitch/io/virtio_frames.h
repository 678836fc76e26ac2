// What the two kinds of VM port share: both take and give each frame with a virtio-net header
// in front (a TAP opened with IFF_VNET_HDR, a packet socket with PACKET_VNET_HDR), so a TCP
// super-frame and a partial checksum cross whole, and both count a refused header the same way.
//
//   const auto offload = packet::FromVirtio(header, size);
//   if (!offload) counters.*RefusalCounter(header) += 1;
//   ...
//   SendWithVirtioHeaders(fd, pool, batch, counters);  // Device::Send's contract
#pragma once

#include <cstdint>

#include "dswitch/io/io_counters.h"
#include "dswitch/packet/offload_info.h"
#include "dswitch/packet/packet.h"
#include "dswitch/packet/packet_batch.h"
#include "dswitch/packet/packet_meta.h"
#include "dswitch/packet/packet_pool.h"
#include "dswitch/packet/virtio_net_header.h"

namespace dove::dswitch::io {

// Which counter a header packet::FromVirtio refused is dropped under: csum_refused,
// gso_refused (TCP GSO) or gso_unsupported (UDP GSO, unknown types).
uint64_t IoCounters::*RefusalCounter(const packet::VirtioNetHeader& header);

// Hands a frame just read on: its offload state and in_port set, appended to `out`, counted
// (read_frames, and read_super_frames for a super-frame).
void HandOnReceived(packet::Packet* packet, const packet::OffloadInfo& offload, packet::PortId port,
                    packet::PacketBatch& out, IoCounters& counters);

// Bytes of Ethernet + IP + TCP headers of a super-frame: the virtio header's hdr_len, which
// Linux wants for GSO frames. From the metadata when Classify parsed the frame, else parsed
// here; 0 when the headers do not parse (the kernel then refuses the frame, counted).
uint16_t TcpHeadersLength(const packet::Packet& packet);

// Writes each packet of `batch` to `fd` with its own virtio header (packet::ToVirtio), one
// writev each, then frees them all to `pool` and clears the batch; returns how many went.
// Counts write_frames / write_super_frames, and a packet that did not go under tx_queue_full
// (EAGAIN, ENOBUFS) or write_errors (anything else, a short write).
size_t SendWithVirtioHeaders(int fd, packet::PacketPool& pool, packet::PacketBatch& batch,
                             IoCounters& counters);

}  // namespace dove::dswitch::io
