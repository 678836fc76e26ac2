// The distributed router's outputs as scapy reads them: the Router (src/dswitch/pipeline) is
// run on frames from a VM, what it sends (a routed frame, a routed frame encapsulated for the
// tunnel, ICMP time exceeded for IPv4 and IPv6, an echo reply from the gateway, a reject's
// administratively prohibited) is written to a pcap, and scapy (/usr/bin/python3) decodes it
// and recomputes every checksum. The test compares what scapy says with what the router must
// have done: TTL / hop limit one less with a header checksum that verifies, the router MAC as
// the source, the destination's MAC, the destination network's VNI, the ICMP types and codes
// from the gateway address.
//
// scapy comes from Debian's python3-scapy. Without it the test fails rather than skips.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "command.h"
#include "dswitch/pipeline/classify.h"
#include "dswitch/pipeline/router.h"
#include "dswitch/pipeline/vxlan_encap.h"
#include "net/pcap_writer.h"
#include "unit/pipeline/test_frames.h"

namespace dove::dswitch::pipeline::testing {
namespace {

// One line per packet of the pcap named by argv[1]: the fields below, checksums recomputed by
// scapy ("ok" when the packet's equals scapy's).
constexpr const char* kDecoder = R"PY(
import sys
from scapy.all import rdpcap, Ether, IP, IPv6, ICMP, UDP, TCP, VXLAN
from scapy.layers.inet6 import ICMPv6TimeExceeded, ICMPv6DestUnreach, ICMPv6EchoReply

def ok(pkt, layer, field):
    if not pkt.haslayer(layer):
        return "-"
    fresh = pkt.__class__(bytes(pkt))
    l = fresh[layer]
    have = getattr(l, field)
    setattr(l, field, None)
    again = pkt.__class__(bytes(fresh))
    return "ok" if getattr(again[layer], field) == have else "bad"

for p in rdpcap(sys.argv[1]):
    if p.haslayer(UDP) and p[UDP].dport == 4789:
        v = p[VXLAN]
        inner = Ether(bytes(v.payload))
        print("vxlan vni=%d inner_src=%s inner_dst=%s ttl=%d ipsum=%s" % (
            v.vni, inner.src, inner.dst, inner[IP].ttl, ok(inner, IP, "chksum")))
        continue
    out = ["src=%s dst=%s" % (p.src, p.dst)]
    if p.haslayer(IP):
        ip = p[IP]
        out.append("ip %s>%s ttl=%d ipsum=%s" % (ip.src, ip.dst, ip.ttl, ok(p, IP, "chksum")))
        if p.haslayer(ICMP) and ip.proto == 1:
            out.append("icmp %d/%d sum=%s" % (p[ICMP].type, p[ICMP].code, ok(p, ICMP, "chksum")))
    if p.haslayer(IPv6):
        ip = p[IPv6]
        out.append("ip6 %s>%s hlim=%d" % (ip.src, ip.dst, ip.hlim))
        icmp = ip.payload
        if ip.nh == 58:
            out.append("icmp6 %d/%d sum=%s" % (icmp.type, icmp.code, ok(p, icmp.__class__, "cksum")))
    print(" ".join(out))
)PY";

class RouterScapyTest : public PoolTest {
 protected:
  Tables tables_ = RoutedTables();
  RemoteTable remotes_ = RoutedRemotes();
  Counters counters_;
  ReturnFlows flows_{64};
  PolicyGate gate_{tables_, flows_, counters_};
  Router router_{tables_, remotes_, gate_, counters_, pool_};

  // Routes `frame` from vmA's port; everything the router sends, in order (tunnel packets
  // encapsulated and wrapped in outer headers so the capture is a wire frame).
  std::vector<std::vector<uint8_t>> Route(const std::vector<uint8_t>& frame) {
    PacketBatch in = OneFrame(pool_, frame, 11, kNetA);
    Classify(*in[0]);
    PacketBatch to_ports, to_tunnels, replies;
    router_.Process(in, {to_ports, to_tunnels, replies, nullptr});
    VxlanEncap(counters_, pool_).Process(to_tunnels);
    std::vector<std::vector<uint8_t>> out;
    for (const Packet* p : to_ports) out.push_back(Bytes(*p));
    for (const Packet* p : replies) out.push_back(Bytes(*p));
    for (const Packet* p : to_tunnels) out.push_back(Outer(Bytes(*p), p->meta.tunnel));
    FreeAll(pool_, to_ports, to_tunnels, replies);
    return out;
  }

