// End-to-end scenarios of issue 14: the distributed router, policy on the packet path, DHCP and
// path MTU, with real dove-controller and dove-switch processes, the kernel's namespaces, stock
// tools in the VMs (ping, traceroute, nc, busybox udhcpc) and scapy/tshark where a tool cannot
// say enough. Each suite shares one lab across its tests (SharedLabTest): RoutedE2eTest the
// two-tenant routed lab, PmtuE2eTest a lab whose underlay MTU is 1400.
#include <chrono>
#include <cstdio>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e/lab_fixture.h"
#include "lab/probe.h"

namespace dove::e2e {
namespace {

using namespace std::chrono_literals;
using lab::Probe;
using lab::ProbeProtocol;

// Tenant t: web (w1 on h1, wd by DHCP on h2), db (d1 on h2, d2 on h1: one across hosts, one on
// w1's host), app (a1 on h2) with no policy towards it but a reject on TCP 9999. Tenant u: the
// same subnets, IPs and router addresses (uw1, ud1, uwd by DHCP), its own policy.
constexpr const char* kRouted = R"(
host h1
host h2
network t/web 10.1.0.0/24 gateway 10.1.0.1 mtu 1400 dns 10.1.0.53
subnet t/web 2001:db8:1::/64 gateway 2001:db8:1::1
network t/db 10.2.0.0/24 gateway 10.2.0.1
subnet t/db 2001:db8:2::/64 gateway 2001:db8:2::1
network t/app 10.3.0.0/24 gateway 10.3.0.1
policy t web db allow tcp 8080
policy t web db allow tcp 7001
policy t web db allow udp 5353
policy t web db allow icmp
policy t web db allow icmpv6
policy t db web allow icmp
policy t db web allow icmpv6
policy t web app reject tcp 9999
vm w1 h1 t/web 10.1.0.11,2001:db8:1::11
vm d1 h2 t/db 10.2.0.21,2001:db8:2::21
vm d2 h1 t/db 10.2.0.22,2001:db8:2::22
vm a1 h2 t/app 10.3.0.31
vm wd h2 t/web dhcp
vm w2 h2 t/web 10.1.0.12,2001:db8:1::12
network u/web 10.1.0.0/24 gateway 10.1.0.1 dns 10.1.0.54
network u/db 10.2.0.0/24 gateway 10.2.0.1
policy u web db allow tcp 8080
policy u web db allow icmp
vm uw1 h1 u/web 10.1.0.11
vm ud1 h2 u/db 10.2.0.21
vm uwd h2 u/web dhcp
)";

// The underlay's MTU is 1400, so the overlay's is 1350, while the static VMs keep 1450 (set up
// for the usual underlay): their big packets must meet the switch's frag-needed / packet too big.
constexpr const char* kSmallUnderlay = R"(
underlay mtu 1400
host h1
host h2
network p/web 10.1.0.0/24 gateway 10.1.0.1
subnet p/web 2001:db8:1::/64 gateway 2001:db8:1::1
network p/db 10.2.0.0/24 gateway 10.2.0.1
subnet p/db 2001:db8:2::/64 gateway 2001:db8:2::1
policy p web db allow any
policy p db web allow any
vm w1 h1 p/web 10.1.0.11,2001:db8:1::11
vm w2 h2 p/web 10.1.0.12,2001:db8:1::12
vm d1 h2 p/db 10.2.0.21,2001:db8:2::21
vm w3 h1 p/web 10.1.0.13
vm wd h2 p/web dhcp
)";

// Over both backends (the parameter: dove-switch's --backend). ctest runs each backend as one
// test (e2e.RoutedE2eTest.userspace, e2e.RoutedE2eTest.kernel), so each builds its lab once;
// the whole binary unfiltered runs every test on one backend then the other, rebuilding the
// shared lab whenever the backend changes (gtest orders parameterised tests test by test).

class RoutedE2eTest : public SharedLabTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    SharedLabTest::SetUp();
    if (IsSkipped()) return;
    backend_ = BackendOf(GetParam());
    ASSERT_NO_FATAL_FAILURE(UpShared(kRouted));
  }

  // The VM's output of argv (stdout and stderr), with its exit code in `code` when given.
  std::string Output(const std::string& vm, const std::vector<std::string>& argv,
                     int* code = nullptr) {
    const auto result = lab_->Exec(lab_->VmNamespace(vm), argv, 60s);
    if (code != nullptr) *code = result.exit_code;
    return result.out + result.err;
  }

  // The MAC the VM's neighbour table holds for `ip` (after a ping to it), "" when none.
  std::string NeighbourMac(const std::string& vm, const std::string& ip) {
    lab_->Exec(lab_->VmNamespace(vm), {"ping", "-c", "1", "-W", "1", ip});
    const std::string out = Output(vm, {"ip", "neigh", "show", ip, "dev", "eth0"});
    static const std::regex kLladdr("lladdr ([0-9a-f:]{17})");
    std::smatch match;
    return std::regex_search(out, match, kLladdr) ? match[1].str() : "";
  }

  // Runs the probes; `expected[i]` is the VM that must get probe i ("" : nobody; for ICMP,
  // non-empty means "a reply comes").
  void ExpectProbes(const std::vector<Probe>& probes, const std::vector<std::string>& expected) {
    ASSERT_EQ(probes.size(), expected.size());
    auto results = lab::RunProbes(*lab_, probes);
    ASSERT_TRUE(results) << results.error();
    for (size_t i = 0; i < probes.size(); ++i) {
      const auto& result = (*results)[i];
      const std::string what = probes[i].from + " -> " + lab::Describe(probes[i]);
      if (probes[i].protocol == ProbeProtocol::kIcmp) {
        EXPECT_EQ(result.replied, !expected[i].empty()) << what << ": " << result.detail;
        continue;
      }
      const std::vector<std::string> want =
          expected[i].empty() ? std::vector<std::string>{} : std::vector<std::string>{expected[i]};
      EXPECT_EQ(result.received_by, want) << what << ": " << result.detail;
    }
  }

  // Creates a policy from its statement, deleted again when the guard goes.
  class PolicyGuard {
   public:
    PolicyGuard(lab::Lab& lab, const std::string& statement) : lab_(lab) {
      auto policy = lab::ParsePolicy(lab.spec(), statement);
      EXPECT_TRUE(policy) << policy.error();
      if (!policy) return;
      auto id = lab.CreatePolicy(*policy);
      EXPECT_TRUE(id) << id.error();
      if (id) id_ = *id;
    }
    PolicyGuard(const PolicyGuard&) = delete;
    PolicyGuard& operator=(const PolicyGuard&) = delete;
    ~PolicyGuard() { Delete(); }
    const std::string& id() const { return id_; }
    void Delete() {
      if (id_.empty()) return;
      auto deleted = lab_.DeletePolicy(id_);
      EXPECT_TRUE(deleted) << deleted.error();
      id_.clear();
    }

   private:
    lab::Lab& lab_;
    std::string id_;
  };
};

