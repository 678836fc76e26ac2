#include "base/prometheus_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

namespace dove::base {

struct MetricsPage::Family::Data {
  std::string name;
  std::string help;
  Type type = Type::kGauge;
  std::vector<std::string> label_names;
  std::vector<double> buckets;
  std::vector<std::string> bucket_labels;     // the "le" value of each bucket
  std::set<std::string, std::less<>> series;  // label blocks already written
  std::string samples;
};

namespace {

template <typename T>
std::string ToChars(T value) {
  char text[64];
  const auto result = std::to_chars(text, text + sizeof(text), value);
  return std::string(text, result.ptr);
}

bool IsNameChar(char c, bool first, bool colon) {
  const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return letter || (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

bool IsName(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, colon)) return false;
  }
  return true;
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Backslash and newline escaped, and the double quote when `quote` (label values; HELP keeps it).
std::string Escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

const char* TypeName(MetricsPage::Type type) {
  switch (type) {
    case MetricsPage::Type::kCounter:
      return "counter";
    case MetricsPage::Type::kHistogram:
      return "histogram";
    case MetricsPage::Type::kGauge:
      break;
  }
  return "gauge";
}

// Why `name` cannot name a family of `type` with these labels and buckets; empty when it can.
std::string Refusal(std::string_view name, MetricsPage::Type type,
                    const std::vector<std::string_view>& label_names,
                    std::span<const double> buckets) {
  if (!IsMetricName(name)) return "is not a metric name";
  if (type == MetricsPage::Type::kCounter && !EndsWith(name, "_total")) {
    return "is a counter whose name does not end in _total";
  }
  if (type == MetricsPage::Type::kHistogram) {
    for (const std::string_view suffix : {"_bucket", "_sum", "_count", "_total"}) {
      if (EndsWith(name, suffix)) return "is a histogram whose name ends in " + std::string(suffix);
    }
    for (size_t i = 0; i < buckets.size(); ++i) {
      if (!std::isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1])) {
        return "has buckets that are not finite and strictly increasing";
      }
    }
  }
  for (size_t i = 0; i < label_names.size(); ++i) {
    const std::string_view label = label_names[i];
    if (!IsLabelName(label)) return "has a bad label name \"" + std::string(label) + "\"";
    if (type == MetricsPage::Type::kHistogram && label == "le") {
      return "is a histogram with a label named le";
    }
    for (size_t j = 0; j < i; ++j) {
      if (label_names[j] == label) return "names the label " + std::string(label) + " twice";
    }
  }
  return {};
}

}  // namespace

std::string FormatMetricValue(uint64_t value) { return ToChars(value); }

std::string FormatMetricValue(int64_t value) { return ToChars(value); }

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // The shortest text that reads back to the same double; without an exponent from 1e-4 up to
  // 1e21 (le="0.0005", not "5e-04"; a start time in seconds with all its digits).
  const double magnitude = std::fabs(value);
  char text[64];
  const auto result =
      magnitude == 0 || (magnitude >= 1e-4 && magnitude < 1e21)
          ? std::to_chars(text, text + sizeof(text), value, std::chars_format::fixed)
          : std::to_chars(text, text + sizeof(text), value);
  return std::string(text, result.ptr);
}

std::string EscapeLabelValue(std::string_view value) { return Escape(value, true); }

bool IsMetricName(std::string_view name) { return IsName(name, true); }

bool IsLabelName(std::string_view name) {
  return IsName(name, false) && !(name.size() >= 2 && name.substr(0, 2) == "__");
}

MetricsPage::MetricsPage() = default;
MetricsPage::~MetricsPage() = default;

MetricsPage::Family MetricsPage::Counter(std::string_view name, std::string_view help,
                                         std::vector<std::string_view> label_names) {
  return Declare(name, help, Type::kCounter, std::move(label_names), {});
}

MetricsPage::Family MetricsPage::Gauge(std::string_view name, std::string_view help,
                                       std::vector<std::string_view> label_names) {
  return Declare(name, help, Type::kGauge, std::move(label_names), {});
}

MetricsPage::Family MetricsPage::Histogram(std::string_view name, std::string_view help,
                                           std::vector<std::string_view> label_names,
                                           std::span<const double> buckets) {
  return Declare(name, help, Type::kHistogram, std::move(label_names), buckets);
}

