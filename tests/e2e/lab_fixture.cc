#include "e2e/lab_fixture.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

namespace dove::e2e {

void LabTest::SetUp() {
  if (::geteuid() != 0) GTEST_SKIP() << "end-to-end tests need root (network namespaces)";
  // The binaries this build made, side by side where the lab looks for them.
  bin_dir_ =
      (std::filesystem::temp_directory_path() / ("dove-e2e-bin-" + std::to_string(::getpid())))
          .string();
  std::filesystem::create_directories(bin_dir_);
  for (const char* binary : {DOVE_CONTROLLER_BIN, DOVE_SWITCH_BIN, DOVECTL_BIN}) {
    const auto link = std::filesystem::path(bin_dir_) / std::filesystem::path(binary).filename();
    std::filesystem::remove(link);
    std::filesystem::create_symlink(binary, link);
  }
}

void LabTest::TearDown() {
  if (lab_) {
    auto down = lab_->Down();
    EXPECT_TRUE(down) << down.error();
    lab_.reset();
  }
  if (!bin_dir_.empty()) std::filesystem::remove_all(bin_dir_);
}

void LabTest::Up(const std::string& spec_text, int controllers) {
  auto spec = lab::ParseSpec(spec_text);
  ASSERT_TRUE(spec) << spec.error();
  if (KernelBackend()) lab::UseBackend(*spec, backend_);
  auto lab = lab::Lab::Up(*spec, {.bin_dir = bin_dir_,
                                  .controllers = controllers,
                                  .token = token_,
                                  .rest_on_management = rest_on_management_});
  ASSERT_TRUE(lab) << lab.error();
  lab_ = std::move(*lab);
}

nlohmann::json LabTest::AskSwitch(const std::string& host, const std::string& command) {
  auto result = lab::RunCommand(
      {DOVECTL_BIN, "-o", "json", "switch", command, "--socket", lab_->ControlSocket(host)},
      std::chrono::seconds(10));
  EXPECT_EQ(result.exit_code, 0) << command << " on " << host << ": " << result.err;
  auto doc = nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(doc.is_discarded()) << result.out;
  return doc.is_discarded() ? nlohmann::json::object() : doc;
}

uint64_t LabTest::Drops(const std::string& host, const std::string& reason) {
  auto doc = AskSwitch(host, "counters");
  auto drops = doc.find("drops");
  if (drops == doc.end() || !drops->contains(reason)) {
    ADD_FAILURE() << "no drop reason " << reason << " in " << doc.dump();
    return 0;
  }
  return (*drops)[reason].get<uint64_t>();
}

uint64_t LabTest::Counter(const std::string& host, const std::string& name) {
  auto doc = AskSwitch(host, "counters");
  auto counters = doc.find("counters");
  if (counters == doc.end() || !counters->contains(name)) return 0;
  return (*counters)[name].get<uint64_t>();
}

int LabTest::Ping(const std::string& vm, const std::string& ip, int count) {
  return lab_->Ping(vm, ip, count, std::chrono::seconds(1));
}

bool LabTest::PingsWithin(const std::string& vm, const std::string& ip,
                          std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (lab_->Ping(vm, ip, 1, std::chrono::seconds(1)) == 1) return true;
  }
  return false;
}

