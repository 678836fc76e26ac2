#include "net/checksum.h"

namespace dove::net {

uint64_t ChecksumAdd(ByteSpan data, uint64_t sum) {
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += static_cast<uint64_t>(data[i] << 8 | data[i + 1]);
  if (i < data.size()) sum += static_cast<uint64_t>(data[i]) << 8;
  return sum;
}

uint16_t ChecksumFold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

uint16_t InternetChecksum(ByteSpan data) { return ChecksumFold(ChecksumAdd(data)); }

uint64_t PseudoHeaderSum(const Ipv4Address& source, const Ipv4Address& destination,
                         uint8_t protocol, uint16_t length) {
  uint64_t sum = ChecksumAdd(source.bytes());
  sum = ChecksumAdd(destination.bytes(), sum);
  return sum + protocol + length;
}

uint64_t PseudoHeaderSum(const Ipv6Address& source, const Ipv6Address& destination,
                         uint8_t next_header, uint32_t length) {
  uint64_t sum = ChecksumAdd(source.bytes());
  sum = ChecksumAdd(destination.bytes(), sum);
  return sum + (length >> 16) + (length & 0xffff) + next_header;
}

uint16_t ChecksumUpdate(uint16_t checksum, uint16_t old_word, uint16_t new_word) {
  const uint64_t sum = static_cast<uint64_t>(static_cast<uint16_t>(~checksum)) +
                       static_cast<uint16_t>(~old_word) + new_word;
  return ChecksumFold(sum);
}

}  // namespace dove::net
