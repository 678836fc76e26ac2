// The port factories: MemoryPortFactory's ports exist from OpenPort to RemovePort, can be
// reached by name while open and made to fail; LinuxPortFactory's TAPs are persistent until
// removed (root only, in a network namespace of its own).
#include "dswitch/io/port_factory.h"

#include <gtest/gtest.h>
#include <net/if.h>

#include <memory>
#include <string>

#include "dswitch/packet/packet_pool.h"
#include "network_namespace.h"
#include "test_frames.h"

namespace dove::dswitch::io::testing {
namespace {

TEST(MemoryPortFactoryTest, OpenedPortsAreReachableByNameUntilTheirDeviceGoes) {
  MemoryPortFactory factory(MemoryDevice::kPlainCaps);
  EXPECT_EQ(factory.Find("p1"), nullptr);
  EXPECT_FALSE(factory.Exists("p1"));
  auto device = factory.OpenPort("p1", PortKind::kTap, 3);
  ASSERT_TRUE(device) << device.error();
  EXPECT_EQ((*device)->name(), "p1");
  EXPECT_FALSE((*device)->caps().tso) << "the factory's caps";
  MemoryDevice* memory = factory.Find("p1");
  ASSERT_EQ(memory, device->get());
  EXPECT_TRUE(factory.Exists("p1"));

  // What the test injects by name comes out of the datapath's Device with the port's id.
  ASSERT_TRUE(memory->Inject(UdpFrame(Pattern(10))));
  packet::PacketPool pool({.small_slots = 4, .large_slots = 0});
  packet::PacketBatch batch;
  IoCounters counters;
  ASSERT_EQ((*device)->Receive(pool, batch, counters), 1u);
  EXPECT_EQ(batch[0]->meta.in_port, 3u);
  (*device)->Send(pool, batch, counters);
  EXPECT_EQ(memory->Drain().size(), 1u);

  const auto twice = factory.OpenPort("p1", PortKind::kTap, 3);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error(), "port p1 is open already");
  const auto still_open = factory.RemovePort("p1", PortKind::kTap);
  ASSERT_FALSE(still_open);
  EXPECT_EQ(still_open.error(), "port p1 is still open");

  device->reset();
  EXPECT_EQ(factory.Find("p1"), nullptr);
  EXPECT_TRUE(factory.Exists("p1")) << "closed, the port stays (a persistent TAP)";
  auto again = factory.OpenPort("p1", PortKind::kTap, 4);
  ASSERT_TRUE(again) << again.error();
  again->reset();
  EXPECT_TRUE(factory.RemovePort("p1", PortKind::kTap));
  EXPECT_FALSE(factory.Exists("p1"));
  const auto missing = factory.RemovePort("p1", PortKind::kTap);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "no port p1");
}

TEST(MemoryPortFactoryTest, OpeningANameToldToFailFails) {
  MemoryPortFactory factory;
  factory.FailOpen("bad", "no permission");
  const auto failed = factory.OpenPort("bad", PortKind::kTap, 1);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error(), "no permission");
  EXPECT_FALSE(factory.Exists("bad"));
  EXPECT_TRUE(factory.OpenPort("good", PortKind::kTap, 2)) << "other names are not affected";
  factory.FailOpen("bad", "");
  EXPECT_TRUE(factory.OpenPort("bad", PortKind::kTap, 1));
}

TEST(MemoryPortFactoryTest, ADeviceMayOutliveItsFactory) {
  std::unique_ptr<Device> device;
  {
    MemoryPortFactory factory;
    auto opened = factory.OpenPort("p1", PortKind::kTap, 1);
    ASSERT_TRUE(opened);
    device = std::move(*opened);
  }
  device.reset();  // must not call into the destroyed factory (ASan would say so)
}

TEST(LinuxPortFactoryTest, PortsArePersistentUntilRemoved) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    LinuxPortFactory factory;
    {
      auto device = factory.OpenPort("dove-f1", PortKind::kTap, 5);
      ASSERT_TRUE(device) << device.error();
      EXPECT_EQ((*device)->name(), "dove-f1");
      EXPECT_TRUE((*device)->caps().tso);
    }
    EXPECT_NE(::if_nametoindex("dove-f1"), 0u) << "closed, yet persistent: it must remain";
    {
      auto device = factory.OpenPort("dove-f1", PortKind::kTap, 5);
      ASSERT_TRUE(device) << device.error();
    }
    ASSERT_TRUE(factory.RemovePort("dove-f1", PortKind::kTap));
    EXPECT_EQ(::if_nametoindex("dove-f1"), 0u);
    const auto missing = factory.RemovePort("dove-f1", PortKind::kTap);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error(), "no TAP device dove-f1");
  });
}

}  // namespace
}  // namespace dove::dswitch::io::testing