MetricsPage::Family MetricsPage::Declare(std::string_view name, std::string_view help, Type type,
                                         std::vector<std::string_view> label_names,
                                         std::span<const double> buckets) {
  if (refused_.contains(name)) return Family(this, nullptr);
  for (const auto& family : families_) {
    if (family->name != name) continue;
    const bool same =
        family->type == type &&
        std::equal(family->label_names.begin(), family->label_names.end(), label_names.begin(),
                   label_names.end()) &&
        std::equal(family->buckets.begin(), family->buckets.end(), buckets.begin(), buckets.end());
    if (same) return Family(this, family.get());
    errors_.push_back("metric family " + std::string(name) +
                      " declared again with another type, labels or buckets; the second refused");
    return Family(this, nullptr);
  }
  if (const std::string why = Refusal(name, type, label_names, buckets); !why.empty()) {
    errors_.push_back("metric family \"" + std::string(name) + "\" refused: it " + why + ".");
    refused_.emplace(name);
    return Family(this, nullptr);
  }
  auto data = std::make_unique<Family::Data>();
  data->name = std::string(name);
  data->help = Escape(help, false);
  data->type = type;
  data->label_names.assign(label_names.begin(), label_names.end());
  data->buckets.assign(buckets.begin(), buckets.end());
  for (const double bucket : buckets) data->bucket_labels.push_back(FormatMetricValue(bucket));
  families_.push_back(std::move(data));
  return Family(this, families_.back().get());
}

bool MetricsPage::Family::Labels(LabelValues values, std::string& out) {
  if (values.size() != data_->label_names.size()) {
    page_->errors_.push_back("a sample of " + data_->name + " has " +
                             std::to_string(values.size()) + " label values, not " +
                             std::to_string(data_->label_names.size()) + "; left out.");
    return false;
  }
  out.clear();
  size_t i = 0;
  for (const std::string_view value : values) {
    out += i == 0 ? "{" : ",";
    out += data_->label_names[i++];
    out += "=\"";
    out += EscapeLabelValue(value);
    out += '"';
  }
  if (!out.empty()) out += '}';
  if (!data_->series.insert(out).second) {
    page_->errors_.push_back("a second sample of " + data_->name + out + "; left out.");
    return false;
  }
  return true;
}

void MetricsPage::Family::AddFormatted(LabelValues values, const std::string& value) {
  if (data_ == nullptr) return;
  if (data_->type == Type::kHistogram) {
    page_->errors_.push_back("a plain sample given to the histogram " + data_->name +
                             "; left out.");
    return;
  }
  std::string labels;
  if (!Labels(values, labels)) return;
  std::string& out = data_->samples;
  out += data_->name;
  out += labels;
  out += ' ';
  out += value;
  out += '\n';
}

void MetricsPage::Family::AddHistogram(LabelValues values, std::span<const uint64_t> per_bucket,
                                       uint64_t count, double sum) {
  if (data_ == nullptr) return;
  if (data_->type != Type::kHistogram || per_bucket.size() != data_->buckets.size()) {
    page_->errors_.push_back("a histogram sample given to " + data_->name +
                             " does not fit its buckets; left out.");
    return;
  }
  std::string labels;
  if (!Labels(values, labels)) return;
  // The "le" label goes last inside the block: "{a="x",le="0.5"}" or "{le="0.5"}".
  const std::string open = labels.empty() ? "{" : labels.substr(0, labels.size() - 1) + ",";
  std::string& out = data_->samples;
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= per_bucket.size(); ++i) {
    const bool last = i == per_bucket.size();
    if (!last) cumulative += per_bucket[i];
    out += data_->name + "_bucket" + open + "le=\"" + (last ? "+Inf" : data_->bucket_labels[i]) +
           "\"} " + FormatMetricValue(last ? count : cumulative) + "\n";
  }
  out += data_->name + "_sum" + labels + " " + FormatMetricValue(sum) + "\n";
  out += data_->name + "_count" + labels + " " + FormatMetricValue(count) + "\n";
}

std::string MetricsPage::Text() const {
  std::string out;
  for (const auto& family : families_) {
    out += "# HELP " + family->name + " " + family->help + "\n";
    out += "# TYPE " + family->name + " " + TypeName(family->type) + "\n";
    out += family->samples;
  }
  return out;
}

}  // namespace dove::base
