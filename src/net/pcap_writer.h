// PcapWriter: writes Ethernet frames to a classic libpcap file that tcpdump and Wireshark read.
//
// The file is what libpcap writes on x86: every field little-endian (so the magic a1b2c3d4
// is stored d4 c3 b2 a1), version 2.4, microsecond timestamps, snapshot length 262144, link
// type 1 (Ethernet). The order is written explicitly byte by byte, so the output is the same
// on any host. A frame longer than the snapshot length is cut to it, its record keeping the
// original length. Timestamps before 1970 are written as 0; seconds past 2106 saturate.
//
// For tests and tools, not the data plane: Write copies through stdio and may block. A writer
// is move-only and owns its file; the destructor flushes and closes it (reporting nothing:
// call Close() to learn whether the last bytes reached the disk). Not thread-safe.
//
//   auto writer = PcapWriter::Open("/tmp/out.pcap");
//   if (!writer) return Fail(writer.error());  // "pcap /tmp/out.pcap: Permission denied"
//   writer->Write(frame);
//
// PcapWriter::InMemory() collects the same bytes in a vector instead (unit tests need no
// files); PcapFileHeader() and AppendPcapRecord() are the encoders underneath both.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "base/expected.h"
#include "net/byte_order.h"
#include "net/pcap_format.h"

namespace dove::net {

// The 24-byte file header PcapWriter writes.
std::array<uint8_t, pcap::kFileHeaderSize> PcapFileHeader();

// Appends one record (header and at most kSnapLength bytes of `frame`) to `out`.
void AppendPcapRecord(std::vector<uint8_t>& out, ByteSpan frame,
                      std::chrono::system_clock::time_point when);

class PcapWriter {
 public:
  // Creates (or truncates) the file at `path` and writes the file header. The error names
  // the path and the system's reason.
  static Expected<PcapWriter, std::string> Open(const std::string& path);
  // A writer whose file is bytes() instead of a file on disk; it starts with the header.
  static PcapWriter InMemory();

  PcapWriter(PcapWriter&& other) noexcept;
  PcapWriter& operator=(PcapWriter&& other) noexcept;
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;
  ~PcapWriter();

  // Appends one record. Fails when the file cannot be written or the writer is closed.
  Expected<void, std::string> Write(ByteSpan frame, std::chrono::system_clock::time_point when =
                                                        std::chrono::system_clock::now());
  // Pushes buffered records to the file (nothing to do in memory).
  Expected<void, std::string> Flush();
  // Flushes and closes the file; later writes fail. Closing twice is not an error.
  Expected<void, std::string> Close();

  // The file written so far, for an in-memory writer; empty for a file writer.
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  size_t records_written() const { return records_written_; }
  const std::string& path() const { return path_; }

 private:
  struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  enum class Sink : uint8_t { kFile, kMemory, kClosed };

  PcapWriter(Sink sink, std::string path, std::unique_ptr<std::FILE, FileCloser> file)
      : sink_(sink), path_(std::move(path)), file_(std::move(file)) {}
  Unexpected<std::string> Failure(const std::string& what, int error_number) const;

  Sink sink_;
  std::string path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  std::vector<uint8_t> bytes_;
  size_t records_written_ = 0;
};

}  // namespace dove::net
