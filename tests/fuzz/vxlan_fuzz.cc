// Fuzzes ParseVxlan under both receive policies, MakeVxlanHeader on what parses, and the
// flow hash / source port on the input and the inner frame.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "net/frame_builder.h"
#include "net/vxlan.h"

namespace {

using dove::net::ByteSpan;

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckPort(ByteSpan frame) {
  const uint32_t hash = dove::net::InnerFlowHash(frame);
  Check(hash == dove::net::InnerFlowHash(frame));
  Check(dove::net::VxlanSourcePort(hash) >= dove::net::kVxlanSourcePortMin);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dove::net::VxlanReceivePolicy;
  const ByteSpan input(data, size);
  CheckPort(input);
  auto strict = dove::net::ParseVxlan(input, VxlanReceivePolicy::kStrict);
  auto lenient = dove::net::ParseVxlan(input, VxlanReceivePolicy::kLenient);
  // Strict accepts a subset of what lenient accepts.
  if (strict) Check(lenient.has_value() && lenient->vni == strict->vni);
  if (!lenient) return 0;

  const auto& packet = *lenient;
  Check(size >= 8 + 14);
  Check(packet.inner_frame.data() == data + 8 && packet.inner_frame.size() == size - 8);
  Check(packet.vni <= dove::net::kMaxVni);
  Check((packet.flags & dove::net::kVxlanFlagI) != 0);
  if (strict) Check(strict->flags == dove::net::kVxlanFlagI);
  CheckPort(packet.inner_frame);

  // What we build for the same VNI and inner frame parses strictly, to the same values.
  auto header = dove::net::MakeVxlanHeader(packet.vni);
  Check(header.has_value());
  dove::net::FrameBuilder builder;
  builder.Append(*header);
  builder.Append(packet.inner_frame);
  auto again = dove::net::ParseVxlan(builder.bytes());
  Check(again.has_value() && again->vni == packet.vni &&
        again->inner_frame.size() == packet.inner_frame.size());
  return 0;
}
