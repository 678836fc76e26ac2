// pipeline_bench: the userspace data plane's per-packet cost and its heap allocations, without
// root: a Datapath over MemoryDevices (the in-memory twins of the TAP ports and the UDP
// tunnel, in sink mode: they keep nothing of what they are sent), fed rounds of mixed traffic.
//
// One round injects 113 frames and runs the loop until it is idle:
//   from port p1: 16 UDP to a local port, 16 UDP to a remote endpoint (VXLAN), 2 broadcasts
//   (one local port + two flood peers: clones), 2 ARP requests answered locally, one TCP
//   super-frame (30,000 bytes, TSO) to a remote endpoint and one to a local port;
//   from the underlay: 16 UDP datagrams to p1 and 10 consecutive TCP segments of one flow to
//   p2 (merged into one super-frame before the port);
//   routed (the distributed router, network 100 -> 200, allowed by a policy): from p1, 16 UDP
//   to a local port of network 200 (p3), 16 UDP and one TCP super-frame to a remote endpoint
//   of network 200 (VXLAN with VNI 200); from the underlay, 16 routed UDP replies from that
//   remote endpoint to p1 (no rule allows 200 -> 100: they pass as replies, through the
//   return-flow table).
// A counting operator new counts every heap allocation made while the loop runs (injection,
// which stands for the kernel, is not counted). After --warmup untimed rounds, --rounds rounds
// are measured: allocations per packet must be 0 in steady state; packets per second per core
// is the injected frames (a super-frame counts once) over the loop's thread CPU time.
//
//   build/bench/pipeline_bench [--rounds 20000] [--warmup 200]
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dswitch/io/memory_device.h"
#include "dswitch/io/port_factory.h"
#include "dswitch/offload/tcp_segmenter.h"
#include "dswitch/userspace/datapath.h"
#include "net/arp.h"
#include "net/checksum.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/ip_prefix.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/tcp.h"
#include "net/udp.h"

