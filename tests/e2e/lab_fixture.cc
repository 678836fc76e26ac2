#include "e2e/lab_fixture.h"

#include <unistd.h>

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

void LabTest::Up(const std::string& spec_text) {
  auto spec = lab::ParseSpec(spec_text);
  ASSERT_TRUE(spec) << spec.error();
  auto lab = lab::Lab::Up(*spec, {.bin_dir = bin_dir_});
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
                                         const std::vector<std::string>& fields) {
  std::vector<std::string> argv = {"tshark", "-n",   "-r", pcap,     "-d", "udp.port==4789,vxlan",
                                   "-Y",     filter, "-T", "fields", "-E", "occurrence=f"};
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

std::string LabTest::PcapPath(const std::string& name) const {
  return (lab_->temp_dir() / (name + ".pcap")).string();
}

}  // namespace dove::e2e
