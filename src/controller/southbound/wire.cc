#include "controller/southbound/wire.h"

#include <google/protobuf/wire_format_lite.h>

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

}  // namespace dove::controller::southbound