// The probes themselves (src/lab/probe.h) inside one network, where no router is involved: they
// land where they are sent, and a probe to an address nobody of the sender's tenant holds lands
// nowhere (so the routed matrices below cannot pass vacuously).
TEST_P(RoutedE2eTest, ProbesSeeWhereTrafficLandsInsideOneNetwork) {
  ExpectProbes({{"w1", "10.1.0.12", ProbeProtocol::kTcp, 8080},
                {"w1", "10.1.0.12", ProbeProtocol::kUdp, 5353},
                {"w1", "2001:db8:1::12", ProbeProtocol::kTcp, 8080},
                {"w1", "2001:db8:1::12", ProbeProtocol::kUdp, 5354},
                {"w1", "10.1.0.12", ProbeProtocol::kIcmp, 0},
                {"w2", "10.1.0.11", ProbeProtocol::kTcp, 8080},
                {"uw1", "10.1.0.12", ProbeProtocol::kTcp, 8080},
                {"uw1", "10.1.0.12", ProbeProtocol::kIcmp, 0}},
               {"w2", "w2", "w2", "w2", "yes", "w1", "", ""});
}

TEST_P(RoutedE2eTest, TheGatewayAnswersArpNdAndPingWithTheDomainsRouterMac) {
  EXPECT_EQ(Ping("w1", "10.1.0.1"), 3);
  EXPECT_EQ(Ping("w1", "2001:db8:1::1"), 3);
  EXPECT_EQ(Ping("d1", "10.2.0.1"), 3);
  EXPECT_EQ(Ping("uw1", "10.1.0.1"), 3);
  // One router MAC per domain, the same on every host and for every subnet and family; the
  // other tenant's router, at the same address, has its own.
  const std::string router = NeighbourMac("w1", "10.1.0.1");
  ASSERT_FALSE(router.empty());
  EXPECT_EQ(NeighbourMac("w1", "2001:db8:1::1"), router);
  EXPECT_EQ(NeighbourMac("d1", "10.2.0.1"), router) << "d1 is on h2, w1 on h1";
  EXPECT_EQ(NeighbourMac("d2", "10.2.0.1"), router);
  const std::string other = NeighbourMac("uw1", "10.1.0.1");
  ASSERT_FALSE(other.empty());
  EXPECT_NE(other, router) << "tenants u and t share router addresses, not router MACs";
  EXPECT_EQ(NeighbourMac("ud1", "10.2.0.1"), other);
}

