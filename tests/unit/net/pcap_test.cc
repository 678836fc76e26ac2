// PcapWriter and ParsePcap: exact bytes written, round trips, and every error of the reader.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "net/pcap_reader.h"
#include "net/pcap_writer.h"
#include "test_bytes.h"
#include "test_printers.h"

namespace dove::net {
namespace {

using std::chrono::microseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

std::vector<uint8_t> Concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

// A big-endian (as a SPARC would write) file header with the given magic and link type.
std::vector<uint8_t> BigEndianHeader(uint32_t magic, uint32_t link_type = 1,
                                     uint32_t snap_length = 65535) {
  auto be32 = [](uint32_t v) {
    return Bytes({static_cast<int>(v >> 24), static_cast<int>(v >> 16 & 0xff),
                  static_cast<int>(v >> 8 & 0xff), static_cast<int>(v & 0xff)});
  };
  return Concat(
      {be32(magic), Bytes({0, 2, 0, 4}), be32(0), be32(0), be32(snap_length), be32(link_type)});
}

std::vector<uint8_t> Le32(uint32_t v) {
  return Bytes({static_cast<int>(v & 0xff), static_cast<int>(v >> 8 & 0xff),
                static_cast<int>(v >> 16 & 0xff), static_cast<int>(v >> 24)});
}

std::vector<uint8_t> LeRecord(uint32_t sec, uint32_t frac, uint32_t incl, uint32_t orig,
                              std::vector<uint8_t> data) {
  return Concat({Le32(sec), Le32(frac), Le32(incl), Le32(orig), data});
}

std::vector<uint8_t> Header() {
  const auto header = PcapFileHeader();
  return {header.begin(), header.end()};
}

const system_clock::time_point kWhen =
    system_clock::time_point(seconds(1'700'000'000)) + microseconds(123'456);

TEST(PcapWriterTest, FileHeaderIsLittleEndianLibpcap) {
  EXPECT_EQ(Header(), Bytes({0xd4, 0xc3, 0xb2, 0xa1,              // magic a1b2c3d4, microseconds
                             0x02, 0x00, 0x04, 0x00,              // version 2.4
                             0,    0,    0,    0,    0, 0, 0, 0,  // thiszone, sigfigs
                             0x00, 0x00, 0x04, 0x00,              // snaplen 262144
                             0x01, 0x00, 0x00, 0x00}));           // link type Ethernet
}

TEST(PcapWriterTest, RecordHeaderBytes) {
  std::vector<uint8_t> out;
  AppendPcapRecord(out, Bytes({0xaa, 0xbb, 0xcc}), kWhen);
  // 1700000000 = 0x6553f100, 123456 = 0x0001e240.
  EXPECT_EQ(out, Bytes({0x00, 0xf1, 0x53, 0x65, 0x40, 0xe2, 0x01, 0x00, 3, 0, 0, 0, 3, 0, 0, 0,
                        0xaa, 0xbb, 0xcc}));
}

TEST(PcapWriterTest, TimestampsBeforeEpochAreZero) {
  std::vector<uint8_t> out;
  AppendPcapRecord(out, {}, system_clock::time_point(seconds(-5)));
  EXPECT_EQ(out, Bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(PcapWriterTest, InMemoryRoundTrip) {
  auto writer = PcapWriter::InMemory();
  const auto first = Bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x06});
  const std::vector<uint8_t> second(1514, 0x5a);
  ASSERT_TRUE(writer.Write(first, kWhen));
  ASSERT_TRUE(writer.Write(second, kWhen + seconds(1)));
  EXPECT_EQ(writer.records_written(), 2u);
  const auto file = writer.bytes();
  EXPECT_EQ(file.size(), 24u + 16 + first.size() + 16 + second.size());

  auto records = ParsePcap(file);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ(std::vector<uint8_t>((*records)[0].data.begin(), (*records)[0].data.end()), first);
  EXPECT_EQ((*records)[0].original_length, first.size());
  EXPECT_EQ((*records)[0].timestamp.time_since_epoch(),
            seconds(1'700'000'000) + microseconds(123'456));
  EXPECT_EQ((*records)[1].data.size(), second.size());
  EXPECT_EQ((*records)[1].timestamp - (*records)[0].timestamp, seconds(1));
}

TEST(PcapWriterTest, CutsFramesLongerThanSnapLength) {
  auto writer = PcapWriter::InMemory();
  const std::vector<uint8_t> jumbo(pcap::kSnapLength + 100, 0x11);
  ASSERT_TRUE(writer.Write(jumbo, kWhen));
  auto records = ParsePcap(writer.bytes());
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].data.size(), pcap::kSnapLength);
  EXPECT_EQ((*records)[0].original_length, pcap::kSnapLength + 100);
}

TEST(PcapWriterTest, WritesFileAndClosesOnDestruction) {
  const std::string path = ::testing::TempDir() + "pcap_writer_test.pcap";
  const auto frame = Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06});
  {
    auto opened = PcapWriter::Open(path);
    ASSERT_TRUE(opened) << opened.error();
    PcapWriter writer = std::move(*opened);  // a moved writer keeps the file
    ASSERT_TRUE(writer.Write(frame, kWhen));
    ASSERT_TRUE(writer.Flush());
    EXPECT_TRUE(writer.bytes().empty());
  }
  auto file = ReadFileBytes(path);
  ASSERT_TRUE(file) << file.error();
  std::vector<uint8_t> expected = Header();
  AppendPcapRecord(expected, frame, kWhen);
  EXPECT_EQ(*file, expected);
  std::remove(path.c_str());
}

