// DOVE's parsers and builders against frames made by scapy and captured from the Linux
// kernel (tests/data). Every vector must load and parse as Ethernet; each protocol's fields
// are checked against MANIFEST.tsv by the checks in kChecks below.
//
// Adding a protocol: write `void CheckFoo(const VectorEntry&, const EthernetFrame&)` that
// parses the frame with the new codec and compares its fields with v.Number("foo.bar"), and
// list it in kChecks for each vector it applies to.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "net/arp.h"
#include "net/ethernet.h"
#include "net/frame_builder.h"
#include "net/pcap_reader.h"
#include "test_printers.h"
#include "vector_manifest.h"

namespace dove::net {
namespace {

const std::vector<VectorEntry>& Manifest() {
  static const std::vector<VectorEntry> entries = [] {
    auto loaded = LoadVectorManifest();
    if (!loaded) {
      ADD_FAILURE() << loaded.error();
      return std::vector<VectorEntry>();
    }
    return *loaded;
  }();
  return entries;
}

const VectorEntry* Find(std::string_view file) {
  for (const auto& entry : Manifest()) {
    if (entry.file == file) return &entry;
  }
  ADD_FAILURE() << "MANIFEST.tsv has no " << file;
  return nullptr;
}

// The only frame of a scapy vector; a failure (and empty) when it has not exactly one.
std::vector<uint8_t> OnlyFrame(const VectorEntry& entry) {
  auto frames = LoadFrames(entry.path());
  if (!frames) {
    ADD_FAILURE() << frames.error();
    return {};
  }
  if (frames->size() != 1) {
    ADD_FAILURE() << entry.file << ": " << frames->size() << " frames, expected 1";
    return {};
  }
  return std::move(frames->front());
}

MacAddress Mac(const std::string& text) {
  auto mac = MacAddress::Parse(text);
  EXPECT_TRUE(mac) << text;
  return mac.value_or(MacAddress());
}

Ipv4Address Ip4(const std::string& text) {
  auto ip = Ipv4Address::Parse(text);
  EXPECT_TRUE(ip) << text;
  return ip.value_or(Ipv4Address());
}

// ---- Per-protocol checks ---------------------------------------------------------------

void CheckArp(const VectorEntry& v, const EthernetFrame& frame) {
  ASSERT_EQ(frame.ether_type, ether_type::kArp);
  auto arp = ParseArp(frame.payload);
  ASSERT_TRUE(arp) << ErrorName(arp.error());
  EXPECT_EQ(arp->operation.value(), v.Number("arp.op"));
  EXPECT_EQ(arp->sender_mac, Mac(v.Text("arp.hwsrc")));
  EXPECT_EQ(arp->sender_ip, Ip4(v.Text("arp.psrc")));
  EXPECT_EQ(arp->target_mac, Mac(v.Text("arp.hwdst")));
  EXPECT_EQ(arp->target_ip, Ip4(v.Text("arp.pdst")));
}

void CheckVlan(const VectorEntry& v, const EthernetFrame& frame) {
  ASSERT_TRUE(frame.vlan);
  EXPECT_EQ(frame.vlan->vlan_id(), v.Number("dot1q.vlan"));
  EXPECT_EQ(frame.vlan->priority(), v.Number("dot1q.prio"));
  EXPECT_EQ(frame.ether_type, v.Number("dot1q.type"));
  EXPECT_EQ(frame.header_size, 18u);
}

using VectorCheck = void (*)(const VectorEntry& v, const EthernetFrame& frame);
struct Check {
  std::string_view file;  // as in MANIFEST.tsv
  VectorCheck check;
};
// IPv4, IPv6, UDP, TCP, ICMP, ICMPv6/ND, DHCP and VXLAN rows join as those codecs land.
const Check kChecks[] = {
    {"arp_request.pcap", CheckArp},
    {"arp_reply.pcap", CheckArp},
    {"vlan_ipv4_udp.pcap", CheckVlan},
};

// ---- Tests -----------------------------------------------------------------------------

TEST(VectorManifestTest, ParsesLinesAndReportsBadOnes) {
  auto entries = ParseVectorManifest("# comment\n\na.pcap\tan A\tlen=42 x=0x0a layers=Ether,ARP\n");
  ASSERT_TRUE(entries) << entries.error();
  ASSERT_EQ(entries->size(), 1u);
  const VectorEntry& a = (*entries)[0];
  EXPECT_EQ(a.file, "a.pcap");
  EXPECT_EQ(a.description, "an A");
  EXPECT_EQ(a.Number("len"), 42u);
  EXPECT_EQ(a.Number("x"), 10u);
  EXPECT_TRUE(a.HasLayer("ARP"));
  EXPECT_FALSE(a.HasLayer("AR"));
  EXPECT_FALSE(a.Has("y"));

  EXPECT_FALSE(ParseVectorManifest("a.pcap\tno fields column\n"));
  EXPECT_FALSE(ParseVectorManifest("a.pcap\td\tnoequals\n"));
  EXPECT_FALSE(ParseVectorManifest("a.pcap\td\t=nokey\n"));
}

TEST(ScapyVectorsTest, ManifestListsExactlyTheFiles) {
  std::set<std::string> on_disk;
  for (const auto& item : std::filesystem::recursive_directory_iterator(kScapyDir)) {
    if (item.path().extension() == ".pcap") {
      on_disk.insert(std::filesystem::relative(item.path(), kScapyDir).generic_string());
    }
  }
  std::set<std::string> listed;
  for (const auto& entry : Manifest()) listed.insert(entry.file);
  EXPECT_EQ(on_disk, listed);
  EXPECT_GE(listed.size(), 30u);
}

TEST(ScapyVectorsTest, EveryVectorIsOneEthernetFrame) {
  for (const auto& v : Manifest()) {
    SCOPED_TRACE(v.file);
    const auto bytes = OnlyFrame(v);
    EXPECT_EQ(bytes.size(), v.Number("len"));
    auto frame = ParseEthernet(bytes);
    ASSERT_TRUE(frame) << ErrorName(frame.error());
    const uint16_t outer_type = frame->vlan ? ether_type::kVlan : frame->ether_type;
    EXPECT_EQ(outer_type, v.Number("eth.type"));
    if (v.Has("ether.src")) {
      EXPECT_EQ(frame->source, Mac(v.Text("ether.src")));
    }
    if (v.Has("ether.dst")) {
      EXPECT_EQ(frame->destination, Mac(v.Text("ether.dst")));
    }
    if (v.bad()) {
      EXPECT_TRUE(v.Has("error") && v.Has("fault"));
    }
  }
}

TEST(ScapyVectorsTest, ProtocolChecks) {
  for (const auto& [file, check] : kChecks) {
    SCOPED_TRACE(file);
    const VectorEntry* v = Find(file);
    if (v == nullptr) continue;
    const auto bytes = OnlyFrame(*v);
    auto frame = ParseEthernet(bytes);
    ASSERT_TRUE(frame);
    check(*v, *frame);
  }
}

// Our builders must produce exactly scapy's bytes from the same field values.
TEST(ScapyVectorsTest, ArpBuilderMatchesScapy) {
  for (std::string_view file : {"arp_request.pcap", "arp_reply.pcap"}) {
    SCOPED_TRACE(file);
    const VectorEntry* v = Find(file);
    ASSERT_NE(v, nullptr);
    FrameBuilder builder;
    builder.Append(
        MakeEthernetHeader(Mac(v->Text("ether.dst")), Mac(v->Text("ether.src")), ether_type::kArp));
    builder.Append(MakeArp(static_cast<uint16_t>(v->Number("arp.op")), Mac(v->Text("arp.hwsrc")),
                           Ip4(v->Text("arp.psrc")), Mac(v->Text("arp.hwdst")),
                           Ip4(v->Text("arp.pdst"))));
    EXPECT_EQ(builder.bytes(), OnlyFrame(*v));
  }
}

struct KernelCapture {
  std::vector<uint8_t> file;
  std::vector<PcapRecord> records;
};

KernelCapture LoadKernelCapture(const std::string& name) {
  KernelCapture capture;
  auto file = ReadFileBytes(kKernelDir + "/" + name);
  if (!file) {
    ADD_FAILURE() << file.error();
    return capture;
  }
  capture.file = std::move(*file);
  auto records = ParsePcap(capture.file);
  if (!records) {
    ADD_FAILURE() << name << ": " << ErrorName(records.error());
    return capture;
  }
  capture.records = std::move(*records);
  return capture;
}

// What every capture must be: a few whole frames (snaplen 0), in time order, all Ethernet.
// Returns how many frames carry each EtherType.
std::map<uint16_t, int> CheckCapture(const KernelCapture& capture) {
  std::map<uint16_t, int> types;
  EXPECT_GE(capture.records.size(), 8u);
  EXPECT_LT(capture.records.size(), 50u);
  for (size_t i = 0; i < capture.records.size(); ++i) {
    SCOPED_TRACE("frame " + std::to_string(i + 1));
    const PcapRecord& record = capture.records[i];
    EXPECT_EQ(record.data.size(), record.original_length);
    if (i > 0) {
      EXPECT_GE(record.timestamp, capture.records[i - 1].timestamp);
    }
    auto frame = ParseEthernet(record.data);
    if (!frame) {
      ADD_FAILURE() << ErrorName(frame.error());
      continue;
    }
    ++types[frame->ether_type];
    if (frame->ether_type == ether_type::kArp) {
      auto arp = ParseArp(frame->payload);
      EXPECT_TRUE(arp);
    }
  }
  return types;
}

// The UDP destination port of an IPv4 payload, 0 when it is not UDP. A stopgap for the
// kernel checks below until the IPv4 and UDP codecs exist: do not copy.
uint16_t Ipv4UdpDestinationPort(ByteSpan ip) {
  if (ip.size() < 20 || ip[9] != 17) return 0;
  const size_t udp = (ip[0] & 0x0f) * 4u;
  if (ip.size() < udp + 4) return 0;
  return static_cast<uint16_t>(ip[udp + 2] << 8 | ip[udp + 3]);
}

TEST(KernelVectorsTest, UnderlayCaptureIsVxlanAndArp) {
  const auto capture = LoadKernelCapture("vxlan_underlay.pcap");
  const auto types = CheckCapture(capture);
  // The underlay speaks IPv4 only (IPv6 is off in the host namespaces).
  EXPECT_EQ(types.size(), 2u);
  EXPECT_GE(types.count(ether_type::kArp), 1u);
  int vxlan = 0;
  for (const auto& record : capture.records) {
    auto frame = ParseEthernet(record.data);
    if (frame && frame->ether_type == ether_type::kIpv4 &&
        Ipv4UdpDestinationPort(frame->payload) == 4789) {
      ++vxlan;
    }
  }
  // ARP request and reply, 2 ICMP echoes and replies, NS, NA, 2 ICMPv6 echoes and replies.
  EXPECT_GE(vxlan, 12);
}

TEST(KernelVectorsTest, InnerCaptureHasNanosecondTimesAndAllThreeProtocols) {
  const auto capture = LoadKernelCapture("vm_inner.pcap");
  ASSERT_GE(capture.file.size(), 4u);
  EXPECT_EQ(capture.file[0], 0x4d);  // a1b23c4d little-endian: tcpdump's nanosecond magic
  EXPECT_EQ(capture.file[1], 0x3c);
  const auto types = CheckCapture(capture);
  EXPECT_GE(types.count(ether_type::kArp), 1u);
  EXPECT_GE(types.count(ether_type::kIpv4), 1u);
  EXPECT_GE(types.count(ether_type::kIpv6), 1u);
}

// The kernel's own ARP request for 10.0.0.2 is byte for byte what our builder makes.
TEST(KernelVectorsTest, KernelArpRequestMatchesBuilder) {
  const auto capture = LoadKernelCapture("vm_inner.pcap");
  const MacAddress vm1 = Mac("52:54:00:00:00:01");
  FrameBuilder builder;
  builder.Append(MakeEthernetHeader(MacAddress::Broadcast(), vm1, ether_type::kArp));
  builder.Append(MakeArp(arp::kRequest, vm1, Ip4("10.0.0.1"), MacAddress(), Ip4("10.0.0.2")));
  const auto request =
      std::find_if(capture.records.begin(), capture.records.end(), [](const PcapRecord& record) {
        auto frame = ParseEthernet(record.data);
        return frame && frame->ether_type == ether_type::kArp && frame->destination.IsBroadcast();
      });
  ASSERT_NE(request, capture.records.end());
  EXPECT_EQ(std::vector<uint8_t>(request->data.begin(), request->data.end()), builder.bytes());
}

}  // namespace
}  // namespace dove::net
