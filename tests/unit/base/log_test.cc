#include "base/log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace dove::base {
namespace {

// Restores the process-wide threshold and output a test changes.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = GetLogLevel();
    InitLog("dove-test");
  }
  void TearDown() override {
    SetLogLevel(saved_);
    SetLogJournalSocket("");
  }

 private:
  LogLevel saved_ = LogLevel::kInfo;
};

// A datagram socket standing in for journald's, bound in a directory of the test's.
class FakeJournal {
 public:
  FakeJournal() : path_((dir_.path() / "socket").string()), fd_(::socket(AF_UNIX, SOCK_DGRAM, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path_.data(), path_.size());
    bound_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  }
  FakeJournal(const FakeJournal&) = delete;
  FakeJournal& operator=(const FakeJournal&) = delete;
  ~FakeJournal() { ::close(fd_); }

  const std::string& path() const { return path_; }
  bool bound() const { return bound_; }
  std::string Receive() const {
    std::vector<char> buffer(65536);
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
    return n < 0 ? "<nothing>" : std::string(buffer.data(), static_cast<size_t>(n));
  }

 private:
  test_support::TempDir dir_{"dove-journal"};
  std::string path_;
  int fd_;
  bool bound_ = false;
};

TEST(LogLevelTest, NamesAndParsesEveryLevel) {
  for (const char* name : kLogLevelNames) {
    auto level = ParseLogLevel(name);
    ASSERT_TRUE(level) << name;
    EXPECT_EQ(LogLevelName(*level), name);
  }
  EXPECT_EQ(static_cast<int>(*ParseLogLevel("warning")), 4);  // syslog's LOG_WARNING
  auto bad = ParseLogLevel("verbose");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "log level \"verbose\" is none of error, warning, info, debug");
  EXPECT_FALSE(ParseLogLevel("INFO"));
}

TEST_F(LogTest, WritesOnlyRecordsAtOrAboveTheThreshold) {
  struct Case {
    LogLevel threshold;
    std::string expected;
  };
  const Case cases[] = {
      {LogLevel::kError, "dove-test: error: e\n"},
      {LogLevel::kWarning, "dove-test: error: e\ndove-test: warning: w\n"},
      {LogLevel::kInfo, "dove-test: error: e\ndove-test: warning: w\ndove-test: i\n"},
      {LogLevel::kDebug,
       "dove-test: error: e\ndove-test: warning: w\ndove-test: i\ndove-test: debug: d\n"},
  };
  for (const auto& [threshold, expected] : cases) {
    SetLogLevel(threshold);
    ::testing::internal::CaptureStderr();
    DOVE_LOG(kError) << "e";
    DOVE_LOG(kWarning) << "w";
    DOVE_LOG(kInfo) << "i";
    DOVE_LOG(kDebug) << "d";
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), expected) << LogLevelName(threshold);
  }
}

TEST_F(LogTest, ARecordBelowTheThresholdEvaluatesNothing) {
  SetLogLevel(LogLevel::kInfo);
  int evaluated = 0;
  auto count = [&evaluated] { return ++evaluated; };
  ::testing::internal::CaptureStderr();
  DOVE_LOG(kDebug).With("N", count()) << count();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(evaluated, 0);
}

TEST(LogFormatTest, AppendsFieldsAsKeyValueQuotingWhereNeeded) {
  const std::vector<LogField> fields = {
      {"PORT", "tap1"}, {"REASON", "no such device"}, {"EMPTY", ""}, {"QUOTE", "a\"b"}};
  EXPECT_EQ(FormatLogLine("dove-switch", {.level = LogLevel::kWarning,
                                          .file = "src/x.cc",
                                          .line = 3,
                                          .message = "port tap1: gone",
                                          .fields = &fields}),
            "dove-switch: warning: port tap1: gone port=tap1 reason=\"no such device\" "
            "empty=\"\" quote=\"a\\\"b\"\n");
}