// ---------------------------------------------------------------------------------------------
// Counting allocator: every form of operator new goes through Allocate.
namespace {
std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_allocations{0};

void* Allocate(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* AllocateAligned(std::size_t size, std::align_val_t align) {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  const auto alignment = static_cast<std::size_t>(align);
  const std::size_t rounded = (size + alignment - 1) / alignment * alignment;
  if (void* p = std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return Allocate(size); }
void* operator new[](std::size_t size) { return Allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return Allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return Allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t size, std::align_val_t align) {
  return AllocateAligned(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return AllocateAligned(size, align);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace dove::bench {
namespace {

namespace io = dswitch::io;
namespace packet = dswitch::packet;
namespace userspace = dswitch::userspace;

constexpr uint32_t kVni = 100;
const net::MacAddress kVm1 = *net::MacAddress::Parse("52:54:00:00:00:01");
const net::MacAddress kVm2 = *net::MacAddress::Parse("52:54:00:00:00:02");
const net::MacAddress kVm9 = *net::MacAddress::Parse("52:54:00:00:00:09");
const net::MacAddress kRouter = *net::MacAddress::Parse("02:d0:5e:00:00:01");
const net::Ipv4Address kVm1Ip = *net::Ipv4Address::Parse("10.0.0.1");
const net::Ipv4Address kVm2Ip = *net::Ipv4Address::Parse("10.0.0.2");
const net::Ipv4Address kVm9Ip = *net::Ipv4Address::Parse("10.0.0.9");
const net::Ipv4Address kPeer = *net::Ipv4Address::Parse("192.0.2.20");
const net::Ipv4Address kOtherPeer = *net::Ipv4Address::Parse("192.0.2.30");
// Network 200, routed from 100: vm3 on p3 here, vm8 behind the peer.
constexpr uint32_t kRoutedVni = 200;
const net::MacAddress kVm3 = *net::MacAddress::Parse("52:54:00:00:00:03");
const net::MacAddress kVm8 = *net::MacAddress::Parse("52:54:00:00:00:08");
const net::Ipv4Address kVm3Ip = *net::Ipv4Address::Parse("10.2.0.3");
const net::Ipv4Address kVm8Ip = *net::Ipv4Address::Parse("10.2.0.8");

std::vector<uint8_t> Udp(const net::MacAddress& to_mac, const net::MacAddress& from_mac,
                         const net::Ipv4Address& from, const net::Ipv4Address& to,
                         uint16_t from_port = 1000, uint16_t to_port = 2000) {
  constexpr size_t kPayload = 64;
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(to_mac, from_mac, net::ether_type::kIpv4));
  const size_t ip_at =
      b.Append(*net::MakeIpv4Header(from, to, net::ip_proto::kUdp, 64, 8 + kPayload));
  const size_t udp_at = b.Append(*net::MakeUdpHeader(from_port, to_port, kPayload));
  b.AppendZeros(kPayload);
  (void)net::FinishUdp(b.From(udp_at), from, to);
  (void)net::FinishIpv4(b.From(ip_at));
  return std::move(b).Take();
}

std::vector<uint8_t> ArpRequest() {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(net::MacAddress::Broadcast(), kVm1, net::ether_type::kArp));
  b.Append(net::MakeArp(net::arp::kRequest, kVm1, kVm1Ip, net::MacAddress(), kVm9Ip));
  return std::move(b).Take();
}

// A TCP super-frame as a TAP with TSO hands it over: checksum partial (the pseudo-header sum).
std::vector<uint8_t> Super(const net::MacAddress& to_mac, const net::MacAddress& from_mac,
                           const net::Ipv4Address& from, const net::Ipv4Address& to,
                           size_t payload) {
  net::FrameBuilder b;
  b.Append(net::MakeEthernetHeader(to_mac, from_mac, net::ether_type::kIpv4));
  b.Append(*net::MakeIpv4Header(from, to, net::ip_proto::kTcp, 64, 20 + payload));
  const size_t tcp_at = b.Append(*net::MakeTcpHeader(40000, 5201, 1, 1, 0x10, 512));
  b.AppendZeros(payload);
  auto bytes = std::move(b).Take();
  const auto length = static_cast<uint16_t>(20 + payload);
  const uint16_t pseudo = static_cast<uint16_t>(
      ~net::ChecksumFold(net::PseudoHeaderSum(from, to, net::ip_proto::kTcp, length)));
  bytes[tcp_at + 16] = static_cast<uint8_t>(pseudo >> 8);
  bytes[tcp_at + 17] = static_cast<uint8_t>(pseudo);
  return bytes;
}

packet::OffloadInfo Tso() {
  return {.gso = packet::GsoType::kTcp4,
          .gso_ecn = false,
          .gso_size = 1398,  // the MSS of a VM on a 1450-byte overlay MTU (with timestamps)
          .csum_partial = true,
          .csum_start = 34,
          .csum_offset = 16,
          .csum_valid = false};
}

std::vector<uint8_t> WithVxlan(const std::vector<uint8_t>& inner) {
  std::vector<uint8_t> bytes(8 + inner.size());
  bytes[0] = 0x08;
  bytes[5] = static_cast<uint8_t>(kVni >> 8);
  bytes[6] = static_cast<uint8_t>(kVni);
  std::copy(inner.begin(), inner.end(), bytes.begin() + 8);
  return bytes;
}

class NoResolver final : public userspace::Resolver {
 public:
  void ResolveMac(uint32_t, const net::MacAddress&, Done done) override { done(); }
  void ResolveIp(uint32_t, const net::IpAddress&, Done done) override { done(); }
  void PortOpened(const dove::v1::Location&, const std::string&) override {}
};

userspace::DesiredPort Port(const char* id, const net::MacAddress& mac, const net::Ipv4Address& ip,
                            const char* name, uint32_t vni = kVni) {
  dove::v1::Location location;
  location.set_endpoint_id(id);
  location.set_vni(vni);
  location.set_mac(mac.ToString());
  location.set_switch_name("bench");
  location.set_port_name(name);
  location.set_version(1);
  return {.location = location, .port_name = name, .mac = mac, .ips = {ip}, .key = id};
}

double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

void Row(const std::string& name, double value) {
  std::string padded = name + " ";
  if (padded.size() < 56) padded.append(56 - padded.size(), '.');
  std::printf("%s %14.3f\n", padded.c_str(), value);
}

int Run(int rounds, int warmup) {
  // The counter must see allocations, or a 0 below would mean nothing.
  g_counting = true;
  void* probe = ::operator new(16);  // an explicit call: never elided
  g_counting = false;
  ::operator delete(probe);
  if (g_allocations.exchange(0) != 1) {
    std::fprintf(stderr, "pipeline_bench: the counting operator new is not in effect\n");
    return 1;
  }
  io::MemoryDevice tunnel({.name = "underlay",
                           .kind = io::MemoryDevice::Kind::kTunnel,
                           .port = packet::kNoPort,
                           .caps = io::MemoryDevice::kTapCaps,
                           .on_destroy = {},
                           .record = false});
  io::MemoryPortFactory ports(io::MemoryDevice::kTapCaps, /*record=*/false);
  NoResolver resolver;
  auto created = userspace::Datapath::Create({}, tunnel, ports, resolver);
  if (!created) {
    std::fprintf(stderr, "pipeline_bench: %s\n", created.error().c_str());
    return 1;
  }
  userspace::Datapath& datapath = **created;
  userspace::DesiredState state;
  const auto prefix = [](const char* text) { return *net::IpPrefix::Parse(text); };
  const auto ip = [](const char* text) { return std::optional(*net::IpAddress::Parse(text)); };
  const std::vector<dswitch::pipeline::Route> routes = {
      {prefix("10.0.0.0/24"), ip("10.0.0.254"), kVni},
      {prefix("10.2.0.0/24"), ip("10.2.0.254"), kRoutedVni}};
  const std::vector<dswitch::pipeline::PolicyRule> policies = {
      {.id = "100-to-200",
       .source_vni = kVni,
       .destination_vni = kRoutedVni,
       .action = dswitch::pipeline::PolicyRule::Action::kAllow,
       .protocol = 0,
       .first_port = 0,
       .last_port = 0,
       .priority = 1}};
  state.networks.push_back({.vni = kVni,
                            .network_id = "net",
                            .router_mac = kRouter,
                            .flood_tunnel_ips = {kPeer, kOtherPeer},
                            .domain_tunnel_ips = {kPeer},
                            .subnets = {{prefix("10.0.0.0/24"), ip("10.0.0.254"), {}, 0}},
                            .routes = routes,
                            .policies = policies});
  state.networks.push_back({.vni = kRoutedVni,
                            .network_id = "routed",
                            .router_mac = kRouter,
                            .flood_tunnel_ips = {},
                            .domain_tunnel_ips = {kPeer},
                            .subnets = {{prefix("10.2.0.0/24"), ip("10.2.0.254"), {}, 0}},
                            .routes = routes,
                            .policies = policies});
  state.ports.push_back(Port("vm1", kVm1, kVm1Ip, "p1"));
  state.ports.push_back(Port("vm2", kVm2, kVm2Ip, "p2"));
  state.ports.push_back(Port("vm3", kVm3, kVm3Ip, "p3", kRoutedVni));
  state.remotes.push_back(
      {.vni = kVni, .mac = kVm9, .tunnel_ip = kPeer, .ips = {kVm9Ip}, .key = "vm9"});
  state.remotes.push_back(
      {.vni = kRoutedVni, .mac = kVm8, .tunnel_ip = kPeer, .ips = {kVm8Ip}, .key = "vm8"});
  datapath.Apply(std::move(state));
  const auto settle = [&] {
    while (datapath.Poll(std::chrono::milliseconds(0))) {
    }
  };
  settle();
  io::MemoryDevice* p1 = ports.Find("p1");
  if (p1 == nullptr || ports.Find("p2") == nullptr || ports.Find("p3") == nullptr) {
    std::fprintf(stderr, "pipeline_bench: the ports did not open\n");
    return 1;
  }

  const auto local = Udp(kVm2, kVm1, kVm1Ip, kVm2Ip);
  const auto remote = Udp(kVm9, kVm1, kVm1Ip, kVm9Ip);
  const auto broadcast = Udp(net::MacAddress::Broadcast(), kVm1, kVm1Ip, kVm2Ip);
  const auto arp = ArpRequest();
  const auto super_remote = Super(kVm9, kVm1, kVm1Ip, kVm9Ip, 30000);
  const auto super_local = Super(kVm2, kVm1, kVm1Ip, kVm2Ip, 30000);
  const auto from_tunnel = WithVxlan(Udp(kVm1, kVm9, kVm9Ip, kVm1Ip));
  // Ten wire segments of one flow from vm9 to vm2, as a peer's UDP GSO send leaves them.
  std::vector<std::vector<uint8_t>> segments;
  {
    packet::PacketPool pool({.small_slots = 16, .large_slots = 1});
    packet::Packet* super = pool.AllocLarge();
    (void)super->Assign(Super(kVm2, kVm9, kVm9Ip, kVm2Ip, 14480));
    super->offload = Tso();
    packet::PacketBatch cut;
    if (!dswitch::offload::SegmentTcp(*super, pool, cut)) {
      std::fprintf(stderr, "pipeline_bench: cannot cut the test super-frame\n");
      return 1;
    }
    for (packet::Packet* segment : cut) {
      segments.push_back(WithVxlan({segment->data(), segment->data() + segment->size()}));
    }
    pool.Free(cut);
    pool.Free(super);
  }
  const auto routed_local = Udp(kRouter, kVm1, kVm1Ip, kVm3Ip);
  const auto routed_remote = Udp(kRouter, kVm1, kVm1Ip, kVm8Ip);
  const auto routed_super = Super(kRouter, kVm1, kVm1Ip, kVm8Ip, 30000);
  // vm8's replies to vm1's datagrams (2000 -> 1000), routed by the peer: VNI 100, router MAC.
  const auto routed_reply = WithVxlan(Udp(kVm1, kRouter, kVm8Ip, kVm1Ip, 2000, 1000));
  const size_t per_round = 16 + 16 + 2 + 2 + 1 + 1 + 16 + segments.size() + 16 + 16 + 1 + 16;
  const io::MemoryDevice::Source from_peer{.in_port = std::nullopt, .tunnel = kPeer};
  const auto inject = [&] {
    for (int i = 0; i < 16; ++i) p1->Inject(local);
    for (int i = 0; i < 16; ++i) p1->Inject(remote);
    for (int i = 0; i < 2; ++i) p1->Inject(broadcast);
    for (int i = 0; i < 2; ++i) p1->Inject(arp);
    p1->Inject(super_remote, Tso());
    p1->Inject(super_local, Tso());
    for (int i = 0; i < 16; ++i) tunnel.Inject(from_tunnel, {}, from_peer);
    for (const auto& segment : segments) tunnel.Inject(segment, {}, from_peer);
    for (int i = 0; i < 16; ++i) p1->Inject(routed_local);
    for (int i = 0; i < 16; ++i) p1->Inject(routed_remote);
    p1->Inject(routed_super, Tso());
    for (int i = 0; i < 16; ++i) tunnel.Inject(routed_reply, {}, from_peer);
  };

  for (int i = 0; i < warmup; ++i) {
    inject();
    settle();
  }
  uint64_t allocations = 0;
  double cpu = 0;
  const auto wall_start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) {
    inject();
    const double cpu_start = ThreadCpuSeconds();
    const uint64_t before = g_allocations.load();
    g_counting = true;
    settle();
    g_counting = false;
    allocations += g_allocations.load() - before;
    cpu += ThreadCpuSeconds() - cpu_start;
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const auto status = datapath.StatusNow();
  const double packets = static_cast<double>(per_round) * rounds;
  std::printf(
      "pipeline_bench: %d rounds of %zu frames (after %d untimed), Datapath over MemoryDevices "
      "in sink mode; loop thread CPU time only (injection excluded)\n",
      rounds, per_round, warmup);
  std::printf("allocations per packet: %.4f\n", static_cast<double>(allocations) / packets);
  Row("allocations in the measured rounds", static_cast<double>(allocations));
  Row("packets per second per core (loop thread CPU)", packets / cpu);
  Row("ns per packet (loop thread CPU)", cpu / packets * 1e9);
  Row("wall seconds (injection included)", wall);
  Row("tunnel datagrams/super-frames sent", static_cast<double>(tunnel.sent_frames()));
  Row("gro.merged_frames", static_cast<double>(status.counters.at("gro.merged_frames")));
  Row("pool.clones", static_cast<double>(status.counters.at("pool.clones")));
  const auto counter = [&](const char* name) {
    const auto it = status.counters.find(name);
    return it == status.counters.end() ? 0.0 : static_cast<double>(it->second);
  };
  Row("router.routed", counter("router.routed"));
  Row("router.return_flow_passed", counter("router.return_flow_passed"));
  uint64_t drops = 0;
  for (const auto& [reason, value] : status.drops) drops += value;
  Row("drops (any reason; expected 0)", static_cast<double>(drops));
  return allocations == 0 && drops == 0 ? 0 : 1;
}

}  // namespace
}  // namespace dove::bench

int main(int argc, char** argv) {
  int rounds = 20000;
  int warmup = 200;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::printf(
          "usage: pipeline_bench [--rounds N] [--warmup N]\n"
          "Runs the userspace data plane (Datapath over in-memory devices) over rounds of 113\n"
          "mixed frames and prints heap allocations per packet (must be 0) and packets per\n"
          "second per core. No root. Exit 1 when an allocation or a drop happened.\n");
      return 0;
    }
    if ((flag == "--rounds" || flag == "--warmup") && i + 1 < argc) {
      const int value = std::atoi(argv[++i]);
      if (value <= 0) {
        std::fprintf(stderr, "pipeline_bench: %s takes a positive number\n", argv[i - 1]);
        return 2;
      }
      (flag == "--rounds" ? rounds : warmup) = value;
      continue;
    }
    std::fprintf(stderr, "pipeline_bench: unknown flag '%s' (see --help)\n", argv[i]);
    return 2;
  }
  return dove::bench::Run(rounds, warmup);
}
