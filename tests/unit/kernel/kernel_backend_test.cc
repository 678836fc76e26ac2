// KernelBackend against the in-memory twins of the kernel (MemoryLinkOps, MemoryMissSource):
// a desired state becomes devices and exactly its entries; moves, invalidations and removals
// change exactly the affected entries; misses are asked once, rate-limited, and ignored on
// devices that are not ours; ENOBUFS resynchronises; leftovers are adopted or deleted; ports
// wait for their interface; shutdown removes what the backend made and nothing else.
#include "dswitch/kernel/kernel_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dswitch/kernel/memory_link_ops.h"
#include "dswitch/kernel/neigh_announcer.h"

namespace dove::dswitch::kernel {
namespace {

using Clock = std::chrono::steady_clock;
using ::testing::UnorderedElementsAre;

const net::Ipv4Address kSelf = net::Ipv4Address::Parse("192.0.2.1").value();
const net::Ipv4Address kPeer = net::Ipv4Address::Parse("192.0.2.2").value();
const net::Ipv4Address kOther = net::Ipv4Address::Parse("192.0.2.3").value();
const net::MacAddress kRouterMac = net::MacAddress::Parse("02:00:00:00:00:aa").value();

net::MacAddress Mac(const std::string& text) { return net::MacAddress::Parse(text).value(); }
net::IpAddress Ip(const std::string& text) { return net::IpAddress::Parse(text).value(); }

class FakeResolver final : public userspace::Resolver {
 public:
  void ResolveMac(uint32_t vni, const net::MacAddress& mac, Done done) override {
    asked.push_back(std::to_string(vni) + "/" + mac.ToString());
    pending.push_back(std::move(done));
  }
  void ResolveIp(uint32_t vni, const net::IpAddress& ip, Done done) override {
    asked.push_back(std::to_string(vni) + "/" + ip.ToString());
    pending.push_back(std::move(done));
  }
  void PortOpened(const dove::v1::Location& location, const std::string& port_name) override {
    opened.push_back(location.endpoint_id() + "@" + port_name);
  }
  std::vector<std::string> asked;
  std::vector<Done> pending;
  std::vector<std::string> opened;
};

userspace::DesiredNetwork Network(uint32_t vni, std::vector<net::Ipv4Address> flood = {}) {
  return {.vni = vni,
          .network_id = "net-" + std::to_string(vni),
          .router_mac = kRouterMac,
          .flood_tunnel_ips = std::move(flood)};
}

userspace::DesiredRemote Remote(uint32_t vni, const std::string& mac, net::Ipv4Address tunnel,
                                const std::vector<std::string>& ips, const std::string& key) {
  userspace::DesiredRemote remote{
      .vni = vni, .mac = Mac(mac), .tunnel_ip = tunnel, .ips = {}, .key = key};
  for (const auto& ip : ips) remote.ips.push_back(Ip(ip));
  return remote;
}

netlink::NeighEvent Event(netlink::NeighEvent::Kind kind, int ifindex) {
  netlink::NeighEvent event;
  event.kind = kind;
  event.ifindex = ifindex;
  return event;
}
netlink::NeighEvent L2Miss(int ifindex, const net::MacAddress& mac) {
  auto event = Event(netlink::NeighEvent::Kind::kL2Miss, ifindex);
  event.mac = mac;
  return event;
}

userspace::DesiredPort Port(uint32_t vni, const std::string& id, const std::string& name) {
  userspace::DesiredPort port;
  port.location.set_endpoint_id(id);
  port.location.set_vni(vni);
  port.port_name = name;
  port.mac = Mac("02:00:00:00:01:01");
  port.key = id;
  return port;
}

// "mac>remote" for each FDB entry, "ip>mac" for each neighbour entry of dvx<vni>.
std::vector<std::string> FdbOf(const MemoryLinkOps& links, uint32_t vni) {
  std::vector<std::string> shown;
  for (const auto& entry : links.Fdb("dvx" + std::to_string(vni))) {
    shown.push_back(entry.mac.ToString() + ">" + entry.remote.ToString());
  }
  return shown;
}
std::vector<std::string> NeighOf(const MemoryLinkOps& links, uint32_t vni) {
  std::vector<std::string> shown;
  for (const auto& entry : links.Neigh("dvx" + std::to_string(vni))) {
    shown.push_back(entry.ip.ToString() + ">" + entry.mac.ToString());
  }
  return shown;
}

class KernelBackendTest : public ::testing::Test {
 protected:
  void Start(KernelOptions options = {}) {
    options.tunnel_ip = kSelf;
    options.now = [this] { return now_; };
    auto made = KernelBackend::Create(options, links_, misses_, resolver_);
    ASSERT_TRUE(made) << made.error();
    backend_ = std::move(*made);
  }
  void Apply(userspace::DesiredDelta delta) {
    backend_->ApplyDelta(std::move(delta));
    backend_->Poll(std::chrono::milliseconds(0));
  }
  void Miss(int ifindex, const std::string& mac) { misses_.Push(L2Miss(ifindex, Mac(mac))); }
  uint64_t Counter(const std::string& name) { return backend_->Status().counters.at(name); }

