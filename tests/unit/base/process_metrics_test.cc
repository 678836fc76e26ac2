// The process_* metrics: the /proc parsers on proc(5)'s formats (a command name with spaces and
// parentheses, too few fields, a field that is no number, /proc/stat without btime), and the
// families as this test process has them.
#include "base/process_metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>
#include <string>

namespace dove::base {
namespace {

// A /proc/PID/stat line: fields 3.. after the name; utime 14 = 150, stime 15 = 50, starttime
// 22 = 12345, vsize 23 = 987654321, rss 24 = 2048.
constexpr const char* kStat =
    "4242 (dove (x) sw) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 3 0 12345 "
    "987654321 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(ProcessMetricsTest, TheStatFieldsAreCountedFromTheCommandNamesLastParenthesis) {
  const auto stat = ParseProcessStat(kStat);
  ASSERT_TRUE(stat) << stat.error();
  EXPECT_EQ(stat->user_ticks, 150u);
  EXPECT_EQ(stat->system_ticks, 50u);
  EXPECT_EQ(stat->start_ticks, 12345u);
  EXPECT_EQ(stat->virtual_bytes, 987654321u);
  EXPECT_EQ(stat->resident_pages, 2048u);
}

TEST(ProcessMetricsTest, AStatLineWithoutTheFieldsIsRefusedWithWhy) {
  EXPECT_EQ(ParseProcessStat("4242 dove S 1").error(), "no command name in parentheses");
  EXPECT_EQ(ParseProcessStat("4242 (dove) S 1 2 3").error(), "only 6 fields, 24 needed");
  std::string bad = kStat;
  bad.replace(bad.find(" 150 "), 5, " 1x0 ");
  EXPECT_EQ(ParseProcessStat(bad).error(), "field 14 is not a number");
}

TEST(ProcessMetricsTest, TheBootTimeIsTheBtimeLine) {
  EXPECT_EQ(*ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1733500000\nprocesses 9\n"), 1733500000u);
  EXPECT_EQ(ParseBootTime("cpu 1\n").error(), "no btime line");
  EXPECT_EQ(ParseBootTime("btime soon\n").error(), "btime is not a number");
}

TEST(ProcessMetricsTest, ThisProcessHasEveryFamilyWithAPlausibleValue) {
  MetricsPage page;
  AddProcessMetrics(page);
  EXPECT_TRUE(page.errors().empty()) << page.errors().front();
  const std::string text = page.Text();
  for (const char* family :
       {"process_cpu_seconds_total counter", "process_resident_memory_bytes gauge",
        "process_virtual_memory_bytes gauge", "process_start_time_seconds gauge",
        "process_open_fds gauge", "process_max_fds gauge"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + family), std::string::npos) << family << "\n"
                                                                             << text;
  }
  std::smatch match;
  ASSERT_TRUE(
      std::regex_search(text, match, std::regex(R"(\nprocess_resident_memory_bytes (\d+))")));
  EXPECT_GT(std::stoull(match[1]), 1u << 20) << "a test binary holds more than 1 MiB";
  ASSERT_TRUE(
      std::regex_search(text, match, std::regex(R"(\nprocess_start_time_seconds ([0-9.e+]+))")));
  const double started = std::stod(match[1]);
  const double now = static_cast<double>(time(nullptr));
  EXPECT_LE(started, now + 1);
  EXPECT_GT(started, now - 3600) << "this test started within the hour";
  ASSERT_TRUE(std::regex_search(text, match, std::regex(R"(\nprocess_open_fds (\d+))")));
  EXPECT_GE(std::stoull(match[1]), 3u) << "stdin, stdout, stderr";
}

}  // namespace
}  // namespace dove::base