TEST_P(RoutedE2eTest, RoutesBetweenTwoNetworksAcrossHostsAndOnOneHostIpv4AndIpv6) {
  const auto& h1 = lab_->Host("h1");
  ASSERT_TRUE(lab_->StartCapture(h1.ns, "ul0", PcapPath("routed-ul-h1")));
  // Both directions (policies allow ICMP web <-> db), across hosts (w1 h1, d1 h2) and on one
  // host (w1, d2 both on h1), IPv4 and IPv6.
  for (const char* ip : {"10.2.0.21", "10.2.0.22", "2001:db8:2::21", "2001:db8:2::22"}) {
    FirstContact("w1", ip);
  }
  EXPECT_EQ(Ping("w1", "10.2.0.21"), 3) << "across hosts";
  EXPECT_EQ(Ping("w1", "10.2.0.22"), 3) << "on one host";
  EXPECT_EQ(Ping("w1", "2001:db8:2::21"), 3) << "IPv6 across hosts";
  EXPECT_EQ(Ping("w1", "2001:db8:2::22"), 3) << "IPv6 on one host";
  EXPECT_EQ(Ping("d1", "10.1.0.11"), 3) << "back, across hosts";
  EXPECT_EQ(Ping("d2", "10.1.0.11"), 3) << "back, on one host";
  EXPECT_EQ(Ping("d1", "2001:db8:1::11"), 3) << "IPv6 back, across hosts";
  EXPECT_EQ(Ping("d2", "2001:db8:1::11"), 3) << "IPv6 back, on one host";
  if (KernelBackend()) {
    std::printf("kernel backend: no router.routed counter (the kernel routes): not checked\n");
  } else {
    EXPECT_GE(Counter("h1", "router.routed"), 12u) << "w1's and d2's echo requests and replies";
  }
  // TCP to the allowed port, over both families, landing in the VM aimed at.
  ExpectProbes({{"w1", "10.2.0.21", ProbeProtocol::kTcp, 8080},
                {"w1", "10.2.0.22", ProbeProtocol::kTcp, 8080},
                {"w1", "2001:db8:2::21", ProbeProtocol::kTcp, 8080},
                {"w1", "2001:db8:2::22", ProbeProtocol::kTcp, 8080}},
               {"d1", "d2", "d1", "d2"});
  // Bulk TCP both ways on one allowed connection (w1 sends; d1's ACKs come back routed).
  constexpr int64_t kBytes = int64_t{8} << 20;
  EXPECT_EQ(TcpBytesDelivered("w1", "d1", kBytes), kBytes) << "across hosts";
  EXPECT_EQ(TcpBytesDelivered("w1", "d2", kBytes), kBytes) << "on one host";
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(lab_->StopCapture(PcapPath("routed-ul-h1")));
  // On the underlay, w1's routed frames to d1 travel in db's VNI with the router's MAC as their
  // source and d1's MAC as their destination, with the TTL one less; and none to d2 (same host).
  const auto& d1 = lab_->Vm("d1");
  const auto frames =
      Tshark(PcapPath("routed-ul-h1"),
             "vxlan && ip.src == 192.0.2.11 && icmp && ip.dst == 10.2.0.21 && icmp.type == 8",
             {"vxlan.vni", "eth.src", "eth.dst", "ip.ttl"});
  ASSERT_GE(frames.size(), 3u);
  const std::string router = NeighbourMac("w1", "10.1.0.1");
  for (const auto& line : frames) {
    EXPECT_EQ(line.substr(0, line.find('\t')), std::to_string(d1.vni))
        << "encapsulated with the DESTINATION network's VNI";
  }
  // The inner Ethernet header (occurrence 2 of eth.*) and TTL.
  const auto inner =
      Tshark(PcapPath("routed-ul-h1"),
             "vxlan && ip.src == 192.0.2.11 && icmp.type == 8 && ip.dst == 10.2.0.21",
             {"eth.src", "eth.dst", "ip.ttl"}, {"-E", "occurrence=l"});
  ASSERT_FALSE(inner.empty());
  EXPECT_EQ(inner[0], router + "\t" + d1.mac + "\t63") << "rewritten MACs and TTL 64 - 1";
  EXPECT_TRUE(Tshark(PcapPath("routed-ul-h1"), "vxlan && ip.dst == 10.2.0.22", {"frame.number"},
                     {"-E", "occurrence=l"})
                  .empty())
      << "w1 -> d2 is delivered on h1, never tunnelled";
}

TEST_P(RoutedE2eTest, APolicyMatrixOfTcpUdpAndIcmpWithDefaultDenyAndReject) {
  // The reject policy's id (the spec's only reject), for its per-policy counter.
  std::string reject_id;
  for (size_t i = 0; i < lab_->spec().policies.size(); ++i) {
    if (lab_->spec().policies[i].action == lab::PolicyAction::kReject) {
      reject_id = lab_->policy_ids()[i];
    }
  }
  ASSERT_FALSE(reject_id.empty());
  // The userspace switch's counters, or the kernel backend's nftables counters (inet dove).
  const std::string rejected =
      KernelBackend() ? "policy_" + reject_id + "_denied" : "policy." + reject_id + ".denied";
  const auto reject_count = [&] {
    return KernelBackend() ? NftCounter("h1", "inet", rejected) : Counter("h1", rejected);
  };
  const auto default_denied = [&](const std::string& host) {
    return KernelBackend() ? NftCounter(host, "inet", "policy_default_deny")
                           : Drops(host, "policy_default_deny");
  };
  const uint64_t rejected_before = reject_count();
  const uint64_t default_h1 = default_denied("h1");
  const uint64_t default_h2 = default_denied("h2");
  // Rows: web -> db (allowed tcp 8080, udp 5353, icmp), web -> app (nothing allowed; tcp 9999
  // rejected), db -> web (only icmp allowed).
  ExpectProbes(
      {
          {"w1", "10.2.0.21", ProbeProtocol::kTcp, 8080},  // allowed
          {"w1", "10.2.0.21", ProbeProtocol::kTcp, 8081},  // another port
          {"w1", "10.2.0.21", ProbeProtocol::kUdp, 5353},  // allowed
          {"w1", "10.2.0.21", ProbeProtocol::kUdp, 5354},  // another port
          {"w1", "10.2.0.21", ProbeProtocol::kUdp, 8080},  // the TCP port over UDP
          {"w1", "10.2.0.21", ProbeProtocol::kIcmp, 0},    // allowed
          {"w1", "10.3.0.31", ProbeProtocol::kTcp, 8080},  // default deny
          {"w1", "10.3.0.31", ProbeProtocol::kUdp, 5353},  // default deny
          {"w1", "10.3.0.31", ProbeProtocol::kIcmp, 0},    // default deny
          {"d1", "10.1.0.11", ProbeProtocol::kTcp, 8080},  // no tcp policy db -> web
          {"d1", "10.1.0.11", ProbeProtocol::kIcmp, 0},    // allowed
          {"a1", "10.1.0.11", ProbeProtocol::kIcmp, 0},    // default deny
          {"w1", "10.1.0.1", ProbeProtocol::kIcmp, 0},     // the gateway
      },
      {"d1", "", "d1", "", "", "yes", "", "", "", "", "yes", "", "yes"});

  // REJECT: w1's TCP SYN to app's port 9999 is answered by ICMP administratively prohibited
  // (type 3 code 13) from w1's gateway; nc fails at once.
  auto reply =
      Scapy(lab_->VmNamespace("w1"),
            "r = sr1(IP(dst='10.3.0.31')/TCP(sport=40999, dport=9999, flags='S'), timeout=3, "
            "verbose=False)\n"
            "print('none' if r is None else '%s %d %d' % (r[IP].src, r[ICMP].type, r[ICMP].code) "
            "if ICMP in r else 'other ' + r.summary())");
  EXPECT_EQ(reply.out, "10.1.0.1 3 13\n") << reply.err;
  int code = 0;
  const auto started = std::chrono::steady_clock::now();
  const std::string nc = Output("w1", {"sh", "-c", "echo x | nc -n -N -w 3 10.3.0.31 9999"}, &code);
  EXPECT_NE(code, 0) << nc;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms)
      << "a reject fails the connection at once, not by timeout: " << nc;
  // Counted where they were sent: per policy for the reject (scapy's SYN and nc's), as default
  // deny for the rest (w1's on h1; d1's and a1's on h2).
  EXPECT_GE(reject_count() - rejected_before, 2u) << rejected;
  EXPECT_GE(default_denied("h1") - default_h1, 6u);
  EXPECT_GE(default_denied("h2") - default_h2, 2u);
}

