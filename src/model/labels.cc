#include "model/labels.h"

#include <string>

#include "model/json_parser.h"

namespace dove::model {
namespace {

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '/' || c == '-';
}

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

ModelResult<void> ValidateLabelKey(std::string_view key) {
  if (key.empty()) return Fail("invalid_value", "a label key must not be empty.");
  if (key.size() > kMaxLabelKeyLength) {
    return Fail("invalid_value",
                "label key " + QuoteForMessage(key) + " is " + std::to_string(key.size()) +
                    " characters long; the limit is " + std::to_string(kMaxLabelKeyLength) + ".");
  }
  for (char c : key) {
    if (!IsKeyChar(c)) {
      return Fail("invalid_value", "label key " + QuoteForMessage(key) +
                                       " may hold only letters, digits, '.', '_', '/' and '-'.");
    }
  }
  if (!IsAlnum(key.front())) {
    return Fail("invalid_value",
                "label key " + QuoteForMessage(key) + " must start with a letter or digit.");
  }
  return {};
}

ModelResult<void> ValidateLabelValue(std::string_view key, std::string_view value) {
  if (value.size() > kMaxLabelValueLength) {
    return Fail("invalid_value", "the value of label " + QuoteForMessage(key) + " is " +
                                     std::to_string(value.size()) +
                                     " characters long; the limit is " +
                                     std::to_string(kMaxLabelValueLength) + ".");
  }
  for (char c : value) {
    if (c < 0x20 || c > 0x7e || c == ',') {
      return Fail("invalid_value", "the value of label " + QuoteForMessage(key) +
                                       " may hold only printable ASCII characters other than ','.");
    }
  }
  return {};
}

ModelResult<void> ValidateLabels(const google::protobuf::Map<std::string, std::string>& labels) {
  if (labels.size() > kMaxLabels) {
    return Fail("invalid_value", "labels holds " + std::to_string(labels.size()) +
                                     " labels; the limit is " + std::to_string(kMaxLabels) + ".");
  }
  for (const auto& [key, value] : labels) {
    if (auto ok = ValidateLabelKey(key); !ok) return ok;
    if (auto ok = ValidateLabelValue(key, value); !ok) return ok;
  }
  return {};
}

ModelResult<LabelSelector> ParseLabelSelector(std::string_view text) {
  if (text.empty()) return Fail("invalid_value", "the label selector is empty.");
  LabelSelector selector;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string_view term = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (term.empty()) {
      return Fail("invalid_value",
                  "the label selector " + QuoteForMessage(text) + " has an empty term.");
    }
    const size_t equals = term.find('=');
    LabelTerm parsed{.key = std::string(term.substr(0, equals)), .value = std::nullopt};
    if (auto ok = ValidateLabelKey(parsed.key); !ok) return Unexpected(ok.error());
    if (equals != std::string_view::npos) {
      const std::string_view value = term.substr(equals + 1);
      if (auto ok = ValidateLabelValue(parsed.key, value); !ok) return Unexpected(ok.error());
      parsed.value = std::string(value);
    }
    selector.push_back(std::move(parsed));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return selector;
}

bool Matches(const LabelSelector& selector,
             const google::protobuf::Map<std::string, std::string>& labels) {
  for (const LabelTerm& term : selector) {
    const auto found = labels.find(term.key);
    if (found == labels.end()) return false;
    if (term.value && found->second != *term.value) return false;
  }
  return true;
}

}  // namespace dove::model
