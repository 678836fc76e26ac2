// ParsePcap: the records of a classic libpcap file of Ethernet frames, such as tcpdump -w
// or scapy's wrpcap writes. How tests load captured and crafted frames.
//
// Accepts either byte order and both the microsecond (a1b2c3d4) and nanosecond (a1b23c4d)
// magic numbers, version 2.x, link type 1 (Ethernet) only. Errors:
//   kTruncated    the file ends inside its header, a record header, or a record's bytes;
//   kUnsupported  pcapng, or a link type other than Ethernet (including one flagging an FCS);
//   kBadField     not a pcap magic number, or a timestamp fraction of a second or more;
//   kBadVersion   a major version other than 2;
//   kBadLength    a record whose captured length exceeds its original length, the file's
//                 snapshot length, or 256 KiB (pcap::kSnapLength).
// Nothing is copied: each record's bytes point into `file`, which must outlive them.
//
//   auto file = ReadFileBytes(DOVE_TEST_DATA_DIR "/scapy/arp_request.pcap");
//   auto records = ParsePcap(*file);
//   auto frame = ParseEthernet((*records)[0].data);
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/expected.h"
#include "net/byte_order.h"
#include "net/error.h"

namespace dove::net {

struct PcapRecord {
  std::chrono::sys_time<std::chrono::nanoseconds> timestamp;
  uint32_t original_length = 0;  // the frame's length on the wire
  ByteSpan data;                 // the captured bytes: all of them unless cut by the snaplen
};

Result<std::vector<PcapRecord>> ParsePcap(ByteSpan file);

// The whole content of the file at `path`. The error names the path and the system's reason.
Expected<std::vector<uint8_t>, std::string> ReadFileBytes(const std::string& path);

}  // namespace dove::net
