#include "base/prometheus_text.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <string>

namespace dove::base {
namespace {

TEST(PrometheusTextTest, NumbersAreExactAndRoundTrip) {
  const struct {
    double value;
    const char* text;
  } doubles[] = {
      {0.0, "0"},
      {1.0, "1"},
      {0.1, "0.1"},
      {0.0005, "0.0005"},
      {2.5, "2.5"},
      {1765100000.125, "1765100000.125"},
      {1.0 / 3.0, "0.3333333333333333"},
      {1e300, "1e+300"},
      {0.00001, "1e-05"},
      {1e20, "100000000000000000000"},
      {-7.25, "-7.25"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  for (const auto& [value, text] : doubles) EXPECT_EQ(FormatMetricValue(value), text) << text;
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<uint64_t>::max()), "18446744073709551615");
  EXPECT_EQ(FormatMetricValue(uint64_t{9007199254740993}), "9007199254740993")
      << "2^53 + 1: no trip through a double";
  EXPECT_EQ(FormatMetricValue(int64_t{-42}), "-42");
}

TEST(PrometheusTextTest, LabelValuesAndHelpAreEscaped) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  MetricsPage page;
  page.Gauge("dove_test", "Help with a \\ and a\nnewline; \"quotes\" stay.", {"name"})
      .Add({"x\"y\\z\nw"}, 1);
  EXPECT_EQ(page.Text(),
            "# HELP dove_test Help with a \\\\ and a\\nnewline; \"quotes\" stay.\n"
            "# TYPE dove_test gauge\n"
            "dove_test{name=\"x\\\"y\\\\z\\nw\"} 1\n");
  EXPECT_TRUE(page.errors().empty());
}

TEST(PrometheusTextTest, AFamilyDeclaredTwiceIsWrittenOnceWithAllItsSamples) {
  MetricsPage page;
  page.Counter("dove_a_total", "A.", {"kind"}).Add({"x"}, 1);
  page.Gauge("dove_b", "B.").Add({}, 2);
  page.Counter("dove_a_total", "A.", {"kind"}).Add({"y"}, 3);  // a second writer of the family
  EXPECT_EQ(page.Text(),
            "# HELP dove_a_total A.\n# TYPE dove_a_total counter\n"
            "dove_a_total{kind=\"x\"} 1\ndove_a_total{kind=\"y\"} 3\n"
            "# HELP dove_b B.\n# TYPE dove_b gauge\ndove_b 2\n");
  EXPECT_TRUE(page.errors().empty());
}

TEST(PrometheusTextTest, HistogramBucketsAreCumulativeAndEndWithInf) {
  MetricsPage page;
  constexpr std::array<double, 3> kBuckets = {0.001, 0.01, 0.1};
  const std::array<uint64_t, 3> per_bucket = {2, 0, 3};
  auto latency = page.Histogram("dove_latency_seconds", "L.", {"route"}, kBuckets);
  latency.AddHistogram({"/x"}, per_bucket, 6, 0.5);
  latency.AddHistogram({"/y"}, std::array<uint64_t, 3>{}, 0, 0);
  EXPECT_EQ(page.Text(),
            "# HELP dove_latency_seconds L.\n# TYPE dove_latency_seconds histogram\n"
            "dove_latency_seconds_bucket{route=\"/x\",le=\"0.001\"} 2\n"
            "dove_latency_seconds_bucket{route=\"/x\",le=\"0.01\"} 2\n"
            "dove_latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 5\n"
            "dove_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 6\n"
            "dove_latency_seconds_sum{route=\"/x\"} 0.5\n"
            "dove_latency_seconds_count{route=\"/x\"} 6\n"
            "dove_latency_seconds_bucket{route=\"/y\",le=\"0.001\"} 0\n"
            "dove_latency_seconds_bucket{route=\"/y\",le=\"0.01\"} 0\n"
            "dove_latency_seconds_bucket{route=\"/y\",le=\"0.1\"} 0\n"
            "dove_latency_seconds_bucket{route=\"/y\",le=\"+Inf\"} 0\n"
            "dove_latency_seconds_sum{route=\"/y\"} 0\n"
            "dove_latency_seconds_count{route=\"/y\"} 0\n");
  MetricsPage unlabeled;
  unlabeled.Histogram("dove_h_seconds", "H.", {}, kBuckets).AddHistogram({}, per_bucket, 5, 1);
  EXPECT_NE(unlabeled.Text().find("dove_h_seconds_bucket{le=\"+Inf\"} 5\n"), std::string::npos);
  EXPECT_TRUE(page.errors().empty());
}

constexpr std::array<double, 2> kTwoBuckets = {1, 2};
constexpr std::array<double, 2> kUnordered = {2, 1};

TEST(PrometheusTextTest, BadNamesAreRefusedOnceAndLeftOut) {
  const struct {
    const char* why;
    void (*declare)(MetricsPage&);
  } cases[] = {
      {"a digit first", [](MetricsPage& p) { p.Gauge("9dove", "x").Add({}, 1); }},
      {"a dash", [](MetricsPage& p) { p.Gauge("dove-x", "x").Add({}, 1); }},
      {"empty", [](MetricsPage& p) { p.Gauge("", "x").Add({}, 1); }},
      {"counter without _total", [](MetricsPage& p) { p.Counter("dove_x", "x").Add({}, 1); }},
      {"bad label", [](MetricsPage& p) { p.Gauge("dove_x", "x", {"a:b"}).Add({"v"}, 1); }},
      {"reserved label", [](MetricsPage& p) { p.Gauge("dove_x", "x", {"__a"}).Add({"v"}, 1); }},
      {"label twice",
       [](MetricsPage& p) {
         p.Gauge("dove_x", "x", {"a", "a"}).Add({"v", "w"}, 1);
       }},
      {"histogram le",
       [](MetricsPage& p) {
         p.Histogram("dove_h", "x", {"le"}, kTwoBuckets).AddHistogram({"v"}, {}, 0, 0);
       }},
      {"histogram _count",
       [](MetricsPage& p) {
         p.Histogram("dove_h_count", "x", {}, kTwoBuckets).AddHistogram({}, {}, 0, 0);
       }},
      {"unordered buckets",
       [](MetricsPage& p) {
         p.Histogram("dove_h", "x", {}, kUnordered).AddHistogram({}, {}, 0, 0);
       }},
  };
  for (const auto& c : cases) {
    MetricsPage page;
    c.declare(page);
    EXPECT_EQ(page.Text(), "") << c.why;
    ASSERT_EQ(page.errors().size(), 1u) << c.why;
    EXPECT_NE(page.errors()[0].find("refused"), std::string::npos) << page.errors()[0];
  }
  MetricsPage page;
  page.Gauge("dove-x", "x").Add({}, 1);
  page.Gauge("dove-x", "x").Add({}, 2);
  EXPECT_EQ(page.errors().size(), 1u) << "a name is refused once, not once per sample";
  page.Gauge("dove_ok", "Ok.").Add({}, 1);
  EXPECT_EQ(page.Text(), "# HELP dove_ok Ok.\n# TYPE dove_ok gauge\ndove_ok 1\n");
}

TEST(PrometheusTextTest, SamplesThatDoNotFitTheirFamilyAreLeftOut) {
  MetricsPage page;
  auto drops = page.Counter("dove_drops_total", "D.", {"reason"});
  drops.Add({"a"}, 1);
  drops.Add({"a"}, 2);                              // the same series again
  drops.Add({"b", "c"}, 3);                         // two values for one label
  page.Gauge("dove_drops_total", "D.").Add({}, 4);  // another type under the same name
  EXPECT_EQ(page.Text(),
            "# HELP dove_drops_total D.\n# TYPE dove_drops_total counter\n"
            "dove_drops_total{reason=\"a\"} 1\n");
  EXPECT_EQ(page.errors().size(), 3u);
}

}  // namespace
}  // namespace dove::base
