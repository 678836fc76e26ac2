// MemoryDevice, the in-memory twin: what is injected comes out of Receive with its metadata and
// offload state, a burst at a time, while the eventfd says so; what Send is given is recorded,
// finished in software first when the device's caps say the "wire" cannot take it; failures
// and pool shortages are counted, and every packet goes back to the pool.
#include "dswitch/io/memory_device.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <string>
#include <vector>

#include "dswitch/packet/packet_pool.h"
#include "test_frames.h"

namespace dove::dswitch::io::testing {
namespace {

const net::Ipv4Address kRemoteVtep = *net::Ipv4Address::Parse("192.0.2.9");

bool Readable(const MemoryDevice& device) {
  pollfd p{.fd = device.fd(), .events = POLLIN, .revents = 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST(MemoryDeviceTest, InjectedFramesComeOutWithTheirMetadataAndOffload) {
  MemoryDevice port({.name = "p1", .port = 7});
  EXPECT_EQ(port.name(), "p1");
  EXPECT_FALSE(Readable(port));
  const auto super = TcpFrame({.partial_checksum = true}, Pattern(5000));
  ASSERT_TRUE(port.Inject(super, SuperOffload(1000)));
  ASSERT_TRUE(port.Inject(UdpFrame(Pattern(10)), {}, {.in_port = 9}));
  EXPECT_TRUE(Readable(port));
  EXPECT_EQ(port.queued(), 2u);

  packet::PacketPool pool({.small_slots = 8, .large_slots = 2});
  packet::PacketBatch batch;
  IoCounters counters;
  ASSERT_EQ(port.Receive(pool, batch, counters), 2u);
  EXPECT_FALSE(Readable(port)) << "nothing queued: the eventfd must not wake the loop";
  EXPECT_EQ(Bytes(*batch[0]), super);
  EXPECT_EQ(batch[0]->meta.in_port, 7u);
  EXPECT_TRUE(batch[0]->offload.is_gso());
  EXPECT_EQ(batch[0]->offload.gso_size, 1000);
  EXPECT_EQ(batch[1]->meta.in_port, 9u) << "an explicit in_port wins";
  EXPECT_FALSE(batch[1]->offload.csum_partial);
  EXPECT_EQ(counters.read_frames, 2u);
  EXPECT_EQ(counters.read_super_frames, 1u);
  pool.Free(batch);
  EXPECT_EQ(port.Receive(pool, batch, counters), 0u);
}

TEST(MemoryDeviceTest, ATunnelTwinSaysWhoSentEachDatagram) {
  MemoryDevice tunnel({.name = "underlay", .kind = MemoryDevice::Kind::kTunnel});
  const auto datagram = WithVxlan(UdpFrame(Pattern(20)));
  ASSERT_TRUE(tunnel.Inject(datagram, {}, {.tunnel = kRemoteVtep}));
  packet::PacketPool pool({.small_slots = 4, .large_slots = 1});
  packet::PacketBatch batch;
  IoCounters counters;
  ASSERT_EQ(tunnel.Receive(pool, batch, counters), 1u);
  EXPECT_EQ(Bytes(*batch[0]), datagram);
  EXPECT_EQ(batch[0]->meta.tunnel, kRemoteVtep);
  EXPECT_EQ(batch[0]->meta.in_port, packet::kNoPort);
  EXPECT_EQ(counters.underlay_rx, 1u);
  EXPECT_EQ(counters.read_frames, 0u);
  pool.Free(batch);
}

TEST(MemoryDeviceTest, ReceiveHandsOutABurstAtATimeAndWaitsForThePool) {
  MemoryDevice port({.name = "p1", .port = 1});
  for (size_t i = 0; i < packet::kMaxBurst + 3; ++i) ASSERT_TRUE(port.Inject(Pattern(60, i)));
  packet::PacketPool pool({.small_slots = packet::kMaxBurst + 1, .large_slots = 0});
  packet::PacketBatch batch;
  IoCounters counters;
  EXPECT_EQ(port.Receive(pool, batch, counters), packet::kMaxBurst);
  EXPECT_TRUE(Readable(port));
  // One slot left: one frame now, the other two wait (the pool counts the shortage).
  EXPECT_EQ(port.Receive(pool, batch, counters), 1u);
  EXPECT_EQ(port.queued(), 2u);
  EXPECT_TRUE(Readable(port));
  EXPECT_EQ(pool.counters().exhausted_large, 1u);
  EXPECT_EQ(Bytes(*batch[packet::kMaxBurst]), Pattern(60, packet::kMaxBurst));
  pool.Free(batch);
  EXPECT_EQ(port.Receive(pool, batch, counters), 2u);
  EXPECT_FALSE(Readable(port));
  EXPECT_EQ(Bytes(*batch[1]), Pattern(60, packet::kMaxBurst + 2)) << "order is kept";
  pool.Free(batch);
}

TEST(MemoryDeviceTest, InjectRefusesWhatNoSlotCanHold) {
  MemoryDevice port({.name = "p1", .port = 1});
  EXPECT_FALSE(port.Inject(std::vector<uint8_t>(packet::PacketPool::kLargeRoom + 1)));
  EXPECT_TRUE(port.Inject(std::vector<uint8_t>(packet::PacketPool::kLargeRoom)));
  EXPECT_EQ(port.queued(), 1u);
}

// What Send records for one input, by kind and caps: what a real device would put on the wire.
struct SendCase {
  std::string description;
  MemoryDevice::Kind kind;
  DeviceCaps caps;
  bool super;    // a 5000-byte TCP super-frame of MSS 1000, else a UDP frame
  bool partial;  // (UDP) its checksum left partial
  size_t recorded;
  bool recorded_offload;  // the records still carry the offload state
  IoCounters counters;
};

class MemoryDeviceSendTest : public ::testing::TestWithParam<SendCase> {};

TEST_P(MemoryDeviceSendTest, RecordsWhatTheWireWouldCarry) {
  const SendCase& c = GetParam();
  const bool tunnel = c.kind == MemoryDevice::Kind::kTunnel;
  MemoryDevice device({.name = "d", .kind = c.kind, .port = 1, .caps = c.caps});
  const std::vector<uint8_t> payload = Pattern(5000);
  const std::vector<uint8_t> frame =
      c.super ? TcpFrame({.partial_checksum = true}, payload) : UdpFrame(Pattern(33), c.partial);
  const packet::OffloadInfo offload =
      c.super ? SuperOffload(1000) : (c.partial ? UdpPartialOffload() : packet::OffloadInfo{});
  packet::PacketPool pool({.small_slots = 16, .large_slots = 2});
  packet::PacketBatch batch;
  packet::Packet* p = MakePacket(pool, tunnel ? WithVxlan(frame) : frame, offload);
  p->meta.tunnel = kRemoteVtep;
  p->meta.flow_hash = 42;
  batch.Push(p);
  IoCounters counters;
  EXPECT_EQ(device.Send(pool, batch, counters), 1u);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(pool.in_use(), 0u) << "Send frees every packet";
  EXPECT_EQ(counters.Dump(), c.counters.Dump());

  const std::vector<MemoryDevice::Frame> sent = device.Drain();
  ASSERT_EQ(sent.size(), c.recorded);
  EXPECT_TRUE(device.Drain().empty());
  std::vector<uint8_t> carried;
  for (const MemoryDevice::Frame& f : sent) {
    EXPECT_EQ(f.meta.tunnel, kRemoteVtep);
    EXPECT_EQ(f.meta.flow_hash, 42u);
    EXPECT_EQ(f.offload.is_gso() || f.offload.csum_partial, c.recorded_offload);
    net::ByteSpan bytes(f.bytes);
    if (tunnel) {
      ASSERT_GE(bytes.size(), 8u);
      EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 8),
                std::vector<uint8_t>(WithVxlan({})))
          << "each datagram keeps its VXLAN header";
      bytes = bytes.subspan(8);
    }
    if (c.recorded_offload) {
      EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.end()), frame) << "passed on whole";
      continue;
    }
    if (!c.super) {
      const auto ip = net::ParseIpv4(net::ParseEthernet(bytes)->payload);
      ASSERT_TRUE(ip);
      EXPECT_TRUE(net::ParseUdp(ip->payload, kVmIp, kPeerIp)) << "checksum finished and valid";
      continue;
    }
    const auto tcp = ValidTcp(bytes);
    ASSERT_TRUE(tcp);
    EXPECT_LE(tcp->payload.size(), 1000u);
    carried.insert(carried.end(), tcp->payload.begin(), tcp->payload.end());
  }
  if (c.super && !c.recorded_offload) {
    EXPECT_EQ(carried, payload);
  }
}

