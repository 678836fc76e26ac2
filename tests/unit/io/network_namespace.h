// RunInNetworkNamespace: runs a test body as root in a fresh network namespace of its own.
//
// The body runs in a forked child that unshares its network namespace and brings lo up; its
// gtest assertions report as usual, and the child's exit code (0 when no assertion failed)
// decides the test in the parent. Devices and addresses the body makes vanish with the child,
// whether it passed, failed or was killed, so tests never leak a TAP or an address into the
// host. A child that runs for more than 30 s is killed (SIGALRM) and fails the test.
//
// Helpers for such bodies: Shell (a command in the namespace), WaitReadable, ReceiveUntil (a
// device's packets until one is wanted).
//
// Tests that need this skip themselves when not root (CI runs them as root):
//
//   TEST(TapDeviceTest, Something) {
//     DOVE_SKIP_UNLESS_ROOT();
//     RunInNetworkNamespace([] { ... EXPECT_...; });
//   }
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "dswitch/io/device.h"
#include "dswitch/io/io_counters.h"
#include "dswitch/packet/packet_batch.h"
#include "dswitch/packet/packet_pool.h"

#define DOVE_SKIP_UNLESS_ROOT() \
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: network namespaces and devices"

namespace dove::dswitch::io::testing {

inline void RunInNetworkNamespace(const std::function<void()>& body) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0) << "fork failed";
  if (child == 0) {
    ::alarm(30);
    if (::unshare(CLONE_NEWNET) != 0) {
      std::perror("unshare(CLONE_NEWNET)");
      std::_Exit(2);
    }
    if (std::system("ip link set lo up") != 0) std::_Exit(3);
    body();
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(::testing::Test::HasFailure() ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the test's child died of signal " << WTERMSIG(status);
  const int exit_code = WEXITSTATUS(status);
  EXPECT_EQ(exit_code, 0) << "the test's child failed (see its output above)";
}

// Runs a shell command in the current (the child's) namespace; a failure fails the test.
inline void Shell(const std::string& command) {
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

// Waits up to `timeout` for `fd` to be readable.
inline bool WaitReadable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

// Receives from `device` for up to a second until a packet satisfies `wanted`; returns it (the
// caller frees it), freeing the others. Every packet must carry meta.in_port = `port`.
inline packet::Packet* ReceiveUntil(Device& device, packet::PacketPool& pool, IoCounters& counters,
                                    packet::PortId port,
                                    const std::function<bool(const packet::Packet&)>& wanted) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1000);
  packet::Packet* found = nullptr;
  while (found == nullptr && std::chrono::steady_clock::now() < deadline) {
    if (!WaitReadable(device.fd(), std::chrono::milliseconds(100))) continue;
    packet::PacketBatch batch;
    device.Receive(pool, batch, counters);
    for (packet::Packet* p : batch) {
      EXPECT_EQ(p->meta.in_port, port);
      if (found == nullptr && wanted(*p)) {
        found = p;
      } else {
        pool.Free(p);
      }
    }
  }
  return found;
}

}  // namespace dove::dswitch::io::testing