// dovectl trace's model (POST /v1/trace) against the real network: for each packet the trace's
// outcome, and for the probes the same packets sent for real land exactly where the trace says
// (allowed, denied by a policy or by default, rejected, the gateway, the other tenant with the
// same addresses, an unknown destination, no route).
TEST_P(RoutedE2eTest, TheModelsTraceAgreesWithWhereProbesLand) {
  struct Row {
    std::string vm;
    std::string packet;
    std::string outcome;  // the trace's
    std::string reason;   // its drop_reason
    std::string reached;  // its only endpoint reached
  };
  const std::vector<Row> rows = {
      {"w1", "tcp to 10.2.0.21:8080", "delivered", "", "d1"},
      {"w1", "tcp to 10.2.0.21:8081", "dropped", "policy_default_deny", ""},
      {"w1", "udp to 10.2.0.21:5353", "delivered", "", "d1"},
      {"w1", "icmp to 10.2.0.21", "delivered", "", "d1"},
      {"w1", "icmp to 10.3.0.31", "dropped", "policy_default_deny", ""},
      {"w1", "tcp to 10.3.0.31:9999", "dropped", "policy_denied", ""},
      {"d1", "tcp to 10.1.0.11:8080", "dropped", "policy_default_deny", ""},
      {"d1", "icmp to 10.1.0.11", "delivered", "", "w1"},
      {"w1", "icmp to 10.1.0.1", "answered", "", ""},
      {"w1", "icmp to 10.1.0.12", "delivered", "", "w2"},
      {"uw1", "icmp to 10.2.0.21", "delivered", "", "ud1"},
      {"uw1", "tcp to 10.2.0.21:8081", "dropped", "policy_default_deny", ""},
      {"w1", "icmp to 10.2.0.99", "dropped", "route_host_unknown", ""},
      {"w1", "icmp to 10.9.0.1", "dropped", "route_none", ""},
  };
  std::vector<Probe> probes;
  std::vector<std::string> expected;
  for (const Row& row : rows) {
    auto traced =
        lab_->ControllerRest("POST", "/v1/trace", {{"source", row.vm}, {"packet", row.packet}});
    ASSERT_TRUE(traced) << traced.error();
    const std::string what = row.vm + ": " + row.packet + " -> " + traced->dump();
    EXPECT_EQ((*traced)["outcome"], row.outcome) << what;
    EXPECT_EQ((*traced)["drop_reason"], row.reason) << what;
    const auto& reached = (*traced)["reached"];
    EXPECT_EQ(reached.size(), row.reached.empty() ? 0u : 1u) << what;
    if (!row.reached.empty() && !reached.empty()) {
      EXPECT_EQ(reached[0], row.reached) << what;
    }
    // The same packet for real: lands where the trace says (a ping: answered or not).
    std::istringstream words(row.packet);
    std::string protocol, to, target;
    words >> protocol >> to >> target;
    const size_t colon = target.find(':');
    const std::string ip = target.substr(0, colon);
    const uint16_t port =
        colon == std::string::npos ? 0 : static_cast<uint16_t>(std::stoi(target.substr(colon + 1)));
    const ProbeProtocol kind = protocol == "tcp"   ? ProbeProtocol::kTcp
                               : protocol == "udp" ? ProbeProtocol::kUdp
                                                   : ProbeProtocol::kIcmp;
    probes.push_back({row.vm, ip, kind, port});
    const bool lands = row.outcome == "delivered" || row.outcome == "answered";
    expected.push_back(!lands ? "" : kind == ProbeProtocol::kIcmp ? "yes" : row.reached);
  }
  ExpectProbes(probes, expected);
}

