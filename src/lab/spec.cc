#include "lab/spec.h"

#include <charconv>
#include <set>
#include <utility>

#include "net/ip_address.h"
#include "net/ip_prefix.h"

namespace dove::lab {
namespace {

constexpr std::string_view kDemoSpec =
    R"(# dove-lab demo: two tenants with the same subnets, the same IPs, the same router addresses
# and the same policy on three DOVE hosts.
host h1
host h2
host h3
network red/web 10.0.0.0/24 gateway 10.0.0.1
network blue/web 10.0.0.0/24 gateway 10.0.0.1
vm red1 h1 red/web 10.0.0.11
vm red2 h2 red/web 10.0.0.12
vm red3 h3 red/web 10.0.0.13
vm blue1 h1 blue/web 10.0.0.11
vm blue2 h2 blue/web 10.0.0.12
vm blue3 h3 blue/web 10.0.0.13
# Routed: a second network per tenant, reached through the distributed router under policy.
network red/db 10.1.0.0/24 gateway 10.1.0.1
network blue/db 10.1.0.0/24 gateway 10.1.0.1
vm reddb h2 red/db 10.1.0.21
vm bluedb h2 blue/db 10.1.0.21
policy red web db allow tcp 8080
policy blue web db allow tcp 8080
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

namespace {

struct Parser {
  Spec spec;
  std::set<uint32_t> vnis;
  std::set<std::pair<size_t, std::string>> vm_ips;  // (network index, normalised IP)
  int line = 0;
  bool underlay_declared = false;

  Expected<void, std::string> Host(const std::vector<std::string_view>& words);
  Expected<void, std::string> Underlay(const std::vector<std::string_view>& words);
  Expected<void, std::string> Network(const std::vector<std::string_view>& words);
  Expected<void, std::string> Subnet(const std::vector<std::string_view>& words);
  Expected<void, std::string> Vm(std::vector<std::string_view> words);
  // Parses a policy statement into `policy` (the error without "line N: ").
  Expected<void, std::string> Policy(const std::vector<std::string_view>& words,
                                     SpecPolicy& policy) const;
  // A subnet for `network`: checks the CIDR's family limits, host bits, the gateway and
  // overlaps with the domain's other subnets.
  Expected<SpecSubnet, std::string> MakeSubnet(const SpecNetwork& network, std::string_view cidr,
                                               std::string_view gateway, bool ipv4_only) const;