TEST_F(LogTest, WithFormatsNumbersAndStreamables) {
  ::testing::internal::CaptureStderr();
  DOVE_LOG(kInfo)
          .With("VNI", uint32_t{5001})
          .With("PEER", std::string("192.0.2.1"))
          .With("ON", true)
      << "network " << 5001 << " up";
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "dove-test: network 5001 up vni=5001 peer=192.0.2.1 on=1\n");
}

TEST(LogJournalTest, EncodesTheNativeProtocolWithTheBinaryFormForNewlines) {
  const std::vector<LogField> fields = {{"ENDPOINT", "ep-1"}, {"reason", "two\nlines"}};
  const std::string encoded =
      EncodeJournalEntry("dove-switch", {.level = LogLevel::kWarning,
                                         .file = "src/dswitch/userspace/datapath.cc",
                                         .line = 42,
                                         .message = "port tap1 gone",
                                         .fields = &fields});
  const std::string expected = std::string(
                                   "MESSAGE=port tap1 gone\n"
                                   "PRIORITY=4\n"
                                   "SYSLOG_IDENTIFIER=dove-switch\n"
                                   "CODE_FILE=src/dswitch/userspace/datapath.cc\n"
                                   "CODE_LINE=42\n"
                                   "DOVE_ENDPOINT=ep-1\n"
                                   "DOVE_REASON\n") +
                               std::string("\x09\0\0\0\0\0\0\0", 8) + "two\nlines\n";
  EXPECT_EQ(encoded, expected);
}

TEST_F(LogTest, SendsRecordsToTheJournalSocket) {
  FakeJournal journal;
  ASSERT_TRUE(journal.bound());
  SetLogJournalSocket(journal.path());
  ::testing::internal::CaptureStderr();
  DOVE_LOG(kError).With("PEER", "192.0.2.7") << "first line\nsecond line";
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  const std::string datagram = journal.Receive();
  EXPECT_EQ(datagram.substr(0, 8), "MESSAGE\n");
  EXPECT_EQ(datagram.substr(8, 8), std::string("\x16\0\0\0\0\0\0\0", 8));  // 22 bytes
  EXPECT_EQ(datagram.substr(16, 23), "first line\nsecond line\n");
  EXPECT_NE(datagram.find("\nPRIORITY=3\n"), std::string::npos) << datagram;
  EXPECT_NE(datagram.find("\nSYSLOG_IDENTIFIER=dove-test\n"), std::string::npos);
  EXPECT_NE(datagram.find("\nCODE_FILE=tests/unit/base/log_test.cc\n"), std::string::npos)
      << datagram;
  EXPECT_NE(datagram.find("\nDOVE_PEER=192.0.2.7\n"), std::string::npos);
}

TEST_F(LogTest, FallsBackToStderrWhenTheJournalIsGone) {
  test_support::TempDir dir("dove-journal");
  SetLogJournalSocket((dir.path() / "nobody").string());
  ::testing::internal::CaptureStderr();
  DOVE_LOG(kWarning).With("PORT", "tap1") << "still said";
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "dove-test: warning: still said port=tap1\n");
}

TEST(LogJournalTest, RecognizesTheJournalStreamByDeviceAndInode) {
  test_support::TempDir dir("dove-journal");
  const std::string file = (dir.path() / "stream").string();
  const int fd = ::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  struct stat st {};
  ASSERT_EQ(::fstat(fd, &st), 0);
  const std::string matching = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  EXPECT_TRUE(IsJournalStream(matching.c_str(), fd));
  EXPECT_FALSE(IsJournalStream(other.c_str(), fd));
  EXPECT_FALSE(IsJournalStream(nullptr, fd));
  EXPECT_FALSE(IsJournalStream("", fd));
  EXPECT_FALSE(IsJournalStream((matching + "x").c_str(), fd));
  ::close(fd);
}

}  // namespace
}  // namespace dove::base
