#include "lab/spec.h"

#include <arpa/inet.h>

#include <charconv>
#include <set>
#include <utility>

namespace dove::lab {
namespace {

constexpr std::string_view kDemoSpec =
    R"(# dove-lab demo: two tenants with the same subnet and the same IPs on three DOVE hosts.
host h1
host h2
host h3
network red/web 10.0.0.0/24
network blue/web 10.0.0.0/24
vm red1 h1 red/web 10.0.0.11
vm red2 h2 red/web 10.0.0.12
vm red3 h3 red/web 10.0.0.13
vm blue1 h1 blue/web 10.0.0.11
vm blue2 h2 blue/web 10.0.0.12
vm blue3 h3 blue/web 10.0.0.13
)";

using Error = Unexpected<std::string>;

Error At(int line, const std::string& what) {
  return Error("line " + std::to_string(line) + ": " + what);
}

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && (line[at] == ' ' || line[at] == '\t' || line[at] == '\r')) ++at;
    const size_t start = at;
    while (at < line.size() && line[at] != ' ' && line[at] != '\t' && line[at] != '\r') ++at;
    if (at > start) words.push_back(line.substr(start, at - start));
  }
  return words;
}

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// "" when `name` is a valid name of at most `limit` bytes, else why not.
std::string CheckName(std::string_view kind, std::string_view name, size_t limit,
                      std::string_view reason) {
  if (name.empty()) return std::string(kind) + " name is empty";
  if (name.size() > limit) {
    return std::string(kind) + " name \"" + std::string(name) + "\" is " +
           std::to_string(name.size()) + " bytes; at most " + std::to_string(limit) +
           " are allowed" + std::string(reason);
  }
  if (!NameChar(name[0]) || name[0] == '.' || name[0] == '_' || name[0] == '-') {
    return std::string(kind) + " name \"" + std::string(name) +
           "\" must start with a letter or digit";
  }
  for (const char c : name) {
    if (!NameChar(c)) {
      return std::string(kind) + " name \"" + std::string(name) +
             "\" may only hold letters, digits, '.', '_' and '-'";
    }
  }
  return "";
}

bool ParseIpv4(std::string_view text, uint32_t* address) {
  if (text.empty() || text.size() > 15) return false;
  const std::string copy(text);
  in_addr parsed{};
  if (::inet_pton(AF_INET, copy.c_str(), &parsed) != 1) return false;
  *address = ntohl(parsed.s_addr);
  return true;
}

std::string FormatIpv4(uint32_t address) {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 0xFF) + "." +
         std::to_string((address >> 8) & 0xFF) + "." + std::to_string(address & 0xFF);
}

bool ParseUint(std::string_view text, uint64_t* value) {
  if (text.empty() || text.size() > 10) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size();
}

// Splits "DOMAIN/NAME"; false when there is not exactly one '/'.
bool SplitRef(std::string_view ref, std::string_view* domain, std::string_view* name) {
  const size_t slash = ref.find('/');
  if (slash == std::string_view::npos || ref.find('/', slash + 1) != std::string_view::npos) {
    return false;
  }
  *domain = ref.substr(0, slash);
  *name = ref.substr(slash + 1);
  return true;
}

uint32_t MaskOf(int prefix_length) {
  return prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - prefix_length);
}

}  // namespace

const SpecHost* Spec::FindHost(std::string_view name) const {
  for (const auto& host : hosts) {
    if (host.name == name) return &host;
  }
  return nullptr;
}

const SpecNetwork* Spec::FindNetwork(std::string_view domain, std::string_view name) const {
  for (const auto& network : networks) {
    if (network.domain == domain && network.name == name) return &network;
  }
  return nullptr;
}

const SpecVm* Spec::FindVm(std::string_view name) const {
  for (const auto& vm : vms) {
    if (vm.name == name) return &vm;
  }
  return nullptr;
}

