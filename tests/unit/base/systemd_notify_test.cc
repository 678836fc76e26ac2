#include "base/systemd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "support/temp_dir.h"

namespace dove::base {
namespace {

// A datagram socket standing in for systemd's: bound to `name` (a path, or @NAME in the
// abstract namespace, as $NOTIFY_SOCKET writes them).
class FakeSystemd {
 public:
  explicit FakeSystemd(const std::string& name) : fd_(::socket(AF_UNIX, SOCK_DGRAM, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name.data(), name.size());
    const bool abstract = name[0] == '@';
    if (abstract) address.sun_path[0] = '\0';
    const auto length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (abstract ? 0 : 1));
    bound_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), length) == 0;
  }
  FakeSystemd(const FakeSystemd&) = delete;
  FakeSystemd& operator=(const FakeSystemd&) = delete;
  ~FakeSystemd() { ::close(fd_); }

  bool bound() const { return bound_; }
  std::string Receive() const {
    char buffer[256];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
    return n < 0 ? "<nothing>" : std::string(buffer, static_cast<size_t>(n));
  }

 private:
  int fd_;
  bool bound_ = false;
};

TEST(SystemdNotifyTest, SendsTheStateToAPathSocket) {
  test_support::TempDir dir("dove-notify");
  const std::string path = (dir.path() / "notify").string();
  FakeSystemd systemd(path);
  ASSERT_TRUE(systemd.bound());
  ASSERT_TRUE(NotifySocket(path, "READY=1\nSTATUS=listening"));
  EXPECT_EQ(systemd.Receive(), "READY=1\nSTATUS=listening");
}

TEST(SystemdNotifyTest, SendsToAnAbstractSocket) {
  const std::string name = "@dove-notify-test-" + std::to_string(::getpid());
  FakeSystemd systemd(name);
  ASSERT_TRUE(systemd.bound());
  ASSERT_TRUE(NotifySocket(name, "READY=1"));
  EXPECT_EQ(systemd.Receive(), "READY=1");
}

TEST(SystemdNotifyTest, FollowsTheEnvironment) {
  test_support::TempDir dir("dove-notify");
  const std::string path = (dir.path() / "notify").string();
  FakeSystemd systemd(path);
  ASSERT_TRUE(systemd.bound());
  ::unsetenv(kNotifySocketEnvVar);
  auto unset = NotifySystemd("READY=1");
  ASSERT_TRUE(unset);
  EXPECT_FALSE(*unset);
  ::setenv(kNotifySocketEnvVar, path.c_str(), 1);
  auto sent = NotifySystemd("READY=1");
  ::unsetenv(kNotifySocketEnvVar);
  ASSERT_TRUE(sent) << sent.error();
  EXPECT_TRUE(*sent);
  EXPECT_EQ(systemd.Receive(), "READY=1");
}

TEST(SystemdNotifyTest, BadSocketNamesAreErrorsNamingThem) {
  struct Case {
    const char* description;
    std::string name;
    const char* error;
  };
  const Case cases[] = {
      {"empty", "", "not an absolute path"},
      {"relative", "run/notify", "\"run/notify\": not an absolute path"},
      {"too long", "/" + std::string(200, 'x'), "longer than 107 bytes"},
      {"nobody listens", "/nonexistent/dove/notify", "No such file or directory"},
  };
  for (const auto& c : cases) {
    auto sent = NotifySocket(c.name, "READY=1");
    ASSERT_FALSE(sent) << c.description;
    EXPECT_NE(sent.error().find(c.error), std::string::npos)
        << c.description << ": " << sent.error();
  }
}

}  // namespace
}  // namespace dove::base
