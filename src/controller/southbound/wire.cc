#include "controller/southbound/wire.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "dove/v1/switch.pb.h"

namespace dove::controller::southbound {

using google::protobuf::internal::WireFormatLite;

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void AppendLengthDelimited(int field_number, std::string_view bytes, std::string* out) {
  AppendVarint(WireFormatLite::MakeTag(field_number, WireFormatLite::WIRETYPE_LENGTH_DELIMITED),
               out);
  AppendVarint(bytes.size(), out);
  out->append(bytes);
}

int64_t RevisionOf(std::string_view wire) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(wire.data()),
                                            static_cast<int>(wire.size()));
  const uint32_t revision_tag = WireFormatLite::MakeTag(v1::ControllerMessage::kRevisionFieldNumber,
                                                        WireFormatLite::WIRETYPE_VARINT);
  while (const uint32_t tag = in.ReadTag()) {
    if (tag == revision_tag) {
      uint64_t revision = 0;
      return in.ReadVarint64(&revision) ? static_cast<int64_t>(revision) : 0;
    }
    if (!WireFormatLite::SkipField(&in, tag)) return 0;
  }
  return 0;
}

}  // namespace dove::controller::southbound
