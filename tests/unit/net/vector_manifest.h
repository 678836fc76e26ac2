// Test vectors made by tools nobody here wrote: scapy's frames (tests/data/scapy) and the
// kernel's (tests/data/kernel). See tests/data/README.md for how they were made.
//
// tests/data/scapy/MANIFEST.tsv describes each scapy vector on one line:
//   <file relative to scapy/> TAB <description> TAB <key=value key=value ...>
// Keys are scapy's "layer.field" in lower case ("ip.ttl", "vxlan.vni", "inner.arp.op" for the
// frame inside VXLAN); see make_scapy_vectors.py. A per-protocol check reads them like this:
//
//   void CheckIpv4(const VectorEntry& v, const EthernetFrame& frame) {
//     auto ip = ParseIpv4(frame.payload);
//     ASSERT_TRUE(ip);
//     EXPECT_EQ(ip->ttl, v.Number("ip.ttl"));
//     EXPECT_EQ(ip->source.ToString(), v.Text("ip.src"));
//   }
//
// Missing keys and unreadable numbers are reported as test failures, so checks stay terse.
#pragma once

#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "net/pcap_reader.h"

namespace dove::net {

inline const std::string kTestDataDir = DOVE_TEST_DATA_DIR;
inline const std::string kScapyDir = kTestDataDir + "/scapy";
inline const std::string kKernelDir = kTestDataDir + "/kernel";

struct VectorEntry {
  std::string file;  // relative to kScapyDir, e.g. "bad/udp_bad_checksum.pcap"
  std::string description;
  std::map<std::string, std::string> fields;

  std::string path() const { return kScapyDir + "/" + file; }
  // A deliberately malformed frame; Text("error") names the net::Error a parser should give.
  bool bad() const { return file.starts_with("bad/"); }
  bool Has(const std::string& key) const { return fields.contains(key); }
  // True when scapy's dissection holds the layer (class name, e.g. "ARP", "ICMPv6ND_NS").
  bool HasLayer(std::string_view layer) const {
    std::stringstream layers(Text("layers"));
    std::string name;
    while (std::getline(layers, name, ',')) {
      if (name == layer) return true;
    }
    return false;
  }

  // The value of `key`; a test failure and "" when there is none.
  std::string Text(const std::string& key) const {
    const auto found = fields.find(key);
    if (found != fields.end()) return found->second;
    ADD_FAILURE() << file << ": MANIFEST.tsv has no " << key;
    return "";
  }
  // The value of `key` read as decimal, or hexadecimal after "0x"; a test failure and 0 when
  // there is none or it is not a number.
  uint64_t Number(const std::string& key) const {
    const std::string text = Text(key);
    std::string_view digits = text;
    int base = 10;
    if (digits.starts_with("0x")) {
      digits.remove_prefix(2);
      base = 16;
    }
    uint64_t value = 0;
    const auto [end, error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
      ADD_FAILURE() << file << ": " << key << "=" << text << " is not a number";
      return 0;
    }
    return value;
  }
};

// Parses MANIFEST.tsv text. Blank lines and lines starting with '#' are skipped; an error
// names the first malformed line.
inline Expected<std::vector<VectorEntry>, std::string> ParseVectorManifest(std::string_view text) {
  std::vector<VectorEntry> entries;
  std::stringstream lines{std::string(text)};
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (line.empty() || line.starts_with("#")) continue;
    const size_t tab1 = line.find('\t');
    const size_t tab2 = tab1 == std::string::npos ? tab1 : line.find('\t', tab1 + 1);
    if (tab2 == std::string::npos) {
      return Unexpected("MANIFEST.tsv line " + std::to_string(number) + ": needs 3 columns");
    }
    VectorEntry entry{line.substr(0, tab1), line.substr(tab1 + 1, tab2 - tab1 - 1), {}};
    std::stringstream pairs(line.substr(tab2 + 1));
    std::string pair;
    while (pairs >> pair) {
      const size_t equals = pair.find('=');
      if (equals == std::string::npos || equals == 0) {
        return Unexpected("MANIFEST.tsv line " + std::to_string(number) + ": bad field '" + pair +
                          "'");
      }
      entry.fields[pair.substr(0, equals)] = pair.substr(equals + 1);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

inline Expected<std::vector<VectorEntry>, std::string> LoadVectorManifest() {
  auto text = ReadFileBytes(kScapyDir + "/MANIFEST.tsv");
  if (!text) return Unexpected(text.error());
  return ParseVectorManifest(
      std::string_view(reinterpret_cast<const char*>(text->data()), text->size()));
}

// The frames of the pcap file at `path`, each copied out of the file.
inline Expected<std::vector<std::vector<uint8_t>>, std::string> LoadFrames(
    const std::string& path) {
  auto file = ReadFileBytes(path);
  if (!file) return Unexpected(file.error());
  auto records = ParsePcap(*file);
  if (!records) return Unexpected(path + ": " + std::string(ErrorName(records.error())));
  std::vector<std::vector<uint8_t>> frames;
  for (const auto& record : *records) frames.emplace_back(record.data.begin(), record.data.end());
  return frames;
}

}  // namespace dove::net