std::vector<std::string> LabTest::Tshark(const std::string& pcap, const std::string& filter,
                                         const std::vector<std::string>& fields,
                                         const std::vector<std::string>& options) {
  std::vector<std::string> argv = {"tshark", "-n", "-r", pcap, "-d", "udp.port==4789,vxlan"};
  argv.insert(argv.end(), {"-Y", filter, "-T", "fields", "-E", "occurrence=f"});
  argv.insert(argv.end(), options.begin(), options.end());  // after: may override occurrence
  for (const auto& field : fields) {
    argv.push_back("-e");
    argv.push_back(field);
  }
  auto result = lab::RunCommand(argv, std::chrono::seconds(60));
  EXPECT_EQ(result.exit_code, 0) << lab::Join(argv) << ": " << result.err;
  std::vector<std::string> lines;
  std::istringstream in(result.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

lab::CommandResult LabTest::Scapy(const std::string& ns, const std::string& script) {
  auto result = lab_->Exec(ns, {"/usr/bin/python3", "-c", "from scapy.all import *\n" + script},
                           std::chrono::seconds(60));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result;
}

uint64_t LabTest::Snmp(const std::string& ns, const std::string& protocol,
                       const std::string& name) {
  // /proc/net/snmp: per protocol a line of names, then a line of values ("Tcp: ... InCsumErrors").
  const auto result = lab_->Exec(ns, {"cat", "/proc/net/snmp"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::istringstream in(result.out);
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string head;
    words >> head;
    if (head != protocol + ":") continue;
    std::vector<std::string> row;
    for (std::string word; words >> word;) row.push_back(word);
    if (names.empty()) {
      names = row;
      continue;
    }
    for (size_t i = 0; i < names.size() && i < row.size(); ++i) {
      if (names[i] == name) return std::stoull(row[i]);
    }
  }
  ADD_FAILURE() << "no " << protocol << " " << name << " in /proc/net/snmp of " << ns;
  return 0;
}

namespace {

// Counts UDP datagrams on port 7000 until 1.5 s pass without one. argv: ready file.
constexpr const char* kUdpReceiver = R"(import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(('0.0.0.0', 7000))
open(sys.argv[1], 'w').close()
s.settimeout(1.5)
n = 0
try:
  while True:
    s.recv(65536)
    n += 1
except socket.timeout:
  pass
print(n)
)";

// argv: destination IP, count, sizes (comma-separated). One datagram every 2 ms.
constexpr const char* kUdpSender = R"(import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sizes = [int(size) for size in sys.argv[3].split(',')]
for i in range(int(sys.argv[2])):
  s.sendto(bytes([i % 256]) * sizes[i % len(sizes)], (sys.argv[1], 7000))
  time.sleep(0.002)
)";

// Accepts one TCP connection on port 7001 and counts its bytes up to the sender's EOF (gives
// up after 10 s without data). argv: ready file.
constexpr const char* kTcpReceiver = R"(import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', 7001))
s.listen(1)
open(sys.argv[1], 'w').close()
s.settimeout(10)
n = 0
try:
  c, _ = s.accept()
  c.settimeout(10)
  while True:
    data = c.recv(1 << 20)
    if not data:
      break
    n += len(data)
  c.close()
except socket.timeout:
  pass
print(n)
)";

// argv: destination IP, bytes. Sends them, then waits for the receiver to close.
constexpr const char* kTcpSender = R"(import socket, sys
s = socket.create_connection((sys.argv[1], 7001), timeout=10)
left = int(sys.argv[2])
block = bytes(range(256)) * 256
while left > 0:
  chunk = min(left, len(block))
  s.sendall(block[:chunk])
  left -= chunk
s.shutdown(socket.SHUT_WR)
s.recv(1)
)";

}  // namespace

