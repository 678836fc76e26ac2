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

TEST(SpecTest, ADoveKernelHostRunsTheKernelBackendAndIsNoStaticKernelHost) {
  const auto spec = ParseSpec(
      "host h1 dove-kernel\n"
      "host h2\n"
      "host k3 kernel udpcsum\n"
      "host h4\tdove-kernel  # the kernel backend\n");
  ASSERT_TRUE(spec) << spec.error();
  ASSERT_EQ(spec->hosts.size(), 4U);
  EXPECT_TRUE(spec->hosts[0].kernel_backend);
  EXPECT_FALSE(spec->hosts[0].kernel) << "a dove-kernel host runs dove-switch";
  EXPECT_FALSE(spec->hosts[0].udp_checksum);
  EXPECT_FALSE(spec->hosts[1].kernel_backend);
  EXPECT_FALSE(spec->hosts[1].kernel);
  EXPECT_TRUE(spec->hosts[2].kernel);
  EXPECT_FALSE(spec->hosts[2].kernel_backend);
  EXPECT_TRUE(spec->hosts[2].udp_checksum);
  EXPECT_TRUE(spec->hosts[3].kernel_backend);
  EXPECT_EQ(spec->hosts[3].line, 4);
}

TEST(SpecTest, UseBackendSwitchesEveryDoveSwitchHostAndLeavesStaticKernelHosts) {
  auto spec = ParseSpec("host h1\nhost h2 dove-kernel\nhost k3 kernel\n");
  ASSERT_TRUE(spec) << spec.error();
  UseBackend(*spec, Backend::kKernel);
  EXPECT_TRUE(spec->hosts[0].kernel_backend);
  EXPECT_TRUE(spec->hosts[1].kernel_backend);
  EXPECT_FALSE(spec->hosts[2].kernel_backend) << "the outside peer keeps its static entries";
  EXPECT_TRUE(spec->hosts[2].kernel);
  UseBackend(*spec, Backend::kUserspace);
  EXPECT_FALSE(spec->hosts[0].kernel_backend);
  EXPECT_FALSE(spec->hosts[1].kernel_backend);
  EXPECT_TRUE(spec->hosts[2].kernel);

  Backend backend = Backend::kUserspace;
  EXPECT_TRUE(ParseBackend("kernel", &backend));
  EXPECT_EQ(backend, Backend::kKernel);
  EXPECT_STREQ(BackendName(backend), "kernel");
  EXPECT_TRUE(ParseBackend("userspace", &backend));
  EXPECT_EQ(backend, Backend::kUserspace);
  EXPECT_STREQ(BackendName(backend), "userspace");
  EXPECT_FALSE(ParseBackend("Kernel", &backend));
  EXPECT_FALSE(ParseBackend("", &backend));
  EXPECT_EQ(backend, Backend::kUserspace) << "a rejected name leaves it as it was";
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
      {"host", "expected \"host NAME [dove-kernel | kernel [udpcsum|noudpcsum]]\""},
      {"host h2 kernel udpcsum extra",
       "expected \"host NAME [dove-kernel | kernel [udpcsum|noudpcsum]]\""},
      {"host h2 qemu", "unknown host kind \"qemu\" (the kinds are \"dove-kernel\" and \"kernel\")"},
      {"host h2 dove-kernel udpcsum",
       "\"udpcsum\" is an option of static kernel hosts (\"kernel\"); dove-switch's kernel "
       "backend"},
      {"host h2 dove-kernel noudpcsum", "\"noudpcsum\" is an option of static kernel hosts"},
      {"host h2 dove-kernel kernel",
       "expected \"host NAME [dove-kernel | kernel [udpcsum|noudpcsum]]\""},
      {"host h2 kernel dove-kernel", "unknown kernel host option \"dove-kernel\""},
      {"host h2 Dove-Kernel", "unknown host kind \"Dove-Kernel\""},
      {"host h2 dove-kernel a b", "expected \"host NAME [dove-kernel | kernel"},
      {"host h2 kernel extra", "unknown kernel host option \"extra\" (expected udpcsum or"},
      {"host h2 kernel UDPCSUM", "unknown kernel host option \"UDPCSUM\""},
      {"host h2 udpcsum", "\"udpcsum\" is an option of kernel hosts (\"host h2 kernel udpcsum\")"},
      {"host h2 noudpcsum", "\"noudpcsum\" is an option of kernel hosts"},
      {"host h2 udpcsum kernel", "\"udpcsum\" is an option of kernel hosts"},
      {"host h1", "host h1 is declared twice"},
      {"host -h", "must start with a letter or digit"},
      {"host h/2", "may only hold letters"},
      {"network red", "expected \"network DOMAIN/NAME CIDR [vni N] [gateway IP] [mtu N]"},
      {"network red/db 10.1.0.0/24 vni", "expected \"network DOMAIN/NAME CIDR"},
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
      {"network red/db 10.1.0.0/24 vlan 5", "unknown network option \"vlan\""},
      {"network red/db 10.1.0.0/24 vni 5 vni 6", "option \"vni\" is given twice"},
      {"network red/db 10.1.0.0/24 gateway 10.1.1.1", "gateway 10.1.1.1 is outside 10.1.0.0/24"},
      {"network red/db 10.1.0.0/24 gateway 10.1.0.255", "network or broadcast address"},
      {"network red/db 10.1.0.0/24 gateway x", "gateway \"x\" is not an IP address"},
      {"network red/db 10.1.0.0/24 mtu 1279", "N in 1280..9000"},
      {"network red/db 10.1.0.0/24 mtu 9001", "N in 1280..9000"},
      {"network red/db 10.1.0.0/24 dns 10.0.0.2,", "dns server \"\" is not an IP address"},
      {"network red/db 2001:db8::/64", "is not an IPv4 CIDR"},
      {"network red/db 10.0.0.0/16", "subnet 10.0.0.0/16 overlaps 10.0.0.0/24 of network red/web"},
      {"subnet red/web", "expected \"subnet DOMAIN/NAME CIDR [gateway IP]\""},
      {"subnet red/web 10.2.0.0/24 gw 10.2.0.1", "expected \"subnet DOMAIN/NAME CIDR"},
      {"subnet red/db 10.2.0.0/24", "network red/db is not declared"},
      {"subnet red/web 2001:db8::/40", "is not a CIDR"},
      {"subnet red/web 2001:db8::/127", "is not a CIDR"},
      {"subnet red/web 2001:db8::1/64", "has host bits set (did you mean 2001:db8::/64?)"},
      {"subnet red/web 10.0.0.128/25", "overlaps 10.0.0.0/24"},
      {"subnet red/web 2001:db8::/64 gateway 2001:db9::1", "is outside 2001:db8::/64"},
      {"underlay mtu", "expected \"underlay mtu N\" with N in 1330..9000"},
      {"underlay mtu 1329", "N in 1330..9000"},
      {"underlay size 1400", "expected \"underlay mtu N\""},
      {"policy red web", "expected \"policy DOMAIN FROM TO allow|deny|reject"},
      {"policy red web db allow", "network red/db is not declared"},
      {"policy blue web web allow", "network blue/web is not declared"},
      {"policy red web web permit", "unknown policy action \"permit\""},
      {"policy red web web allow sctp", "unknown protocol \"sctp\""},
      {"policy red web web allow icmp 80", "a port range (80) needs tcp or udp"},
      {"policy red web web allow tcp 0", "is not PORT or FIRST-LAST"},
      {"policy red web web allow tcp 90-80", "is not PORT or FIRST-LAST"},
      {"policy red web web allow tcp 65536", "is not PORT or FIRST-LAST"},
      {"policy red web web allow tcp 80 priority", "priority N with N in 0..1000000"},
      {"policy red web web allow tcp 80 priority 1000001", "priority N with N in 0..1000000"},
      {"policy red web web allow tcp 80 priority 5 extra", "priority N"},
      {"vm v1 h1", "expected \"vm NAME HOST DOMAIN/NAME [IP[,IP...]|dhcp] [packet]\""},
      {"vm v1 h1 red/web packet packet", "is not an IPv4 address (nor IPv6, nor \"dhcp\")"},
      {"vm v1 h1 red/web 10.0.0.5 packet x", "expected \"vm NAME HOST DOMAIN/NAME"},
      {"vm v1 h1 red/web DHCP", "is not an IPv4 address (nor IPv6, nor \"dhcp\")"},
      {"vm v1 h1 red/web 2001:db8::5", "is outside 10.0.0.0/24 of network red/web"},
      {"vm v1 h1 red/web 10.0.0.5,10.0.0.6", "two IPs of vm v1 are in subnet 10.0.0.0/24"},
      {"vm v1 h9 red/web", "host h9 is not declared"},
      {"vm v1 h1 red/db", "network red/db is not declared"},
      {"vm v1 h1 red/web 10.0.0.999", "is not an IPv4 address"},
      {"vm v1 h1 red/web 10.0.0.5,", "\"\" is not an IPv4 address"},
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
  ASSERT_EQ(spec->networks.size(), 4U);
  EXPECT_EQ(spec->networks[0].Ref(), "red/web");
  EXPECT_EQ(spec->networks[1].Ref(), "blue/web");
  EXPECT_EQ(spec->networks[2].Ref(), "red/db");
  EXPECT_EQ(spec->networks[3].Ref(), "blue/db");
  EXPECT_EQ(spec->networks[0].cidr, spec->networks[1].cidr);
  EXPECT_EQ(spec->networks[2].cidr, spec->networks[3].cidr);
  for (const auto& network : spec->networks) {
    EXPECT_FALSE(network.subnets[0].gateway.empty()) << network.Ref() << " routes";
  }
  EXPECT_EQ(spec->networks[0].subnets[0].gateway, spec->networks[1].subnets[0].gateway);
  ASSERT_EQ(spec->vms.size(), 8U);
  const struct {
    const char* name;
    const char* host;
    const char* network;
    const char* ip;
  } kVms[] = {
      {"red1", "h1", "red/web", "10.0.0.11"},   {"red2", "h2", "red/web", "10.0.0.12"},
      {"red3", "h3", "red/web", "10.0.0.13"},   {"blue1", "h1", "blue/web", "10.0.0.11"},
      {"blue2", "h2", "blue/web", "10.0.0.12"}, {"blue3", "h3", "blue/web", "10.0.0.13"},
      {"reddb", "h2", "red/db", "10.1.0.21"},   {"bluedb", "h2", "blue/db", "10.1.0.21"},
  };
  for (const auto& expected : kVms) {
    const SpecVm* vm = spec->FindVm(expected.name);
    ASSERT_NE(vm, nullptr) << expected.name;
    EXPECT_EQ(vm->host, expected.host);
    EXPECT_EQ(vm->NetworkRef(), expected.network);
    EXPECT_EQ(vm->ip, expected.ip);
  }
  // Each tenant allows one TCP port from web to db; nothing else.
  ASSERT_EQ(spec->policies.size(), 2U);
  for (const auto& policy : spec->policies) {
    EXPECT_EQ(policy.Text(), "policy " + policy.domain + " web db allow tcp " +
                                 std::to_string(kDemoAllowedPort) + " priority 0");
  }
}

