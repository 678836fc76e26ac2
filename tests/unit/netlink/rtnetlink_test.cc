// Rtnl against the kernel, each test in a network namespace of its own (root only): what we
// install is checked with the kernel's own tools (`bridge fdb show`, `ip neigh show`,
// `ip addr`, `ip route show table 1000`, `ip rule show`, parsed here) and with our List*;
// refusals come back with the kernel's errno.
#include "netlink/rtnetlink.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "unit/io/network_namespace.h"

namespace dove::netlink {
namespace {

using dove::dswitch::io::testing::RunInNetworkNamespace;
using dove::dswitch::io::testing::Shell;
using ::testing::UnorderedElementsAreArray;

const net::Ipv4Address kLocal = *net::Ipv4Address::Parse("192.0.2.1");
const net::Ipv4Address kRemoteA = *net::Ipv4Address::Parse("192.0.2.2");
const net::Ipv4Address kRemoteB = *net::Ipv4Address::Parse("192.0.2.3");
const net::MacAddress kMacA = *net::MacAddress::Parse("52:54:00:00:00:0a");
const net::MacAddress kMacB = *net::MacAddress::Parse("52:54:00:00:00:0b");
const net::MacAddress kZeros;

// The standard output of a shell command; an empty string when it fails.
std::string Output(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[512];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  EXPECT_EQ(::pclose(pipe), 0) << command;
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// The word after `key` in a line of iproute2 output ("" when absent).
std::string After(const std::string& line, const std::string& key) {
  const auto words = Words(line);
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] == key) return words[i + 1];
  }
  return "";
}

std::unique_ptr<Rtnl> OpenRtnl() {
  auto rtnl = Rtnl::Open();
  EXPECT_TRUE(rtnl) << rtnl.error().message;
  return rtnl ? std::move(*rtnl) : nullptr;
}

VxlanSpec DoveVxlan(const std::string& name, uint32_t vni) {
  return VxlanSpec{.name = name,
                   .vni = vni,
                   .local = kLocal,
                   .port = 4789,
                   .mtu = 1450,
                   .underlay_ifindex = 0,
                   .learning = false,
                   .proxy = true,
                   .l2miss = true,
                   .l3miss = true,
                   .rsc = true};
}

