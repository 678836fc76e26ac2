// Fuzzes ParseIcmpv4 and the error-quote helper; checks the views stay in the buffer and that a
// message re-checksummed with FinishIcmpv4 verifies.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "net/icmpv4.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dove::net;  // NOLINT(google-build-using-namespace): a fuzz entry point
  const ByteSpan input(data, size);

  Check(Icmpv4ErrorQuoteLength(input) <= size);

  const auto verified = ParseIcmpv4(input);
  auto parsed = ParseIcmpv4(input, /*verify_checksum=*/false);
  Check(parsed.has_value() == (size >= sizeof(Icmpv4Header)));
  if (!parsed) {
    Check(!verified && verified.error() == Error::kTruncated);
    return 0;
  }
  Check(parsed->body.data() == data + sizeof(Icmpv4Header));
  Check(sizeof(Icmpv4Header) + parsed->body.size() == size);
  Check(parsed->type() == data[0] && parsed->code() == data[1]);
  Check(parsed->identifier() == (data[4] << 8 | data[5]));
  Check(parsed->sequence() == (data[6] << 8 | data[7]));
  if (verified) Check(verified->body.data() == parsed->body.data());

  // Re-checksummed, every message verifies and keeps everything but the checksum.
  std::vector<uint8_t> copy(input.begin(), input.end());
  FinishIcmpv4(copy);
  const auto finished = ParseIcmpv4(copy);
  Check(finished.has_value());
  Check(finished->type() == parsed->type() && finished->header.rest == parsed->header.rest);
  // 0x0000 and 0xffff are the two one's complement zeros: a message holding either verifies,
  // and FinishIcmpv4 writes 0x0000 where the sender may have written 0xffff.
  if (verified) {
    const uint16_t mine = finished->header.checksum.value();
    const uint16_t theirs = verified->header.checksum.value();
    Check(mine == theirs || (mine == 0 && theirs == 0xffff));
  }
  return 0;
}
