// Live migration (issue 16): a VM moves from h1 to h2 (Lab::MoveVm) while a VM on h3 pings it
// every 20 ms and sends it a TCP stream (iperf3), then on to h3 and home to h1 while pinged.
// The stream must complete; the pings lost are counted and printed, and the test fails above
// kMaxLostPings per move. The old switch's redirect
// counter is printed (not asserted: whether a frame is in flight toward h1 at the moment of
// the move is up to timing).
//
// Why a second VM stays on h1: the new switch accepts VXLAN only from the VTEPs listed for the
// network (DESIGN.md); with "stay" on h1, h1 remains listed and the frames it redirects are
// taken. (Without it, h1 leaves the flood list with the move and its redirects are dropped
// on h2 as vtep_not_allowed once the new list arrives: docs/architecture.md, "Moves".)
#include <chrono>
#include <cstdio>
#include <regex>
#include <string>
#include <thread>

#include "e2e/lab_fixture.h"

namespace dove::e2e {
namespace {

using namespace std::chrono_literals;

constexpr const char* kMigration = R"(
host h1
host h2
host h3
network acme/web 10.0.0.0/24
vm mover h1 acme/web 10.0.0.11
vm stay h1 acme/web 10.0.0.12
vm pinger h3 acme/web 10.0.0.13
)";

// The gap of a move is the time from the old switch dropping the VM's port (on EndpointMoved,
// right after the PUT) to the switch-over: the new path (TAP, cable) is made before the PUT,
// and the switch-over points v-VM's redirect at it with one netlink request (u32; three with
// matchall), ~0.1 ms; the VM's link never drops. Measured: 0 lost in 30 of 30 moves
// (docs/benchmarks.md). The issue's goal: at most 1 ping (20 ms) per move.
constexpr int kMaxLostPings = 1;

// "N packets transmitted, M received" of ping's summary; {-1, -1} when absent.
std::pair<int, int> PingSummary(const std::string& out) {
  static const std::regex kSummary(R"((\d+) packets transmitted, (\d+) received)");
  std::smatch match;
  if (!std::regex_search(out, match, kSummary)) return {-1, -1};
  return {std::stoi(match[1]), std::stoi(match[2])};
}

class MigrationE2eTest : public LabTest {
 protected:
  // Pings `ip` from `from_vm` 100 times, 20 ms apart, and moves `vm` to `to_host` 1 s in;
  // returns the pings lost (-1 when ping printed no summary). Fails the test when the move
  // fails.
  int PingsLostAcrossMove(const std::string& from_vm, const std::string& ip, const std::string& vm,
                          const std::string& to_host) {
    lab::CommandResult pings;
    std::thread ping_thread([&] {
      pings = lab_->Exec(lab_->VmNamespace(from_vm),
                         {"ping", "-n", "-q", "-i", "0.02", "-c", "100", "-W", "1", ip}, 30s);
    });
    std::this_thread::sleep_for(1s);  // a point in the scenario: mid-ping
    auto moved = lab_->MoveVm(vm, to_host);
    ping_thread.join();
    EXPECT_TRUE(moved) << moved.error();
    const auto [sent, received] = PingSummary(pings.out);
    EXPECT_GE(sent, 0) << "ping said: " << pings.out << pings.err;
    std::printf("migration to %s: switch-over %.2f ms; pings lost %d of %d\n", to_host.c_str(),
                std::chrono::duration<double, std::milli>(lab_->last_move().switch_over).count(),
                sent - received, sent);
    return sent < 0 ? -1 : sent - received;
  }

  // Whether the host's switch has deleted the VM's TAP (it does on EndpointMoved), polled for
  // up to 5 s: the old host keeps no port to deliver to the VM through.
  bool TapGone(const std::string& host, const std::string& vm) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (true) {
      const auto shown =
          lab_->Exec(lab_->HostNamespace(host), {"ip", "link", "show", lab_->Vm(vm).tap});
      if (shown.exit_code != 0) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(20ms);
    }
  }
};

