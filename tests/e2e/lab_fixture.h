// LabTest: a gtest fixture that builds one dove-lab topology per test (root only: skipped
// otherwise) and tears it down in TearDown, whatever the test did. Helpers read what the
// switches say (their control socket, through the real dovectl) and what captures saw (tshark).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lab/lab.h"
#include "lab/spec.h"

namespace dove::e2e {

class LabTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Builds the lab of `spec_text` (the dove-lab file format); with backend_ kernel every
  // dove-switch host runs the kernel backend (lab::UseBackend), with userspace the hosts are as
  // written (a "dove-kernel" host stays one). `controllers` > 1: that many controller replicas
  // on the lab's etcd cluster (LabOptions::controllers). Fails the test when it cannot.
  void Up(const std::string& spec_text, int controllers = 1);
  // Whether backend_ is dove-switch's kernel backend.
  bool KernelBackend() const;
  // The port dove-switch serves for a lab VM on backend_: its TAP "t-VM" (userspace) or the
  // veth end "v-VM" the kernel backend enslaves.
  std::string PortName(const std::string& vm) const;

  // `dovectl -o json switch COMMAND --socket` of the host's switch, parsed.
  nlohmann::json AskSwitch(const std::string& host, const std::string& command);
  // One drop reason's count on the host's switch.
  uint64_t Drops(const std::string& host, const std::string& reason);
  // A counter by name ("network.1.to_tunnel"), 0 when absent.
  uint64_t Counter(const std::string& host, const std::string& name);
  // The kernel backend resolves on the kernel's miss notifications, and the kernel drops the
  // frame that missed: the VM's ARP/ND is answered from the entry the switch installed when the
  // VM asks again, a second later (its retransmit timer), and the same on the way back. So the
  // first contact between two VMs takes about 2 s there (the userspace switch holds the frame
  // while it asks). On the kernel backend this pings until a reply comes (at most 10 s; fails
  // the test otherwise) and prints how long it took; on the userspace backend it does nothing.
  void FirstContact(const std::string& vm, const std::string& ip);
  // The packets of a named counter in the kernel backend's nftables table `FAMILY dove` on
  // `host` (docs/dove-switch.md: bridge: port_<interface>_bad_mac ...; inet:
  // policy_<id>_denied, policy_default_deny ...); fails the test when absent.
  uint64_t NftCounter(const std::string& host, const std::string& family, const std::string& name);
  // Replies to `count` pings from the VM to `ip`.
  int Ping(const std::string& vm, const std::string& ip, int count = 3);
  // Pings once a second until one reply comes or `timeout` passes.
  bool PingsWithin(const std::string& vm, const std::string& ip, std::chrono::seconds timeout);
  // `tshark -r PCAP -Y FILTER -T fields -e FIELD...` (VXLAN decoded on 4789): one line per frame,
  // fields tab-separated, each field's first occurrence (the outer header's, in VXLAN).
  // `options` go after the defaults, e.g. {"-o", "tcp.check_checksum:TRUE"}, or
  // {"-E", "occurrence=l"} for the inner header's fields.
  std::vector<std::string> Tshark(const std::string& pcap, const std::string& filter,
                                  const std::vector<std::string>& fields,
                                  const std::vector<std::string>& options = {});
  // Runs a scapy script with Debian's python (where scapy lives) inside namespace `ns`.
  lab::CommandResult Scapy(const std::string& ns, const std::string& script);
  // A counter of the namespace's /proc/net/snmp ("Tcp", "InCsumErrors"); fails the test and
  // returns 0 when absent.
  uint64_t Snmp(const std::string& ns, const std::string& protocol, const std::string& name);
  // Sends `count` UDP datagrams (one every 2 ms) from `from_vm` to `to_vm`'s IP, port 7000, with
  // payloads cycling through `sizes`, and returns how many `to_vm` received (a receiver bound
  // before the first is sent, counting until 1.5 s pass without one).
  int64_t UdpDatagramsDelivered(const std::string& from_vm, const std::string& to_vm, int count,
                                const std::vector<int>& sizes);
  // Sends `bytes` over one TCP connection from `from_vm` to `to_vm`'s IP, port 7001, and returns
  // how many bytes `to_vm` read up to the sender's EOF (fewer when the stream stalls for 10 s).
  int64_t TcpBytesDelivered(const std::string& from_vm, const std::string& to_vm, int64_t bytes);
  // A path in the lab's temp dir for a capture.
  std::string PcapPath(const std::string& name) const;

  std::unique_ptr<lab::Lab> lab_;
  std::string bin_dir_;
  // The data plane of the lab's dove-switch hosts; the suites over both backends set it from
  // their parameter in SetUp, before Up.
  lab::Backend backend_ = lab::Backend::kUserspace;
  // Not empty: the lab's controllers require this API token (LabOptions::token); set before Up.
  std::string token_;
  // The controllers' REST API reachable from the hosts (LabOptions::rest_on_management).
  bool rest_on_management_ = false;

 private:
  // Runs python `receiver_script` (argv[1]: a file it creates once listening) in `to_vm`, then
  // `sender_script` (argv: to_vm's IP, sender_args...) in `from_vm`; returns the number the
  // receiver prints.
  int64_t Delivered(const std::string& from_vm, const std::string& to_vm,
                    const char* receiver_script, const char* sender_script,
                    const std::vector<std::string>& sender_args);
};

// A LabTest whose lab is built by the first test of the suite that calls UpShared and kept for
// the suite's next tests (one process runs a whole suite: routed_e2e_test's suites are each one
// ctest test, or one per backend). TearDownTestSuite tears it down, whatever the tests did; a
// test that changes the lab (a policy) undoes it. A later UpShared with another text or
// another backend_ rebuilds.
class SharedLabTest : public LabTest {
 public:
  static void TearDownTestSuite();

 protected:
  void TearDown() override;
  void UpShared(const std::string& spec_text);

 private:
  static std::unique_ptr<lab::Lab>& Shared();
  static std::string& SharedText();
};

// The suites over both backends: the parameter is dove-switch's --backend ("userspace",
// "kernel"); the suite's SetUp sets backend_ = BackendOf(GetParam()) before building its lab.
// Instantiate with
//   INSTANTIATE_TEST_SUITE_P(Backend, Suite, kBothBackends, BackendTestName);
// so every test's name ends in its backend ("Backend/Suite.Test/kernel").
// BackendOf fails the test (and answers userspace) for an unknown name.
lab::Backend BackendOf(const std::string& name);
inline const auto kBothBackends =
    ::testing::Values(std::string("userspace"), std::string("kernel"));
std::string BackendTestName(const ::testing::TestParamInfo<std::string>& info);

}  // namespace dove::e2e
