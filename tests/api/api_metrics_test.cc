// /metrics: valid Prometheus text format 0.0.4 (every line HELP, TYPE or a sample of a
// declared family), and counts that match what the test did.
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "api/api_client.h"
#include "base/version.h"

namespace dove::api_test {
namespace {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses one sample line: name{label="value",...} number. False when it is not one.
bool ParseSample(const std::string& line, Sample* sample) {
  static const std::regex kName("^([a-zA-Z_:][a-zA-Z0-9_:]*)");
  std::smatch match;
  if (!std::regex_search(line, match, kName)) return false;
  sample->name = match[1];
  size_t at = sample->name.size();
  if (at < line.size() && line[at] == '{') {
    ++at;
    while (at < line.size() && line[at] != '}') {
      const size_t eq = line.find('=', at);
      if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return false;
      const std::string label = line.substr(at, eq - at);
      if (!std::regex_match(label, std::regex("[a-zA-Z_][a-zA-Z0-9_]*"))) return false;
      std::string value;
      size_t i = eq + 2;
      for (; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\') {
          if (i + 1 >= line.size()) return false;
          const char next = line[++i];
          if (next == 'n') {
            value += '\n';
          } else if (next == '\\' || next == '"') {
            value += next;
          } else {
            return false;
          }
        } else {
          value += line[i];
        }
      }
      if (i >= line.size()) return false;
      sample->labels[label] = value;
      at = i + 1;
      if (at < line.size() && line[at] == ',') ++at;
    }
    if (at >= line.size()) return false;
    ++at;  // '}'
  }
  if (at >= line.size() || line[at] != ' ') return false;
  const std::string number = line.substr(at + 1);
  if (number == "+Inf" || number == "-Inf" || number == "NaN") return true;
  char* end = nullptr;
  sample->value = std::strtod(number.c_str(), &end);
  return end != nullptr && *end == '\0' && !number.empty();
}

struct Page {
  std::map<std::string, std::string> types;  // family -> type
  std::set<std::string> helps;
  std::vector<Sample> samples;
};

Page ParsePage(const std::string& text) {
  Page page;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    SCOPED_TRACE(line);
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0) {
      const std::string rest = line.substr(7);
      const std::string name = rest.substr(0, rest.find(' '));
      EXPECT_TRUE(page.helps.insert(name).second) << "HELP twice";
      EXPECT_GT(rest.size(), name.size() + 1) << "empty HELP";
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name;
      std::string type;
      words >> name >> type;
      EXPECT_TRUE(type == "counter" || type == "gauge" || type == "histogram" ||
                  type == "summary" || type == "untyped");
      EXPECT_EQ(page.types.count(name), 0U) << "TYPE twice";
      page.types[name] = type;
      continue;
    }
    EXPECT_NE(line[0], '#') << "unknown comment";
    Sample sample;
    if (!ParseSample(line, &sample)) {
      ADD_FAILURE() << "not a sample";
      continue;
    }
    // The family must be declared before its samples.
    std::string family = sample.name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (page.types.count(family) == 0 && family.size() > s.size() &&
          family.compare(family.size() - s.size(), s.size(), s) == 0) {
        family = family.substr(0, family.size() - s.size());
      }
    }
    EXPECT_EQ(page.types.count(family), 1U) << "sample before its TYPE";
    EXPECT_EQ(page.helps.count(family), 1U) << "sample without HELP";
    page.samples.push_back(sample);
  }
  return page;
}

double Value(const Page& page, const std::string& name,
             const std::map<std::string, std::string>& labels) {
  for (const Sample& sample : page.samples) {
    if (sample.name == name && sample.labels == labels) return sample.value;
  }
  return -1;
}