TEST(SpecTest, ParsesRoutedNetworksSubnetsPoliciesAndDhcpVms) {
  const auto spec = ParseSpec(
      "underlay mtu 1400\n"
      "host h1\n"
      "network t/a 10.1.0.0/24 gateway 10.1.0.1 mtu 1300 dns 10.1.0.2,2001:db8:9::53 vni 77\n"
      "subnet t/a 2001:DB8:1::/64 gateway 2001:db8:1::1\n"
      "network t/b 10.2.0.0/24\n"
      "subnet t/b 10.3.0.0/24 gateway 10.3.0.1\n"
      "policy t a b allow tcp 80\n"
      "policy t b a reject udp 1000-2000 priority 7\n"
      "policy t a b deny icmp\n"
      "policy t b a allow\n"
      "vm v1 h1 t/a 10.1.0.5,2001:db8:1::5\n"
      "vm v2 h1 t/a dhcp packet\n"
      "vm v3 h1 t/b 10.3.0.9\n"
      "vm v4 h1 t/a packet\n");
  ASSERT_TRUE(spec) << spec.error();
  EXPECT_EQ(spec->underlay_mtu, 1400U);
  EXPECT_EQ(spec->OverlayMtu(), 1350U);
  const SpecNetwork& a = spec->networks[0];
  EXPECT_EQ(a.vni, 77U);
  EXPECT_EQ(a.mtu, 1300U);
  EXPECT_EQ(a.dns, (std::vector<std::string>{"10.1.0.2", "2001:db8:9::53"}));
  ASSERT_EQ(a.subnets.size(), 2U);
  EXPECT_EQ(a.subnets[0].gateway, "10.1.0.1");
  EXPECT_FALSE(a.subnets[0].ipv6);
  EXPECT_EQ(a.subnets[1].cidr, "2001:db8:1::/64") << "normalised";
  EXPECT_TRUE(a.subnets[1].ipv6);
  EXPECT_EQ(a.subnets[1].prefix_length, 64);
  EXPECT_EQ(a.subnets[1].gateway, "2001:db8:1::1");
  EXPECT_EQ(a.subnets[1].line, 4);
  EXPECT_EQ(a.FirstSubnet(true), &a.subnets[1]);
  EXPECT_EQ(spec->networks[1].FirstSubnet(true), nullptr);
  EXPECT_EQ(spec->networks[1].subnets[1].gateway, "10.3.0.1");
  EXPECT_TRUE(spec->networks[1].subnets[0].gateway.empty());
  ASSERT_EQ(spec->policies.size(), 4U);
  EXPECT_EQ(spec->policies[0].Text(), "policy t a b allow tcp 80 priority 0");
  EXPECT_EQ(spec->policies[0].protocol, 6U);
  EXPECT_EQ(spec->policies[0].first_port, 80U);
  EXPECT_EQ(spec->policies[0].last_port, 80U);
  EXPECT_STREQ(spec->policies[0].ActionName(), "ACTION_ALLOW");
  EXPECT_EQ(spec->policies[1].Text(), "policy t b a reject udp 1000-2000 priority 7");
  EXPECT_STREQ(spec->policies[1].ActionName(), "ACTION_REJECT");
  EXPECT_EQ(spec->policies[2].protocol, 1U);
  EXPECT_STREQ(spec->policies[2].ActionName(), "ACTION_DENY");
  EXPECT_EQ(spec->policies[3].Text(), "policy t b a allow any priority 0");
  EXPECT_EQ(spec->policies[3].line, 10);
  EXPECT_EQ(spec->vms[0].ip, "10.1.0.5");
  EXPECT_EQ(spec->vms[0].ips, (std::vector<std::string>{"10.1.0.5", "2001:db8:1::5"}));
  EXPECT_FALSE(spec->vms[0].dhcp);
  EXPECT_TRUE(spec->vms[1].dhcp);
  EXPECT_TRUE(spec->vms[1].ips.empty());
  EXPECT_EQ(spec->vms[2].ip, "10.3.0.9") << "in the network's second subnet";
  EXPECT_TRUE(spec->vms[3].ips.empty()) << "the controller allocates one per subnet";
  EXPECT_FALSE(spec->vms[0].packet);
  EXPECT_TRUE(spec->vms[1].packet) << "dhcp and packet together";
  EXPECT_TRUE(spec->vms[3].packet) << "packet alone";
  const auto on_kernel_host =
      ParseSpec("host k kernel\nnetwork a/b 10.0.0.0/24\nvm v k a/b packet\n");
  ASSERT_FALSE(on_kernel_host);
  EXPECT_THAT(on_kernel_host.error(), HasSubstr("line 3: packet: host k is a kernel-VXLAN host"));
  // The same statement alone, for a running lab.
  auto policy = ParsePolicy(*spec, "policy t a b reject tcp 22 priority 9");
  ASSERT_TRUE(policy) << policy.error();
  EXPECT_EQ(policy->Text(), "policy t a b reject tcp 22 priority 9");
  EXPECT_FALSE(ParsePolicy(*spec, "policy t a c allow"));
  EXPECT_FALSE(ParsePolicy(*spec, "vm x h1 t/a"));
}

