// Fuzzes ParseDhcp and the options getters; answers every request that parses with
// BuildDhcpReply and requires our own reply to parse back to the same transaction.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "net/dhcpv4.h"

namespace {

using dove::net::ByteSpan;
using dove::net::DhcpMessage;
using dove::net::DhcpMessageType;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Inside(ByteSpan view, ByteSpan buffer) {
  return view.data() >= buffer.data() && view.data() + view.size() <= buffer.data() + buffer.size();
}

void CheckGetters(const DhcpMessage& message, ByteSpan options) {
  for (int code = 0; code <= 255; ++code) {
    auto value = dove::net::FindOption(message, static_cast<uint8_t>(code));
    if (value) Check(Inside(*value, options) && value->size() <= 255);
  }
  dove::net::RequestedIp(message);
  dove::net::ServerId(message);
  dove::net::LeaseTime(message);
  dove::net::MaxMessageSize(message);
  if (auto list = dove::net::ParameterRequestList(message)) Check(Inside(*list, options));
  if (auto id = dove::net::ClientId(message)) Check(Inside(*id, options) && id->size() >= 2);
  if (auto name = dove::net::Hostname(message)) {
    Check(!name->empty() &&
          Inside(ByteSpan(reinterpret_cast<const uint8_t*>(name->data()), name->size()), options));
  }
}

void Answer(const DhcpMessage& request, DhcpMessageType reply_type) {
  dove::net::DhcpReplyParams params;
  params.type = reply_type;
  params.your_ip = dove::net::Ipv4Address::FromUint32(0x0a000005);
  params.server_id = dove::net::Ipv4Address::FromUint32(0x0a000001);
  params.lease_seconds = 3600;
  params.subnet_mask = dove::net::Ipv4Address::FromUint32(0xffffff00);
  params.routers = {params.server_id};
  params.dns_servers = {params.server_id, dove::net::Ipv4Address::FromUint32(0xc0000235)};
  params.mtu = 1450;
  params.hostname = "vm1";
  auto bytes = dove::net::BuildDhcpReply(request, params);
  // The parameters are valid and fit the type, so only a client's size limit can refuse them
  // (a long client id echoed back).
  if (!bytes) {
    Check(bytes.error() == dove::net::Error::kNoSpace);
    return;
  }
  Check(bytes->size() >= dove::net::dhcp::kMinMessageSize);
  auto reply = dove::net::ParseDhcp(*bytes);
  Check(reply.has_value());
  Check(reply->op() == dove::net::dhcp::kBootReply && reply->type == reply_type);
  Check(reply->xid() == request.xid() && reply->flags() == request.flags());
  Check(reply->client_mac() == request.client_mac() && reply->giaddr() == request.giaddr());
  Check(dove::net::ServerId(*reply) == params.server_id);
  const auto request_id = dove::net::ClientId(request);
  const auto reply_id = dove::net::ClientId(*reply);
  Check(request_id.has_value() == reply_id.has_value());
  if (request_id) {
    Check(std::vector<uint8_t>(request_id->begin(), request_id->end()) ==
          std::vector<uint8_t>(reply_id->begin(), reply_id->end()));
  }
  CheckGetters(*reply, reply->options);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan input(data, size);
  auto message = dove::net::ParseDhcp(input);
  if (!message) return 0;
  Check(size >= 240);
  Check(message->options.data() == data + 240 && Inside(message->options, input));
  CheckGetters(*message, message->options);
  if (message->op() != dove::net::dhcp::kBootRequest) return 0;
  switch (message->type) {
    case DhcpMessageType::kDiscover:
      Answer(*message, DhcpMessageType::kOffer);
      break;
    case DhcpMessageType::kRequest:
      Answer(*message, DhcpMessageType::kAck);
      Answer(*message, DhcpMessageType::kNak);
      break;
    case DhcpMessageType::kInform:
      Answer(*message, DhcpMessageType::kAck);
      break;
    default:
      break;
  }
  return 0;
}