int64_t LabTest::Delivered(const std::string& from_vm, const std::string& to_vm,
                           const char* receiver_script, const char* sender_script,
                           const std::vector<std::string>& sender_args) {
  const std::string ready = (lab_->temp_dir() / ("ready-" + to_vm)).string();
  std::filesystem::remove(ready);
  lab::CommandResult received;
  std::thread receiver([&] {
    received =
        lab_->Exec(lab_->VmNamespace(to_vm), {"/usr/bin/python3", "-c", receiver_script, ready},
                   std::chrono::seconds(60));
  });
  bool listening = false;
  for (int i = 0; i < 100 && !listening; ++i) {
    listening = std::filesystem::exists(ready);
    if (!listening) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(listening) << "the receiver in " << to_vm << " did not start";
  std::vector<std::string> argv = {"/usr/bin/python3", "-c", sender_script, lab_->Vm(to_vm).ip};
  argv.insert(argv.end(), sender_args.begin(), sender_args.end());
  const auto sent = lab_->Exec(lab_->VmNamespace(from_vm), argv, std::chrono::seconds(60));
  receiver.join();
  EXPECT_EQ(sent.exit_code, 0) << "the sender in " << from_vm << ": " << sent.err;
  EXPECT_EQ(received.exit_code, 0) << "the receiver in " << to_vm << ": " << received.err;
  int64_t delivered = 0;
  std::istringstream out(received.out);
  if (!(out >> delivered)) {
    ADD_FAILURE() << "the receiver in " << to_vm << " said: " << received.out << received.err;
  }
  return delivered;
}

int64_t LabTest::UdpDatagramsDelivered(const std::string& from_vm, const std::string& to_vm,
                                       int count, const std::vector<int>& sizes) {
  std::string size_list;
  for (const int size : sizes) size_list += (size_list.empty() ? "" : ",") + std::to_string(size);
  return Delivered(from_vm, to_vm, kUdpReceiver, kUdpSender, {std::to_string(count), size_list});
}

int64_t LabTest::TcpBytesDelivered(const std::string& from_vm, const std::string& to_vm,
                                   int64_t bytes) {
  return Delivered(from_vm, to_vm, kTcpReceiver, kTcpSender, {std::to_string(bytes)});
}

std::unique_ptr<lab::Lab>& SharedLabTest::Shared() {
  static std::unique_ptr<lab::Lab> shared;
  return shared;
}

std::string& SharedLabTest::SharedText() {
  static std::string text;
  return text;
}

void SharedLabTest::TearDownTestSuite() {
  if (Shared()) {
    auto down = Shared()->Down();
    EXPECT_TRUE(down) << down.error();
    Shared().reset();
  }
  SharedText().clear();
}

void SharedLabTest::TearDown() {
  Shared() = std::move(lab_);  // kept for the suite's next test
  LabTest::TearDown();
}

void SharedLabTest::UpShared(const std::string& spec_text) {
  // The backend is part of what the lab is: another one rebuilds it.
  const std::string key = std::string(lab::BackendName(backend_)) + "\n" + spec_text;
  if (Shared() && SharedText() != key) TearDownTestSuite();
  if (!Shared()) {
    auto spec = lab::ParseSpec(spec_text);
    ASSERT_TRUE(spec) << spec.error();
    if (KernelBackend()) lab::UseBackend(*spec, backend_);
    // The build tree's src/: the lab finds controller/ and dswitch/app/ below it (the per-test
    // symlink dir goes at the end of each test, the shared lab outlives it).
    const std::string bin_dir =
        std::filesystem::path(DOVE_CONTROLLER_BIN).parent_path().parent_path().string();
    auto lab = lab::Lab::Up(*spec, {.bin_dir = bin_dir});
    ASSERT_TRUE(lab) << lab.error();
    Shared() = std::move(*lab);
    SharedText() = key;
  }
  lab_ = std::move(Shared());
}

lab::Backend BackendOf(const std::string& name) {
  lab::Backend backend = lab::Backend::kUserspace;
  EXPECT_TRUE(lab::ParseBackend(name, &backend)) << "unknown backend " << name;
  return backend;
}

std::string BackendTestName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

void LabTest::FirstContact(const std::string& vm, const std::string& ip) {
  if (!KernelBackend()) return;
  const auto begin = std::chrono::steady_clock::now();
  EXPECT_TRUE(PingsWithin(vm, ip, std::chrono::seconds(10))) << vm << " never reached " << ip;
  std::printf("kernel backend: first contact %s -> %s took %lld ms\n", vm.c_str(), ip.c_str(),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - begin)
                                         .count()));
}

uint64_t LabTest::NftCounter(const std::string& host, const std::string& family,
                             const std::string& name) {
  auto listed =
      lab_->Exec(lab_->Host(host).ns, {"nft", "-j", "list", "counter", family, "dove", name});
  auto doc = nlohmann::json::parse(listed.out, nullptr, /*allow_exceptions=*/false);
  if (listed.exit_code == 0 && !doc.is_discarded()) {
    for (const auto& item : doc.value("nftables", nlohmann::json::array())) {
      if (item.contains("counter")) return item["counter"].value("packets", uint64_t{0});
    }
  }
  ADD_FAILURE() << "no counter " << family << " dove " << name << " on " << host << ": "
                << listed.err;
  return 0;
}

bool LabTest::KernelBackend() const { return backend_ == lab::Backend::kKernel; }

std::string LabTest::PortName(const std::string& vm) const {
  return (KernelBackend() ? "v-" : "t-") + vm;
}

std::string LabTest::PcapPath(const std::string& name) const {
  return (lab_->temp_dir() / (name + ".pcap")).string();
}

}  // namespace dove::e2e