IoCounters Counted(std::initializer_list<std::pair<uint64_t IoCounters::*, uint64_t>> values) {
  IoCounters counters;
  for (const auto& [field, value] : values) counters.*field = value;
  return counters;
}

constexpr DeviceCaps kChecksumOnly = {.tso = false, .csum_partial = true, .max_frame = 1518};
using K = MemoryDevice::Kind;
using C = IoCounters;

INSTANTIATE_TEST_SUITE_P(
    Cases, MemoryDeviceSendTest,
    ::testing::Values(
        SendCase{"SuperFrameToATsoPortPassesWhole", K::kPort, MemoryDevice::kTapCaps, true, false,
                 1, true, Counted({{&C::write_frames, 1}, {&C::write_super_frames, 1}})},
        SendCase{"SuperFrameToAPlainPortIsSegmented", K::kPort, MemoryDevice::kPlainCaps, true,
                 false, 5, false,
                 Counted({{&C::write_frames, 5}, {&C::sw_segmented, 1}, {&C::sw_segments, 5}})},
        SendCase{"SuperFrameToAChecksumOnlyPortIsSegmented", K::kPort, kChecksumOnly, true, false,
                 5, false,
                 Counted({{&C::write_frames, 5}, {&C::sw_segmented, 1}, {&C::sw_segments, 5}})},
        SendCase{"PartialChecksumToAnOffloadingPortStaysPartial", K::kPort, MemoryDevice::kTapCaps,
                 false, true, 1, true, Counted({{&C::write_frames, 1}})},
        SendCase{"PartialChecksumToAPlainPortIsFinished", K::kPort, MemoryDevice::kPlainCaps, false,
                 true, 1, false, Counted({{&C::write_frames, 1}, {&C::sw_csum_finished, 1}})},
        SendCase{"CompleteFrameToAPlainPortIsUntouched", K::kPort, MemoryDevice::kPlainCaps, false,
                 false, 1, false, Counted({{&C::write_frames, 1}})},
        SendCase{"SuperFrameToAGsoTunnelPassesWhole", K::kTunnel, MemoryDevice::kTapCaps, true,
                 false, 1, true, Counted({{&C::underlay_tx, 1}})},
        SendCase{"SuperFrameToAPlainTunnelBecomesDatagrams", K::kTunnel, MemoryDevice::kPlainCaps,
                 true, false, 5, false,
                 Counted({{&C::underlay_tx, 5}, {&C::sw_segmented, 1}, {&C::sw_segments, 5}})},
        SendCase{"PartialInnerChecksumToAPlainTunnelIsFinished", K::kTunnel,
                 MemoryDevice::kPlainCaps, false, true, 1, false,
                 Counted({{&C::underlay_tx, 1}, {&C::sw_csum_finished, 1}})}),
    [](const ::testing::TestParamInfo<SendCase>& param) { return param.param.description; });