TEST(RtnlTest, CreatesABridgeAndADoveVxlanAndReadsThemBack) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    auto rtnl = OpenRtnl();
    ASSERT_NE(rtnl, nullptr);
    const auto bridge_mac = *net::MacAddress::Parse("02:d0:00:00:00:01");
    auto br = rtnl->CreateBridge({.name = "dbr-42", .mtu = 1450, .mac = bridge_mac, .stp = false});
    ASSERT_TRUE(br) << br.error().message;
    auto vx = rtnl->CreateVxlan(DoveVxlan("dvx-42", 42));
    ASSERT_TRUE(vx) << vx.error().message;
    ASSERT_TRUE(rtnl->SetMaster(*vx, *br));
    ASSERT_TRUE(rtnl->SetUp(*br, true));
    ASSERT_TRUE(rtnl->SetUp(*vx, true));

    // iproute2's view of the vxlan device: every DOVE option as asked.
    const std::string details = Output("ip -d link show dvx-42");
    for (const char* word : {"vxlan id 42", "local 192.0.2.1", "dstport 4789", "nolearning",
                             "proxy", "l2miss", "l3miss", "rsc", "master dbr-42", "mtu 1450"}) {
      EXPECT_NE(details.find(word), std::string::npos) << word << " not in: " << details;
    }
    const std::string bridge = Output("ip -d link show dbr-42");
    EXPECT_NE(bridge.find("stp_state 0"), std::string::npos) << bridge;
    EXPECT_NE(bridge.find("link/ether 02:d0:00:00:00:01"), std::string::npos) << bridge;

    auto spec = rtnl->GetVxlan(*vx);
    ASSERT_TRUE(spec) << spec.error().message;
    EXPECT_EQ(spec->name, "dvx-42");
    EXPECT_EQ(spec->vni, 42U);
    EXPECT_EQ(spec->local, kLocal);
    EXPECT_EQ(spec->port, 4789);
    EXPECT_EQ(spec->mtu, 1450U);
    EXPECT_FALSE(spec->learning);
    EXPECT_TRUE(spec->proxy && spec->l2miss && spec->l3miss && spec->rsc);
    EXPECT_FALSE(spec->udp_checksum) << "zero, as asked";
    EXPECT_NE(details.find("noudpcsum"), std::string::npos) << details;
    // Asked to checksum: iproute2 and the read-back agree.
    VxlanSpec checksummed = DoveVxlan("dvx-43", 43);
    checksummed.udp_checksum = true;
    auto vx43 = rtnl->CreateVxlan(checksummed);
    ASSERT_TRUE(vx43) << vx43.error().message;
    EXPECT_TRUE(rtnl->GetVxlan(*vx43)->udp_checksum);
    EXPECT_NE(Output("ip -d link show dvx-43").find(" udpcsum"), std::string::npos);
    ASSERT_TRUE(rtnl->DeleteLink(*vx43));

    auto link = rtnl->GetLink("dvx-42");
    ASSERT_TRUE(link) << link.error().message;
    EXPECT_EQ(link->ifindex, *vx);
    EXPECT_EQ(link->kind, "vxlan");
    EXPECT_EQ(link->master, *br);
    EXPECT_TRUE(link->up);

    ASSERT_TRUE(rtnl->SetMtu(*br, 1400));
    ASSERT_TRUE(rtnl->SetMac(*br, kMacA));
    auto links = rtnl->ListLinks();
    ASSERT_TRUE(links) << links.error().message;
    std::set<std::string> names;
    for (const LinkInfo& l : *links) {
      names.insert(l.name);
      if (l.name == "dbr-42") {
        EXPECT_EQ(l.kind, "bridge");
        EXPECT_EQ(l.mtu, 1400U);
        EXPECT_EQ(l.mac, kMacA);
      }
    }
    EXPECT_EQ(names, (std::set<std::string>{"lo", "dbr-42", "dvx-42"}));

    ASSERT_TRUE(rtnl->SetMaster(*vx, 0));
    EXPECT_EQ(rtnl->GetLink("dvx-42")->master, 0);
    ASSERT_TRUE(rtnl->DeleteLink(*vx));
    auto gone = rtnl->GetLink("dvx-42");
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, ENODEV);
  });
}

TEST(RtnlTest, RefusalsCarryTheKernelsErrno) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    auto rtnl = OpenRtnl();
    ASSERT_NE(rtnl, nullptr);
    ASSERT_TRUE(rtnl->CreateBridge({.name = "dbr-1", .mtu = 0, .mac = std::nullopt, .stp = false}));
    auto again = rtnl->CreateBridge({.name = "dbr-1", .mtu = 0, .mac = std::nullopt, .stp = false});
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, EEXIST);
    EXPECT_NE(again.error().message.find("create bridge dbr-1"), std::string::npos)
        << again.error().message;

    auto vx = rtnl->CreateVxlan(DoveVxlan("dvx-1", 1));
    ASSERT_TRUE(vx) << vx.error().message;
    auto vx_again = rtnl->CreateVxlan(DoveVxlan("dvx-1", 2));
    ASSERT_FALSE(vx_again);
    EXPECT_EQ(vx_again.error().code, EEXIST);

    auto deleted = rtnl->DeleteLink(999999);
    ASSERT_FALSE(deleted);
    EXPECT_EQ(deleted.error().code, ENODEV);

    // An FDB entry without a remote VTEP: the kernel refuses it (no NDA_DST).
    auto no_remote =
        rtnl->ReplaceFdb({.ifindex = *vx, .mac = kMacA, .remote = {}, .router = false});
    ASSERT_FALSE(no_remote);
    EXPECT_EQ(no_remote.error().code, EINVAL) << no_remote.error().message;

    auto absent =
        rtnl->DeleteFdb({.ifindex = *vx, .mac = kMacA, .remote = kRemoteA, .router = false});
    ASSERT_FALSE(absent);
    EXPECT_EQ(absent.error().code, ENOENT) << absent.error().message;

    auto not_vxlan = rtnl->GetVxlan(rtnl->GetLink("dbr-1")->ifindex);
    ASSERT_FALSE(not_vxlan);
    EXPECT_EQ(not_vxlan.error().code, EINVAL);
  });
}