  Error Fail(const std::string& what) const { return At(line, what); }
};

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// The last address of an IPv4 prefix (its broadcast address); `ip` for IPv6.
bool IsNetworkOrBroadcast(const net::IpPrefix& prefix, const net::IpAddress& ip) {
  if (!prefix.address().is_v4()) return ip == prefix.address();
  const uint32_t base = prefix.address().v4().ToUint32();
  const uint32_t value = ip.v4().ToUint32();
  return value == base || value == (base | ~MaskOf(prefix.length()));
}

Expected<void, std::string> Parser::Host(const std::vector<std::string_view>& words) {
  constexpr const char* kHostUsage =
      "expected \"host NAME [dove-kernel | kernel [udpcsum|noudpcsum]]\"";
  if (words.size() < 2 || words.size() > 4) return Fail(kHostUsage);
  if (auto why = CheckName("host", words[1], kMaxHostNameLength,
                           " (interfaces \"u-HOST\" and \"m-HOST\" must fit in 15 bytes)");
      !why.empty()) {
    return Fail(why);
  }
  const bool dove_kernel = words.size() >= 3 && words[2] == "dove-kernel";
  if (words.size() >= 3 && words[2] != "kernel" && !dove_kernel) {
    if (words[2] == "udpcsum" || words[2] == "noudpcsum") {
      return Fail("\"" + std::string(words[2]) + "\" is an option of kernel hosts (\"host " +
                  std::string(words[1]) + " kernel " + std::string(words[2]) +
                  "\"); dove-switch chooses its own outer checksums");
    }
    return Fail("unknown host kind \"" + std::string(words[2]) +
                "\" (the kinds are \"dove-kernel\" and \"kernel\")");
  }
  if (dove_kernel && words.size() == 4) {
    if (words[3] == "udpcsum" || words[3] == "noudpcsum") {
      return Fail("\"" + std::string(words[3]) +
                  "\" is an option of static kernel hosts (\"kernel\"); dove-switch's kernel "
                  "backend chooses its own outer checksums");
    }
    return Fail(kHostUsage);
  }
  if (words.size() == 4 && words[3] != "udpcsum" && words[3] != "noudpcsum") {
    return Fail("unknown kernel host option \"" + std::string(words[3]) +
                "\" (expected udpcsum or noudpcsum)");
  }
  if (spec.FindHost(words[1]) != nullptr) {
    return Fail("host " + std::string(words[1]) + " is declared twice");
  }
  if (spec.hosts.size() == kMaxHosts) {
    return Fail("more than " + std::to_string(kMaxHosts) + " hosts");
  }
  SpecHost host;
  host.name = std::string(words[1]);
  host.kernel = words.size() >= 3 && !dove_kernel;
  host.udp_checksum = words.size() == 4 && words[3] == "udpcsum";
  host.kernel_backend = dove_kernel;
  host.line = line;
  spec.hosts.push_back(std::move(host));
  return {};
}

Expected<void, std::string> Parser::Underlay(const std::vector<std::string_view>& words) {
  uint64_t mtu = 0;
  if (words.size() != 3 || words[1] != "mtu" || !ParseUint(words[2], &mtu) || mtu < 1330 ||
      mtu > 9000) {
    return Fail(
        "expected \"underlay mtu N\" with N in 1330..9000 (the overlay MTU, N - 50, must carry "
        "IPv6's 1280)");
  }
  if (underlay_declared) {
    return Fail("the underlay MTU is declared twice");
  }
  spec.underlay_mtu = static_cast<uint32_t>(mtu);
  underlay_declared = true;
  return {};
}

Expected<SpecSubnet, std::string> Parser::MakeSubnet(const SpecNetwork& network,
                                                     std::string_view cidr,
                                                     std::string_view gateway,
                                                     bool ipv4_only) const {
  const std::string usage = ipv4_only ? "is not an IPv4 CIDR A.B.C.D/N with N in 8..30"
                                      : "is not a CIDR (IPv4 A.B.C.D/N with N in 8..30, or IPv6 "
                                        "with N in 48..126)";
  const size_t slash = cidr.find('/');
  if (slash == std::string_view::npos || cidr.size() > 64) {
    return Unexpected(Quoted(cidr) + " " + usage);
  }
  auto address = net::IpAddress::Parse(cidr.substr(0, slash));
  uint64_t length = 0;
  if (!address || !ParseUint(cidr.substr(slash + 1), &length) || (ipv4_only && !address->is_v4())) {
    return Unexpected(Quoted(cidr) + " " + usage);
  }
  if (address->is_v4() ? (length < 8 || length > 30) : (length < 48 || length > 126)) {
    return Unexpected(Quoted(cidr) + " " + usage);
  }
  auto prefix = net::IpPrefix::Make(*address, static_cast<int>(length));
  if (!prefix) {
    auto masked = net::IpPrefix::Masked(*address, static_cast<int>(length));
    return Unexpected("CIDR " + std::string(cidr) + " has host bits set (did you mean " +
                      (masked ? masked->ToString() : std::string("?")) + "?)");
  }
  SpecSubnet subnet;
  subnet.cidr = prefix->ToString();
  subnet.ipv6 = address->is_v6();
  subnet.prefix_length = static_cast<int>(length);
  subnet.line = line;
  if (!gateway.empty()) {
    auto ip = net::IpAddress::Parse(gateway);
    if (!ip) return Unexpected("gateway " + Quoted(gateway) + " is not an IP address");
    if (!prefix->Contains(*ip)) {
      return Unexpected("gateway " + std::string(gateway) + " is outside " + subnet.cidr);
    }
    if (IsNetworkOrBroadcast(*prefix, *ip)) {
      return Unexpected("gateway " + std::string(gateway) + " is the network or broadcast " +
                        "address of " + subnet.cidr);
    }
    subnet.gateway = ip->ToString();
  }
  for (const auto& other_network : spec.networks) {
    if (other_network.domain != network.domain) continue;
    for (const auto& other : other_network.subnets) {
      if (net::IpPrefix::Parse(other.cidr)->Overlaps(*prefix)) {
        return Unexpected("subnet " + subnet.cidr + " overlaps " + other.cidr + " of network " +
                          other_network.Ref() + " (line " + std::to_string(other.line) +
                          "): a domain's subnets are disjoint");
      }
    }
  }
  return subnet;
}

Expected<void, std::string> Parser::Network(const std::vector<std::string_view>& words) {
  constexpr const char* kUsage =
      "expected \"network DOMAIN/NAME CIDR [vni N] [gateway IP] [mtu N] [dns IP[,IP...]]\"";
  if (words.size() < 3 || words.size() % 2 == 0) return Fail(kUsage);
  std::string_view domain;
  std::string_view name;
  if (!SplitRef(words[1], &domain, &name)) {
    return Fail("network \"" + std::string(words[1]) + "\" is not DOMAIN/NAME");
  }
  if (auto why = CheckName("domain", domain, kMaxObjectNameLength, ""); !why.empty()) {
    return Fail(why);
  }
  if (auto why = CheckName("network", name, kMaxObjectNameLength, ""); !why.empty()) {
    return Fail(why);
  }
  if (spec.FindNetwork(domain, name) != nullptr) {
    return Fail("network " + std::string(words[1]) + " is declared twice");
  }
  SpecNetwork network;
  network.domain = std::string(domain);
  network.name = std::string(name);
  network.line = line;
  std::string_view gateway;
  std::set<std::string_view> seen;
  for (size_t i = 3; i + 1 < words.size(); i += 2) {
    const std::string_view key = words[i];
    const std::string_view value = words[i + 1];
    if (key != "vni" && key != "gateway" && key != "mtu" && key != "dns") {
      return Fail("unknown network option " + Quoted(key) +
                  " (expected vni, gateway, mtu or dns after the CIDR)");
    }
    if (!seen.insert(key).second) return Fail("option " + Quoted(key) + " is given twice");
    if (key == "vni") {
      uint64_t vni = 0;
      if (!ParseUint(value, &vni) || vni < 1 || vni > 16777215) {
        return Fail("expected \"vni N\" with N in 1..16777215 after the CIDR");
      }
      network.vni = static_cast<uint32_t>(vni);
    } else if (key == "gateway") {
      gateway = value;
    } else if (key == "mtu") {
      uint64_t mtu = 0;
      if (!ParseUint(value, &mtu) || mtu < 1280 || mtu > 9000) {
        return Fail("expected \"mtu N\" with N in 1280..9000");
      }
      network.mtu = static_cast<uint32_t>(mtu);
    } else {
      size_t at = 0;
      while (at <= value.size()) {
        size_t comma = value.find(',', at);
        if (comma == std::string_view::npos) comma = value.size();
        const std::string_view one = value.substr(at, comma - at);
        auto ip = net::IpAddress::Parse(one);
        if (!ip) return Fail("dns server " + Quoted(one) + " is not an IP address");
        network.dns.push_back(ip->ToString());
        at = comma + 1;
      }
      if (network.dns.size() > 8) return Fail("more than 8 dns servers");
    }
  }
  if (network.vni != 0 && !vnis.insert(network.vni).second) {
    return Fail("VNI " + std::to_string(network.vni) + " is used twice");
  }
  auto subnet = MakeSubnet(network, words[2], gateway, /*ipv4_only=*/true);
  if (!subnet) return Fail(subnet.error());
  network.cidr = subnet->cidr;
  network.prefix_length = subnet->prefix_length;
  network.subnets.push_back(std::move(*subnet));
  if (spec.networks.size() == kMaxNetworks) {
    return Fail("more than " + std::to_string(kMaxNetworks) + " networks");
  }
  spec.networks.push_back(std::move(network));
  return {};
}

Expected<void, std::string> Parser::Subnet(const std::vector<std::string_view>& words) {
  if (words.size() != 3 && !(words.size() == 5 && words[3] == "gateway")) {
    return Fail("expected \"subnet DOMAIN/NAME CIDR [gateway IP]\"");
  }
  std::string_view domain;
  std::string_view name;
  if (!SplitRef(words[1], &domain, &name)) {
    return Fail("network \"" + std::string(words[1]) + "\" is not DOMAIN/NAME");
  }
  auto* network = const_cast<SpecNetwork*>(spec.FindNetwork(domain, name));
  if (network == nullptr) {
    return Fail("network " + std::string(words[1]) +
                " is not declared (declare it with \"network\" before its subnets)");
  }
  for (const auto& vm : spec.vms) {
    if (vm.domain == domain && vm.network == name) {
      return Fail("network " + std::string(words[1]) + " already has VMs (line " +
                  std::to_string(vm.line) + "): declare its subnets before its VMs");
    }
  }
  if (network->subnets.size() == 8) return Fail("more than 8 subnets in one network");
  auto subnet =
      MakeSubnet(*network, words[2], words.size() == 5 ? words[4] : "", /*ipv4_only=*/false);
  if (!subnet) return Fail(subnet.error());
  network->subnets.push_back(std::move(*subnet));
  return {};
}

Expected<void, std::string> Parser::Policy(const std::vector<std::string_view>& words,
                                           SpecPolicy& policy) const {
  constexpr const char* kUsage =
      "expected \"policy DOMAIN FROM TO allow|deny|reject [tcp|udp|icmp|icmpv6|any "
      "[PORT[-PORT]]] [priority N]\"";
  if (words.size() < 5) return Unexpected(std::string(kUsage));
  policy.domain = std::string(words[1]);
  policy.from = std::string(words[2]);
  policy.to = std::string(words[3]);
  for (const auto& network : {words[2], words[3]}) {
    if (spec.FindNetwork(words[1], network) == nullptr) {
      return Unexpected("network " + std::string(words[1]) + "/" + std::string(network) +
                        " is not declared (declare it with \"network\" before its policies)");
    }
  }
  if (words[4] == "allow") {
    policy.action = PolicyAction::kAllow;
  } else if (words[4] == "deny") {
    policy.action = PolicyAction::kDeny;
  } else if (words[4] == "reject") {
    policy.action = PolicyAction::kReject;
  } else {
    return Unexpected("unknown policy action " + Quoted(words[4]) +
                      " (expected allow, deny or reject)");
  }
  size_t at = 5;
  if (at < words.size() && words[at] != "priority") {
    const std::string_view protocol = words[at++];
    if (protocol == "tcp") {
      policy.protocol = 6;
    } else if (protocol == "udp") {
      policy.protocol = 17;
    } else if (protocol == "icmp") {
      policy.protocol = 1;
    } else if (protocol == "icmpv6") {
      policy.protocol = 58;
    } else if (protocol != "any") {
      return Unexpected("unknown protocol " + Quoted(protocol) +
                        " (expected tcp, udp, icmp, icmpv6 or any)");
    }
    if (at < words.size() && words[at] != "priority") {
      const std::string_view ports = words[at++];
      if (policy.protocol != 6 && policy.protocol != 17) {
        return Unexpected("a port range (" + std::string(ports) + ") needs tcp or udp");
      }
      const size_t dash = ports.find('-');
      uint64_t first = 0;
      uint64_t last = 0;
      const bool parsed = dash == std::string_view::npos
                              ? ParseUint(ports, &first) && ParseUint(ports, &last)
                              : ParseUint(ports.substr(0, dash), &first) &&
                                    ParseUint(ports.substr(dash + 1), &last);
      if (!parsed || first < 1 || last > 65535 || first > last) {
        return Unexpected("port range " + Quoted(ports) +
                          " is not PORT or FIRST-LAST with 1 <= FIRST <= LAST <= 65535");
      }
      policy.first_port = static_cast<uint32_t>(first);
      policy.last_port = static_cast<uint32_t>(last);
    }
  }
  if (at < words.size()) {
    uint64_t priority = 0;
    if (words[at] != "priority" || at + 2 != words.size() || !ParseUint(words[at + 1], &priority) ||
        priority > 1000000) {
      return Unexpected(std::string(kUsage) + " (priority N with N in 0..1000000, last)");
    }
    policy.priority = static_cast<uint32_t>(priority);
  }
  return {};
}

Expected<void, std::string> Parser::Vm(std::vector<std::string_view> words) {
  const bool packet = words.size() >= 5 && words.back() == "packet";
  if (packet) words.pop_back();
  if (words.size() != 4 && words.size() != 5) {
    return Fail("expected \"vm NAME HOST DOMAIN/NAME [IP[,IP...]|dhcp] [packet]\"");
  }
  if (auto why = CheckName("vm", words[1], kMaxVmNameLength,
                           " (interfaces \"v-VM\" and \"t-VM\" must fit in 15 bytes)");
      !why.empty()) {
    return Fail(why);
  }
  if (spec.FindVm(words[1]) != nullptr) {
    return Fail("vm " + std::string(words[1]) + " is declared twice");
  }
  if (spec.FindHost(words[2]) == nullptr) {
    return Fail("host " + std::string(words[2]) +
                " is not declared (declare it with \"host\" before its VMs)");
  }
  std::string_view domain;
  std::string_view name;
  if (!SplitRef(words[3], &domain, &name)) {
    return Fail("network \"" + std::string(words[3]) + "\" is not DOMAIN/NAME");
  }
  const SpecNetwork* network = spec.FindNetwork(domain, name);
  if (network == nullptr) {
    return Fail("network " + std::string(words[3]) +
                " is not declared (declare it with \"network\" before its VMs)");
  }
  if (packet && spec.FindHost(words[2])->kernel) {
    return Fail("packet: host " + std::string(words[2]) +
                " is a kernel-VXLAN host; only a DOVE host's switch takes a packet port");
  }
  SpecVm vm;
  vm.packet = packet;
  vm.name = std::string(words[1]);
  vm.host = std::string(words[2]);
  vm.domain = std::string(domain);
  vm.network = std::string(name);
  vm.line = line;
  const size_t index = static_cast<size_t>(network - spec.networks.data());
  if (words.size() == 5 && words[4] == "dhcp") {
    vm.dhcp = true;
  } else if (words.size() == 5) {
    std::set<size_t> subnets_used;
    size_t at = 0;
    const std::string_view list = words[4];
    while (at <= list.size()) {
      size_t comma = list.find(',', at);
      if (comma == std::string_view::npos) comma = list.size();
      const std::string_view text = list.substr(at, comma - at);
      at = comma + 1;
      auto ip = net::IpAddress::Parse(text);
      if (!ip) return Fail(Quoted(text) + " is not an IPv4 address (nor IPv6, nor \"dhcp\")");
      size_t subnet_index = network->subnets.size();
      for (size_t i = 0; i < network->subnets.size(); ++i) {
        if (net::IpPrefix::Parse(network->subnets[i].cidr)->Contains(*ip)) subnet_index = i;
      }
      if (subnet_index == network->subnets.size()) {
        std::string cidrs;
        for (const auto& subnet : network->subnets) {
          cidrs += (cidrs.empty() ? "" : ", ") + subnet.cidr;
        }
        return Fail("IP " + std::string(text) + " is outside " + cidrs + " of network " +
                    network->Ref());
      }
      const SpecSubnet& subnet = network->subnets[subnet_index];
      if (IsNetworkOrBroadcast(*net::IpPrefix::Parse(subnet.cidr), *ip)) {
        return Fail("IP " + std::string(text) + " is the network or broadcast address of " +
                    subnet.cidr);
      }
      if (ip->ToString() == subnet.gateway) {
        return Fail("IP " + std::string(text) + " is the gateway of " + subnet.cidr);
      }
      if (!subnets_used.insert(subnet_index).second) {
        return Fail("two IPs of vm " + vm.name + " are in subnet " + subnet.cidr);
      }
      if (!vm_ips.insert({index, ip->ToString()}).second) {
        return Fail("IP " + std::string(text) + " is used twice in network " + network->Ref());
      }
      vm.ips.push_back(ip->ToString());
      if (ip->is_v4() && vm.ip.empty()) vm.ip = ip->ToString();
    }
  }
  if (spec.vms.size() == kMaxVms) return Fail("more than " + std::to_string(kMaxVms) + " VMs");
  spec.vms.push_back(std::move(vm));
  return {};
}

// Splits `text` into lines and words; calls `statement(words)` per non-empty line.
template <typename Statement>
Expected<void, std::string> ForEachStatement(std::string_view text, int& line_number,
                                             Statement statement) {
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
    if (auto ok = statement(words); !ok) return ok;
  }
  return {};
}

}  // namespace

const SpecSubnet* SpecNetwork::FirstSubnet(bool ipv6) const {
  for (const auto& subnet : subnets) {
    if (subnet.ipv6 == ipv6) return &subnet;
  }
  return nullptr;
}

const char* SpecPolicy::ActionName() const {
  switch (action) {
    case PolicyAction::kAllow:
      return "ACTION_ALLOW";
    case PolicyAction::kDeny:
      return "ACTION_DENY";
    case PolicyAction::kReject:
      return "ACTION_REJECT";
  }
  return "ACTION_UNSPECIFIED";
}

std::string SpecPolicy::Text() const {
  std::string text = "policy " + domain + " " + from + " " + to + " " +
                     (action == PolicyAction::kAllow  ? "allow"
                      : action == PolicyAction::kDeny ? "deny"
                                                      : "reject");
  switch (protocol) {
    case 0:
      text += " any";
      break;
    case 1:
      text += " icmp";
      break;
    case 6:
      text += " tcp";
      break;
    case 17:
      text += " udp";
      break;
    case 58:
      text += " icmpv6";
      break;
    default:
      text += " " + std::to_string(protocol);
  }
  if (first_port != 0) {
    text += " " + std::to_string(first_port);
    if (last_port != first_port) text += "-" + std::to_string(last_port);
  }
  return text + " priority " + std::to_string(priority);
}

Expected<Spec, std::string> ParseSpec(std::string_view text) {
  Parser parser;
  auto parsed = ForEachStatement(
      text, parser.line,
      [&](const std::vector<std::string_view>& words) -> Expected<void, std::string> {
        const std::string_view keyword = words[0];
        if (keyword == "host") return parser.Host(words);
        if (keyword == "underlay") return parser.Underlay(words);
        if (keyword == "network") return parser.Network(words);
        if (keyword == "subnet") return parser.Subnet(words);
        if (keyword == "vm") return parser.Vm(words);
        if (keyword == "policy") {
          SpecPolicy policy;
          policy.line = parser.line;
          if (auto ok = parser.Policy(words, policy); !ok) return parser.Fail(ok.error());
          parser.spec.policies.push_back(std::move(policy));
          return {};
        }
        return parser.Fail("unknown statement \"" + std::string(keyword) +
                           "\" (expected host, underlay, network, subnet, policy or vm)");
      });
  if (!parsed) return Unexpected(parsed.error());
  return std::move(parser.spec);
}

Expected<SpecPolicy, std::string> ParsePolicy(const Spec& spec, std::string_view statement) {
  const auto words = Words(statement);
  if (words.empty() || words[0] != "policy") {
    return Unexpected("a policy statement starts with \"policy\"");
  }
  Parser parser;
  parser.spec = spec;
  SpecPolicy policy;
  if (auto ok = parser.Policy(words, policy); !ok) return Unexpected(ok.error());
  return policy;
}

Expected<SpecVm, std::string> ParseVm(const Spec& spec, std::string_view statement) {
  const auto words = Words(statement);
  if (words.empty() || words[0] != "vm") return Unexpected("a vm statement starts with \"vm\"");
  Parser parser;
  parser.spec = spec;
  for (const auto& vm : spec.vms) {
    for (const auto& ip : vm.ips) parser.vm_ips.insert({spec.NetworkIndexOf(vm), ip});
  }
  if (auto ok = parser.Vm(words); !ok) {
    // Parser::Vm's errors carry "line 0: "; a statement alone has no line.
    const std::string& error = ok.error();
    const std::string line_prefix = "line 0: ";
    return Unexpected(error.rfind(line_prefix, 0) == 0 ? error.substr(line_prefix.size()) : error);
  }
  return parser.spec.vms.back();
}

std::string_view DemoSpecText() { return kDemoSpec; }

bool ParseBackend(std::string_view text, Backend* backend) {
  if (text == "userspace") {
    *backend = Backend::kUserspace;
  } else if (text == "kernel") {
    *backend = Backend::kKernel;
  } else {
    return false;
  }
  return true;
}

const char* BackendName(Backend backend) {
  return backend == Backend::kKernel ? "kernel" : "userspace";
}

void UseBackend(Spec& spec, Backend backend) {
  for (auto& host : spec.hosts) {
    if (!host.kernel) host.kernel_backend = backend == Backend::kKernel;
  }
}

}  // namespace dove::lab