TEST(PcapWriterTest, WriteAfterCloseFails) {
  const std::string path = ::testing::TempDir() + "pcap_writer_close_test.pcap";
  auto writer = PcapWriter::Open(path);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->Close());
  EXPECT_TRUE(writer->Close());
  auto written = writer->Write(Bytes({1}));
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().find(path), std::string::npos) << written.error();
  auto file = ReadFileBytes(path);
  ASSERT_TRUE(file);
  EXPECT_EQ(*file, Header());
  std::remove(path.c_str());

  auto moved_from = PcapWriter::InMemory();
  PcapWriter keeper = std::move(moved_from);
  EXPECT_TRUE(keeper.Write(Bytes({1})));
  EXPECT_FALSE(moved_from.Write(Bytes({1})));  // NOLINT(bugprone-use-after-move)
}

TEST(PcapWriterTest, OpenErrorNamesPathAndReason) {
  const std::string path = "/nonexistent-dove-dir/out.pcap";
  auto writer = PcapWriter::Open(path);
  ASSERT_FALSE(writer);
  EXPECT_NE(writer.error().find(path), std::string::npos) << writer.error();
  EXPECT_NE(writer.error().find("No such file or directory"), std::string::npos) << writer.error();
  auto read = ReadFileBytes(path);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().find(path), std::string::npos) << read.error();
}

TEST(PcapReaderTest, ReadsBigEndianNanosecondFiles) {
  const auto file = Concat({BigEndianHeader(pcap::kMagicNanoseconds),
                            Bytes({0x65, 0x53, 0xf1, 0x00, 0x3b, 0x9a, 0xc9, 0xff,  // .999999999
                                   0, 0, 0, 2, 0, 0, 0, 60, 0xde, 0xad})});
  auto records = ParsePcap(file);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].timestamp.time_since_epoch(),
            seconds(1'700'000'000) + nanoseconds(999'999'999));
  EXPECT_EQ((*records)[0].original_length, 60u);
  ASSERT_EQ((*records)[0].data.size(), 2u);
  EXPECT_EQ((*records)[0].data[0], 0xde);
}

TEST(PcapReaderTest, ReadsBigEndianMicrosecondAndLittleEndianNanosecond) {
  auto big = ParsePcap(Concat({BigEndianHeader(pcap::kMagicMicroseconds),
                               Bytes({0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 1, 0x42})}));
  ASSERT_TRUE(big);
  ASSERT_EQ(big->size(), 1u);
  EXPECT_EQ((*big)[0].timestamp.time_since_epoch(), seconds(1) + microseconds(7));

  auto little_ns = Header();
  little_ns[0] = 0x4d;  // a1b23c4d stored little-endian: 4d 3c b2 a1
  little_ns[1] = 0x3c;
  auto little = ParsePcap(Concat({little_ns, LeRecord(1, 7, 1, 1, Bytes({0x42}))}));
  ASSERT_TRUE(little);
  ASSERT_EQ(little->size(), 1u);
  EXPECT_EQ((*little)[0].timestamp.time_since_epoch(), seconds(1) + nanoseconds(7));
}

