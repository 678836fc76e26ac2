// Fuzzes what a switch takes in for a live trace (dovectl trace --live): a TraceOrder as the
// controller sends it (agent::ControllerClient::CheckTraceOrder, then the frames the switch
// builds from an accepted one: userspace/trace_frames.h), and the frames AnsweredMac reads.
// First byte 0: the rest is a serialized v1::TraceOrder; an accepted order to inject builds
// frames that the project's own parsers take back, checksums verified, with the marker as the
// payload's end. Otherwise: the rest is a frame; AnsweredMac must not crash, and a MAC it finds
// is in an ARP reply or a Neighbor Advertisement for the address asked.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "dove/v1/switch.pb.h"
#include "dswitch/agent/controller_client.h"
#include "dswitch/userspace/trace_frames.h"
#include "net/ethernet.h"
#include "net/ipv4.h"
#include "net/ipv6.h"

namespace {

using dove::dswitch::userspace::TraceKind;

void Check(bool ok) {
  if (!ok) std::abort();
}

void FuzzOrder(const uint8_t* data, size_t size) {
  dove::v1::TraceOrder order;
  if (!order.ParseFromArray(data, static_cast<int>(size))) return;
  if (!dove::dswitch::agent::ControllerClient::CheckTraceOrder(order).empty()) return;
  if (!order.inject() || order.ip().empty()) return;
  const auto destination = dove::net::IpAddress::Parse(order.ip());
  Check(destination.has_value());
  const auto mac = *dove::net::MacAddress::Parse("52:54:00:00:00:01");
  const auto source = destination->is_v6() ? *dove::net::IpAddress::Parse("2001:db8::1")
                                           : *dove::net::IpAddress::Parse("10.0.0.1");
  const auto solicit = dove::dswitch::userspace::BuildSolicit(mac, source, *destination);
  Check(dove::net::ParseEthernet(solicit).has_value());
  const TraceKind kind = order.kind() == dove::v1::TraceOrder::KIND_TCP   ? TraceKind::kTcp
                         : order.kind() == dove::v1::TraceOrder::KIND_UDP ? TraceKind::kUdp
                                                                          : TraceKind::kIcmp;
  const std::vector<uint8_t> marker(order.marker().begin(), order.marker().end());
  const auto frame = dove::dswitch::userspace::BuildTracePacket(
      kind, mac, source, mac, *destination, static_cast<uint16_t>(order.port()),
      static_cast<uint16_t>(order.trace_id()), marker);
  const auto ethernet = dove::net::ParseEthernet(frame);
  Check(ethernet.has_value());
  if (destination->is_v6()) {
    Check(dove::net::ParseIpv6(ethernet->payload).has_value());
  } else {
    Check(dove::net::ParseIpv4(ethernet->payload).has_value());  // header checksum verified
  }
  Check(frame.size() >= marker.size() &&
        std::equal(marker.begin(), marker.end(), frame.end() - static_cast<long>(marker.size())));
}

void FuzzAnswer(const uint8_t* data, size_t size) {
  const dove::net::ByteSpan frame(data, size);
  for (const char* text : {"10.0.0.9", "2001:db8::9"}) {
    const auto target = *dove::net::IpAddress::Parse(text);
    if (const auto mac = dove::dswitch::userspace::AnsweredMac(frame, target)) {
      const auto ethernet = dove::net::ParseEthernet(frame);
      Check(ethernet.has_value());
      Check(ethernet->ether_type ==
            (target.is_v4() ? dove::net::ether_type::kArp : dove::net::ether_type::kIpv6));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] == 0) {
    FuzzOrder(data + 1, size - 1);
  } else {
    FuzzAnswer(data + 1, size - 1);
  }
  return 0;
}