TEST(ApiMetricsTest, PageParsesAndCountsMatch) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  const int domains = 5;
  for (int i = 0; i < domains; ++i) api.Create("domains", {{"name", "d" + std::to_string(i)}});
  api.Create("networks",
             {{"domain_id", api.Send("GET", "/v1/domains/d0").Json()["id"]}, {"name", "web"}});
  EXPECT_EQ(api.Send("POST", "/v1/domains", R"({"name":"d0"})").status, 409);
  EXPECT_EQ(api.Send("GET", "/v1/domains/d1").status, 200);
  EXPECT_EQ(api.Send("GET", "/v1/endpoints/nope").status, 404);
  // A raw '"' in the target is refused (400: RFC 3986 does not allow it); percent-encoded it
  // is a path like any other.
  EXPECT_EQ(api.Send("GET", "/nowhere%22odd").status, 404);
  EXPECT_EQ(api.Send("GET", "/nowhere").status, 404);
  EXPECT_EQ(api.Send("DELETE", "/v1/domains/d4").status, 200);

  const Reply reply = api.Send("GET", "/metrics");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("Content-Type").rfind("text/plain; version=0.0.4", 0), 0U);
  const Page page = ParsePage(reply.body);
  EXPECT_EQ(page.types.at("dove_objects"), "gauge");
  EXPECT_EQ(page.types.at("dove_store_revision"), "gauge");
  EXPECT_EQ(page.types.at("dove_http_requests_total"), "counter");
  EXPECT_EQ(page.types.at("dove_http_request_duration_seconds"), "histogram");
  EXPECT_EQ(page.types.at("dove_build_info"), "gauge");
  // The controller under test is this build (the same generated commit file).
  EXPECT_EQ(Value(page, "dove_build_info",
                  {{"version", std::string(dove::base::Version())},
                   {"commit", std::string(dove::base::Commit())}}),
            1);

  EXPECT_EQ(Value(page, "dove_objects", {{"kind", "domain"}}), domains - 1);
  EXPECT_EQ(Value(page, "dove_objects", {{"kind", "network"}}), 1);
  for (const char* kind : {"subnet", "endpoint", "switch", "policy"}) {
    EXPECT_EQ(Value(page, "dove_objects", {{"kind", kind}}), 0) << kind;
  }
  EXPECT_EQ(Value(page, "dove_store_revision", {}), api.Revision());
  EXPECT_EQ(Value(page, "dove_http_requests_total",
                  {{"route", "/v1/domains"}, {"method", "POST"}, {"status", "201"}}),
            domains);
  EXPECT_EQ(Value(page, "dove_http_requests_total",
                  {{"route", "/v1/domains"}, {"method", "POST"}, {"status", "409"}}),
            1);
  EXPECT_EQ(Value(page, "dove_http_requests_total",
                  {{"route", "/v1/endpoints/{ref}"}, {"method", "GET"}, {"status", "404"}}),
            1);
  EXPECT_EQ(Value(page, "dove_http_requests_total",
                  {{"route", "unmatched"}, {"method", "GET"}, {"status", "404"}}),
            2);
  EXPECT_EQ(Value(page, "dove_http_requests_total",
                  {{"route", "/v1/domains/{ref}"}, {"method", "DELETE"}, {"status", "200"}}),
            1);
  // Histogram, by route and method (no status label: it would split every histogram): cumulative
  // buckets ending in +Inf == _count, the created and the refused POSTs together.
  const std::map<std::string, std::string> post = {{"route", "/v1/domains"}, {"method", "POST"}};
  double last = 0;
  int buckets = 0;
  for (const Sample& sample : page.samples) {
    if (sample.name != "dove_http_request_duration_seconds_bucket") continue;
    EXPECT_EQ(sample.labels.count("status"), 0u) << "a status label on the latency histogram";
    if (sample.labels.at("route") != "/v1/domains" || sample.labels.at("method") != "POST") {
      continue;
    }
    EXPECT_GE(sample.value, last);
    last = sample.value;
    ++buckets;
    if (buckets == 1) {
      EXPECT_EQ(sample.labels.at("le"), "0.0005");
    }
  }
  EXPECT_EQ(buckets, 14);
  EXPECT_EQ(last, domains + 1);
  EXPECT_EQ(Value(page, "dove_http_request_duration_seconds_count", post), domains + 1);
  EXPECT_GT(Value(page, "dove_http_request_duration_seconds_sum", post), 0);
}

}  // namespace
}  // namespace dove::api_test
