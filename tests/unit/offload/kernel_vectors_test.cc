// SegmentTcp, LayoutUdpGso and TcpCoalescer against the Linux kernel's own TCP offload, on
// frames it made (tests/data/kernel/tso_*, capture_kernel_offload_vectors.py): for IPv4 and
// IPv6, a TSO super-frame as the kernel's TCP stack handed it to a TAP (with its virtio-net
// header, tso_manifest.tsv) and the wire segments the kernel's software GSO cut from it.
//   - SegmentTcp cuts the super-frame into exactly the kernel's segments, byte for byte (IPv4
//     id + i included: the kernel increments it for a super-frame written into a TAP, whose
//     GSO type never carries SKB_GSO_TCP_FIXEDID), and LayoutUdpGso lays out the same bytes;
//   - TcpCoalescer merges the kernel's segments back into the kernel's super-frame, byte for
//     byte: IPv4 total length and header checksum of the whole, the first segment's IPv4 id,
//     PSH from the last, and in the TCP checksum field the folded, uncomplemented pseudo-header
//     sum of the whole TCP length (what tcp_v4_send_check / tcp_v6_send_check leave for TSO);
//     its OffloadInfo gives the kernel's virtio-net header back.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dswitch/offload/tcp_coalescer.h"
#include "dswitch/offload/tcp_frame.h"
#include "dswitch/offload/tcp_segmenter.h"
#include "unit/net/vector_manifest.h"
#include "unit/offload/test_frames.h"