// dovectl trace --live: the source switch injects the packet into its pipeline and every
// switch it reaches reports; each answer must agree with the model (no disagreement) and give
// the outcome the model's own test above checks against real probes: allowed, denied by a rule
// and by default, an unknown destination (off-link and on-link), the gateway, the other tenant
// with the same addresses, no route; over IPv4 and IPv6.
TEST_P(RoutedE2eTest, ALiveTraceThroughTheSwitchesAgreesWithTheModel) {
  struct Row {
    std::string vm;
    std::string packet;
    std::string outcome;
    std::string reason;
    std::string reached;
    bool rule = false;  // the source switch's policy stage names a rule (which one: the
                        // model's, or a disagreement says otherwise)
  };
  const std::vector<Row> rows = {
      {"w1", "tcp to 10.2.0.21:8080", "delivered", "", "d1", true},
      {"w1", "tcp to 10.2.0.21:8081", "dropped", "policy_default_deny", "", false},
      {"w1", "tcp to 10.3.0.31:9999", "dropped", "policy_denied", "", true},
      {"w1", "icmp to 10.1.0.12", "delivered", "", "w2", false},
      {"w1", "icmp to 10.1.0.1", "answered", "", "", false},
      {"w1", "arp who-has 10.1.0.12", "answered", "", "", false},
      {"w1", "icmp to 10.2.0.99", "dropped", "route_host_unknown", "", false},
      {"w1", "icmp to 10.1.0.77", "dropped", "resolve_failed", "", false},
      {"w1", "icmp to 10.9.0.1", "dropped", "route_none", "", false},
      {"uw1", "icmp to 10.2.0.21", "delivered", "", "ud1", false},
      {"uw1", "tcp to 10.2.0.21:8081", "dropped", "policy_default_deny", "", false},
      // IPv6: Neighbor Solicitations instead of ARP, ICMPv6 echoes, the same rules.
      {"w1", "tcp to [2001:db8:2::21]:8080", "delivered", "", "d1", true},
      {"w1", "icmp to 2001:db8:2::21", "delivered", "", "d1", true},
      {"w1", "icmp to 2001:db8:1::12", "delivered", "", "w2", false},
      {"w1", "arp who-has 2001:db8:1::12", "answered", "", "", false},
      {"w1", "icmp to 2001:db8:1::77", "dropped", "resolve_failed", "", false},
  };
  for (const Row& row : rows) {
    auto traced = lab_->ControllerRest(
        "POST", "/v1/trace", {{"source", row.vm}, {"packet", row.packet}, {"live", true}});
    ASSERT_TRUE(traced) << traced.error();
    const std::string what = row.vm + ": " + row.packet + " -> " + traced->dump(1);
    std::printf("%s: %s -> model %s, switches %s %s (%zu disagreement(s))\n", row.vm.c_str(),
                row.packet.c_str(), (*traced)["outcome"].get<std::string>().c_str(),
                (*traced)["live_outcome"].get<std::string>().c_str(),
                (*traced).value("live_drop_reason", "").c_str(), (*traced)["disagreements"].size());
    EXPECT_EQ((*traced)["outcome"], row.outcome) << what;
    if (KernelBackend()) {
      // Nothing to run it through: the answer says why, as a disagreement (exit code 6).
      ASSERT_EQ((*traced)["disagreements"].size(), 1u) << what;
      EXPECT_NE((*traced)["disagreements"][0].get<std::string>().find("kernel backend"),
                std::string::npos)
          << what;
      EXPECT_EQ((*traced)["live_outcome"], "unknown") << what;
      continue;
    }
    EXPECT_TRUE((*traced)["disagreements"].empty()) << what;
    EXPECT_EQ((*traced)["live_outcome"], row.outcome) << what;
    EXPECT_EQ((*traced).value("live_drop_reason", ""), row.reason) << what;
    const auto& reached = (*traced).value("live_reached", nlohmann::json::array());
    ASSERT_EQ(reached.size(), row.reached.empty() ? 0u : 1u) << what;
    if (!row.reached.empty()) {
      EXPECT_EQ(reached[0], row.reached) << what;
    }
    // The source switch reports first; a routed, delivered packet also crossed to a receiver.
    const auto& switches = (*traced)["switches"];
    ASSERT_FALSE(switches.empty()) << what;
    EXPECT_EQ(switches[0]["role"], "source") << what;
    std::string policy;
    for (const auto& stage : switches[0]["stages"]) {
      if (stage["stage"] == "policy" && policy.empty()) policy = stage.value("policy_id", "");
    }
    if (row.rule) {
      EXPECT_FALSE(policy.empty()) << what;
    }
    if (row.outcome == "delivered" && row.vm == "w1" && row.reached == "d1") {
      ASSERT_EQ(switches.size(), 2u) << what;
      EXPECT_EQ(switches[1]["role"], "receiver") << what;
    }
  }
}