TEST(PcapReaderTest, EmptyCaptureHasNoRecords) {
  auto records = ParsePcap(Header());
  ASSERT_TRUE(records);
  EXPECT_TRUE(records->empty());
}

TEST(PcapReaderTest, RefusesMalformedFiles) {
  auto with_link_type = [](uint32_t link_type) {
    auto header = Header();
    header[20] = static_cast<uint8_t>(link_type);
    header[23] = static_cast<uint8_t>(link_type >> 24);
    return header;
  };
  auto with_version = [](int major) {
    auto header = Header();
    header[4] = static_cast<uint8_t>(major);
    return header;
  };
  auto with_snap_length = [](uint32_t snap_length) {
    auto header = Header();
    header[16] = static_cast<uint8_t>(snap_length);
    header[17] = static_cast<uint8_t>(snap_length >> 8);
    header[18] = static_cast<uint8_t>(snap_length >> 16);
    header[19] = static_cast<uint8_t>(snap_length >> 24);
    return header;
  };
  const auto pcapng =
      Bytes({0x0a, 0x0d, 0x0d, 0x0a, 28,   0,    0,    0,    0x4d, 0x3c, 0x2b, 0x1a, 1, 0,
             0,    0,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28,   0,    0, 0});
  const auto header = Header();
  struct Case {
    const char* description;
    std::vector<uint8_t> file;
    Error error;
  };
  const std::vector<Case> cases = {
      {"empty", {}, Error::kTruncated},
      {"23-byte header", std::vector<uint8_t>(header.begin(), header.end() - 1), Error::kTruncated},
      {"pcapng", pcapng, Error::kUnsupported},
      {"not pcap", std::vector<uint8_t>(24, 0x20), Error::kBadField},
      {"version 1.0", with_version(1), Error::kBadVersion},
      {"link type 101 (raw IP)", with_link_type(101), Error::kUnsupported},
      {"link type 113 (Linux cooked)", with_link_type(113), Error::kUnsupported},
      {"Ethernet with FCS flag", with_link_type(0x10000001), Error::kUnsupported},
      {"record header cut short", Concat({Header(), Bytes({0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0})}),
       Error::kTruncated},
      {"record data past the end", Concat({Header(), LeRecord(0, 0, 4, 4, Bytes({1, 2, 3}))}),
       Error::kTruncated},
      {"second record past the end",
       Concat({Header(), LeRecord(0, 0, 1, 1, Bytes({1})), LeRecord(0, 0, 2, 2, Bytes({1}))}),
       Error::kTruncated},
      {"incl_len > orig_len", Concat({Header(), LeRecord(0, 0, 2, 1, Bytes({1, 2}))}),
       Error::kBadLength},
      {"incl_len > file snaplen",
       Concat({with_snap_length(1), LeRecord(0, 0, 2, 2, Bytes({1, 2}))}), Error::kBadLength},
      {"incl_len > 256 KiB",
       Concat(
           {with_snap_length(0xffffffff), LeRecord(0, 0, pcap::kSnapLength + 1, 0xffffffff,
                                                   std::vector<uint8_t>(pcap::kSnapLength + 1))}),
       Error::kBadLength},
      {"microseconds >= 1000000", Concat({Header(), LeRecord(0, 1'000'000, 1, 1, Bytes({1}))}),
       Error::kBadField},
  };
  for (const auto& c : cases) {
    auto records = ParsePcap(c.file);
    ASSERT_FALSE(records) << c.description;
    EXPECT_EQ(records.error(), c.error) << c.description;
  }
}

TEST(PcapReaderTest, AcceptsRecordsAtTheLimits) {
  // Exactly the file's snaplen, shorter than the original (a cut frame), and empty records.
  auto file =
      Concat({Header(), LeRecord(0, 999'999, 3, 1514, Bytes({1, 2, 3})), LeRecord(0, 0, 0, 0, {})});
  auto records = ParsePcap(file);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].original_length, 1514u);
  EXPECT_TRUE((*records)[1].data.empty());
}

}  // namespace
}  // namespace dove::net