// `bridge fdb show dev X` lines of self entries: "MAC dst IP [router]".
std::vector<std::string> KernelFdb(const std::string& device) {
  std::vector<std::string> entries;
  for (const std::string& line : Lines(Output("bridge fdb show dev " + device))) {
    if (line.find(" self") == std::string::npos) continue;
    const std::string mac = Words(line).at(0);
    entries.push_back(mac + " " + After(line, "dst") +
                      (line.find(" router") != std::string::npos ? " router" : ""));
  }
  return entries;
}

std::vector<std::string> OurFdb(Rtnl& rtnl, int ifindex) {
  std::vector<std::string> entries;
  auto fdb = rtnl.ListFdb(ifindex);
  EXPECT_TRUE(fdb) << fdb.error().message;
  if (!fdb) return entries;
  for (const FdbEntry& e : *fdb) {
    EXPECT_EQ(e.ifindex, ifindex);
    entries.push_back(e.mac.ToString() + " " + e.remote.ToString() + (e.router ? " router" : ""));
  }
  return entries;
}

TEST(RtnlTest, FdbEntriesAreWhatBridgeFdbShowLists) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    auto rtnl = OpenRtnl();
    ASSERT_NE(rtnl, nullptr);
    auto vx = rtnl->CreateVxlan(DoveVxlan("dvx-7", 7));
    ASSERT_TRUE(vx) << vx.error().message;
    ASSERT_TRUE(rtnl->SetUp(*vx, true));

    ASSERT_TRUE(
        rtnl->ReplaceFdb({.ifindex = *vx, .mac = kMacA, .remote = kRemoteA, .router = false}));
    // Replace moves the MAC: one entry, now to B, flagged router.
    ASSERT_TRUE(
        rtnl->ReplaceFdb({.ifindex = *vx, .mac = kMacA, .remote = kRemoteB, .router = true}));
    ASSERT_TRUE(
        rtnl->ReplaceFdb({.ifindex = *vx, .mac = kMacB, .remote = kRemoteA, .router = false}));
    // Flood destinations: the all-zeros MAC appended twice, one per remote.
    ASSERT_TRUE(
        rtnl->AppendFdb({.ifindex = *vx, .mac = kZeros, .remote = kRemoteA, .router = false}));
    ASSERT_TRUE(
        rtnl->AppendFdb({.ifindex = *vx, .mac = kZeros, .remote = kRemoteB, .router = false}));
    const std::vector<std::string> expected = {
        "52:54:00:00:00:0a 192.0.2.3 router", "52:54:00:00:00:0b 192.0.2.2",
        "00:00:00:00:00:00 192.0.2.2", "00:00:00:00:00:00 192.0.2.3"};
    EXPECT_THAT(KernelFdb("dvx-7"), UnorderedElementsAreArray(expected));
    EXPECT_THAT(OurFdb(*rtnl, *vx), UnorderedElementsAreArray(expected));

    ASSERT_TRUE(
        rtnl->DeleteFdb({.ifindex = *vx, .mac = kZeros, .remote = kRemoteA, .router = false}));
    ASSERT_TRUE(
        rtnl->DeleteFdb({.ifindex = *vx, .mac = kMacB, .remote = kRemoteA, .router = false}));
    const std::vector<std::string> after = {"52:54:00:00:00:0a 192.0.2.3 router",
                                            "00:00:00:00:00:00 192.0.2.3"};
    EXPECT_THAT(KernelFdb("dvx-7"), UnorderedElementsAreArray(after));
    EXPECT_THAT(OurFdb(*rtnl, *vx), UnorderedElementsAreArray(after));
  });
}

