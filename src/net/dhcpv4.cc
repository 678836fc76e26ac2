#include "net/dhcpv4.h"

#include <algorithm>

#include "net/frame_builder.h"

namespace dove::net {
namespace {

constexpr size_t kCookieOffset = sizeof(DhcpHeader);
constexpr size_t kOptionsOffset = kCookieOffset + sizeof(Be32);
constexpr size_t kMaxAddressList = dhcp_option::kMaxLength / 4;  // 63
constexpr uint16_t kMinMtu = 68;                                 // RFC 2132 section 5.1

// One step of the options walk: an option, the end of the options (END, or the end of the
// area), or an option cut short by the end of the area.
struct OptionStep {
  enum Kind : uint8_t { kOption, kEnd, kTruncated } kind;
  uint8_t code;
  ByteSpan value;
};

// Reads the option at `*offset` of `area`, skipping PADs, and moves `*offset` past it. At
// kEnd, `*offset` is at END or at the end of the area.
OptionStep NextOption(ByteSpan area, size_t* offset) {
  while (*offset < area.size() && area[*offset] == dhcp_option::kPad) ++*offset;
  if (*offset >= area.size() || area[*offset] == dhcp_option::kEnd) {
    return {OptionStep::kEnd, 0, {}};
  }
  if (area.size() - *offset < 2) return {OptionStep::kTruncated, 0, {}};
  const uint8_t code = area[*offset];
  const size_t length = area[*offset + 1];
  if (area.size() - *offset - 2 < length) return {OptionStep::kTruncated, 0, {}};
  const ByteSpan value = area.subspan(*offset + 2, length);
  *offset += 2 + length;
  return {OptionStep::kOption, code, value};
}

// Whether `length` is one RFC 2132 allows for an option this file reads or writes. Options
// this file does not interpret are not checked.
bool LengthAllowed(uint8_t code, size_t length) {
  switch (code) {
    case dhcp_option::kSubnetMask:
    case dhcp_option::kBroadcastAddress:
    case dhcp_option::kRequestedIp:
    case dhcp_option::kServerId:
    case dhcp_option::kLeaseTime:
    case dhcp_option::kRenewalTime:
    case dhcp_option::kRebindingTime:
      return length == 4;
    case dhcp_option::kInterfaceMtu:
    case dhcp_option::kMaxMessageSize:
      return length == 2;
    case dhcp_option::kRouter:
    case dhcp_option::kDnsServer:
      return length >= 4 && length % 4 == 0;
    case dhcp_option::kHostname:
    case dhcp_option::kParameterRequestList:
      return length >= 1;
    case dhcp_option::kClientId:
      return length >= 2;
    default:
      return true;
  }
}

std::optional<Ipv4Address> AddressOption(const DhcpMessage& message, uint8_t code) {
  const auto value = FindOption(message, code);
  if (!value || value->size() != 4) return std::nullopt;
  return Ipv4Address({(*value)[0], (*value)[1], (*value)[2], (*value)[3]});
}

// Appends options to a reply. Callers have checked every value fits in 255 bytes.
class OptionWriter {
 public:
  explicit OptionWriter(FrameBuilder& builder) : builder_(builder) {}

  void Add(uint8_t code, ByteSpan value) {
    const std::array<uint8_t, 2> head = {code, static_cast<uint8_t>(value.size())};
    builder_.Append(ByteSpan(head));
    builder_.Append(value);
  }
  void Add8(uint8_t code, uint8_t value) { Add(code, ByteSpan(&value, 1)); }
  void Add16(uint8_t code, uint16_t value) { Add(code, Be16::Of(value).bytes); }
  void Add32(uint8_t code, uint32_t value) { Add(code, Be32::Of(value).bytes); }
  void AddAddress(uint8_t code, const Ipv4Address& address) { Add(code, address.bytes()); }
  void AddAddresses(uint8_t code, const std::vector<Ipv4Address>& addresses) {
    if (addresses.empty()) return;
    const std::array<uint8_t, 2> head = {code, static_cast<uint8_t>(addresses.size() * 4)};
    builder_.Append(ByteSpan(head));
    for (const Ipv4Address& address : addresses) builder_.Append(ByteSpan(address.bytes()));
  }

