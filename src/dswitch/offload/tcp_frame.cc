#include "dswitch/offload/tcp_frame.h"

#include "net/checksum.h"
#include "net/ethernet.h"
#include "net/ip_proto.h"
#include "net/ipv4.h"
#include "net/ipv6.h"
#include "net/tcp.h"

namespace dove::dswitch::offload {

uint16_t TcpFrame::TcpChecksum(net::ByteSpan tcp_bytes) const {
  return ipv6 ? net::TcpChecksum(source6, destination6, tcp_bytes)
              : net::TcpChecksum(source4, destination4, tcp_bytes);
}

uint64_t TcpFrame::PseudoHeaderSum(size_t tcp_length) const {
  return ipv6 ? net::PseudoHeaderSum(source6, destination6, net::ip_proto::kTcp,
                                     static_cast<uint32_t>(tcp_length))
              : net::PseudoHeaderSum(source4, destination4, net::ip_proto::kTcp,
                                     static_cast<uint16_t>(tcp_length));
}

bool TcpFrame::ChecksumsVerify(net::ByteSpan frame) const {
  if (!ipv6 && net::InternetChecksum(frame.subspan(ip_at, tcp_at - ip_at)) != 0) return false;
  // Summed with its checksum field, a segment folds to 0 (either zero of ones' complement is
  // accepted in the field, as receivers do: Linux writes 0xffff for a computed 0).
  const net::ByteSpan tcp = frame.subspan(tcp_at, tcp_size());
  return net::ChecksumFold(net::ChecksumAdd(tcp, PseudoHeaderSum(tcp.size()))) == 0;
}

Expected<TcpFrame, const char*> ParseTcpFrame(net::ByteSpan frame) {
  const auto ethernet = net::ParseEthernet(frame);
  if (!ethernet) return Unexpected("the Ethernet header does not parse");
  TcpFrame tcp_frame;
  tcp_frame.vlan_tagged = ethernet->vlan.has_value();
  tcp_frame.ip_at = ethernet->header_size;
  net::ByteSpan ip_payload;
  if (ethernet->ether_type == net::ether_type::kIpv4) {
    const auto ip = net::ParseIpv4(ethernet->payload, /*verify_checksum=*/false);
    if (!ip) return Unexpected("the IPv4 header does not parse");
    if (ip->protocol() != net::ip_proto::kTcp) return Unexpected("the IPv4 packet is not TCP");
    if (ip->IsFragment()) return Unexpected("the IPv4 packet is a fragment");
    tcp_frame.ip_options = ip->header_size != sizeof(net::Ipv4Header);
    tcp_frame.tcp_at = tcp_frame.ip_at + ip->header_size;
    tcp_frame.source4 = ip->source();
    tcp_frame.destination4 = ip->destination();
    ip_payload = ip->payload;
  } else if (ethernet->ether_type == net::ether_type::kIpv6) {
    const auto ip = net::ParseIpv6(ethernet->payload);
    if (!ip) return Unexpected("the IPv6 header does not parse");
    if (ip->upper_protocol != net::ip_proto::kTcp) return Unexpected("the IPv6 packet is not TCP");
    if (ip->fragment) return Unexpected("the IPv6 packet is a fragment");
    tcp_frame.ipv6 = true;
    tcp_frame.ip_options = ip->header_size != sizeof(net::Ipv6Header);
    tcp_frame.tcp_at = tcp_frame.ip_at + ip->header_size;
    tcp_frame.source6 = ip->source();
    tcp_frame.destination6 = ip->destination();
    ip_payload = ip->payload;
  } else {
    return Unexpected("the frame carries neither IPv4 nor IPv6");
  }
  const auto tcp = net::ParseTcp(ip_payload);
  if (!tcp) return Unexpected("the TCP header does not parse");
  tcp_frame.payload_at = tcp_frame.tcp_at + tcp->header_size;
  tcp_frame.payload_end = tcp_frame.tcp_at + ip_payload.size();
  return tcp_frame;
}

}  // namespace dove::dswitch::offload
