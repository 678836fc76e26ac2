#include "net/pcap_reader.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "net/pcap_format.h"

namespace dove::net {
namespace {

// Reads the file's integers in the byte order its magic number revealed.
class FieldReader {
 public:
  explicit FieldReader(bool big_endian) : big_endian_(big_endian) {}

  uint32_t U32(ByteSpan bytes, size_t at) const {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) {
      const uint8_t byte = bytes[at + (big_endian_ ? i : 3 - i)];
      v = v << 8 | byte;
    }
    return v;
  }
  uint16_t U16(ByteSpan bytes, size_t at) const {
    const size_t high = big_endian_ ? at : at + 1;
    const size_t low = big_endian_ ? at + 1 : at;
    return static_cast<uint16_t>(bytes[high] << 8 | bytes[low]);
  }

 private:
  bool big_endian_;
};

uint32_t BigEndian32(ByteSpan bytes) { return FieldReader(true).U32(bytes, 0); }
uint32_t LittleEndian32(ByteSpan bytes) { return FieldReader(false).U32(bytes, 0); }

}  // namespace

Result<std::vector<PcapRecord>> ParsePcap(ByteSpan file) {
  if (file.size() < pcap::kFileHeaderSize) return Unexpected(Error::kTruncated);
  const uint32_t magic_be = BigEndian32(file);
  const uint32_t magic_le = LittleEndian32(file);
  bool big_endian = false;
  bool nanoseconds = false;
  if (magic_be == pcap::kMagicMicroseconds || magic_be == pcap::kMagicNanoseconds) {
    big_endian = true;
    nanoseconds = magic_be == pcap::kMagicNanoseconds;
  } else if (magic_le == pcap::kMagicMicroseconds || magic_le == pcap::kMagicNanoseconds) {
    nanoseconds = magic_le == pcap::kMagicNanoseconds;
  } else if (magic_be == pcap::kPcapngMagic) {
    return Unexpected(Error::kUnsupported);
  } else {
    return Unexpected(Error::kBadField);
  }
  const FieldReader field(big_endian);
  if (field.U16(file, 4) != pcap::kVersionMajor) return Unexpected(Error::kBadVersion);
  const uint32_t snap_length = field.U32(file, 16);
  if (field.U32(file, 20) != pcap::kLinkTypeEthernet) return Unexpected(Error::kUnsupported);

  const uint32_t fraction_limit = nanoseconds ? 1'000'000'000 : 1'000'000;
  const int64_t fraction_unit = nanoseconds ? 1 : 1'000;
  std::vector<PcapRecord> records;
  size_t at = pcap::kFileHeaderSize;
  while (at < file.size()) {
    if (file.size() - at < pcap::kRecordHeaderSize) return Unexpected(Error::kTruncated);
    const uint32_t seconds = field.U32(file, at);
    const uint32_t fraction = field.U32(file, at + 4);
    const uint32_t captured = field.U32(file, at + 8);
    const uint32_t original = field.U32(file, at + 12);
    if (fraction >= fraction_limit) return Unexpected(Error::kBadField);
    if (captured > original || captured > snap_length || captured > pcap::kSnapLength) {
      return Unexpected(Error::kBadLength);
    }
    at += pcap::kRecordHeaderSize;
    if (file.size() - at < captured) return Unexpected(Error::kTruncated);
    PcapRecord record;
    record.timestamp = std::chrono::sys_time<std::chrono::nanoseconds>(
        std::chrono::seconds(seconds) + std::chrono::nanoseconds(fraction * fraction_unit));
    record.original_length = original;
    record.data = file.subspan(at, captured);
    records.push_back(record);
    at += captured;
  }
  return records;
}

Expected<std::vector<uint8_t>, std::string> ReadFileBytes(const std::string& path) {
  struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return Unexpected(path + ": " + std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t chunk[65536];
  size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof(chunk), file.get())) > 0) {
    bytes.insert(bytes.end(), chunk, chunk + got);
  }
  if (std::ferror(file.get()) != 0) return Unexpected(path + ": " + std::strerror(errno));
  return bytes;
}

}  // namespace dove::net
