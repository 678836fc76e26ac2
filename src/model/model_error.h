// ModelError: why a model object was refused (bad JSON, a broken rule, a conflict).
//
// `code` is a short, stable, machine-readable string a REST client may switch on; `message`
// is one sentence a person understands, naming the field and, for a conflict, the object
// that already holds the value. The codes:
//   too_large        the JSON body exceeds kMaxJsonBytes
//   invalid_json     not JSON, trailing bytes, bad UTF-8, or not a JSON object
//   unknown_field    a key that is not a field of the message
//   duplicate_field  the same field twice in one object (also "domainId" with "domain_id")
//   invalid_value    a field's value has the wrong type, range, syntax or breaks a rule
//   not_found        a reference (domain_id, network_id, ...) names no object
//   conflict         the value is already held by another object (VNI, MAC, IP, overlap)
//   subnet_full      IPAM found no free address
//   vni_exhausted    no VNI is free
//   internal         a library failed in a way the input does not explain
#pragma once

#include <string>

#include "base/expected.h"

namespace dove::model {

struct ModelError {
  std::string code;
  std::string message;
};

template <typename T>
using ModelResult = Expected<T, ModelError>;

inline Unexpected<ModelError> Fail(std::string code, std::string message) {
  return Unexpected<ModelError>(ModelError{std::move(code), std::move(message)});
}

}  // namespace dove::model