TEST(RtnlTest, NeighbourEntriesAreWhatIpNeighShowLists) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    auto rtnl = OpenRtnl();
    ASSERT_NE(rtnl, nullptr);
    Shell("sysctl -qw net.ipv6.conf.default.addr_gen_mode=1");  // no link-local: no noise
    auto vx = rtnl->CreateVxlan(DoveVxlan("dvx-8", 8));
    ASSERT_TRUE(vx) << vx.error().message;
    ASSERT_TRUE(rtnl->SetUp(*vx, true));

    const auto ip4 = *net::IpAddress::Parse("10.0.0.5");
    const auto ip4b = *net::IpAddress::Parse("10.0.0.6");
    const auto ip6 = *net::IpAddress::Parse("fd00::5");
    ASSERT_TRUE(rtnl->ReplaceNeigh({.ifindex = *vx, .ip = ip4, .mac = kMacB, .state = 0x80}));
    ASSERT_TRUE(
        rtnl->ReplaceNeigh({.ifindex = *vx, .ip = ip4, .mac = kMacA, .state = 0x80}));  // replaced
    ASSERT_TRUE(rtnl->ReplaceNeigh({.ifindex = *vx, .ip = ip4b, .mac = kMacB, .state = 0x80}));
    ASSERT_TRUE(rtnl->ReplaceNeigh({.ifindex = *vx, .ip = ip6, .mac = kMacB, .state = 0x80}));

    auto kernel = [] {
      std::vector<std::string> entries;
      for (const std::string& line : Lines(Output("ip neigh show dev dvx-8"))) {
        entries.push_back(Words(line).at(0) + " " + After(line, "lladdr") + " " +
                          Words(line).back());
      }
      return entries;
    };
    auto ours = [&] {
      std::vector<std::string> entries;
      auto list = rtnl->ListNeigh(*vx);
      EXPECT_TRUE(list) << list.error().message;
      if (!list) return entries;
      for (const NeighEntry& e : *list) {
        entries.push_back(e.ip.ToString() + " " + e.mac.ToString() +
                          (e.state == 0x80 ? " PERMANENT" : " other"));
      }
      return entries;
    };
    const std::vector<std::string> expected = {"10.0.0.5 52:54:00:00:00:0a PERMANENT",
                                               "10.0.0.6 52:54:00:00:00:0b PERMANENT",
                                               "fd00::5 52:54:00:00:00:0b PERMANENT"};
    EXPECT_THAT(kernel(), UnorderedElementsAreArray(expected));
    EXPECT_THAT(ours(), UnorderedElementsAreArray(expected));

    ASSERT_TRUE(rtnl->DeleteNeigh({.ifindex = *vx, .ip = ip4b, .mac = kMacB, .state = 0x80}));
    ASSERT_TRUE(rtnl->DeleteNeigh({.ifindex = *vx, .ip = ip6, .mac = kMacB, .state = 0x80}));
    const std::vector<std::string> after = {"10.0.0.5 52:54:00:00:00:0a PERMANENT"};
    EXPECT_THAT(kernel(), UnorderedElementsAreArray(after));
    EXPECT_THAT(ours(), UnorderedElementsAreArray(after));
    auto absent = rtnl->DeleteNeigh({.ifindex = *vx, .ip = ip6, .mac = kMacB, .state = 0x80});
    ASSERT_FALSE(absent);
    EXPECT_EQ(absent.error().code, ENOENT);
  });
}

