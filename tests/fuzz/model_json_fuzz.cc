// Fuzzes the strict JSON decoder of every model message: whatever decodes must encode, and
// the encoding must decode to an equal message. Nothing may crash or throw.
#include <google/protobuf/util/message_differencer.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dove/v1/model.pb.h"
#include "model/json.h"

namespace {

template <typename T>
void RoundTrip(std::string_view text) {
  auto message = dove::model::FromJson<T>(text);
  if (!message) {
    if (message.error().code.empty() || message.error().message.empty()) std::abort();
    return;
  }
  auto json = dove::model::ToJson(*message);
  if (!json) std::abort();
  auto again = dove::model::FromJson<T>(*json);
  if (!again || !google::protobuf::util::MessageDifferencer::Equals(*again, *message)) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  RoundTrip<dove::v1::Domain>(text);
  RoundTrip<dove::v1::Network>(text);
  RoundTrip<dove::v1::Subnet>(text);
  RoundTrip<dove::v1::Endpoint>(text);
  RoundTrip<dove::v1::Switch>(text);
  RoundTrip<dove::v1::Policy>(text);
  return 0;
}
