// Live migration (issue 16): a VM moves from h1 to h2 (Lab::MoveVm) while a VM on h3 pings it
// every 20 ms and sends it a TCP stream (iperf3). The stream must complete; the pings lost are
// counted and printed, and the test fails above kMaxLostPings. The old switch's redirect
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

// The gap of a move is the time from the old switch dropping the VM's port (on EndpointMoved)
// to the VM's veth being joined to the new TAP: one `ip link set ... netns ... up` and one
// `tc -batch`, each a fork/exec of ~20 ms on this 2-core VM, plus the VM's ARP entries flushed
// by the carrier change: 40-60 ms, 2-3 pings at 20 ms (measured: 2, 3, 2). 5 leaves room for a
// loaded machine. The issue's goal of 1 would need the lab to move the link without forking
// (netlink from the lab itself): see docs/lab.md.
constexpr int kMaxLostPings = 5;

// "N packets transmitted, M received" of ping's summary; {-1, -1} when absent.
std::pair<int, int> PingSummary(const std::string& out) {
  static const std::regex kSummary(R"((\d+) packets transmitted, (\d+) received)");
  std::smatch match;
  if (!std::regex_search(out, match, kSummary)) return {-1, -1};
  return {std::stoi(match[1]), std::stoi(match[2])};
}

class MigrationE2eTest : public LabTest {};

TEST_F(MigrationE2eTest, AVmMovedMidPingAndMidTcpTransferLosesAtMostAFewPings) {
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
}

}  // namespace
}  // namespace dove::e2e
