// Fuzzes the label selector of GET /v1/endpoints?label=...: a selector is accepted or refused
// with a code and a message, never a crash. An accepted one has a term per comma, each key
// valid; an endpoint labelled with exactly the selector's KEY=VALUE terms matches it.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "model/labels.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto selector = dove::model::ParseLabelSelector(text);
  if (!selector) {
    if (selector.error().code != "invalid_value" || selector.error().message.empty()) std::abort();
    return 0;
  }
  size_t commas = 0;
  for (char c : text) commas += c == ',' ? 1 : 0;
  if (selector->size() != commas + 1) std::abort();
  google::protobuf::Map<std::string, std::string> labels;
  bool consistent = true;  // no key asked for with two different values
  for (const auto& term : *selector) {
    if (!dove::model::ValidateLabelKey(term.key)) std::abort();
    const std::string value = term.value.value_or("");
    const auto [at, inserted] = labels.insert({term.key, value});
    if (!inserted && term.value && at->second != *term.value) consistent = false;
  }
  if (consistent && !dove::model::Matches(*selector, labels)) std::abort();
  return 0;
}
