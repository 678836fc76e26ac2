// Endpoint labels (Endpoint.labels, "external ids"): their rules and the label selector of
// GET /v1/endpoints?label=...
//
// A label is KEY=VALUE. KEY: 1..63 characters of [A-Za-z0-9._/-], starting with a letter or
// digit ("vm-uuid", "cni/container-id"). VALUE: 0..253 printable ASCII characters (space
// included) except ',', which separates the terms of a selector. An endpoint has at most
// kMaxLabels of them.
//
// A selector is one or more comma-separated terms, all of which must hold:
//   KEY=VALUE   the endpoint has label KEY with exactly this value
//   KEY         the endpoint has label KEY, whatever its value
// "app=web,tier" selects the endpoints labelled app=web that also carry a tier label.
// ParseLabelSelector refuses an empty selector, an empty term and a bad key or value with one
// sentence (code invalid_value) that quotes what was given.
//
//   auto selector = ParseLabelSelector("cni/container-id=4f2a");
//   if (!selector) return Reply(400, selector.error());
//   if (Matches(*selector, endpoint.labels())) ...
#pragma once

#include <google/protobuf/map.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/model_error.h"

namespace dove::model {

inline constexpr size_t kMaxLabels = 32;
inline constexpr size_t kMaxLabelKeyLength = 63;
inline constexpr size_t kMaxLabelValueLength = 253;

ModelResult<void> ValidateLabelKey(std::string_view key);
ModelResult<void> ValidateLabelValue(std::string_view key, std::string_view value);
// Every label, and their number.
ModelResult<void> ValidateLabels(const google::protobuf::Map<std::string, std::string>& labels);

struct LabelTerm {
  std::string key;
  std::optional<std::string> value;  // nullopt: the key only has to be there
};
using LabelSelector = std::vector<LabelTerm>;

ModelResult<LabelSelector> ParseLabelSelector(std::string_view text);
bool Matches(const LabelSelector& selector,
             const google::protobuf::Map<std::string, std::string>& labels);

}  // namespace dove::model
