#include "net/pcap_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

namespace dove::net {
namespace {

void PutLe16(uint8_t* at, uint16_t v) {
  at[0] = static_cast<uint8_t>(v);
  at[1] = static_cast<uint8_t>(v >> 8);
}

void PutLe32(uint8_t* at, uint32_t v) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<uint8_t>(v >> (8 * i));
}

std::array<uint8_t, pcap::kRecordHeaderSize> RecordHeader(
    size_t frame_size, std::chrono::system_clock::time_point when) {
  using std::chrono::microseconds;
  const int64_t since_epoch = std::max<int64_t>(
      0, std::chrono::duration_cast<microseconds>(when.time_since_epoch()).count());
  const int64_t seconds =
      std::min<int64_t>(since_epoch / 1'000'000, std::numeric_limits<uint32_t>::max());
  const size_t captured = std::min<size_t>(frame_size, pcap::kSnapLength);
  const size_t original = std::min<size_t>(frame_size, std::numeric_limits<uint32_t>::max());
  std::array<uint8_t, pcap::kRecordHeaderSize> header{};
  PutLe32(&header[0], static_cast<uint32_t>(seconds));
  PutLe32(&header[4], static_cast<uint32_t>(since_epoch % 1'000'000));
  PutLe32(&header[8], static_cast<uint32_t>(captured));
  PutLe32(&header[12], static_cast<uint32_t>(original));
  return header;
}

}  // namespace

std::array<uint8_t, pcap::kFileHeaderSize> PcapFileHeader() {
  std::array<uint8_t, pcap::kFileHeaderSize> header{};
  PutLe32(&header[0], pcap::kMagicMicroseconds);
  PutLe16(&header[4], pcap::kVersionMajor);
  PutLe16(&header[6], pcap::kVersionMinor);
  // Bytes 8..15 (time zone offset and timestamp accuracy, unused by anyone) stay zero.
  PutLe32(&header[16], pcap::kSnapLength);
  PutLe32(&header[20], pcap::kLinkTypeEthernet);
  return header;
}

void AppendPcapRecord(std::vector<uint8_t>& out, ByteSpan frame,
                      std::chrono::system_clock::time_point when) {
  const auto header = RecordHeader(frame.size(), when);
  out.insert(out.end(), header.begin(), header.end());
  const ByteSpan captured = frame.first(std::min<size_t>(frame.size(), pcap::kSnapLength));
  out.insert(out.end(), captured.begin(), captured.end());
}

Expected<PcapWriter, std::string> PcapWriter::Open(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "wb"));
  if (!file) return Unexpected("pcap " + path + ": " + std::strerror(errno));
  PcapWriter writer(Sink::kFile, path, std::move(file));
  const auto header = PcapFileHeader();
  if (std::fwrite(header.data(), 1, header.size(), writer.file_.get()) != header.size()) {
    return writer.Failure("write failed", errno);
  }
  return writer;
}

PcapWriter PcapWriter::InMemory() {
  PcapWriter writer(Sink::kMemory, "(memory)", nullptr);
  const auto header = PcapFileHeader();
  writer.bytes_.assign(header.begin(), header.end());
  return writer;
}

PcapWriter::PcapWriter(PcapWriter&& other) noexcept
    : sink_(std::exchange(other.sink_, Sink::kClosed)),
      path_(std::move(other.path_)),
      file_(std::move(other.file_)),
      bytes_(std::move(other.bytes_)),
      records_written_(std::exchange(other.records_written_, 0)) {}

PcapWriter& PcapWriter::operator=(PcapWriter&& other) noexcept {
  if (this != &other) {
    (void)Close();
    sink_ = std::exchange(other.sink_, Sink::kClosed);
    path_ = std::move(other.path_);
    file_ = std::move(other.file_);
    bytes_ = std::move(other.bytes_);
    records_written_ = std::exchange(other.records_written_, 0);
  }
  return *this;
}

PcapWriter::~PcapWriter() { (void)Close(); }

Expected<void, std::string> PcapWriter::Write(ByteSpan frame,
                                              std::chrono::system_clock::time_point when) {
  switch (sink_) {
    case Sink::kClosed:
      return Unexpected("pcap " + path_ + ": write after close");
    case Sink::kMemory:
      AppendPcapRecord(bytes_, frame, when);
      break;
    case Sink::kFile: {
      const auto header = RecordHeader(frame.size(), when);
      const size_t captured = std::min<size_t>(frame.size(), pcap::kSnapLength);
      if (std::fwrite(header.data(), 1, header.size(), file_.get()) != header.size() ||
          std::fwrite(frame.data(), 1, captured, file_.get()) != captured) {
        return Failure("write failed", errno);
      }
      break;
    }
  }
  ++records_written_;
  return {};
}

Expected<void, std::string> PcapWriter::Flush() {
  if (sink_ == Sink::kFile && std::fflush(file_.get()) != 0) return Failure("flush failed", errno);
  return {};
}

Expected<void, std::string> PcapWriter::Close() {
  const Sink sink = std::exchange(sink_, Sink::kClosed);
  if (sink != Sink::kFile) return {};
  // fclose flushes; it reports a failed flush (a full disk) as its own failure.
  if (std::fclose(file_.release()) != 0) return Failure("close failed", errno);
  return {};
}

Unexpected<std::string> PcapWriter::Failure(const std::string& what, int error_number) const {
  return Unexpected("pcap " + path_ + ": " + what + ": " + std::strerror(error_number));
}

}  // namespace dove::net