TEST(RtnlTest, AddressesRoutesInATableAndRulesAreWhatIpShows) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    auto rtnl = OpenRtnl();
    ASSERT_NE(rtnl, nullptr);
    Shell("sysctl -qw net.ipv6.conf.default.addr_gen_mode=1");  // only the addresses we add
    auto br = rtnl->CreateBridge({.name = "dbr-9", .mtu = 0, .mac = std::nullopt, .stp = false});
    ASSERT_TRUE(br) << br.error().message;
    ASSERT_TRUE(rtnl->SetUp(*br, true));

    // Addresses.
    const auto gw4 = *net::IpAddress::Parse("10.0.1.1");
    const auto gw6 = *net::IpAddress::Parse("fd00:1::1");
    ASSERT_TRUE(rtnl->AddAddress({.ifindex = *br, .address = gw4, .prefix_length = 24}));
    ASSERT_TRUE(rtnl->AddAddress({.ifindex = *br, .address = gw6, .prefix_length = 64}));
    auto twice = rtnl->AddAddress({.ifindex = *br, .address = gw4, .prefix_length = 24});
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, EEXIST);
    std::vector<std::string> kernel_addresses;
    for (const std::string& line : Lines(Output("ip -o addr show dev dbr-9"))) {
      kernel_addresses.push_back(Words(line).at(3));  // "2: dbr-9 inet 10.0.1.1/24 ..."
    }
    const std::vector<std::string> addresses = {"10.0.1.1/24", "fd00:1::1/64"};
    EXPECT_THAT(kernel_addresses, UnorderedElementsAreArray(addresses));
    std::vector<std::string> our_addresses;
    auto listed = rtnl->ListAddresses(*br);
    ASSERT_TRUE(listed) << listed.error().message;
    for (const AddressEntry& a : *listed) {
      our_addresses.push_back(a.address.ToString() + "/" + std::to_string(a.prefix_length));
    }
    EXPECT_THAT(our_addresses, UnorderedElementsAreArray(addresses));

    // Routes in table 1000: the subnet through the bridge, the gateway address local.
    const RouteEntry subnet4{.table = 1000,
                             .prefix = *net::IpPrefix::Parse("10.0.1.0/24"),
                             .ifindex = *br,
                             .local = false};
    const RouteEntry local4{.table = 1000,
                            .prefix = *net::IpPrefix::Parse("10.0.1.1/32"),
                            .ifindex = *br,
                            .local = true};
    const RouteEntry subnet6{.table = 1000,
                             .prefix = *net::IpPrefix::Parse("fd00:1::/64"),
                             .ifindex = *br,
                             .local = false};
    for (const RouteEntry& r : {subnet4, local4, subnet6}) {
      auto done = rtnl->ReplaceRoute(r);
      ASSERT_TRUE(done) << done.error().message;
    }
    auto kernel_routes = [](const std::string& family) {
      std::vector<std::string> routes;
      for (const std::string& line : Lines(Output("ip " + family + " route show table 1000"))) {
        const auto words = Words(line);
        const bool local = words.at(0) == "local";
        std::string prefix = words.at(local ? 1 : 0);
        if (prefix.find('/') == std::string::npos) prefix += family == "-6" ? "/128" : "/32";
        routes.push_back(std::string(local ? "local " : "") + prefix + " dev " +
                         After(line, "dev") + " scope " + After(line, "scope"));
      }
      return routes;
    };
    auto our_routes = [&](bool ipv6) {
      std::vector<std::string> routes;
      auto list = rtnl->ListRoutes(1000, ipv6);
      EXPECT_TRUE(list) << list.error().message;
      if (!list) return routes;
      for (const RouteEntry& r : *list) {
        EXPECT_EQ(r.ifindex, *br);
        routes.push_back(std::string(r.local ? "local " : "") + r.prefix.ToString() +
                         " dev dbr-9 scope " + (r.local ? "host" : "link"));
      }
      return routes;
    };
    const std::vector<std::string> routes4 = {"10.0.1.0/24 dev dbr-9 scope link",
                                              "local 10.0.1.1/32 dev dbr-9 scope host"};
    EXPECT_THAT(kernel_routes("-4"), UnorderedElementsAreArray(routes4));
    EXPECT_THAT(our_routes(false), UnorderedElementsAreArray(routes4));
    // ip -6 prints no scope for IPv6 routes: compare the prefixes.
    const auto v6 = kernel_routes("-6");
    ASSERT_EQ(v6.size(), 1U);
    EXPECT_EQ(v6[0].rfind("fd00:1::/64 dev dbr-9", 0), 0U) << v6[0];
    EXPECT_THAT(our_routes(true),
                UnorderedElementsAreArray({std::string("fd00:1::/64 dev dbr-9 scope link")}));
    ASSERT_TRUE(rtnl->DeleteRoute(local4));
    EXPECT_THAT(kernel_routes("-4"),
                UnorderedElementsAreArray({std::string("10.0.1.0/24 dev dbr-9 scope link")}));
    auto absent = rtnl->DeleteRoute(local4);
    ASSERT_FALSE(absent);
    EXPECT_EQ(absent.error().code, ESRCH) << absent.error().message;

    // Rules: packets arriving on the bridge look up table 1000.
    const RuleEntry rule4{.ipv6 = false, .priority = 100, .iif_name = "dbr-9", .table = 1000};
    const RuleEntry rule6{.ipv6 = true, .priority = 100, .iif_name = "dbr-9", .table = 1000};
    ASSERT_TRUE(rtnl->AddRule(rule4));
    ASSERT_TRUE(rtnl->AddRule(rule6));
    auto kernel_rules = [](const std::string& family) {
      std::vector<std::string> rules;
      for (const std::string& line : Lines(Output("ip " + family + " rule show"))) {
        std::string priority = Words(line).at(0);
        priority.pop_back();  // "100:"
        rules.push_back(priority + " iif " + After(line, "iif") + " lookup " +
                        After(line, "lookup"));
      }
      return rules;
    };
    auto our_rules = [&](bool ipv6) {
      std::vector<std::string> rules;
      auto list = rtnl->ListRules(ipv6);
      EXPECT_TRUE(list) << list.error().message;
      if (!list) return rules;
      for (const RuleEntry& r : *list) {
        EXPECT_EQ(r.ipv6, ipv6);
        const std::string table = r.table == 255   ? "local"
                                  : r.table == 254 ? "main"
                                  : r.table == 253 ? "default"
                                                   : std::to_string(r.table);
        rules.push_back(std::to_string(r.priority) + " iif " + r.iif_name + " lookup " + table);
      }
      return rules;
    };
    const std::vector<std::string> rules = {"0 iif  lookup local", "100 iif dbr-9 lookup 1000",
                                            "32766 iif  lookup main", "32767 iif  lookup default"};
    EXPECT_THAT(kernel_rules("-4"), UnorderedElementsAreArray(rules));
    EXPECT_THAT(our_rules(false), UnorderedElementsAreArray(rules));
    const std::vector<std::string> rules6 = {"0 iif  lookup local", "100 iif dbr-9 lookup 1000",
                                             "32766 iif  lookup main"};
    EXPECT_THAT(kernel_rules("-6"), UnorderedElementsAreArray(rules6));
    EXPECT_THAT(our_rules(true), UnorderedElementsAreArray(rules6));
    ASSERT_TRUE(rtnl->DeleteRule(rule4));
    EXPECT_THAT(kernel_rules("-4"),
                UnorderedElementsAreArray({std::string("0 iif  lookup local"),
                                           std::string("32766 iif  lookup main"),
                                           std::string("32767 iif  lookup default")}));

    ASSERT_TRUE(rtnl->DeleteAddress({.ifindex = *br, .address = gw6, .prefix_length = 64}));
    listed = rtnl->ListAddresses(*br);
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 1U);
    EXPECT_EQ((*listed)[0].address, gw4);
  });
}