TEST_F(MigrationE2eTest, AVmMovedMidPingAndMidTcpTransferLosesAtMostOnePingPerMove) {
  Up(kMigration);
  if (HasFatalFailure() || IsSkipped()) return;
  const lab::VmInfo& mover = lab_->Vm("mover");
  const std::string ip = mover.ip;
  ASSERT_EQ(Ping("pinger", ip, 3), 3) << "no contact before the move";

  // The TCP receiver in the moving VM: iperf3 serves one test, then exits.
  lab::CommandResult server;
  std::thread server_thread([&] {
    server = lab_->Exec(lab_->VmNamespace("mover"), {"iperf3", "-s", "-1", "-p", "5201"}, 60s);
  });
  bool listening = false;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!listening && std::chrono::steady_clock::now() < deadline) {
    const auto ss = lab_->Exec(lab_->VmNamespace("mover"), {"ss", "-ltn", "sport = :5201"});
    listening = ss.out.find("5201") != std::string::npos;
    if (!listening) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(listening) << "iperf3 -s did not start in mover: " << server.err;

  lab::CommandResult client;
  std::thread client_thread([&] {
    // 6 s at 50 Mbit/s: a stream that is surely running when the VM moves, without starving
    // the machine's two cores.
    client = lab_->Exec(lab_->VmNamespace("pinger"),
                        {"iperf3", "-c", ip, "-p", "5201", "-t", "6", "-b", "50M"}, 60s);
  });
  lab::CommandResult pings;
  std::thread ping_thread([&] {
    pings = lab_->Exec(lab_->VmNamespace("pinger"),
                       {"ping", "-n", "-q", "-i", "0.02", "-c", "250", "-W", "1", ip}, 60s);
  });
  // Mid-stream and mid-ping: the move starts once both have run for a while (a point in the
  // scenario, not a synchronisation: nothing is awaited by it).
  std::this_thread::sleep_for(1500ms);
  const auto started = std::chrono::steady_clock::now();
  auto moved = lab_->MoveVm("mover", "h2");
  const auto took = std::chrono::steady_clock::now() - started;
  ping_thread.join();
  client_thread.join();
  server_thread.join();
  ASSERT_TRUE(moved) << moved.error();
  EXPECT_EQ(lab_->Vm("mover").host, "h2");

  const auto [sent, received] = PingSummary(pings.out);
  ASSERT_GE(sent, 0) << "ping said: " << pings.out << pings.err;
  const int lost = sent - received;
  const uint64_t redirected = Counter("h1", "network." + std::to_string(mover.vni) + ".redirected");
  const lab::Lab::MoveTiming& timing = lab_->last_move();
  const auto ms = [](auto duration) {
    return std::chrono::duration<double, std::milli>(duration).count();
  };
  std::printf(
      "migration: move took %.1f ms (prepare %.1f, PUT %.1f, new TAP open after %.1f, "
      "switch-over %.2f); pings lost %d of %d (20 ms apart); redirected on h1 %llu; iperf3 "
      "exit %d\n",
      ms(took), ms(timing.prepare), ms(timing.put), ms(timing.tap_open), ms(timing.switch_over),
      lost, sent, static_cast<unsigned long long>(redirected), client.exit_code);
  EXPECT_EQ(client.exit_code, 0) << "the TCP transfer did not complete: " << client.out
                                 << client.err;
  EXPECT_EQ(server.exit_code, 0) << "iperf3 -s: " << server.out << server.err;
  EXPECT_LE(lost, kMaxLostPings) << pings.out;
  // The VM answers from its new host, and the old one no longer has its port.
  EXPECT_EQ(Ping("pinger", ip, 3), 3);
  EXPECT_EQ(Ping("stay", ip, 3), 3) << "h1's own VM reaches the moved VM through the tunnel";
  EXPECT_TRUE(TapGone("h1", "mover"));

  // On to h3 (a new cable from v-mover on h1 replaces the one to h2), and home to h1 (no
  // cable: v-mover is joined to h1's new TAP directly). pinger on h3 pings both times. h1,
  // which learnt of the first move from EndpointMoved, is one of mover's cachers since, so it
  // hears of the second move too: its own VM reaches mover on h3 (before the fix it kept
  // sending to h2, whose redirects h3 refused as vtep_not_allowed).
  EXPECT_LE(PingsLostAcrossMove("pinger", ip, "mover", "h3"), kMaxLostPings);
  EXPECT_TRUE(TapGone("h2", "mover"));
  EXPECT_EQ(lab_->Vm("mover").host_link, "p-mover");
  EXPECT_EQ(Ping("pinger", ip, 3), 3) << "h3's own VM reaches the moved VM";
  EXPECT_EQ(Ping("stay", ip, 3), 3) << "h1 was not told of mover's second move";
  EXPECT_LE(PingsLostAcrossMove("pinger", ip, "mover", "h1"), kMaxLostPings);
  EXPECT_TRUE(TapGone("h3", "mover"));
  EXPECT_EQ(lab_->Vm("mover").host_link, "v-mover");
  EXPECT_TRUE(lab_->Vm("mover").cable.empty());
  // No cable is left in h1 (the lab deletes the old one after each switch-over).
  const auto links = lab_->Exec(lab_->HostNamespace("h1"), {"ip", "-o", "link", "show"});
  EXPECT_EQ(links.out.find(" m-mover@"), std::string::npos) << links.out;
  EXPECT_EQ(links.out.find(" o-mover@"), std::string::npos) << links.out;
  EXPECT_EQ(Ping("stay", ip, 3), 3);
  EXPECT_EQ(Ping("pinger", ip, 3), 3);
}

}  // namespace
}  // namespace dove::e2e