size_t Spec::NetworkIndexOf(const SpecVm& vm) const {
  for (size_t i = 0; i < networks.size(); ++i) {
    if (networks[i].domain == vm.domain && networks[i].name == vm.network) return i;
  }
  return networks.size();
}

Expected<Spec, std::string> ParseSpec(std::string_view text) {
  Spec spec;
  std::set<uint32_t> vnis;
  std::set<std::pair<size_t, uint32_t>> vm_ips;  // (network index, IP)
  int line_number = 0;
  size_t at = 0;
  while (at <= text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    ++line_number;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    if (line.find('\0') != std::string_view::npos) return At(line_number, "contains a NUL byte");
    const auto words = Words(line);
    if (words.empty()) continue;
    const std::string_view keyword = words[0];

    if (keyword == "host") {
      constexpr const char* kHostUsage = "expected \"host NAME [kernel [udpcsum|noudpcsum]]\"";
      if (words.size() < 2 || words.size() > 4) return At(line_number, kHostUsage);
      if (auto why = CheckName("host", words[1], kMaxHostNameLength,
                               " (interfaces \"u-HOST\" and \"m-HOST\" must fit in 15 bytes)");
          !why.empty()) {
        return At(line_number, why);
      }
      if (words.size() >= 3 && words[2] != "kernel") {
        if (words[2] == "udpcsum" || words[2] == "noudpcsum") {
          return At(line_number, "\"" + std::string(words[2]) +
                                     "\" is an option of kernel hosts (\"host " +
                                     std::string(words[1]) + " kernel " + std::string(words[2]) +
                                     "\"); dove-switch chooses its own outer checksums");
        }
        return At(line_number, "unknown host kind \"" + std::string(words[2]) +
                                   "\" (the only kind is \"kernel\")");
      }
      if (words.size() == 4 && words[3] != "udpcsum" && words[3] != "noudpcsum") {
        return At(line_number, "unknown kernel host option \"" + std::string(words[3]) +
                                   "\" (expected udpcsum or noudpcsum)");
      }
      if (spec.FindHost(words[1]) != nullptr) {
        return At(line_number, "host " + std::string(words[1]) + " is declared twice");
      }
      if (spec.hosts.size() == kMaxHosts) {
        return At(line_number, "more than " + std::to_string(kMaxHosts) + " hosts");
      }
      spec.hosts.push_back({std::string(words[1]), words.size() >= 3,
                            words.size() == 4 && words[3] == "udpcsum", line_number});
    } else if (keyword == "network") {
      if (words.size() != 3 && words.size() != 5) {
        return At(line_number, "expected \"network DOMAIN/NAME CIDR [vni N]\"");
      }
      std::string_view domain;
      std::string_view name;
      if (!SplitRef(words[1], &domain, &name)) {
        return At(line_number, "network \"" + std::string(words[1]) + "\" is not DOMAIN/NAME");
      }
      if (auto why = CheckName("domain", domain, kMaxObjectNameLength, ""); !why.empty()) {
        return At(line_number, why);
      }
      if (auto why = CheckName("network", name, kMaxObjectNameLength, ""); !why.empty()) {
        return At(line_number, why);
      }
      if (spec.FindNetwork(domain, name) != nullptr) {
        return At(line_number, "network " + std::string(words[1]) + " is declared twice");
      }
      const std::string_view cidr = words[2];
      const size_t slash = cidr.find('/');
      uint32_t address = 0;
      uint64_t length = 0;
      if (slash == std::string_view::npos || !ParseIpv4(cidr.substr(0, slash), &address) ||
          !ParseUint(cidr.substr(slash + 1), &length) || length > 30 || length < 8) {
        return At(line_number,
                  "\"" + std::string(cidr) + "\" is not an IPv4 CIDR A.B.C.D/N with N in 8..30");
      }
      const int prefix_length = static_cast<int>(length);
      if ((address & ~MaskOf(prefix_length)) != 0) {
        return At(line_number, "CIDR " + std::string(cidr) + " has host bits set (did you mean " +
                                   FormatIpv4(address & MaskOf(prefix_length)) + "/" +
                                   std::to_string(prefix_length) + "?)");
      }
      uint32_t vni = 0;
      if (words.size() == 5) {
        uint64_t value = 0;
        if (words[3] != "vni" || !ParseUint(words[4], &value) || value < 1 || value > 16777215) {
          return At(line_number, "expected \"vni N\" with N in 1..16777215 after the CIDR");
        }
        vni = static_cast<uint32_t>(value);
        if (!vnis.insert(vni).second) {
          return At(line_number, "VNI " + std::to_string(vni) + " is used twice");
        }
      }
      if (spec.networks.size() == kMaxNetworks) {
        return At(line_number, "more than " + std::to_string(kMaxNetworks) + " networks");
      }
      spec.networks.push_back({std::string(domain), std::string(name),
                               FormatIpv4(address) + "/" + std::to_string(prefix_length),
                               prefix_length, vni, line_number});
    } else if (keyword == "vm") {
      if (words.size() != 4 && words.size() != 5) {
        return At(line_number, "expected \"vm NAME HOST DOMAIN/NAME [IP]\"");
      }
      if (auto why = CheckName("vm", words[1], kMaxVmNameLength,
                               " (interfaces \"v-VM\" and \"t-VM\" must fit in 15 bytes)");
          !why.empty()) {
        return At(line_number, why);
      }
      if (spec.FindVm(words[1]) != nullptr) {
        return At(line_number, "vm " + std::string(words[1]) + " is declared twice");
      }
      if (spec.FindHost(words[2]) == nullptr) {
        return At(line_number, "host " + std::string(words[2]) +
                                   " is not declared (declare it with \"host\" before its VMs)");
      }
      std::string_view domain;
      std::string_view name;
      if (!SplitRef(words[3], &domain, &name)) {
        return At(line_number, "network \"" + std::string(words[3]) + "\" is not DOMAIN/NAME");
      }
      const SpecNetwork* network = spec.FindNetwork(domain, name);
      if (network == nullptr) {
        return At(line_number, "network " + std::string(words[3]) +
                                   " is not declared (declare it with \"network\" before its VMs)");
      }
      SpecVm vm{std::string(words[1]),
                std::string(words[2]),
                std::string(domain),
                std::string(name),
                "",
                line_number};
      if (words.size() == 5) {
        uint32_t ip = 0;
        if (!ParseIpv4(words[4], &ip)) {
          return At(line_number, "\"" + std::string(words[4]) + "\" is not an IPv4 address");
        }
        uint32_t base = 0;
        ParseIpv4(network->cidr.substr(0, network->cidr.find('/')), &base);
        const uint32_t mask = MaskOf(network->prefix_length);
        if ((ip & mask) != base) {
          return At(line_number, "IP " + std::string(words[4]) + " is outside " + network->cidr +
                                     " of network " + network->Ref());
        }
        if (ip == base || ip == (base | ~mask)) {
          return At(line_number, "IP " + std::string(words[4]) + " is the network or broadcast " +
                                     "address of " + network->cidr);
        }
        if (!vm_ips.insert({spec.NetworkIndexOf(vm), ip}).second) {
          return At(line_number,
                    "IP " + std::string(words[4]) + " is used twice in network " + network->Ref());
        }
        vm.ip = FormatIpv4(ip);
      }
      if (spec.vms.size() == kMaxVms) {
        return At(line_number, "more than " + std::to_string(kMaxVms) + " VMs");
      }
      spec.vms.push_back(std::move(vm));
    } else {
      return At(line_number, "unknown statement \"" + std::string(keyword) +
                                 "\" (expected host, network or vm)");
    }
  }
  return spec;
}

std::string_view DemoSpecText() { return kDemoSpec; }

}  // namespace dove::lab
