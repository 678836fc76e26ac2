// Interface MTUs: found for an address, read, set; TAPs the factory creates get its MTU, TAPs
// that exist keep theirs.
#include "dswitch/io/interface_mtu.h"

#include <gtest/gtest.h>
#include <net/if.h>

#include "dswitch/io/port_factory.h"
#include "dswitch/io/tap_port.h"
#include "network_namespace.h"

namespace dove::dswitch::io::testing {
namespace {

TEST(InterfaceMtuTest, TheLoopbackAddressIsOnLoWithItsMtu) {
  auto found = InterfaceWithAddress(*net::Ipv4Address::Parse("127.0.0.1"));
  ASSERT_TRUE(found) << found.error();
  EXPECT_EQ(found->name, "lo");
  auto mtu = GetInterfaceMtu("lo");
  ASSERT_TRUE(mtu) << mtu.error();
  EXPECT_EQ(found->mtu, *mtu);
  EXPECT_GE(found->mtu, 1500U);
}

TEST(InterfaceMtuTest, AnAddressNobodyHasAndAnUnknownInterfaceAreErrors) {
  auto nobody = InterfaceWithAddress(*net::Ipv4Address::Parse("192.0.2.254"));
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error(), "no interface has the address 192.0.2.254");
  EXPECT_FALSE(GetInterfaceMtu("dove-no-such"));
  EXPECT_FALSE(GetInterfaceMtu(""));
  EXPECT_FALSE(SetInterfaceMtu("a-name-far-too-long-for-linux", 1400));
}

TEST(InterfaceMtuTest, TapsTheFactoryCreatesGetItsMtuAndExistingOnesKeepTheirs) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    {
      auto existing = TapPort::Open("dove-m0", /*create=*/true, 1);
      ASSERT_TRUE(existing) << existing.error();
      ASSERT_TRUE((*existing)->SetPersistent(true));
    }
    LinuxPortFactory factory(1400);
    {
      auto created = factory.OpenPort("dove-m1", PortKind::kTap, 2);
      ASSERT_TRUE(created) << created.error();
      auto attached = factory.OpenPort("dove-m0", PortKind::kTap, 1);
      ASSERT_TRUE(attached) << attached.error();
    }
    EXPECT_EQ(GetInterfaceMtu("dove-m1").value_or(0), 1400U);
    EXPECT_EQ(GetInterfaceMtu("dove-m0").value_or(0), 1500U);
    EXPECT_TRUE(SetInterfaceMtu("dove-m0", 1300));
    EXPECT_EQ(GetInterfaceMtu("dove-m0").value_or(0), 1300U);
    EXPECT_TRUE(factory.RemovePort("dove-m0", PortKind::kTap));
    EXPECT_TRUE(factory.RemovePort("dove-m1", PortKind::kTap));
  });
}

TEST(InterfaceMtuTest, TheKernelsPathMtuIsTheRoutesAndZeroWithoutRoute) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    Shell(
        "ip link add dove-d0 type veth peer name dove-d1 && ip link set dove-d1 up && "
        "ip link set dove-d0 mtu 1500 up && "
        "ip addr add 192.0.2.1/24 dev dove-d0 && "
        "ip route add 198.51.100.0/24 via 192.0.2.2 mtu 1400");
    EXPECT_EQ(KernelPathMtu(*net::Ipv4Address::Parse("192.0.2.7")), 1500U) << "the device's";
    EXPECT_EQ(KernelPathMtu(*net::Ipv4Address::Parse("198.51.100.7")), 1400U) << "the route's";
    EXPECT_EQ(KernelPathMtu(*net::Ipv4Address::Parse("203.0.113.7")), 0U) << "no route";
  });
}

}  // namespace
}  // namespace dove::dswitch::io::testing