TEST(SpecTest, AVmStatementAloneIsCheckedAgainstTheLabsSpec) {
  auto spec =
      ParseSpec("host h1\nnetwork t/web 10.0.0.0/24 gateway 10.0.0.1\nvm a1 h1 t/web 10.0.0.11\n");
  ASSERT_TRUE(spec) << spec.error();
  auto vm = ParseVm(*spec, "vm n1 h1 t/web 10.0.0.31");
  ASSERT_TRUE(vm) << vm.error();
  EXPECT_EQ(vm->name, "n1");
  EXPECT_EQ(vm->host, "h1");
  EXPECT_EQ(vm->NetworkRef(), "t/web");
  EXPECT_EQ(vm->ip, "10.0.0.31");
  auto allocated = ParseVm(*spec, "vm n2 h1 t/web");
  ASSERT_TRUE(allocated) << allocated.error();
  EXPECT_TRUE(allocated->ips.empty());
  const struct {
    const char* statement;
    const char* error;
  } kCases[] = {
      {"vm a1 h1 t/web", "vm a1 is declared twice"},
      {"vm n1 h1 t/web 10.0.0.11", "IP 10.0.0.11 is used twice in network t/web"},
      {"vm n1 h9 t/web", "host h9 is not declared (declare it with \"host\" before its VMs)"},
      {"vm n1 h1 t/db",
       "network t/db is not declared (declare it with \"network\" before its VMs)"},
      {"vm n1 h1 t/web 10.0.0.1", "IP 10.0.0.1 is the gateway of 10.0.0.0/24"},
      {"policy t web web allow", "a vm statement starts with \"vm\""},
  };
  for (const auto& test : kCases) {
    auto refused = ParseVm(*spec, test.statement);
    ASSERT_FALSE(refused) << test.statement;
    EXPECT_EQ(refused.error(), test.error) << test.statement;
  }
}