// A network namespace that lives as long as the fd (no name in /run/netns, nothing to clean
// up), with an Rtnl opened inside it.
struct OtherNamespace {
  int fd = -1;
  std::unique_ptr<Rtnl> rtnl;
  OtherNamespace() {
    std::thread([this] {
      if (::unshare(CLONE_NEWNET) != 0) return;
      fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
      rtnl = OpenRtnl();
    }).join();
  }
  ~OtherNamespace() {
    if (fd >= 0) ::close(fd);
  }
  OtherNamespace(const OtherNamespace&) = delete;
  OtherNamespace& operator=(const OtherNamespace&) = delete;
};

// Whether the device has its carrier, from `ip -o link show dev DEVICE` (sysfs shows the test
// process's first namespace, not this one).
bool Carrier(const std::string& device) {
  return Output("ip -o link show dev " + device).find("NO-CARRIER") == std::string::npos;
}

// Frames received by the device, from this namespace's /proc/net/dev.
std::string Received(const std::string& device) {
  for (const std::string& line : Lines(Output("cat /proc/net/dev"))) {
    const auto words = Words(line);
    if (words.size() > 2 && words[0] == device + ":") return words[2];
  }
  return "";
}

TEST(RtnlTest, AMovedLinkArrivesDownInTheOtherNamespaceAndItsPeerLosesCarrierUntilUp) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    auto rtnl = OpenRtnl();
    ASSERT_NE(rtnl, nullptr);
    OtherNamespace other;
    ASSERT_GE(other.fd, 0) << "cannot make a second network namespace";
    ASSERT_NE(other.rtnl, nullptr);
    Shell(
        "ip link add dve-a type veth peer name dve-b && ip link set dve-a up && "
        "ip link set dve-b up");
    EXPECT_TRUE(Carrier("dve-b"));
    auto a = rtnl->GetLink("dve-a");
    ASSERT_TRUE(a) << a.error().message;

    auto moved = rtnl->MoveToNamespace(a->ifindex, other.fd);
    ASSERT_TRUE(moved) << moved.error().message;
    auto here = rtnl->GetLink("dve-a");
    ASSERT_FALSE(here);
    EXPECT_EQ(here.error().code, ENODEV);
    auto there = other.rtnl->GetLink("dve-a");
    ASSERT_TRUE(there) << there.error().message;
    EXPECT_FALSE(there->up);
    EXPECT_FALSE(Carrier("dve-b"));
    ASSERT_TRUE(other.rtnl->SetUp(there->ifindex, true));
    EXPECT_TRUE(Carrier("dve-b"));

    // A name taken there: refused, the link stays here.
    ASSERT_TRUE(
        other.rtnl->CreateBridge({.name = "dve-c", .mtu = 0, .mac = std::nullopt, .stp = false}));
    Shell("ip link add dve-c type veth peer name dve-d");
    auto c = rtnl->GetLink("dve-c");
    ASSERT_TRUE(c) << c.error().message;
    auto taken = rtnl->MoveToNamespace(c->ifindex, other.fd);
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().code, EEXIST) << taken.error().message;
    EXPECT_TRUE(rtnl->GetLink("dve-c"));
  });
}