namespace dove::dswitch::offload {
namespace {

using net::kKernelDir;
using net::VectorEntry;
using packet::Packet;
using packet::PacketBatch;
using packet::PacketPool;
using packet::VirtioNetHeader;

struct KernelCase {
  const char* file;  // in tests/data/kernel
  packet::GsoType gso;
};
const KernelCase kCases[] = {
    {"tso_ipv4_super.pcap", packet::GsoType::kTcp4},
    {"tso_ipv6_super.pcap", packet::GsoType::kTcp6},
};

// A super-frame and its segments, as the kernel made them.
struct KernelVector {
  VirtioNetHeader virtio;
  std::vector<uint8_t> super;
  std::vector<std::vector<uint8_t>> segments;
};

// Equal bytes, or where they first differ (a dump of two 10 KB vectors says nothing).
::testing::AssertionResult SameBytes(const std::vector<uint8_t>& got,
                                     const std::vector<uint8_t>& want) {
  if (got == want) return ::testing::AssertionSuccess();
  size_t at = 0;
  while (at < got.size() && at < want.size() && got[at] == want[at]) ++at;
  auto result = ::testing::AssertionFailure();
  result << got.size() << " bytes, the kernel's " << want.size() << "; first difference at byte "
         << at;
  if (at < got.size() && at < want.size()) {
    result << ": " << int{got[at]} << " instead of " << int{want[at]};
  }
  return result;
}

std::vector<uint8_t> OnlyFrame(const std::string& path) {
  auto frames = net::LoadFrames(path);
  if (!frames) {
    ADD_FAILURE() << frames.error();
    return {};
  }
  EXPECT_EQ(frames->size(), 1u) << path;
  return frames->empty() ? std::vector<uint8_t>() : (*frames)[0];
}

// The vector of `file` as tso_manifest.tsv describes it (failures reported, empty when absent).
KernelVector Load(const std::string& file) {
  auto text = net::ReadFileBytes(kKernelDir + "/tso_manifest.tsv");
  if (!text) {
    ADD_FAILURE() << text.error();
    return {};
  }
  auto manifest = net::ParseVectorManifest(
      std::string_view(reinterpret_cast<const char*>(text->data()), text->size()));
  if (!manifest) {
    ADD_FAILURE() << manifest.error();
    return {};
  }
  for (const VectorEntry& v : *manifest) {
    if (v.file != file) continue;
    KernelVector vector;
    vector.virtio = VirtioNetHeader{
        .flags = static_cast<uint8_t>(v.Number("virtio.flags")),
        .gso_type = static_cast<uint8_t>(v.Number("virtio.gso_type")),
        .hdr_len = static_cast<uint16_t>(v.Number("virtio.hdr_len")),
        .gso_size = static_cast<uint16_t>(v.Number("virtio.gso_size")),
        .csum_start = static_cast<uint16_t>(v.Number("virtio.csum_start")),
        .csum_offset = static_cast<uint16_t>(v.Number("virtio.csum_offset")),
    };
    const std::string directory = kKernelDir + "/";
    vector.super = OnlyFrame(directory + file);
    auto segments = net::LoadFrames(directory + v.Text("segments_file"));
    if (!segments) {
      ADD_FAILURE() << segments.error();
      return {};
    }
    vector.segments = std::move(*segments);
    EXPECT_EQ(vector.segments.size(), v.Number("segments")) << file;
    return vector;
  }
  ADD_FAILURE() << "tso_manifest.tsv has no " << file;
  return {};
}

// Sanity of the capture itself, so a recapture that went wrong (no offload, few segments, a
// full last segment, a segment the kernel padded) fails here rather than passing vacuously
// below. Returns whether the vector can be used.
bool CaptureLooksRight(const KernelCase& c, const KernelVector& v) {
  EXPECT_EQ(v.virtio.flags, VirtioNetHeader::kNeedsCsum);
  EXPECT_EQ(v.virtio.gso_kind(), c.gso == packet::GsoType::kTcp4 ? VirtioNetHeader::kGsoTcpV4
                                                                 : VirtioNetHeader::kGsoTcpV6);
  EXPECT_GE(v.segments.size(), 3u) << "too few segments to show anything";
  const auto frame = ParseTcpFrame(v.super);
  EXPECT_TRUE(frame) << frame.error();
  if (!frame || v.segments.empty() || v.virtio.gso_size == 0) return false;
  EXPECT_EQ(v.virtio.hdr_len, frame->header_size());
  EXPECT_EQ(v.virtio.csum_start, frame->tcp_at);
  EXPECT_GT(frame->payload_size(), (v.segments.size() - 1) * v.virtio.gso_size);
  EXPECT_LE(frame->payload_size(), v.segments.size() * v.virtio.gso_size);
  EXPECT_NE(frame->payload_size() % v.virtio.gso_size, 0u) << "the last segment should be short";
  for (const auto& segment : v.segments) {
    EXPECT_LE(segment.size(), frame->header_size() + v.virtio.gso_size);
  }
  return true;
}

TEST(KernelVectorsTest, SegmentTcpCutsTheKernelsSuperFrameIntoTheKernelsSegments) {
  for (const KernelCase& c : kCases) {
    SCOPED_TRACE(c.file);
    const KernelVector v = Load(c.file);
    if (!CaptureLooksRight(c, v)) continue;
    const auto offload = packet::FromVirtio(v.virtio, v.super.size());
    ASSERT_TRUE(offload) << offload.error();
    EXPECT_EQ(offload->gso, c.gso);

    PacketPool pool({.small_slots = 64, .large_slots = 1});
    Packet* super = testing::MakePacket(pool, v.super, *offload);
    ASSERT_NE(super, nullptr);
    EXPECT_EQ(TcpSegmentCount(*super), v.segments.size());
    PacketBatch out;
    const auto count = SegmentTcp(*super, pool, out);
    ASSERT_TRUE(count) << count.error();
    ASSERT_EQ(*count, v.segments.size());
    ASSERT_EQ(out.size(), v.segments.size());
    for (size_t i = 0; i < out.size(); ++i) {
      EXPECT_TRUE(SameBytes(testing::Bytes(*out[i]), v.segments[i])) << "segment " << i;
      EXPECT_FALSE(out[i]->offload.is_gso());
      EXPECT_FALSE(out[i]->offload.csum_partial);
    }

    // One UDP GSO layout (no prefix) holds the same segments back to back.
    std::vector<uint8_t> buffer(65536);
    const auto layout = LayoutUdpGso(*super, {}, 0, 64, buffer);
    ASSERT_TRUE(layout) << layout.error();
    EXPECT_EQ(layout->segments, v.segments.size());
    EXPECT_EQ(layout->segment_size, v.segments[0].size());
    std::vector<uint8_t> concatenated;
    for (const auto& segment : v.segments) {
      concatenated.insert(concatenated.end(), segment.begin(), segment.end());
    }
    buffer.resize(layout->bytes);
    EXPECT_TRUE(SameBytes(buffer, concatenated));

    for (Packet* p : out) pool.Free(p);
    pool.Free(super);
    EXPECT_EQ(pool.in_use(), 0u);
  }
}

TEST(KernelVectorsTest, TcpCoalescerMergesTheKernelsSegmentsIntoTheKernelsSuperFrame) {
  for (const KernelCase& c : kCases) {
    SCOPED_TRACE(c.file);
    const KernelVector v = Load(c.file);
    if (!CaptureLooksRight(c, v)) continue;

    PacketPool pool({.small_slots = 64, .large_slots = 1});
    PacketBatch batch;
    for (const auto& segment : v.segments) {
      Packet* p = testing::MakePacket(pool, segment);
      ASSERT_NE(p, nullptr);
      batch.Push(p);
    }
    TcpCoalescer coalescer(pool);
    coalescer.Process(batch);
    EXPECT_EQ(coalescer.counters().merged_frames, 1u);
    EXPECT_EQ(coalescer.counters().merged_segments, v.segments.size());
    EXPECT_EQ(coalescer.counters().bad_checksum, 0u);
    ASSERT_EQ(batch.size(), 1u);
    const Packet& merged = *batch[0];
    EXPECT_TRUE(SameBytes(testing::Bytes(merged), v.super));

    const auto frame = ParseTcpFrame(v.super);
    ASSERT_TRUE(frame) << frame.error();
    const VirtioNetHeader header =
        packet::ToVirtio(merged.offload, static_cast<uint16_t>(frame->header_size()));
    EXPECT_EQ(header.flags, v.virtio.flags);
    EXPECT_EQ(header.gso_type, v.virtio.gso_type);
    EXPECT_EQ(header.hdr_len, v.virtio.hdr_len);
    EXPECT_EQ(header.gso_size, v.virtio.gso_size);
    EXPECT_EQ(header.csum_start, v.virtio.csum_start);
    EXPECT_EQ(header.csum_offset, v.virtio.csum_offset);

    pool.Free(batch[0]);
    EXPECT_EQ(pool.in_use(), 0u);
  }
}

}  // namespace
}  // namespace dove::dswitch::offload