TEST(MemoryDeviceTest, FailedSendsAreCountedAndFreed) {
  MemoryDevice port({.name = "p1", .port = 1});
  MemoryDevice tunnel({.name = "u", .kind = MemoryDevice::Kind::kTunnel});
  packet::PacketPool pool({.small_slots = 8, .large_slots = 0});
  IoCounters counters;
  packet::PacketBatch batch;
  for (size_t i = 0; i < 3; ++i) batch.Push(MakePacket(pool, Pattern(60, i)));
  port.FailNextSends(2);
  EXPECT_EQ(port.Send(pool, batch, counters), 1u);
  EXPECT_EQ(counters.write_errors, 2u);
  EXPECT_EQ(counters.write_frames, 1u);
  const auto sent = port.Drain();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].bytes, Pattern(60, 2)) << "the first two failed, the third went";

  batch.Push(MakePacket(pool, WithVxlan(Pattern(60))));
  tunnel.FailNextSends(1);
  EXPECT_EQ(tunnel.Send(pool, batch, counters), 0u);
  EXPECT_EQ(counters.underlay_tx_errors, 1u);
  EXPECT_TRUE(tunnel.Drain().empty());
  EXPECT_EQ(pool.in_use(), 0u);
}

TEST(MemoryDeviceTest, ASuperFrameThatCannotBeSegmentedIsDroppedAndCounted) {
  MemoryDevice port({.name = "p1", .port = 1, .caps = MemoryDevice::kPlainCaps});
  packet::PacketPool pool({.small_slots = 8, .large_slots = 1});
  IoCounters counters;
  packet::PacketBatch batch;
  // A UDP frame that claims to be a TCP super-frame: its headers do not parse as TCP.
  batch.Push(MakePacket(pool, UdpFrame(Pattern(3000)), SuperOffload(1000)));
  // A partial checksum whose field lies outside the frame.
  batch.Push(MakePacket(pool, UdpFrame(Pattern(10)),
                        {.csum_partial = true, .csum_start = 40, .csum_offset = 30}));
  EXPECT_EQ(port.Send(pool, batch, counters), 0u);
  EXPECT_EQ(counters.sw_offload_failed, 2u);
  EXPECT_EQ(counters.write_frames, 0u);
  EXPECT_TRUE(port.Drain().empty());
  EXPECT_EQ(pool.in_use(), 0u);
}

}  // namespace
}  // namespace dove::dswitch::io::testing