// dove-cni's pair: one end here, its peer made directly in another namespace under its final
// name and MAC; a default route via a gateway there, listed back with the gateway.
TEST(RtnlTest, AVethPairIsMadeAcrossNamespacesAndAGatewayRouteReadsBack) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    auto rtnl = OpenRtnl();
    ASSERT_NE(rtnl, nullptr);
    OtherNamespace other;
    ASSERT_GE(other.fd, 0) << "cannot make a second network namespace";
    ASSERT_NE(other.rtnl, nullptr);
    auto made = rtnl->CreateVeth({.name = "dcv-host",
                                  .peer_name = "eth0",
                                  .peer_netns_fd = other.fd,
                                  .mtu = 1450,
                                  .peer_mac = kMacA});
    ASSERT_TRUE(made) << made.error().message;
    auto host = rtnl->GetLink("dcv-host");
    ASSERT_TRUE(host) << host.error().message;
    EXPECT_EQ(host->ifindex, *made);
    EXPECT_EQ(host->kind, "veth");
    EXPECT_EQ(host->mtu, 1450u);
    EXPECT_FALSE(rtnl->GetLink("eth0")) << "the peer is not here";
    auto peer = other.rtnl->GetLink("eth0");
    ASSERT_TRUE(peer) << peer.error().message;
    EXPECT_EQ(peer->mac, kMacA);
    EXPECT_EQ(peer->mtu, 1450u);
    EXPECT_FALSE(peer->up);

    // Either name taken: refused, nothing made.
    auto again = rtnl->CreateVeth({.name = "dcv-other",
                                   .peer_name = "eth0",
                                   .peer_netns_fd = other.fd,
                                   .mtu = 0,
                                   .peer_mac = std::nullopt});
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, EEXIST) << again.error().message;
    EXPECT_FALSE(rtnl->GetLink("dcv-other"));

    ASSERT_TRUE(other.rtnl->SetUp(peer->ifindex, true));
    ASSERT_TRUE(other.rtnl->AddAddress({.ifindex = peer->ifindex,
                                        .address = *net::IpAddress::Parse("10.0.0.5"),
                                        .prefix_length = 24}));
    const auto gateway = *net::IpAddress::Parse("10.0.0.1");
    auto route = other.rtnl->ReplaceRoute({.prefix = *net::IpPrefix::Parse("0.0.0.0/0"),
                                           .ifindex = peer->ifindex,
                                           .gateway = gateway});
    ASSERT_TRUE(route) << route.error().message;
    auto routes = other.rtnl->ListRoutes(254, false);
    ASSERT_TRUE(routes) << routes.error().message;
    bool found = false;
    for (const auto& r : *routes) {
      if (r.prefix.length() == 0) {
        found = true;
        EXPECT_EQ(r.gateway, gateway);
        EXPECT_EQ(r.ifindex, peer->ifindex);
      }
    }
    EXPECT_TRUE(found) << "no default route listed";

    // Deleting the host end deletes the peer.
    ASSERT_TRUE(rtnl->DeleteLink(*made));
    EXPECT_FALSE(other.rtnl->GetLink("eth0"));
  });
}

// `tc filter show dev X ingress`, whitespace collapsed to single spaces.
std::string IngressFilters(const std::string& device) {
  std::string text;
  for (const std::string& word : Words(Output("tc filter show dev " + device + " ingress"))) {
    text += word + " ";
  }
  return text;
}

