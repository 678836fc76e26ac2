// MetricsPage: one /metrics page in the Prometheus text exposition format 0.0.4, built by every
// part of a daemon that has something to show, then printed once. The one writer of the format
// in DOVE: no other code prints "# TYPE".
//
// What it guarantees, so a caller cannot get the format wrong:
//   - a family's HELP and TYPE are written once, its samples right after them, even when several
//     callers add to it (declaring a family again with the same name, type and label names gives
//     the same family);
//   - names are checked once, when the family is declared: a metric name is
//     [a-zA-Z_:][a-zA-Z0-9_:]*, a label name [a-zA-Z_][a-zA-Z0-9_]* not starting with "__";
//     a counter's name ends in "_total" (the conventions); a histogram's names no label "le" and
//     its buckets are finite and strictly increasing;
//   - label values are escaped (backslash, double quote, newline), HELP text too (backslash,
//     newline);
//   - integers print exactly (every digit of a uint64_t), doubles in the shortest form that reads
//     back to the same double (no exponent from 1e-4 to 1e21), and +Inf, -Inf, NaN as the
//     format spells them;
//   - a histogram's buckets are cumulative and end with le="+Inf" equal to _count.
// A declaration that breaks a rule (a bad name, the same name with another type or labels) is
// refused: the family is left out of the page, its samples ignored, and one sentence is added
// to errors(). So is a sample with the wrong number of label values, or a label set the family
// already has. Tests check errors() is empty for the daemons' pages.
//
// Not thread-safe: one page per request, built on one thread.
//
//   base::MetricsPage page;
//   auto drops = page.Counter("dove_switch_drops_total", "Dropped frames by reason.", {"reason"});
//   drops.Add({"hairpin"}, 3);
//   page.Gauge("dove_switch_parked_frames", "Frames waiting for a resolve.").Add({}, 0);
//   std::string text = page.Text();
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace dove::base {

// Number formatting of the exposition format (also used for the "le" label of buckets).
std::string FormatMetricValue(uint64_t value);
std::string FormatMetricValue(int64_t value);
std::string FormatMetricValue(double value);
// A label value with backslash, double quote and newline escaped.
std::string EscapeLabelValue(std::string_view value);
// Whether `name` may be a metric name / a label name (see above).
bool IsMetricName(std::string_view name);
bool IsLabelName(std::string_view name);

class MetricsPage {
 public:
  using LabelValues = std::initializer_list<std::string_view>;
  enum class Type { kCounter, kGauge, kHistogram };

  class Family {
   public:
    // One sample. `values` are the label values in the order of the family's label names.
    template <std::integral T>
    void Add(LabelValues values, T value) {
      if constexpr (std::is_signed_v<T>) {
        AddFormatted(values, FormatMetricValue(static_cast<int64_t>(value)));
      } else {
        AddFormatted(values, FormatMetricValue(static_cast<uint64_t>(value)));
      }
    }
    void Add(LabelValues values, double value) { AddFormatted(values, FormatMetricValue(value)); }
    // One histogram series: `per_bucket[i]` observations fell in (bucket i-1, bucket i] (not
    // cumulative: the page sums them), `count` in all (so count - sum(per_bucket) above the last
    // bucket), `sum` their total. per_bucket has one entry per bucket of the family.
    void AddHistogram(LabelValues values, std::span<const uint64_t> per_bucket, uint64_t count,
                      double sum);

   private:
    friend class MetricsPage;
    struct Data;
    Family(MetricsPage* page, Data* data) : page_(page), data_(data) {}
    void AddFormatted(LabelValues values, const std::string& value);
    // The label block "{a="x",b="y"}" ("" without labels) into `out`; false (and an error)
    // when the values do not fit the family or the family has this series already.
    bool Labels(LabelValues values, std::string& out);

    MetricsPage* page_;
    Data* data_;  // null: a refused family, whose samples are ignored
  };

  MetricsPage();
  ~MetricsPage();
  MetricsPage(const MetricsPage&) = delete;
  MetricsPage& operator=(const MetricsPage&) = delete;

  Family Counter(std::string_view name, std::string_view help,
                 std::vector<std::string_view> label_names = {});
  Family Gauge(std::string_view name, std::string_view help,
               std::vector<std::string_view> label_names = {});
  Family Histogram(std::string_view name, std::string_view help,
                   std::vector<std::string_view> label_names, std::span<const double> buckets);

  // The page: the families in the order they were first declared.
  std::string Text() const;
  // What was refused, one sentence each; empty for a correct page.
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  Family Declare(std::string_view name, std::string_view help, Type type,
                 std::vector<std::string_view> label_names, std::span<const double> buckets);

  std::vector<std::unique_ptr<Family::Data>> families_;
  std::set<std::string, std::less<>> refused_;  // names refused once: refused again silently
  std::vector<std::string> errors_;
};

}  // namespace dove::base