// What the operator runs: `dovectl trace --live` says whether the switches agree (exit 0) or
// not (exit 6: on the kernel backend there is no pipeline of the switch's own to run it
// through), and the traced packet reaches the destination VM's interface only with --deliver
// (a capture on d1's eth0 sees no traced SYN without it, one with it).
TEST_P(RoutedE2eTest, DovectlTraceLiveHandsTheVmNothingUnlessAsked) {
  const auto traced = [&](const std::vector<std::string>& flags, const std::string& pcap) {
    EXPECT_TRUE(lab_->StartCapture(lab_->VmNamespace("d1"), "eth0", pcap));
    std::vector<std::string> argv = {DOVECTL_BIN, "trace", "w1", "tcp to 10.2.0.21:8080"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    const auto ran = lab_->Exec(lab_->ControllerNamespace(), argv);
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE(lab_->StopCapture(pcap));
    return ran;
  };
  const auto quiet = traced({"--live"}, PcapPath("live-d1"));
  if (KernelBackend()) {
    EXPECT_EQ(quiet.exit_code, 6) << quiet.out << quiet.err;
    EXPECT_NE(quiet.out.find("DISAGREE: no live result to compare"), std::string::npos)
        << quiet.out;
    return;
  }
  EXPECT_EQ(quiet.exit_code, 0) << quiet.out << quiet.err;
  EXPECT_NE(quiet.out.find("switch h1 (source):"), std::string::npos) << quiet.out;
  EXPECT_NE(quiet.out.find("switch h2 (receiver):"), std::string::npos) << quiet.out;
  EXPECT_NE(quiet.out.find("the switches agree with the model"), std::string::npos) << quiet.out;
  const std::string syn = "tcp.dstport == 8080 && tcp.flags.syn == 1 && tcp.len == 16";
  EXPECT_TRUE(Tshark(PcapPath("live-d1"), syn, {"frame.number"}).empty())
      << "a traced packet reached the VM without --deliver";
  const auto delivered = traced({"--live", "--deliver"}, PcapPath("live-d1-deliver"));
  EXPECT_EQ(delivered.exit_code, 0) << delivered.out << delivered.err;
  EXPECT_EQ(Tshark(PcapPath("live-d1-deliver"), syn, {"frame.number"}).size(), 1u)
      << "--deliver hands the traced SYN (its 16-byte marker as payload) to d1";
  const auto refused = lab_->Exec(lab_->ControllerNamespace(),
                                  {DOVECTL_BIN, "trace", "w1", "icmp to 10.2.0.21", "--deliver"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
}

TEST_P(RoutedE2eTest, APolicyAddedAndRemovedWhileTrafficFlowsTakesEffect) {
  // w1 pings a1 every 50 ms for 6 s (default deny). After 1.5 s an allow of ICMP web -> app is
  // created (replies pass back: the switches remember the allowed flow), after 3.5 s deleted.
  std::string pings;
  std::thread pinger([&] {
    pings = Output("w1", {"ping", "-n", "-D", "-i", "0.05", "-c", "120", "-W", "1", "10.3.0.31"});
  });
  std::this_thread::sleep_for(1500ms);
  auto policy = std::make_unique<PolicyGuard>(*lab_, "policy t web app allow icmp");
  const double created =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::this_thread::sleep_for(2000ms);
  policy->Delete();
  const double deleted =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  pinger.join();
  // "[1733300000.123456] 64 bytes from 10.3.0.31: icmp_seq=5 ttl=63 time=0.5 ms"
  static const std::regex kReply(R"(\[([0-9.]+)\] [0-9]+ bytes from 10\.3\.0\.31)");
  int before = 0;
  int during = 0;
  int after = 0;
  for (auto it = std::sregex_iterator(pings.begin(), pings.end(), kReply);
       it != std::sregex_iterator(); ++it) {
    const double at = std::stod((*it)[1].str());
    if (at < created) {
      ++before;
    } else if (at < deleted + 0.2) {
      ++during;
    } else {
      ++after;
    }
  }
  std::printf("replies: %d before the allow, %d while it existed (2 s at 20/s), %d after\n", before,
              during, after);
  EXPECT_EQ(before, 0) << pings;
  EXPECT_GE(during, 30) << "the allow took effect within 0.5 s:\n" << pings;
  EXPECT_EQ(after, 0) << "the delete took effect within 0.2 s, cached flows included:\n" << pings;
}

TEST_P(RoutedE2eTest, TracerouteShowsTheGatewayHopAndTtlExpiryAndNoRouteAreAnswered) {
  const std::string trace =
      Output("w1", {"traceroute", "-n", "-I", "-q", "1", "-w", "1", "-m", "4", "10.2.0.21"});
  EXPECT_TRUE(std::regex_search(trace, std::regex(R"(\n 1  10\.1\.0\.1 )"))) << trace;
  EXPECT_TRUE(std::regex_search(trace, std::regex(R"(\n 2  10\.2\.0\.21 )"))) << trace;
  const std::string trace6 = Output(
      "w1", {"traceroute", "-6", "-n", "-I", "-q", "1", "-w", "1", "-m", "4", "2001:db8:2::21"});
  EXPECT_TRUE(std::regex_search(trace6, std::regex(R"(\n 1  2001:db8:1::1 )"))) << trace6;
  EXPECT_TRUE(std::regex_search(trace6, std::regex(R"(\n 2  2001:db8:2::21 )"))) << trace6;
  // TTL / hop limit 1: time exceeded from the sender's gateway.
  const std::string ttl =
      Output("w1", {"ping", "-n", "-c", "1", "-W", "2", "-t", "1", "10.2.0.21"});
  EXPECT_NE(ttl.find("From 10.1.0.1 icmp_seq=1 Time to live exceeded"), std::string::npos) << ttl;
  const std::string hop =
      Output("w1", {"ping", "-n", "-c", "1", "-W", "2", "-t", "1", "2001:db8:2::21"});
  EXPECT_NE(hop.find("From 2001:db8:1::1 icmp_seq=1 Time exceeded: Hop limit"), std::string::npos)
      << hop;
  // No subnet of the domain holds 10.9.9.9: destination unreachable from the gateway.
  const std::string unreachable = Output("w1", {"ping", "-n", "-c", "1", "-W", "2", "10.9.9.9"});
  EXPECT_NE(unreachable.find("From 10.1.0.1 icmp_seq=1 Destination Net Unreachable"),
            std::string::npos)
      << unreachable;
}

TEST_P(RoutedE2eTest, TenantsWithIdenticalSubnetsAndRouterAddressesNeverReachEachOther) {
  // The same probes from both tenants' web VMs (same IP 10.1.0.11) to 10.2.0.21 (d1 in t, ud1
  // in u): each lands in its own tenant's VM. 10.3.0.31 exists in t only.
  ExpectProbes({{"w1", "10.2.0.21", ProbeProtocol::kTcp, 8080},
                {"uw1", "10.2.0.21", ProbeProtocol::kTcp, 8080},
                {"uw1", "10.2.0.21", ProbeProtocol::kUdp, 5353},  // allowed in t, not in u
                {"uw1", "10.3.0.31", ProbeProtocol::kTcp, 8080},
                {"uw1", "10.3.0.31", ProbeProtocol::kIcmp, 0}},
               {"d1", "ud1", "", "", ""});
  // Whatever uw1 sends: frames addressed to tenant t's router MAC (learned from w1) with t's
  // addresses, and to its own router for t's app subnet, reach nobody in t.
  const std::string t_router = NeighbourMac("w1", "10.1.0.1");
  const std::string u_router = NeighbourMac("uw1", "10.1.0.1");
  ASSERT_FALSE(t_router.empty());
  ASSERT_FALSE(u_router.empty());
  for (const char* vm : {"d1", "a1", "d2"}) {
    ASSERT_TRUE(
        lab_->StartCapture(lab_->VmNamespace(vm), "eth0", PcapPath(std::string("x-") + vm)));
  }
  const auto& uw1 = lab_->Vm("uw1");
  Scapy(uw1.ns, "for dst, mac in (('10.2.0.21', '" + t_router + "'), ('10.2.0.22', '" + t_router +
                    "'), ('10.3.0.31', '" + t_router + "'), ('10.3.0.31', '" + u_router +
                    "')):\n"
                    "  sendp(Ether(src='" +
                    uw1.mac + "', dst=mac)/IP(src='" + uw1.ip +
                    "', dst=dst, ttl=64)/UDP(sport=4444, dport=5353)/Raw(b'dove-cross-tenant'),"
                    " iface='eth0', count=3, verbose=False)");
  std::this_thread::sleep_for(500ms);
  lab_->StopAllCaptures();
  for (const char* vm : {"d1", "a1", "d2"}) {
    EXPECT_TRUE(Tshark(PcapPath(std::string("x-") + vm), "frame contains \"dove-cross-tenant\"",
                       {"frame.number"})
                    .empty())
        << vm << " got a frame uw1 sent";
  }
}

TEST_P(RoutedE2eTest, AStockDhcpClientGetsTheEndpointsAddressGatewayMtuAndDns) {
  const auto& wd = lab_->Vm("wd");
  auto bound = lab_->WaitDhcpEvent("wd", "bound", 1, 20s);
  ASSERT_TRUE(bound) << bound.error();
  EXPECT_EQ(bound->ip, wd.ip) << "the address the controller's IPAM gave the endpoint";
  EXPECT_EQ(bound->mask, 24);
  EXPECT_EQ(bound->router, "10.1.0.1");
  EXPECT_EQ(bound->mtu, 1400) << "the subnet's mtu (option 26)";
  EXPECT_EQ(bound->dns, "10.1.0.53");
  EXPECT_GT(bound->lease, 0);
  EXPECT_EQ(bound->server_id, "10.1.0.1") << "the switch answers as the gateway";
  // What the client applied, as the VM's kernel has it.
  EXPECT_NE(Output("wd", {"ip", "-4", "-o", "addr", "show", "dev", "eth0"})
                .find("inet " + wd.ip + "/24 "),
            std::string::npos);
  EXPECT_NE(Output("wd", {"ip", "link", "show", "eth0"}).find(" mtu 1400 "), std::string::npos);
  EXPECT_NE(Output("wd", {"ip", "route", "show", "default"}).find("default via 10.1.0.1 dev eth0"),
            std::string::npos);
  // And it works: the switch's port security accepts the address; routed to db too.
  FirstContact("wd", "10.1.0.11");
  FirstContact("wd", "10.2.0.21");
  EXPECT_EQ(Ping("wd", "10.1.0.11"), 3);
  EXPECT_EQ(Ping("wd", "10.2.0.21"), 3);

  // A renewal (udhcpc's SIGUSR1: a REQUEST for the same address, unicast to the server) is
  // acknowledged with the same lease.
  ASSERT_TRUE(lab_->RenewDhcp("wd"));
  auto renewed = lab_->WaitDhcpEvent("wd", "renew", 1, 10s);
  ASSERT_TRUE(renewed) << renewed.error();
  EXPECT_EQ(renewed->ip, wd.ip);
  EXPECT_EQ(renewed->mtu, 1400);
  EXPECT_EQ(renewed->router, "10.1.0.1");
  // A client that starts again (a rebooted VM) is offered the same address.
  ASSERT_TRUE(lab_->RestartDhcp("wd"));
  auto again = lab_->WaitDhcpEvent("wd", "bound", 2, 20s);
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->ip, wd.ip);
}

TEST_P(RoutedE2eTest, TwoTenantsWithTheSameSubnetGetTheirOwnDhcpAnswers) {
  // wd (t) and uwd (u) sit on the same switch (h2), in the same subnet 10.1.0.0/24.
  auto t = lab_->WaitDhcpEvent("wd", "bound", 1, 20s);
  auto u = lab_->WaitDhcpEvent("uwd", "bound", 1, 20s);
  ASSERT_TRUE(t) << t.error();
  ASSERT_TRUE(u) << u.error();
  EXPECT_EQ(t->ip, lab_->Vm("wd").ip);
  EXPECT_EQ(u->ip, lab_->Vm("uwd").ip);
  EXPECT_EQ(t->dns, "10.1.0.53");
  EXPECT_EQ(u->dns, "10.1.0.54") << "u's subnet's DNS server, not t's";
  EXPECT_EQ(t->mtu, 1400);
  EXPECT_EQ(u->mtu, 1450) << "u's subnet sets no mtu: the overlay's, 1500 - 50";
  EXPECT_EQ(u->router, "10.1.0.1");
  // uwd's traffic stays in u: to 10.1.0.11 it reaches uw1, never w1.
  FirstContact("uwd", "10.1.0.11");
  FirstContact("wd", "10.1.0.11");
  ExpectProbes({{"uwd", "10.1.0.11", ProbeProtocol::kTcp, 8088},
                {"wd", "10.1.0.11", ProbeProtocol::kTcp, 8088}},
               {"uw1", "w1"});
}

INSTANTIATE_TEST_SUITE_P(Backend, RoutedE2eTest, kBothBackends, BackendTestName);

// Over both backends, as RoutedE2eTest. The kernel backend's answers come from the kernel (its
// tunnel PMTU check for bridged packets, from the destination's address; its forwarding for
// routed ones, from the gateway) and are not counted by the switch (docs/dove-switch.md).
class PmtuE2eTest : public SharedLabTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    SharedLabTest::SetUp();
    if (IsSkipped()) return;
    backend_ = BackendOf(GetParam());
    ASSERT_NO_FATAL_FAILURE(UpShared(kSmallUnderlay));
  }

  std::string Output(const std::string& vm, const std::vector<std::string>& argv) {
    const auto result = lab_->Exec(lab_->VmNamespace(vm), argv, 60s);
    return result.out + result.err;
  }

  // The switch's MTU answers (docs/dove-switch.md): ICMP fragmentation needed and packet too
  // big sent to a VM, and what was too big and could not be answered.
  struct MtuAnswers {
    uint64_t frag_needed = 0;
    uint64_t packet_too_big = 0;
    uint64_t not_answered = 0;
  };
  MtuAnswers Answers(const std::string& host) {
    if (KernelBackend()) return {};  // the kernel answers; the switch counts nothing
    return {Counter(host, "mtu.frag_needed"), Counter(host, "mtu.packet_too_big"),
            Drops(host, "mtu_not_answered")};
  }
};