  Clock::time_point now_ = Clock::now();
  MemoryLinkOps links_;
  MemoryMissSource misses_;
  FakeResolver resolver_;
  std::unique_ptr<KernelBackend> backend_;
};

TEST_F(KernelBackendTest, StateBecomesDevicesAndExactlyItsEntries) {
  Start();
  userspace::DesiredState state;
  state.networks = {Network(42, {kPeer, kOther, kSelf})};
  state.remotes = {Remote(42, "02:00:00:00:00:02", kPeer, {"10.0.0.2", "fd00::2"}, "e2"),
                   Remote(42, "02:00:00:00:00:03", kOther, {"10.0.0.3"}, "e3")};
  backend_->Apply(state);
  backend_->Poll(std::chrono::milliseconds(0));

  auto bridge = links_.Find("dvb42");
  auto vxlan = links_.Find("dvx42");
  ASSERT_TRUE(bridge && vxlan);
  EXPECT_EQ(bridge->kind, "bridge");
  EXPECT_EQ(bridge->mac, kRouterMac);
  EXPECT_TRUE(bridge->up && vxlan->up);
  EXPECT_EQ(vxlan->master, bridge->ifindex);
  EXPECT_EQ(bridge->mtu, 1450U) << "the overlay MTU: what the kernel routes out of it";
  EXPECT_EQ(vxlan->mtu, KernelBackend::kUncheckedMtu) << "the kernel's tunnel PMTU check decides";
  auto spec = links_.GetVxlan(vxlan->ifindex);
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->vni, 42U);
  EXPECT_EQ(spec->local, kSelf);
  EXPECT_EQ(spec->port, 4789);
  EXPECT_TRUE(!spec->learning && spec->proxy && spec->l2miss && spec->l3miss && spec->rsc);
  // Our own tunnel IP is no flood destination.
  EXPECT_THAT(FdbOf(links_, 42),
              UnorderedElementsAre("02:00:00:00:00:02>192.0.2.2", "02:00:00:00:00:03>192.0.2.3",
                                   "00:00:00:00:00:00>192.0.2.2", "00:00:00:00:00:00>192.0.2.3"));
  EXPECT_THAT(NeighOf(links_, 42),
              UnorderedElementsAre("10.0.0.2>02:00:00:00:00:02", "fd00::2>02:00:00:00:00:02",
                                   "10.0.0.3>02:00:00:00:00:03"));
  EXPECT_EQ(Counter("kernel_fdb_entries"), 4U);
  EXPECT_EQ(Counter("kernel_neigh_entries"), 3U);
}

TEST_F(KernelBackendTest, MovesAndRemovalsTouchExactlyTheAffectedEntries) {
  Start();
  userspace::DesiredState state;
  state.networks = {Network(42, {kPeer})};
  state.remotes = {Remote(42, "02:00:00:00:00:02", kPeer, {"10.0.0.2"}, "e2"),
                   Remote(42, "02:00:00:00:00:03", kPeer, {"10.0.0.3"}, "e3")};
  backend_->Apply(state);
  backend_->Poll(std::chrono::milliseconds(0));

  // e2 moves to another host: one FDB replace, nothing else.
  uint64_t before = links_.writes();
  userspace::DesiredDelta move;
  move.upserted_remotes = {Remote(42, "02:00:00:00:00:02", kOther, {"10.0.0.2"}, "e2")};
  Apply(move);
  EXPECT_EQ(links_.writes() - before, 1U);
  EXPECT_THAT(FdbOf(links_, 42),
              UnorderedElementsAre("02:00:00:00:00:02>192.0.2.3", "02:00:00:00:00:03>192.0.2.2",
                                   "00:00:00:00:00:00>192.0.2.2"));

  // e3 is invalidated: its FDB entry and its neighbour entry go, nothing else.
  before = links_.writes();
  userspace::DesiredDelta gone;
  gone.removed_remotes = {"e3", "never-there"};
  Apply(gone);
  EXPECT_EQ(links_.writes() - before, 2U);
  EXPECT_THAT(FdbOf(links_, 42),
              UnorderedElementsAre("02:00:00:00:00:02>192.0.2.3", "00:00:00:00:00:00>192.0.2.2"));
  EXPECT_THAT(NeighOf(links_, 42), UnorderedElementsAre("10.0.0.2>02:00:00:00:00:02"));

  // The flood list changes: one append, one delete.
  before = links_.writes();
  userspace::DesiredDelta flood;
  flood.upserted_networks = {Network(42, {kOther})};
  Apply(flood);
  EXPECT_EQ(links_.writes() - before, 2U);
  EXPECT_THAT(FdbOf(links_, 42),
              UnorderedElementsAre("02:00:00:00:00:02>192.0.2.3", "00:00:00:00:00:00>192.0.2.3"));

  // An endpoint's IP changes: one neighbour replaced... and the old one deleted.
  before = links_.writes();
  userspace::DesiredDelta renumber;
  renumber.upserted_remotes = {Remote(42, "02:00:00:00:00:02", kOther, {"10.0.0.9"}, "e2")};
  Apply(renumber);
  EXPECT_EQ(links_.writes() - before, 2U);
  EXPECT_THAT(NeighOf(links_, 42), UnorderedElementsAre("10.0.0.9>02:00:00:00:00:02"));

  // The network goes: its devices go with their entries.
  userspace::DesiredDelta removed;
  removed.removed_networks = {42};
  Apply(removed);
  EXPECT_FALSE(links_.Find("dvb42"));
  EXPECT_FALSE(links_.Find("dvx42"));
}

TEST_F(KernelBackendTest, PortWaitsForItsInterfaceThenIsEnslavedAndReported) {
  Start();
  userspace::DesiredDelta delta;
  delta.upserted_networks = {Network(42)};
  delta.upserted_ports = {Port(42, "ep1", "vm1")};
  Apply(delta);
  auto status = backend_->Status();
  ASSERT_EQ(status.ports.size(), 1U);
  EXPECT_FALSE(status.ports[0].open);
  EXPECT_THAT(status.ports[0].error, ::testing::HasSubstr("waiting: no interface vm1"));
  EXPECT_TRUE(resolver_.opened.empty());

  const int vm1 = links_.AddInterface("vm1");
  now_ += std::chrono::milliseconds(1000);  // the retry
  backend_->Poll(std::chrono::milliseconds(0));
  status = backend_->Status();
  EXPECT_TRUE(status.ports[0].open) << status.ports[0].error;
  EXPECT_EQ(links_.Find("vm1")->master, links_.Find("dvb42")->ifindex);
  EXPECT_EQ(links_.Find("vm1")->mtu, KernelBackend::kUncheckedMtu);
  EXPECT_TRUE(links_.Find("vm1")->up);
  EXPECT_THAT(resolver_.opened, UnorderedElementsAre("ep1@vm1"));

  // The port goes: released, never deleted.
  userspace::DesiredDelta gone;
  gone.removed_ports = {"ep1"};
  Apply(gone);
  ASSERT_TRUE(links_.Find("vm1"));
  EXPECT_EQ(links_.Find("vm1")->ifindex, vm1);
  EXPECT_EQ(links_.Find("vm1")->master, 0);
}

TEST_F(KernelBackendTest, MissesAreAskedOnceUntilAnsweredAndForeignOnesIgnored) {
  Start();
  userspace::DesiredDelta delta;
  delta.upserted_networks = {Network(42)};
  Apply(delta);
  const int dvx = links_.Find("dvx42")->ifindex;
  for (int i = 0; i < 5; ++i) Miss(dvx, "02:00:00:00:00:09");
  auto l3 = Event(netlink::NeighEvent::Kind::kL3Miss, dvx);
  l3.ip = Ip("10.0.0.9");
  misses_.Push(l3);
  Miss(links_.AddInterface("vxlan-other", "vxlan"), "02:00:00:00:00:09");
  // Our own writes echo as RTM_NEWNEIGH: not misses.
  auto echo = Event(netlink::NeighEvent::Kind::kNewNeigh, dvx);
  echo.mac = Mac("02:00:00:00:00:09");
  misses_.Push(echo);
  backend_->Poll(std::chrono::milliseconds(0));
  EXPECT_THAT(resolver_.asked, UnorderedElementsAre("42/02:00:00:00:00:09", "42/10.0.0.9"));
  EXPECT_EQ(Counter("kernel_misses_l2"), 5U);
  EXPECT_EQ(Counter("kernel_misses_l3"), 1U);
  EXPECT_EQ(Counter("kernel_misses_deduplicated"), 4U);
  EXPECT_EQ(Counter("kernel_misses_foreign"), 1U);
  EXPECT_EQ(backend_->Status().resolving, 2U);

  // Answered (not found): held for a while, then asked again.
  for (auto& done : resolver_.pending) done();
  resolver_.pending.clear();
  backend_->Poll(std::chrono::milliseconds(0));
  EXPECT_EQ(backend_->Status().resolving, 0U);
  Miss(dvx, "02:00:00:00:00:09");
  backend_->Poll(std::chrono::milliseconds(0));
  EXPECT_EQ(resolver_.asked.size(), 2U);
  now_ += std::chrono::milliseconds(1001);
  Miss(dvx, "02:00:00:00:00:09");
  backend_->Poll(std::chrono::milliseconds(0));
  EXPECT_EQ(resolver_.asked.size(), 3U);
}

TEST_F(KernelBackendTest, AFloodOfMissesIsRateLimitedAndCounted) {
  KernelOptions options;
  options.misses.rate_per_second = 1000;
  options.misses.burst = 200;
  Start(options);
  userspace::DesiredDelta delta;
  delta.upserted_networks = {Network(42)};
  Apply(delta);
  const int dvx = links_.Find("dvx42")->ifindex;
  // 1,000 different MACs at once: the burst is asked, the rest dropped.
  for (int i = 0; i < 1000; ++i) {
    std::array<uint8_t, 6> bytes{
        0x02, 0, 0, 0x01, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
    misses_.Push(L2Miss(dvx, net::MacAddress(bytes)));
  }
  backend_->Poll(std::chrono::milliseconds(0));
  EXPECT_EQ(resolver_.asked.size(), 200U);
  EXPECT_EQ(Counter("kernel_misses_rate_limited"), 800U);
  // 100 ms later, 100 tokens more.
  now_ += std::chrono::milliseconds(100);
  for (int i = 0; i < 1000; ++i) {
    std::array<uint8_t, 6> bytes{
        0x02, 0, 0, 0x02, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
    misses_.Push(L2Miss(dvx, net::MacAddress(bytes)));
  }
  backend_->Poll(std::chrono::milliseconds(0));
  EXPECT_EQ(resolver_.asked.size(), 300U);
  EXPECT_EQ(Counter("kernel_misses_rate_limited"), 1700U);
}

TEST_F(KernelBackendTest, EnobufsResynchronisesTheEntriesFromTheKernel) {
  Start();
  userspace::DesiredState state;
  state.networks = {Network(42, {kPeer})};
  state.remotes = {Remote(42, "02:00:00:00:00:02", kPeer, {"10.0.0.2"}, "e2")};
  backend_->Apply(state);
  backend_->Poll(std::chrono::milliseconds(0));
  const int dvx = links_.Find("dvx42")->ifindex;
  // Someone deletes one of our entries and adds a stray one behind our back.
  ASSERT_TRUE(links_.DeleteNeigh({.ifindex = dvx, .ip = Ip("10.0.0.2"), .mac = {}}));
  ASSERT_TRUE(
      links_.ReplaceFdb({.ifindex = dvx, .mac = Mac("02:00:00:00:00:66"), .remote = kOther}));
  misses_.Overflow();
  backend_->Poll(std::chrono::milliseconds(0));
  EXPECT_EQ(Counter("kernel_resyncs"), 1U);
  EXPECT_THAT(FdbOf(links_, 42),
              UnorderedElementsAre("02:00:00:00:00:02>192.0.2.2", "00:00:00:00:00:00>192.0.2.2"));
  EXPECT_THAT(NeighOf(links_, 42), UnorderedElementsAre("10.0.0.2>02:00:00:00:00:02"));
}

TEST_F(KernelBackendTest, AMissForAKnownEndpointReinstallsItsEntryWithoutAsking) {
  Start();
  userspace::DesiredState state;
  state.networks = {Network(42)};
  state.remotes = {Remote(42, "02:00:00:00:00:02", kPeer, {"10.0.0.2"}, "e2")};
  backend_->Apply(state);
  backend_->Poll(std::chrono::milliseconds(0));
  const int dvx = links_.Find("dvx42")->ifindex;
  // Someone flushes our entries; the kernel then misses them.
  ASSERT_TRUE(links_.DeleteFdb({.ifindex = dvx, .mac = Mac("02:00:00:00:00:02"), .remote = kPeer}));
  ASSERT_TRUE(links_.DeleteNeigh({.ifindex = dvx, .ip = Ip("10.0.0.2"), .mac = {}}));
  Miss(dvx, "02:00:00:00:00:02");
  backend_->Poll(std::chrono::milliseconds(0));
  EXPECT_TRUE(resolver_.asked.empty());
  EXPECT_EQ(Counter("kernel_misses_known"), 1U);
  EXPECT_THAT(FdbOf(links_, 42), UnorderedElementsAre("02:00:00:00:00:02>192.0.2.2"));
  EXPECT_THAT(NeighOf(links_, 42), UnorderedElementsAre("10.0.0.2>02:00:00:00:00:02"));
}

TEST_F(KernelBackendTest, LeftoversAreAdoptedWhenRightAndDeletedOtherwise) {
  // What a kill -9 left: dvb42/dvx42 as this run makes them, with one entry too many; dvx43
  // with learning on; dvb44 nobody needs; an unrelated device; a veth named like ours.
  links_.AddInterface("dvb42", "bridge");
  const int dvx42 = links_.AddVxlan({.name = "dvx42", .vni = 42, .local = kSelf, .mtu = 1450});
  ASSERT_TRUE(
      links_.ReplaceFdb({.ifindex = dvx42, .mac = Mac("02:00:00:00:00:66"), .remote = kOther}));
  ASSERT_TRUE(
      links_.ReplaceFdb({.ifindex = dvx42, .mac = Mac("02:00:00:00:00:02"), .remote = kPeer}));
  links_.AddVxlan({.name = "dvx43", .vni = 43, .local = kSelf, .mtu = 1450, .learning = true});
  links_.AddInterface("dvb44", "bridge");
  links_.AddInterface("other0", "dummy");
  links_.AddInterface("dvb45", "veth");
  Start();
  EXPECT_FALSE(links_.Find("dvx43"));  // wrong options: deleted at once
  EXPECT_TRUE(links_.Find("other0"));
  EXPECT_TRUE(links_.Find("dvb45"));

  userspace::DesiredState state;
  state.networks = {Network(42), Network(43)};
  state.remotes = {Remote(42, "02:00:00:00:00:02", kPeer, {}, "e2")};
  backend_->Apply(state);
  backend_->Poll(std::chrono::milliseconds(0));
  ASSERT_TRUE(links_.Find("dvx42"));
  EXPECT_EQ(links_.Find("dvx42")->ifindex, dvx42);  // adopted, not made again
  EXPECT_THAT(FdbOf(links_, 42), UnorderedElementsAre("02:00:00:00:00:02>192.0.2.2"));
  EXPECT_TRUE(links_.Find("dvx43"));  // made again, right this time
  EXPECT_FALSE(links_.GetVxlan(links_.Find("dvx43")->ifindex)->learning);
  EXPECT_FALSE(links_.Find("dvb44"));  // unclaimed at the first full state: deleted
  EXPECT_EQ(Counter("kernel_devices_adopted"), 3U);

  backend_->Shutdown();
  EXPECT_FALSE(links_.Find("dvb42") || links_.Find("dvx42") || links_.Find("dvx43"));
  EXPECT_TRUE(links_.Find("other0") && links_.Find("dvb45"));
}

TEST_F(KernelBackendTest, KeepOnExitLeavesEverything) {
  KernelOptions options;
  options.keep_on_exit = true;
  Start(options);
  links_.AddInterface("vm1");
  userspace::DesiredDelta delta;
  delta.upserted_networks = {Network(42)};
  delta.upserted_ports = {Port(42, "ep1", "vm1")};
  Apply(delta);
  backend_->Shutdown();
  ASSERT_TRUE(links_.Find("dvb42"));
  EXPECT_EQ(links_.Find("vm1")->master, links_.Find("dvb42")->ifindex);
}

TEST_F(KernelBackendTest, RunStopsOnStopFromAnotherThread) {
  Start();
  std::thread loop([this] { backend_->Run(); });
  userspace::DesiredDelta delta;
  delta.upserted_networks = {Network(42)};
  backend_->ApplyDelta(delta);
  // Status is safe from this thread while the loop runs.
  for (int i = 0; i < 100 && backend_->Status().networks == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(backend_->Status().networks, 1U);
  backend_->Stop();
  loop.join();
}

// Networks routed into without a local port (RoutePlan::extra_vnis), app_solicit requests of
// our bridges, and the announcement of answered l3misses to the VMs.
namespace route_only {

net::IpPrefix Prefix(const std::string& text) { return net::IpPrefix::Parse(text).value(); }

// web (42) routes into db (43); db has no configuration on this host.
userspace::DesiredNetwork Web(bool routes_to_db = true) {
  auto web = Network(42);
  web.routes = {{Prefix("10.0.0.0/24"), Ip("10.0.0.1"), 42}};
  if (routes_to_db) web.routes.push_back({Prefix("10.0.1.0/24"), Ip("10.0.1.1"), 43});
  return web;
}

std::vector<std::string> NeighOn(const MemoryLinkOps& links, const std::string& device) {
  std::vector<std::string> shown;
  for (const auto& entry : links.Neigh(device)) {
    shown.push_back(entry.ip.ToString() + ">" + entry.mac.ToString() + "/" +
                    std::to_string(entry.state));
  }
  return shown;
}

netlink::NeighEvent AppSolicit(int bridge, const std::string& ip) {
  auto event = Event(netlink::NeighEvent::Kind::kAppSolicit, bridge);
  event.ip = Ip(ip);
  event.state = 0x01;  // NUD_INCOMPLETE
  return event;
}

class RecordingWriter final : public FrameWriter {
 public:
  netlink::Result<netlink::Ok> Send(int ifindex, std::span<const uint8_t> frame) override {
    sent.emplace_back(ifindex, std::vector<uint8_t>(frame.begin(), frame.end()));
    return netlink::Ok{};
  }
  std::vector<std::pair<int, std::vector<uint8_t>>> sent;
};

}  // namespace route_only

TEST_F(KernelBackendTest, ANetworkOnlyRoutedIntoGetsItsDevicesAndEntriesAndLosesThem) {
  Start();
  userspace::DesiredState state;
  state.networks = {route_only::Web()};
  state.remotes = {Remote(43, "02:00:00:00:00:43", kPeer, {"10.0.1.5"}, "db1")};
  backend_->Apply(state);
  backend_->Poll(std::chrono::milliseconds(0));

  auto bridge = links_.Find("dvb43");
  auto vxlan = links_.Find("dvx43");
  ASSERT_TRUE(bridge && vxlan);
  EXPECT_EQ(bridge->mac, kRouterMac);
  EXPECT_EQ(vxlan->master, bridge->ifindex);
  EXPECT_TRUE(bridge->up && vxlan->up);
  EXPECT_EQ(Counter("kernel_route_only_networks"), 1U);
  // The remote of db: FDB and neighbour entry on dvx43, and its neighbour entry on the bridge
  // for the kernel's router (PERMANENT = 128); web's bridge carries nothing of db.
  EXPECT_THAT(FdbOf(links_, 43), UnorderedElementsAre("02:00:00:00:00:43>192.0.2.2"));
  EXPECT_THAT(NeighOf(links_, 43), UnorderedElementsAre("10.0.1.5>02:00:00:00:00:43"));
  EXPECT_THAT(route_only::NeighOn(links_, "dvb43"),
              UnorderedElementsAre("10.0.1.5>02:00:00:00:00:43/128"));
  EXPECT_TRUE(route_only::NeighOn(links_, "dvb42").empty());

  // The remote goes: its entries on both devices go with it.
  userspace::DesiredDelta gone;
  gone.removed_remotes = {"db1"};
  Apply(gone);
  EXPECT_TRUE(FdbOf(links_, 43).empty());
  EXPECT_TRUE(route_only::NeighOn(links_, "dvb43").empty());

  // db served here after all: same devices, no longer route-only.
  const int kept = bridge->ifindex;
  userspace::DesiredDelta served;
  served.upserted_networks = {Network(43)};
  Apply(served);
  EXPECT_EQ(links_.Find("dvb43")->ifindex, kept);
  EXPECT_EQ(Counter("kernel_route_only_networks"), 0U);
  // Not served again, still routed into: route-only again, the same devices.
  userspace::DesiredDelta unserved;
  unserved.removed_networks = {43};
  Apply(unserved);
  ASSERT_TRUE(links_.Find("dvb43"));
  EXPECT_EQ(Counter("kernel_route_only_networks"), 1U);

  // web stops routing into db: its devices go.
  userspace::DesiredDelta unrouted;
  unrouted.upserted_networks = {route_only::Web(false)};
  Apply(unrouted);
  EXPECT_FALSE(links_.Find("dvb43"));
  EXPECT_FALSE(links_.Find("dvx43"));
  EXPECT_EQ(Counter("kernel_route_only_networks"), 0U);
  EXPECT_TRUE(links_.Find("dvb42"));
}

TEST_F(KernelBackendTest, ARouteOnlyNetworksLeftoversAreAdoptedNotDeleted) {
  links_.AddInterface("dvb43", "bridge");
  links_.AddVxlan({.name = "dvx43", .vni = 43, .local = kSelf, .mtu = 1450});
  Start();
  EXPECT_EQ(Counter("kernel_devices_adopted"), 2U);
  const int bridge = links_.Find("dvb43")->ifindex;
  userspace::DesiredState state;
  state.networks = {route_only::Web()};
  backend_->Apply(state);  // a full state: unclaimed leftovers go, these are claimed first
  backend_->Poll(std::chrono::milliseconds(0));
  ASSERT_TRUE(links_.Find("dvb43"));
  EXPECT_EQ(links_.Find("dvb43")->ifindex, bridge);
  EXPECT_EQ(links_.Find("dvb43")->mac, kRouterMac);
  EXPECT_EQ(Counter("kernel_devices_deleted"), 0U);
  EXPECT_EQ(Counter("kernel_devices_created"), 2U);  // dvb42 and dvx42 only
  backend_->Shutdown();
  EXPECT_FALSE(links_.Find("dvb43"));
  EXPECT_FALSE(links_.Find("dvx43"));
}

TEST_F(KernelBackendTest, AppSolicitsAreAskedThroughAServedNetworkOnceAndCounted) {
  KernelOptions options;
  options.misses.rate_per_second = 0.001;
  options.misses.burst = 3;
  Start(options);
  userspace::DesiredState state;
  state.networks = {route_only::Web()};
  backend_->Apply(state);
  backend_->Poll(std::chrono::milliseconds(0));
  const int dvb43 = links_.Find("dvb43")->ifindex;

  // The kernel asks for 10.0.1.5 on dvb43 (three packets queued): asked once, through web.
  for (int i = 0; i < 3; ++i) misses_.Push(route_only::AppSolicit(dvb43, "10.0.1.5"));
  misses_.Push(route_only::AppSolicit(links_.AddInterface("br-other", "bridge"), "10.0.1.5"));
  backend_->Poll(std::chrono::milliseconds(0));
  EXPECT_THAT(resolver_.asked, UnorderedElementsAre("42/10.0.1.5"));
  EXPECT_EQ(Counter("kernel_app_solicits"), 3U);
  EXPECT_EQ(Counter("kernel_app_solicits_deduplicated"), 2U);
  EXPECT_EQ(Counter("kernel_misses_foreign"), 1U);

  // The answer comes as the cache's delta, then `done`: the bridge entry is there.
  userspace::DesiredDelta answer;
  answer.upserted_remotes = {Remote(43, "02:00:00:00:00:43", kPeer, {"10.0.1.5"}, "db1")};
  Apply(answer);
  resolver_.pending.front()();
  backend_->Poll(std::chrono::milliseconds(0));
  EXPECT_THAT(route_only::NeighOn(links_, "dvb43"),
              UnorderedElementsAre("10.0.1.5>02:00:00:00:00:43/128"));
  EXPECT_EQ(Counter("kernel_app_solicits_answered"), 1U);

  // An address nobody holds: asked, answered not found.
  misses_.Push(route_only::AppSolicit(dvb43, "10.0.1.77"));
  backend_->Poll(std::chrono::milliseconds(0));
  ASSERT_EQ(resolver_.pending.size(), 2U);
  resolver_.pending.back()();
  backend_->Poll(std::chrono::milliseconds(0));
  EXPECT_EQ(Counter("kernel_app_solicits_unknown"), 1U);

  // A local port's address on web's bridge: answered here, a REACHABLE (2) entry, not asked.
  links_.AddInterface("vm1");
  auto port = Port(42, "vm-1", "vm1");
  port.ips = {Ip("10.0.0.2")};
  userspace::DesiredDelta ports;
  ports.upserted_ports = {port};
  Apply(ports);
  misses_.Push(route_only::AppSolicit(links_.Find("dvb42")->ifindex, "10.0.0.2"));
  backend_->Poll(std::chrono::milliseconds(0));
  EXPECT_THAT(route_only::NeighOn(links_, "dvb42"),
              UnorderedElementsAre("10.0.0.2>02:00:00:00:01:01/2"));
  EXPECT_EQ(resolver_.asked.size(), 2U);
  EXPECT_EQ(Counter("kernel_app_solicits_answered"), 2U);

  // The bucket (3, refilled at 0.001/s) is empty now: a fourth new address is dropped.
  misses_.Push(route_only::AppSolicit(dvb43, "10.0.1.78"));
  backend_->Poll(std::chrono::milliseconds(0));
  EXPECT_EQ(Counter("kernel_app_solicits_rate_limited"), 1U);
  EXPECT_EQ(resolver_.asked.size(), 2U);
}

TEST_F(KernelBackendTest, AnAnsweredL3MissIsAnnouncedToTheNetworksLocalPorts) {
  route_only::RecordingWriter writer;
  KernelOptions options;
  options.frames = &writer;
  Start(options);
  const int vm1 = links_.AddInterface("vm1");
  const int vm2 = links_.AddInterface("vm2");
  auto port1 = Port(42, "vm-1", "vm1");
  port1.ips = {Ip("10.0.0.2")};
  auto port2 = Port(43, "vm-2", "vm2");  // another network: told nothing
  port2.ips = {Ip("10.0.1.2")};
  userspace::DesiredState state;
  state.networks = {Network(42), Network(43)};
  state.ports = {port1, port2};
  backend_->Apply(state);
  backend_->Poll(std::chrono::milliseconds(0));

  auto miss = Event(netlink::NeighEvent::Kind::kL3Miss, links_.Find("dvx42")->ifindex);
  miss.ip = Ip("10.0.0.9");
  misses_.Push(miss);
  backend_->Poll(std::chrono::milliseconds(0));
  ASSERT_EQ(resolver_.pending.size(), 1U);
  userspace::DesiredDelta answer;
  answer.upserted_remotes = {Remote(42, "02:00:00:00:00:09", kPeer, {"10.0.0.9"}, "e9")};
  Apply(answer);
  EXPECT_TRUE(writer.sent.empty());  // not before the question is settled
  resolver_.pending.front()();
  backend_->Poll(std::chrono::milliseconds(0));
  ASSERT_EQ(writer.sent.size(), 1U);
  EXPECT_EQ(writer.sent[0].first, vm1);
  EXPECT_NE(writer.sent[0].first, vm2);
  EXPECT_EQ(writer.sent[0].second, BuildArpReply(Mac("02:00:00:00:00:09"), Ip("10.0.0.9"),
                                                 Mac("02:00:00:00:01:01"), Ip("10.0.0.2")));
  EXPECT_EQ(Counter("kernel_announcements_sent"), 1U);
}

TEST(NeighAnnouncerTest, FramesAreWhatTheWireSays) {
  const auto arp = BuildArpReply(Mac("02:00:00:00:00:09"), Ip("10.0.0.9"), Mac("02:00:00:00:01:01"),
                                 Ip("10.0.0.2"));
  const std::vector<uint8_t> want = {0x02, 0,    0,    0,    0x01, 0x01, 0x02, 0, 0, 0,
                                     0,    0x09, 0x08, 0x06,                       // Ethernet
                                     0,    1,    8,    0,    6,    4,    0,    2,  // ARP reply
                                     0x02, 0,    0,    0,    0,    0x09, 10,   0, 0, 9,   // sender
                                     0x02, 0,    0,    0,    0x01, 0x01, 10,   0, 0, 2};  // target
  EXPECT_EQ(arp, want);
  const auto na =
      BuildNeighAdvert(Mac("02:00:00:00:00:09"), Ip("2001:db8::9"), Mac("02:00:00:00:01:01"));
  ASSERT_EQ(na.size(), 14U + 40U + 32U);
  EXPECT_EQ(na[12], 0x86);
  EXPECT_EQ(na[13], 0xdd);
  EXPECT_EQ(na[20], 58);    // ICMPv6
  EXPECT_EQ(na[21], 255);   // hop limit
  EXPECT_EQ(na[54], 136);   // neighbour advertisement
  EXPECT_EQ(na[58], 0x20);  // override, not solicited
  // The checksum: the one's complement sum over pseudo-header and message is 0xffff.
  uint32_t sum = 0;
  for (size_t i = 22; i < 54; i += 2) sum += static_cast<uint32_t>(na[i] << 8 | na[i + 1]);
  sum += 32 + 58;
  for (size_t i = 54; i < na.size(); i += 2) sum += static_cast<uint32_t>(na[i] << 8 | na[i + 1]);
  while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
  EXPECT_EQ(sum, 0xffffU);
}

}  // namespace
}  // namespace dove::dswitch::kernel