 private:
  FrameBuilder& builder_;
};

// The reply types that answer each request type (RFC 2131 section 3 and table 3).
bool Answers(DhcpMessageType reply, DhcpMessageType request) {
  switch (reply) {
    case DhcpMessageType::kOffer:
      return request == DhcpMessageType::kDiscover;
    case DhcpMessageType::kAck:
      return request == DhcpMessageType::kRequest || request == DhcpMessageType::kInform;
    case DhcpMessageType::kNak:
      return request == DhcpMessageType::kRequest;
    default:
      return false;
  }
}

struct LeaseTimers {
  std::optional<uint32_t> renewal;
  std::optional<uint32_t> rebinding;
};

// T1 and T2 as sent: the caller's, or RFC 2131 section 4.4.5's defaults (0.5 and 0.875 of the
// lease) kept in order with a value the caller did give. None by default for an infinite lease.
LeaseTimers TimersFor(const DhcpReplyParams& params) {
  const uint32_t lease = params.lease_seconds;
  if (lease == dhcp::kInfiniteLease) return {params.renewal_seconds, params.rebinding_seconds};
  const uint32_t t1_default = lease / 2;
  const auto t2_default = static_cast<uint32_t>(static_cast<uint64_t>(lease) * 7 / 8);
  const uint32_t t1 = params.renewal_seconds.value_or(
      std::min(t1_default, params.rebinding_seconds.value_or(t1_default)));
  const uint32_t t2 = params.rebinding_seconds.value_or(std::max(t2_default, t1));
  return {t1, t2};
}

Expected<void, Error> CheckParams(const DhcpMessage& request, const DhcpReplyParams& params,
                                  bool sends_lease) {
  if (request.op() != dhcp::kBootRequest || !Answers(params.type, request.type) ||
      params.server_id.IsUnspecified() || (sends_lease && params.your_ip.IsUnspecified())) {
    return Unexpected(Error::kBadField);
  }
  if (params.type == DhcpMessageType::kNak) return {};
  if (sends_lease) {
    const uint32_t lease = params.lease_seconds;
    const LeaseTimers timers = TimersFor(params);
    const uint32_t t2 = timers.rebinding.value_or(lease);
    const uint32_t t1 = timers.renewal.value_or(std::min(t2, lease));
    if (lease == 0 || t1 > t2 || t2 > lease) return Unexpected(Error::kOutOfRange);
  }
  if (params.routers.size() > kMaxAddressList || params.dns_servers.size() > kMaxAddressList ||
      params.hostname.size() > dhcp_option::kMaxLength || (params.mtu && *params.mtu < kMinMtu)) {
    return Unexpected(Error::kOutOfRange);
  }
  return {};
}

}  // namespace

MacAddress DhcpMessage::client_mac() const {
  return MacAddress({header.chaddr[0], header.chaddr[1], header.chaddr[2], header.chaddr[3],
                     header.chaddr[4], header.chaddr[5]});
}

Result<DhcpMessage> ParseDhcp(ByteSpan udp_payload) {
  const auto header = LoadHeader<DhcpHeader>(udp_payload);
  if (!header) return Unexpected(Error::kTruncated);
  if (header->op != dhcp::kBootRequest && header->op != dhcp::kBootReply) {
    return Unexpected(Error::kBadField);
  }
  if (header->htype != dhcp::kHtypeEthernet || header->hlen != 6) {
    return Unexpected(Error::kUnsupported);
  }
  const auto cookie = LoadHeader<Be32>(udp_payload.subspan(kCookieOffset));
  if (!cookie) return Unexpected(Error::kTruncated);
  if (cookie->value() != dhcp::kMagicCookie) return Unexpected(Error::kBadField);

  // The walk reports the first problem met, in option order.
  const ByteSpan area = udp_payload.subspan(kOptionsOffset);
  std::optional<DhcpMessageType> type;
  size_t offset = 0;
  for (;;) {
    const OptionStep step = NextOption(area, &offset);
    if (step.kind == OptionStep::kEnd) break;
    if (step.kind == OptionStep::kTruncated) return Unexpected(Error::kTruncated);
    if (!LengthAllowed(step.code, step.value.size())) return Unexpected(Error::kBadLength);
    if (step.code == dhcp_option::kOverload) return Unexpected(Error::kUnsupported);
    if (step.code == dhcp_option::kMessageType) {
      if (type || step.value.size() != 1 ||
          step.value[0] < static_cast<uint8_t>(DhcpMessageType::kDiscover) ||
          step.value[0] > static_cast<uint8_t>(DhcpMessageType::kInform)) {
        return Unexpected(Error::kBadField);
      }
      type = static_cast<DhcpMessageType>(step.value[0]);
    }
  }
  if (!type) return Unexpected(Error::kBadField);
  DhcpMessage message;
  message.header = *header;
  message.type = *type;
  message.options = area.first(offset);
  return message;
}

std::optional<ByteSpan> FindOption(const DhcpMessage& message, uint8_t code) {
  if (code == dhcp_option::kPad || code == dhcp_option::kEnd) return std::nullopt;
  size_t offset = 0;
  for (;;) {
    const OptionStep step = NextOption(message.options, &offset);
    if (step.kind != OptionStep::kOption) return std::nullopt;
    if (step.code == code) return step.value;
  }
}

std::optional<Ipv4Address> RequestedIp(const DhcpMessage& message) {
  return AddressOption(message, dhcp_option::kRequestedIp);
}

std::optional<Ipv4Address> ServerId(const DhcpMessage& message) {
  return AddressOption(message, dhcp_option::kServerId);
}

std::optional<uint32_t> LeaseTime(const DhcpMessage& message) {
  const auto value = FindOption(message, dhcp_option::kLeaseTime);
  if (!value) return std::nullopt;
  const auto seconds = LoadHeader<Be32>(*value);
  if (!seconds || value->size() != sizeof(Be32)) return std::nullopt;
  return seconds->value();
}

std::optional<uint16_t> MaxMessageSize(const DhcpMessage& message) {
  const auto value = FindOption(message, dhcp_option::kMaxMessageSize);
  if (!value) return std::nullopt;
  const auto size = LoadHeader<Be16>(*value);
  if (!size || value->size() != sizeof(Be16)) return std::nullopt;
  return size->value();
}

std::optional<ByteSpan> ParameterRequestList(const DhcpMessage& message) {
  auto value = FindOption(message, dhcp_option::kParameterRequestList);
  if (value && value->empty()) return std::nullopt;
  return value;
}

std::optional<ByteSpan> ClientId(const DhcpMessage& message) {
  auto value = FindOption(message, dhcp_option::kClientId);
  if (value && value->size() < 2) return std::nullopt;
  return value;
}

std::optional<std::string_view> Hostname(const DhcpMessage& message) {
  auto value = FindOption(message, dhcp_option::kHostname);
  if (!value) return std::nullopt;
  while (!value->empty() && value->back() == 0) *value = value->first(value->size() - 1);
  if (value->empty()) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(value->data()), value->size());
}

