// The lab's topology parser: a good file, every error with its line number, the name limits
// that keep derived interface names within 15 bytes, and the built-in demo.
#include "lab/spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace dove::lab {
namespace {

using ::testing::HasSubstr;

TEST(SpecTest, ParsesAGoodFile) {
  const auto spec = ParseSpec(
      "# two tenants\n"
      "host h1\n"
      "host k2 kernel   # a kernel-VXLAN host\n"
      "\n"
      "network red/web 10.0.0.0/24\n"
      "network blue/db 10.9.0.0/16 vni 5001\n"
      "vm r1 h1 red/web 10.0.0.11\n"
      "\tvm b1   k2 blue/db\r\n");
  ASSERT_TRUE(spec) << spec.error();
  ASSERT_EQ(spec->hosts.size(), 2U);
  EXPECT_EQ(spec->hosts[0].name, "h1");
  EXPECT_FALSE(spec->hosts[0].kernel);
  EXPECT_TRUE(spec->hosts[1].kernel);
  ASSERT_EQ(spec->networks.size(), 2U);
  EXPECT_EQ(spec->networks[0].Ref(), "red/web");
  EXPECT_EQ(spec->networks[0].cidr, "10.0.0.0/24");
  EXPECT_EQ(spec->networks[0].vni, 0U);
  EXPECT_EQ(spec->networks[1].prefix_length, 16);
  EXPECT_EQ(spec->networks[1].vni, 5001U);
  ASSERT_EQ(spec->vms.size(), 2U);
  EXPECT_EQ(spec->vms[0].name, "r1");
  EXPECT_EQ(spec->vms[0].host, "h1");
  EXPECT_EQ(spec->vms[0].NetworkRef(), "red/web");
  EXPECT_EQ(spec->vms[0].ip, "10.0.0.11");
  EXPECT_EQ(spec->vms[0].line, 7);
  EXPECT_EQ(spec->vms[1].ip, "") << "no IP: the controller allocates one";
  EXPECT_EQ(spec->NetworkIndexOf(spec->vms[1]), 1U);
}

TEST(SpecTest, AKernelHostSaysWhetherItsVxlanSendsOuterUdpChecksums) {
  const struct {
    const char* line;
    bool kernel;
    bool udp_checksum;
  } kCases[] = {
      {"host h", false, false},
      {"host k kernel", true, false},  // zero outer checksums unless asked: RFC 7348's SHOULD
      {"host k kernel noudpcsum", true, false},
      {"host k kernel udpcsum", true, true},
      {"host k\tkernel   udpcsum  # comment", true, true},
  };
  for (const auto& c : kCases) {
    const auto spec = ParseSpec(std::string(c.line) + "\n");
    ASSERT_TRUE(spec) << c.line << ": " << spec.error();
    ASSERT_EQ(spec->hosts.size(), 1U) << c.line;
    EXPECT_EQ(spec->hosts[0].kernel, c.kernel) << c.line;
    EXPECT_EQ(spec->hosts[0].udp_checksum, c.udp_checksum) << c.line;
    EXPECT_EQ(spec->hosts[0].line, 1) << c.line;
  }
}

TEST(SpecTest, AnEmptyFileIsAnEmptyLab) {
  const auto spec = ParseSpec("# nothing\n\n");
  ASSERT_TRUE(spec) << spec.error();
  EXPECT_TRUE(spec->hosts.empty());
}

TEST(SpecTest, EachErrorNamesItsLine) {
  const std::string head =
      "host h1\n"
      "network red/web 10.0.0.0/24\n";  // lines 1-2; the bad statement is line 3
  const struct {
    const char* line;
    const char* message;
  } kCases[] = {
      {"router r1", "unknown statement \"router\""},
      {"host", "expected \"host NAME [kernel [udpcsum|noudpcsum]]\""},
      {"host h2 kernel udpcsum extra", "expected \"host NAME [kernel [udpcsum|noudpcsum]]\""},
      {"host h2 qemu", "unknown host kind \"qemu\""},
      {"host h2 kernel extra", "unknown kernel host option \"extra\" (expected udpcsum or"},
      {"host h2 kernel UDPCSUM", "unknown kernel host option \"UDPCSUM\""},
      {"host h2 udpcsum", "\"udpcsum\" is an option of kernel hosts (\"host h2 kernel udpcsum\")"},
      {"host h2 noudpcsum", "\"noudpcsum\" is an option of kernel hosts"},
      {"host h2 udpcsum kernel", "\"udpcsum\" is an option of kernel hosts"},
      {"host h1", "host h1 is declared twice"},
      {"host -h", "must start with a letter or digit"},
      {"host h/2", "may only hold letters"},
      {"network red", "expected \"network DOMAIN/NAME CIDR [vni N]\""},
      {"network redweb 10.1.0.0/24", "is not DOMAIN/NAME"},
      {"network red/web/x 10.1.0.0/24", "is not DOMAIN/NAME"},
      {"network /web 10.1.0.0/24", "domain name is empty"},
      {"network red/web 10.1.0.0/24", "network red/web is declared twice"},
      {"network red/db 10.1.0.0", "is not an IPv4 CIDR"},
      {"network red/db 10.1.0.0/31", "is not an IPv4 CIDR"},
      {"network red/db 300.1.0.0/24", "is not an IPv4 CIDR"},
      {"network red/db 10.1.0.1/24", "has host bits set (did you mean 10.1.0.0/24?)"},
      {"network red/db 10.1.0.0/24 vni 0", "N in 1..16777215"},
      {"network red/db 10.1.0.0/24 vni 16777216", "N in 1..16777215"},
      {"network red/db 10.1.0.0/24 vlan 5", "expected \"vni N\""},
      {"vm v1 h1", "expected \"vm NAME HOST DOMAIN/NAME [IP]\""},
      {"vm v1 h9 red/web", "host h9 is not declared"},
      {"vm v1 h1 red/db", "network red/db is not declared"},
      {"vm v1 h1 red/web 10.0.0.999", "is not an IPv4 address"},
      {"vm v1 h1 red/web 10.0.1.5", "is outside 10.0.0.0/24"},
      {"vm v1 h1 red/web 10.0.0.0", "network or broadcast address"},
      {"vm v1 h1 red/web 10.0.0.255", "network or broadcast address"},
  };
  for (const auto& c : kCases) {
    const auto spec = ParseSpec(head + c.line + "\n");
    ASSERT_FALSE(spec) << c.line;
    EXPECT_THAT(spec.error(), HasSubstr("line 3: ")) << c.line;
    EXPECT_THAT(spec.error(), HasSubstr(c.message)) << c.line;
  }
}

TEST(SpecTest, RepeatsAreRefusedOnTheLineOfTheSecond) {
  const auto vm_twice =
      ParseSpec("host h1\nnetwork a/b 10.0.0.0/24\nvm v1 h1 a/b\n# x\nvm v1 h1 a/b\n");
  ASSERT_FALSE(vm_twice);
  EXPECT_EQ(vm_twice.error(), "line 5: vm v1 is declared twice");
  const auto ip_twice =
      ParseSpec("host h1\nnetwork a/b 10.0.0.0/24\nvm v1 h1 a/b 10.0.0.5\nvm v2 h1 a/b 10.0.0.5\n");
  ASSERT_FALSE(ip_twice);
  EXPECT_EQ(ip_twice.error(), "line 4: IP 10.0.0.5 is used twice in network a/b");
  const auto vni_twice =
      ParseSpec("network a/b 10.0.0.0/24 vni 7\nnetwork c/d 10.0.0.0/24 vni 7\n");
  ASSERT_FALSE(vni_twice);
  EXPECT_EQ(vni_twice.error(), "line 2: VNI 7 is used twice");
}

TEST(SpecTest, TheSameIpInTwoNetworksIsFine) {
  const auto spec = ParseSpec(
      "host h1\nnetwork a/w 10.0.0.0/24\nnetwork b/w 10.0.0.0/24\n"
      "vm x h1 a/w 10.0.0.5\nvm y h1 b/w 10.0.0.5\n");
  EXPECT_TRUE(spec) << spec.error();
}

TEST(SpecTest, NamesAreLimitedSoInterfaceNamesFit) {
  // 13 bytes: "v-" + 13 = 15, the most Linux allows in an interface name.
  const std::string vm13(kMaxVmNameLength, 'v');
  const std::string host13(kMaxHostNameLength, 'h');
  EXPECT_TRUE(ParseSpec("host " + host13 + "\nnetwork a/b 10.0.0.0/24\nvm " + vm13 + " " + host13 +
                        " a/b\n"));
  const auto long_host = ParseSpec("host " + host13 + "h\n");
  ASSERT_FALSE(long_host);
  EXPECT_THAT(long_host.error(), HasSubstr("line 1: host name"));
  EXPECT_THAT(long_host.error(), HasSubstr("is 14 bytes; at most 13 are allowed"));
  EXPECT_THAT(long_host.error(), HasSubstr("\"u-HOST\" and \"m-HOST\" must fit in 15 bytes"));
  const auto long_vm = ParseSpec("host h\nnetwork a/b 10.0.0.0/24\nvm " + vm13 + "v h a/b\n");
  ASSERT_FALSE(long_vm);
  EXPECT_THAT(long_vm.error(), HasSubstr("line 3: vm name"));
  EXPECT_THAT(long_vm.error(), HasSubstr("\"v-VM\" and \"t-VM\" must fit in 15 bytes"));
  // Domain and network names follow the controller's 63-byte rule.
  const std::string name63(kMaxObjectNameLength, 'n');
  EXPECT_TRUE(ParseSpec("network " + name63 + "/" + name63 + " 10.0.0.0/24\n"));
  const auto long_network = ParseSpec("network d/" + name63 + "n 10.0.0.0/24\n");
  ASSERT_FALSE(long_network);
  EXPECT_THAT(long_network.error(), HasSubstr("line 1: network name"));
  EXPECT_THAT(long_network.error(), HasSubstr("at most 63"));
}

TEST(SpecTest, TheDemoHasTwoTenantsWithTheSameAddresses) {
  const auto spec = ParseSpec(DemoSpecText());
  ASSERT_TRUE(spec) << spec.error();
  ASSERT_EQ(spec->hosts.size(), 3U);
  for (const auto& host : spec->hosts) EXPECT_FALSE(host.kernel) << host.name;
  ASSERT_EQ(spec->networks.size(), 2U);
  EXPECT_EQ(spec->networks[0].Ref(), "red/web");
  EXPECT_EQ(spec->networks[1].Ref(), "blue/web");
  EXPECT_EQ(spec->networks[0].cidr, spec->networks[1].cidr);
  ASSERT_EQ(spec->vms.size(), 6U);
  const struct {
    const char* name;
    const char* host;
    const char* network;
    const char* ip;
  } kVms[] = {
      {"red1", "h1", "red/web", "10.0.0.11"},   {"red2", "h2", "red/web", "10.0.0.12"},
      {"red3", "h3", "red/web", "10.0.0.13"},   {"blue1", "h1", "blue/web", "10.0.0.11"},
      {"blue2", "h2", "blue/web", "10.0.0.12"}, {"blue3", "h3", "blue/web", "10.0.0.13"},
  };
  for (const auto& expected : kVms) {
    const SpecVm* vm = spec->FindVm(expected.name);
    ASSERT_NE(vm, nullptr) << expected.name;
    EXPECT_EQ(vm->host, expected.host);
    EXPECT_EQ(vm->NetworkRef(), expected.network);
    EXPECT_EQ(vm->ip, expected.ip);
  }
}

}  // namespace
}  // namespace dove::lab
