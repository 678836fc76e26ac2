// The classic libpcap file format (not pcapng): constants shared by PcapWriter and ParsePcap.
//
// A file is a 24-byte header followed by records, each a 16-byte header and the captured
// bytes. Every field is an unsigned integer in the byte order of the machine that wrote the
// file; a reader tells the order from how the magic number reads.
//
//   File header                         Record header
//   +--------------------------------+  +--------------------------------+
//   | magic (a1b2c3d4 or a1b23c4d)   |  | timestamp seconds              |
//   | version major (2) | minor (4)  |  | timestamp us (or ns)           |
//   | reserved (0)                   |  | captured length (incl_len)     |
//   | reserved (0)                   |  | original length (orig_len)     |
//   | snapshot length                |  +--------------------------------+
//   | link type (1 = Ethernet)       |  | captured bytes ...             |
//   +--------------------------------+
#pragma once

#include <cstddef>
#include <cstdint>

namespace dove::net::pcap {

// Timestamps are in microseconds.
inline constexpr uint32_t kMagicMicroseconds = 0xa1b2c3d4;
// Timestamps are in nanoseconds (tcpdump --time-stamp-precision=nano).
inline constexpr uint32_t kMagicNanoseconds = 0xa1b23c4d;
// The block type that opens a pcapng file, read as either byte order.
inline constexpr uint32_t kPcapngMagic = 0x0a0d0d0a;
inline constexpr uint16_t kVersionMajor = 2;
inline constexpr uint16_t kVersionMinor = 4;
// What tcpdump -s 0 writes, and the most any record of ours holds.
inline constexpr uint32_t kSnapLength = 262144;
// LINKTYPE_ETHERNET: frames begin with the destination MAC, without FCS.
inline constexpr uint32_t kLinkTypeEthernet = 1;
inline constexpr size_t kFileHeaderSize = 24;
inline constexpr size_t kRecordHeaderSize = 16;

}  // namespace dove::net::pcap