Result<std::vector<uint8_t>> BuildDhcpReply(const DhcpMessage& request,
                                            const DhcpReplyParams& params) {
  const bool nak = params.type == DhcpMessageType::kNak;
  // An ACK to INFORM configures a client that already has its address: no yiaddr, no lease
  // (RFC 2131 section 4.3.5).
  const bool inform = request.type == DhcpMessageType::kInform;
  const bool sends_lease = !nak && !inform;
  if (auto checked = CheckParams(request, params, sends_lease); !checked) {
    return Unexpected(checked.error());
  }

  DhcpHeader header{};
  header.op = dhcp::kBootReply;
  header.htype = dhcp::kHtypeEthernet;
  header.hlen = 6;
  header.xid = request.header.xid;
  header.flags = request.header.flags;
  header.giaddr = request.header.giaddr;
  header.chaddr = request.header.chaddr;
  if (params.type == DhcpMessageType::kAck) header.ciaddr = request.header.ciaddr;
  if (sends_lease) header.yiaddr = params.your_ip;
  if (!nak) header.siaddr = params.server_id;

  FrameBuilder builder(dhcp::kMinMessageSize);
  builder.Append(header);
  builder.Append(Be32::Of(dhcp::kMagicCookie));
  OptionWriter options(builder);
  options.Add8(dhcp_option::kMessageType, static_cast<uint8_t>(params.type));
  options.AddAddress(dhcp_option::kServerId, params.server_id);
  if (!nak) {
    if (sends_lease) {
      options.Add32(dhcp_option::kLeaseTime, params.lease_seconds);
      const LeaseTimers timers = TimersFor(params);
      if (timers.renewal) options.Add32(dhcp_option::kRenewalTime, *timers.renewal);
      if (timers.rebinding) options.Add32(dhcp_option::kRebindingTime, *timers.rebinding);
    }
    if (params.subnet_mask) options.AddAddress(dhcp_option::kSubnetMask, *params.subnet_mask);
    if (params.broadcast_address) {
      options.AddAddress(dhcp_option::kBroadcastAddress, *params.broadcast_address);
    }
    options.AddAddresses(dhcp_option::kRouter, params.routers);
    options.AddAddresses(dhcp_option::kDnsServer, params.dns_servers);
    if (params.mtu) options.Add16(dhcp_option::kInterfaceMtu, *params.mtu);
    if (!params.hostname.empty()) {
      options.Add(dhcp_option::kHostname,
                  ByteSpan(reinterpret_cast<const uint8_t*>(params.hostname.data()),
                           params.hostname.size()));
    }
  }
  if (const auto client_id = ClientId(request)) options.Add(dhcp_option::kClientId, *client_id);
  const uint8_t end = dhcp_option::kEnd;
  builder.Append(ByteSpan(&end, 1));
  if (builder.size() < dhcp::kMinMessageSize) {
    builder.AppendZeros(dhcp::kMinMessageSize - builder.size());
  }

  // Option 57 counts the whole IP datagram (RFC 2132 section 9.10 says "DHCP message", but
  // clients derive it from their MTU): the smaller reading is the one every client accepts.
  // Values below the legal minimum of 576 are read as 576.
  const uint16_t max_datagram = std::max(
      MaxMessageSize(request).value_or(dhcp::kDefaultMaxDatagram), dhcp::kDefaultMaxDatagram);
  if (builder.size() > max_datagram - dhcp::kIpUdpHeaderSize) return Unexpected(Error::kNoSpace);
  return std::move(builder).Take();
}

}  // namespace dove::net
