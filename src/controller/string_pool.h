// StringPool: strings that many records share (a domain id, a network id, a switch name), held
// once each with a count of the records naming them.
//
// A record holds the pointer Hold() returned (8 bytes) instead of a std::string of its own (32
// bytes, and a heap block past 15 characters): at 100,000 endpoints naming a thousand networks
// and switches, that is most of what such fields cost.
//
// Ownership: the pool owns the strings; a pointer stays valid until Release() brings its count
// to 0. Hold("") is nullptr (no string), and TextOf(nullptr) is "". Not thread-safe: the owner
// serialises calls (the registry's index and the southbound's directory both do).
//
//   StringPool pool;
//   const std::string* network = pool.Hold(endpoint.network_id());
//   ... TextOf(network) ...
//   pool.Release(network);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dove::controller {

class StringPool {
 public:
  // The pooled copy of `text`, its count raised; nullptr for "".
  const std::string* Hold(std::string_view text);
  // Lowers the count of a pointer Hold returned (nullptr: nothing); frees the string at 0.
  void Release(const std::string* held);
  // Distinct strings held (for tests).
  size_t size() const { return counts_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> counts_;
};

// The text of a pooled pointer; "" for nullptr.
const std::string& TextOf(const std::string* held);

}  // namespace dove::controller