TEST(SpecTest, RoutedRulesThatSpanLinesAreRefusedOnTheLaterLine) {
  const struct {
    const char* text;
    const char* error;
  } kCases[] = {
      {"underlay mtu 1400\nunderlay mtu 1400\n", "line 2: the underlay MTU is declared twice"},
      {"host h\nnetwork t/a 10.0.0.0/24\nvm v h t/a\nsubnet t/a 2001:db8::/64\n",
       "line 4: network t/a already has VMs (line 3): declare its subnets before its VMs"},
      {"host h\nnetwork t/a 10.0.0.0/24 gateway 10.0.0.1\nvm v h t/a 10.0.0.1\n",
       "line 3: IP 10.0.0.1 is the gateway of 10.0.0.0/24"},
      {"network t/a 10.0.0.0/24\nsubnet t/a 2001:db8::/64\nnetwork t/b 10.1.0.0/24\n"
       "subnet t/b 2001:db8::/48\n",
       "line 4: subnet 2001:db8::/48 overlaps 2001:db8::/64 of network t/a (line 2): a domain's "
       "subnets are disjoint"},
      {"host h\nnetwork t/a 10.0.0.0/24\nsubnet t/a 2001:db8::/64\n"
       "vm v h t/a 2001:db8::5\nvm w h t/a 10.0.0.9,2001:db8::5\n",
       "line 5: IP 2001:db8::5 is used twice in network t/a"},
  };
  for (const auto& c : kCases) {
    const auto spec = ParseSpec(c.text);
    ASSERT_FALSE(spec) << c.text;
    EXPECT_EQ(spec.error(), c.error);
  }
  // Another domain may reuse the same subnets.
  EXPECT_TRUE(ParseSpec("network t/a 10.0.0.0/24\nnetwork u/a 10.0.0.0/24\n"));
}

}  // namespace
}  // namespace dove::lab
