// Fuzzes ParsePcap: every record it returns must lie inside the input and within its lengths,
// and writing the records back with PcapWriter must read back as the same frames and times
// (to the microsecond). Each frame is also handed to ParseEthernet.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "net/ethernet.h"
#include "net/pcap_reader.h"
#include "net/pcap_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using std::chrono::microseconds;
  using std::chrono::system_clock;
  namespace net = dove::net;
  const net::ByteSpan input(data, size);
  auto records = net::ParsePcap(input);
  if (!records) return 0;
  auto writer = net::PcapWriter::InMemory();
  for (const auto& record : *records) {
    if (record.data.data() < data || record.data.data() + record.data.size() > data + size ||
        record.data.size() > record.original_length ||
        record.data.size() > net::pcap::kSnapLength) {
      std::abort();
    }
    (void)net::ParseEthernet(record.data);
    if (!writer.Write(record.data,
                      std::chrono::time_point_cast<system_clock::duration>(record.timestamp))) {
      std::abort();
    }
  }
  auto again = net::ParsePcap(writer.bytes());
  if (!again || again->size() != records->size()) std::abort();
  for (size_t i = 0; i < records->size(); ++i) {
    const auto& before = (*records)[i];
    const auto& after = (*again)[i];
    if (after.data.size() != before.data.size() ||
        (!before.data.empty() &&
         std::memcmp(after.data.data(), before.data.data(), before.data.size()) != 0) ||
        after.timestamp != std::chrono::floor<microseconds>(before.timestamp)) {
      std::abort();
    }
  }
  return 0;
}