TEST(RtnlTest, IngressRedirectsAreWhatTcShowsAndCarryFrames) {
  DOVE_SKIP_UNLESS_ROOT();
  RunInNetworkNamespace([] {
    auto rtnl = OpenRtnl();
    ASSERT_NE(rtnl, nullptr);
    // Two wires a-b and c-d; the redirects join b and c both ways (the lab's v-VM <-> t-VM).
    Shell(
        "ip link add dve-a type veth peer name dve-b && "
        "ip link add dve-c type veth peer name dve-d && "
        "for d in a b c d; do ip link set dve-$d up; done");
    const int b = rtnl->GetLink("dve-b")->ifindex;
    const int c = rtnl->GetLink("dve-c")->ifindex;

    auto no_qdisc = rtnl->AddIngressRedirect(b, c, Classifier::kMatchall);
    ASSERT_FALSE(no_qdisc);
    EXPECT_EQ(no_qdisc.error().code, EINVAL) << no_qdisc.error().message;
    ASSERT_TRUE(rtnl->AddIngressQdisc(b));
    auto twice = rtnl->AddIngressQdisc(b);
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, EEXIST);
    ASSERT_TRUE(rtnl->AddIngressQdisc(c));
    auto gone = rtnl->AddIngressRedirect(b, 999999, Classifier::kU32);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, ENODEV) << gone.error().message;

    // matchall where the kernel has it (this one may not: ENOENT, then u32 both ways).
    auto matchall = rtnl->AddIngressRedirect(b, c, Classifier::kMatchall);
    const bool has_matchall = matchall.has_value();
    if (!has_matchall) {
      EXPECT_EQ(matchall.error().code, ENOENT) << matchall.error().message;
      auto u32_b = rtnl->AddIngressRedirect(b, c, Classifier::kU32);
      ASSERT_TRUE(u32_b) << u32_b.error().message;
    }
    auto u32 = rtnl->AddIngressRedirect(c, b, Classifier::kU32);
    ASSERT_TRUE(u32) << u32.error().message;
    const std::string on_b = IngressFilters("dve-b");
    EXPECT_NE(on_b.find(has_matchall ? "matchall" : "u32"), std::string::npos) << on_b;
    EXPECT_NE(on_b.find("pref 1"), std::string::npos) << on_b;
    EXPECT_NE(on_b.find("mirred (Egress Redirect to device dve-c) stolen"), std::string::npos)
        << on_b;
    const std::string on_c = IngressFilters("dve-c");
    EXPECT_NE(on_c.find("u32"), std::string::npos) << on_c;
    EXPECT_NE(on_c.find("match 00000000/00000000 at 0"), std::string::npos) << on_c;
    EXPECT_NE(on_c.find("mirred (Egress Redirect to device dve-b) stolen"), std::string::npos)
        << on_c;

    // A frame sent on a arrives on b, whose filter sends it out of c: it arrives on d.
    Shell("ip addr add 10.9.0.1/24 dev dve-a");
    const std::string d_received = Received("dve-d");
    Shell("ping -c 1 -W 1 -I dve-a 10.9.0.2 >/dev/null 2>&1; true");  // ARP, unanswered
    EXPECT_NE(Received("dve-d"), d_received) << "a's ARP request did not come out of d";

    // c's u32 redirect pointed at a instead, in place: still one filter, to a now.
    auto replaced = rtnl->ReplaceIngressRedirectU32(c, rtnl->GetLink("dve-a")->ifindex);
    ASSERT_TRUE(replaced) << replaced.error().message;
    const std::string replaced_c = IngressFilters("dve-c");
    EXPECT_NE(replaced_c.find("mirred (Egress Redirect to device dve-a) stolen"), std::string::npos)
        << replaced_c;
    EXPECT_EQ(replaced_c.find("dve-b"), std::string::npos) << replaced_c;
    EXPECT_EQ(replaced_c.find("800::801"), std::string::npos) << replaced_c;  // no second one
    const int d = rtnl->GetLink("dve-d")->ifindex;
    ASSERT_TRUE(rtnl->AddIngressQdisc(d));
    auto nothing = rtnl->ReplaceIngressRedirectU32(d, c);
    ASSERT_FALSE(nothing);
    EXPECT_EQ(nothing.error().code, ENOENT) << nothing.error().message;
    EXPECT_EQ(IngressFilters("dve-d"), "");

    ASSERT_TRUE(rtnl->DeleteIngressQdisc(b));
    EXPECT_EQ(IngressFilters("dve-b"), "");
  });
}

}  // namespace
}  // namespace dove::netlink