TEST_P(PmtuE2eTest, TheOverlayMtuIsTheUnderlaysLessFiftyAndDhcpSaysSo) {
  EXPECT_EQ(lab_->spec().OverlayMtu(), 1350u);
  auto bound = lab_->WaitDhcpEvent("wd", "bound", 1, 20s);
  ASSERT_TRUE(bound) << bound.error();
  EXPECT_EQ(bound->mtu, 1350) << "option 26: the overlay MTU the switch learned from ul0";
  EXPECT_NE(Output("wd", {"ip", "link", "show", "eth0"}).find(" mtu 1350 "), std::string::npos);
}

TEST_P(PmtuE2eTest, TooBigWithDfGetsFragNeededOrPacketTooBigAndTcpCompletes) {
  const MtuAnswers h1_before = Answers("h1");
  const MtuAnswers h2_before = Answers("h2");
  // w1's eth0 is 1450: a 1400-byte payload with DF leaves it whole and is too big for the
  // tunnel (1350): the switch answers fragmentation needed with next-hop MTU 1350, from the
  // gateway; the VM's kernel then knows the path MTU (the second ping fails locally).
  for (const char* to : {"10.2.0.21", "10.1.0.12"}) {  // routed to db; switched in web
    const std::string ping =
        Output("w1", {"ping", "-n", "-c", "2", "-W", "1", "-M", "do", "-s", "1400", to});
    // The kernel backend answers a switched packet from its destination's address.
    const std::string from =
        KernelBackend() && std::string(to) == "10.1.0.12" ? "10.1.0.12" : "10.1.0.1";
    EXPECT_NE(ping.find("From " + from + " icmp_seq=1 Frag needed and DF set (mtu = 1350)"),
              std::string::npos)
        << to << ": " << ping;
    EXPECT_NE(Output("w1", {"ip", "route", "get", to}).find("mtu 1350"), std::string::npos)
        << to << ": the VM learned the path MTU";
    EXPECT_EQ(lab_->Ping("w1", to, 3, 1s, 1350 - 28), 3) << to << ": what fits passes";
  }
  const std::string ping6 = Output(
      "w1", {"ping", "-n", "-c", "2", "-W", "1", "-M", "do", "-s", "1400", "2001:db8:2::21"});
  EXPECT_NE(ping6.find("Packet too big: mtu=1350"), std::string::npos) << ping6;
  EXPECT_EQ(lab_->Ping("w1", "2001:db8:2::21", 3, 1s, 1350 - 48), 3);
  const MtuAnswers h1 = Answers("h1");
  if (!KernelBackend()) {
    EXPECT_EQ(h1.frag_needed - h1_before.frag_needed, 2u) << "one per IPv4 destination";
    EXPECT_EQ(h1.packet_too_big - h1_before.packet_too_big, 1u);
  }
  EXPECT_EQ(h1.not_answered, h1_before.not_answered);

  // TCP between VMs that never learned a path MTU (w2, d1 on h2 -> w3 on h1; w1 did, and its
  // SYN-ACK would announce the smaller MSS): segments sized for 1450 meet h2's switch, are
  // answered with frag-needed, and the transfers complete.
  constexpr int64_t kBytes = int64_t{4} << 20;
  EXPECT_EQ(TcpBytesDelivered("w2", "w3", kBytes), kBytes) << "switched, h2 to h1";
  EXPECT_EQ(TcpBytesDelivered("d1", "w3", kBytes), kBytes) << "routed, h2 to h1";
  const MtuAnswers h2 = Answers("h2");
  if (KernelBackend()) {
    std::printf("kernel backend: the kernel answered; the switch counts no MTU answers\n");
  } else {
    std::printf("frag-needed answered: h1 %llu, h2 %llu; packet too big: h1 %llu\n",
                static_cast<unsigned long long>(h1.frag_needed - h1_before.frag_needed),
                static_cast<unsigned long long>(h2.frag_needed - h2_before.frag_needed),
                static_cast<unsigned long long>(h1.packet_too_big - h1_before.packet_too_big));
  }
  if (!KernelBackend()) {
    EXPECT_GE(h2.frag_needed - h2_before.frag_needed, 2u) << "w2's and d1's first segments";
  }
  EXPECT_EQ(h2.not_answered, h2_before.not_answered);
}

INSTANTIATE_TEST_SUITE_P(Backend, PmtuE2eTest, kBothBackends, BackendTestName);

}  // namespace
}  // namespace dove::e2e