  // The VXLAN payload in Ethernet/IPv4/UDP to `vtep` (the kernel's part, for the capture).
  static std::vector<uint8_t> Outer(const std::vector<uint8_t>& vxlan,
                                    const net::Ipv4Address& vtep) {
    net::FrameBuilder b;
    b.Append(net::MakeEthernetHeader(Mac("02:00:00:00:01:02"), Mac("02:00:00:00:01:01"),
                                     net::ether_type::kIpv4));
    const size_t ip_at =
        b.Append(*net::MakeIpv4Header(kLocalVtep, vtep, net::ip_proto::kUdp, 64, 8 + vxlan.size()));
    b.Append(*net::MakeUdpHeader(49152, 4789, vxlan.size()));
    b.Append(vxlan);
    EXPECT_TRUE(net::FinishIpv4(b.From(ip_at)));
    return std::move(b).Take();
  }
};

TEST_F(RouterScapyTest, ScapyReadsWhatTheRouterSends) {
  const auto python = std::filesystem::path("/usr/bin/python3");
  ASSERT_TRUE(std::filesystem::exists(python)) << "/usr/bin/python3 is needed";
  std::vector<std::vector<uint8_t>> frames;
  const auto add = [&](const std::vector<uint8_t>& frame, size_t expected) {
    const auto out = Route(frame);
    ASSERT_EQ(out.size(), expected);
    frames.insert(frames.end(), out.begin(), out.end());
  };
  add(Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmBIp), 1);
  add(Tcp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmCIp, 40000, 22), 1);
  add(WithTtl(Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmBIp), 1), 1);
  add(WithTtl(Udp6Frame(kRouterMac, kVmAMac, kVmAIp6, kVmBIp6), 1), 1);
  add(Icmp4EchoFrame(kRouterMac, kVmAMac, kVmAIp, kGatewayA), 1);
  add(Udp4Frame(kRouterMac, kVmAMac, kVmAIp, kVmCIp), 1);  // rejected: no-udp

  test_tools::TempDir dir("dove-router-scapy");
  const auto pcap_path = dir.path() / "router.pcap";
  auto writer = net::PcapWriter::Open(pcap_path.string());
  ASSERT_TRUE(writer) << writer.error();
  for (const auto& frame : frames) ASSERT_TRUE(writer->Write(frame));
  ASSERT_TRUE(writer->Close());
  const auto run = test_tools::RunCommand({python.string(), "-c", kDecoder, pcap_path.string()});
  ASSERT_TRUE(run.Succeeded()) << run.Describe();

  // Each line in two parts (the link and IP part, then the ICMP part), joined below.
  const std::string from_gateway =
      "src=02:d0:5e:00:00:01 dst=52:54:00:00:00:0a ip 10.1.0.1>10.1.0.5 ttl=64 ipsum=ok ";
  const std::vector<std::string> expected = {
      "src=02:d0:5e:00:00:01 dst=52:54:00:00:00:0b ip 10.1.0.5>10.2.0.7 ttl=63 ipsum=ok",
      "vxlan vni=300 inner_src=02:d0:5e:00:00:01 inner_dst=52:54:00:00:00:0c ttl=63 ipsum=ok",
      from_gateway + "icmp 11/0 sum=ok",
      std::string("src=02:d0:5e:00:00:01 dst=52:54:00:00:00:0a ip6 2001:db8:1::1>2001:db8:1::5 "
                  "hlim=64 icmp6 3/0 sum=ok"),
      from_gateway + "icmp 0/0 sum=ok",
      from_gateway + "icmp 3/13 sum=ok",
  };
  std::istringstream lines(run.out);
  std::vector<std::string> got;
  for (std::string line; std::getline(lines, line);) got.push_back(line);
  EXPECT_EQ(got, expected) << run.out << run.err;
}

}  // namespace
}  // namespace dove::dswitch::pipeline::testing
