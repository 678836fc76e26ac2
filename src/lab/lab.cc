#include "lab/lab.h"

#include <fcntl.h>
#include <httplib.h>
#include <net/if.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "dswitch/io/file_descriptor.h"
#include "lab/netns.h"
#include "lab/tx_checksum.h"
#include "net/ip_address.h"
#include "net/ip_prefix.h"
#include "netlink/rtnetlink.h"

namespace dove::lab {
namespace {

namespace fs = std::filesystem;
using Error = Unexpected<std::string>;

std::string Hex2(unsigned value) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string{kHex[(value >> 4) & 0xF], kHex[value & 0xF]};
}

bool Executable(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error) && ::access(path.c_str(), X_OK) == 0;
}

std::string FindOne(const std::string& name, const std::string& bin_dir,
                    const std::vector<std::string>& build_subdirs) {
  std::vector<fs::path> candidates;
  if (!bin_dir.empty()) {
    candidates.push_back(fs::path(bin_dir) / name);
    for (const auto& subdir : build_subdirs) {
      candidates.push_back(fs::path(bin_dir) / subdir / name);
    }
  } else {
    std::error_code error;
    const fs::path exe = fs::read_symlink("/proc/self/exe", error);
    if (!error) {
      candidates.push_back(exe.parent_path() / name);
      for (const auto& subdir : build_subdirs) {
        candidates.push_back(exe.parent_path().parent_path() / subdir / name);
      }
    }
    if (const char* path = std::getenv("PATH"); path != nullptr) {
      std::stringstream dirs(path);
      std::string dir;
      while (std::getline(dirs, dir, ':')) {
        if (!dir.empty()) candidates.push_back(fs::path(dir) / name);
      }
    }
  }
  for (const auto& candidate : candidates) {
    if (Executable(candidate)) return fs::absolute(candidate).lexically_normal().string();
  }
  return "";
}

std::string Tail(const std::string& path, size_t bytes = 1500) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  if (all.size() > bytes) all = "..." + all.substr(all.size() - bytes);
  return all;
}

bool PidAlive(long pid) { return fs::exists("/proc/" + std::to_string(pid)); }

std::vector<std::string> NamespacesWithPrefix(const std::string& prefix) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/run/netns", error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0) names.push_back(name);
  }
  return names;
}

// Kills what still runs in `ns` and deletes it.
Expected<void, std::string> DeleteNamespace(const std::string& ns) {
  const CommandResult pids = RunCommand({"ip", "netns", "pids", ns});
  std::stringstream list(pids.out);
  long pid = 0;
  while (list >> pid) {
    if (pid > 0 && pid != ::getpid()) ::kill(static_cast<pid_t>(pid), SIGKILL);
  }
  if (auto ok = RunChecked({"ip", "netns", "del", ns}); !ok) return Error(ok.error());
  return {};
}

}  // namespace

Binaries FindBinaries(const std::string& bin_dir) {
  return {FindOne("dove-controller", bin_dir, {"controller"}),
          FindOne("dove-switch", bin_dir, {"dswitch", "dswitch/app"})};
}

Lab::Lab(Spec spec, LabOptions options, Binaries binaries)
    : spec_(std::move(spec)),
      options_(std::move(options)),
      binaries_(std::move(binaries)),
      prefix_("dl" + std::to_string(::getpid()) + "-"),
      temp_dir_("/tmp/dove-lab-" + std::to_string(::getpid())) {}

Lab::~Lab() {
  if (!options_.keep) {
    if (auto ok = Down(); !ok) std::cerr << "dove-lab: teardown: " << ok.error() << "\n";
  } else {
    // Leave the processes running: release them without signalling.
    for (auto* processes : {&switches_, &captures_, &dhcp_clients_}) {
      for (auto& [name, process] : *processes) (void)process.release();
    }
    for (auto& controller : controllers_) (void)controller.release();
    if (etcd_ != nullptr) etcd_->Release();
  }
}

Expected<std::unique_ptr<Lab>, std::string> Lab::Up(const Spec& spec, LabOptions options) {
  Binaries binaries = FindBinaries(options.bin_dir);
  const std::string where =
      options.bin_dir.empty()
          ? std::string(
                "next to dove-lab, in its build tree's ../controller and ../dswitch/app, "
                "and in PATH")
          : "in " + options.bin_dir;
  if (binaries.controller.empty()) {
    return Error("dove-controller not found (looked " + where +
                 "); build it or pass --bin-dir DIR");
  }
  std::string dove_hosts;
  for (const auto& host : spec.hosts) {
    if (!host.kernel) dove_hosts += (dove_hosts.empty() ? "" : ", ") + host.name;
  }
  if (!dove_hosts.empty() && binaries.switch_binary.empty()) {
    return Error("dove-switch not found (looked " + where + "), but hosts " + dove_hosts +
                 " need it; build it, pass --bin-dir DIR, or declare them \"kernel\" hosts");
  }
  if (::geteuid() != 0) return Error(std::string("dove-lab needs root (network namespaces)"));
  if (options.controllers < 1 || options.controllers > kMaxControllers) {
    return Error("controllers must be 1 (one controller on SQLite) to " +
                 std::to_string(kMaxControllers) + " (replicas on etcd), not " +
                 std::to_string(options.controllers));
  }
  if (options.controllers > 1 && ::access(kEtcdBinary, X_OK) != 0) {
    return Error(std::string("--controllers ") + std::to_string(options.controllers) +
                 " needs etcd (" + kEtcdBinary + " is missing: install etcd-server)");
  }
  auto lab = std::unique_ptr<Lab>(new Lab(spec, std::move(options), std::move(binaries)));
  if (auto built = lab->Build(); !built) {
    const std::string& error = built.error();
    lab->options_.keep = false;  // never leave a half-built lab behind
    if (auto down = lab->Down(); !down) {
      return Error(error + " (and teardown failed: " + down.error() + ")");
    }
    return Error(error);
  }
  return lab;
}

Expected<int, std::string> Lab::CleanLeftovers() {
  static const std::regex kName("dl([0-9]+)-.*");
  int removed = 0;
  std::set<long> dead;
  std::string first_error;
  for (const auto& ns : NamespacesWithPrefix("dl")) {
    std::smatch match;
    if (!std::regex_match(ns, match, kName)) continue;
    const long pid = std::stol(match[1].str());
    if (pid == ::getpid() || PidAlive(pid)) continue;
    dead.insert(pid);
    if (auto ok = DeleteNamespace(ns); !ok) {
      if (first_error.empty()) first_error = ok.error();
      continue;
    }
    ++removed;
  }
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/tmp", error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("dove-lab-", 0) != 0) continue;
    const std::string digits = name.substr(9);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::stol(digits);
    if (pid != ::getpid() && !PidAlive(pid)) fs::remove_all(entry.path(), error);
  }
  if (!first_error.empty()) return Error(first_error);
  return removed;
}

const VmInfo& Lab::Vm(const std::string& vm) const {
  for (const auto& info : vms_) {
    if (info.name == vm) return info;
  }
  std::cerr << "dove-lab: no VM named " << vm << "\n";
  std::abort();
}

const HostInfo& Lab::Host(const std::string& host) const {
  for (const auto& info : hosts_) {
    if (info.name == host) return info;
  }
  std::cerr << "dove-lab: no host named " << host << "\n";
  std::abort();
}

std::string Lab::ControlSocket(const std::string& host) const {
  return (temp_dir_ / (host + ".sock")).string();
}
std::string Lab::SwitchLog(const std::string& host) const {
  return (temp_dir_ / (host + ".log")).string();
}
std::string Lab::ControllerLog(int replica) const {
  if (controllers() == 1) return (temp_dir_ / "controller.log").string();
  return (temp_dir_ / ("controller" + std::to_string(replica + 1) + ".log")).string();
}

std::string Lab::ControllerNamespace(int replica) const {
  if (controllers() == 1) return prefix_ + "ctl";
  return prefix_ + "ctl" + std::to_string(replica + 1);
}

std::string Lab::ControllerIp(int replica) const {
  return "198.51.100." + std::to_string(replica + 1);
}

std::string Lab::ControllerAddress(int replica) const {
  return ControllerIp(replica) + ":" + std::to_string(kSouthboundPort);
}

int Lab::ReplicaOf(const std::string& address) const {
  for (int replica = 0; replica < controllers(); ++replica) {
    if (ControllerAddress(replica) == address) return replica;
  }
  return -1;
}

Expected<void, std::string> Lab::CheckReplica(int replica) const {
  if (replica < 0 || replica >= controllers()) {
    return Error("no controller replica " + std::to_string(replica) + " (the lab has " +
                 std::to_string(controllers()) + ", numbered from 0)");
  }
  return {};
}

Expected<void, std::string> Lab::Step(const std::string& what) {
  if (options_.cancel != nullptr && options_.cancel->load()) {
    return Error(std::string("interrupted"));
  }
  if (options_.progress != nullptr) *options_.progress << "dove-lab: " << what << std::endl;
  return {};
}

Expected<void, std::string> Lab::Run(const std::vector<std::string>& argv) const {
  if (auto ok = RunChecked(argv); !ok) return Error(ok.error());
  return {};
}

Expected<void, std::string> Lab::AddNamespace(const std::string& ns) {
  if (auto ok = Run({"ip", "netns", "add", ns}); !ok) return ok;
  if (auto ok = Run({"ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                     "net.ipv6.conf.default.disable_ipv6=1"});
      !ok) {
    return ok;
  }
  return Run({"ip", "-n", ns, "link", "set", "lo", "up"});
}

Expected<void, std::string> Lab::Build() {
  if (auto removed = CleanLeftovers(); !removed) {
    return Error("cleaning leftovers of earlier runs: " + removed.error());
  } else if (options_.progress != nullptr) {
    *options_.progress << "dove-lab: removed " << *removed
                       << " namespace(s) left over by earlier runs" << std::endl;
  }
  std::error_code error;
  fs::remove_all(temp_dir_, error);
  if (!fs::create_directories(temp_dir_ / "ctl", error)) {
    return Error("cannot create " + temp_dir_.string() + ": " + error.message());
  }
  fs::permissions(temp_dir_, fs::perms::owner_all, error);

  for (size_t i = 0; i < spec_.hosts.size(); ++i) {
    const auto& host = spec_.hosts[i];
    const unsigned octet = static_cast<unsigned>(10 + i + 1);
    HostInfo info;
    info.name = host.name;
    info.kernel = host.kernel;
    info.kernel_backend = host.kernel_backend;
    info.ns = HostNamespace(host.name);
    info.tunnel_ip = "192.0.2." + std::to_string(octet);
    info.management_ip = "198.51.100." + std::to_string(octet);
    info.underlay_mac = "02:00:c0:00:02:" + Hex2(octet);
    info.udp_checksum = host.udp_checksum;
    hosts_.push_back(std::move(info));
  }

  if (auto ok = Step("creating namespaces with prefix " + prefix_); !ok) return ok;
  std::vector<std::string> namespaces = {UnderlayNamespace(), ManagementNamespace()};
  for (int replica = 0; replica < controllers(); ++replica) {
    namespaces.push_back(ControllerNamespace(replica));
  }
  if (controllers() > 1) namespaces.push_back(EtcdNamespace());
  for (const auto& host : hosts_) namespaces.push_back(host.ns);
  for (const auto& vm : spec_.vms) namespaces.push_back(VmNamespace(vm.name));
  for (const auto& ns : namespaces) {
    if (auto ok = AddNamespace(ns); !ok) return ok;
  }
  for (const auto& host : hosts_) {
    if (!host.kernel_backend) continue;
    // The kernel backend installs IPv6 neighbour entries on its dvx<VNI> devices (the proxy
    // answers ND from them), which needs IPv6 on those devices: devices made in this namespace
    // from now on get it, but no address (addr_gen_mode 1: no link-local), no DAD and no router
    // advertisements, so they send no ND or MLD of their own. ("all" set default too; this
    // comes after.)
    if (auto ok =
            Run({"ip", "netns", "exec", host.ns, "sysctl", "-qw",
                 "net.ipv6.conf.default.disable_ipv6=0", "net.ipv6.conf.default.addr_gen_mode=1",
                 "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.default.accept_ra=0"});
        !ok) {
      return ok;
    }
    // A host given to DOVE alone, as its docs advise: no other bridge needs br_netfilter, so
    // the namespace-wide switch is off and dove-switch turns it on per bridge where a policy
    // needs it (host_routing.h). Without br_netfilter loaded there is nothing to turn off.
    if (::access("/proc/sys/net/bridge/bridge-nf-call-iptables", F_OK) == 0) {
      if (auto ok = Run({"ip", "netns", "exec", host.ns, "sysctl", "-qw",
                         "net.bridge.bridge-nf-call-iptables=0",
                         "net.bridge.bridge-nf-call-ip6tables=0"});
          !ok) {
        return ok;
      }
    }
  }
  if (auto ok = BuildUnderlayAndManagement(); !ok) return ok;

  controllers_.resize(static_cast<size_t>(controllers()));
  if (controllers() > 1) {
    if (auto ok = Step("starting " + std::to_string(kEtcdMembers) + " etcd members in " +
                       EtcdNamespace());
        !ok) {
      return ok;
    }
    if (auto ok = StartEtcd(); !ok) return ok;
  }
  for (int replica = 0; replica < controllers(); ++replica) {
    if (auto ok = Step("starting dove-controller in " + ControllerNamespace(replica)); !ok) {
      return ok;
    }
    if (auto ok = StartController(replica); !ok) return ok;
  }
  if (auto ok = Step("creating domains, networks, subnets and kernel switches"); !ok) return ok;
  if (auto ok = CreateObjects(); !ok) return ok;

  for (const auto& spec_vm : spec_.vms) {
    if (auto ok = Step("building vm " + spec_vm.name + " on " + spec_vm.host); !ok) return ok;
    if (auto ok = BuildSpecVm(spec_vm); !ok) return ok;
  }

  for (const auto& host : hosts_) {
    if (!host.kernel_backend) continue;
    // IPv6 stays off on the lab's own interfaces of a dove-kernel host (see AddNamespace's
    // caller): with the switch's IPv6 forwarding on they would join ff02::2 and send MLD.
    std::vector<std::string> argv = {"ip",
                                     "netns",
                                     "exec",
                                     host.ns,
                                     "sysctl",
                                     "-qw",
                                     "net.ipv6.conf.ul0.disable_ipv6=1",
                                     "net.ipv6.conf.mg0.disable_ipv6=1"};
    for (const auto& vm : vms_) {
      if (vm.host == host.name) argv.push_back("net.ipv6.conf." + vm.veth_peer + ".disable_ipv6=1");
    }
    if (auto ok = Run(argv); !ok) return ok;
  }
  for (const auto& host : hosts_) {
    if (host.kernel) continue;
    if (auto ok = Step("starting dove-switch in " + host.ns); !ok) return ok;
    if (auto ok = StartSwitch(host.name); !ok) return ok;
  }
  if (auto ok = Step("waiting for the switches and endpoints"); !ok) return ok;
  if (auto ok = WaitReady(options_.ready_timeout); !ok) return ok;
  for (const auto& vm : vms_) {
    if (!vm.dhcp) continue;
    if (auto ok = Step("starting busybox udhcpc in " + vm.ns); !ok) return ok;
    if (auto ok = StartDhcpClient(vm); !ok) return ok;
  }
  if (auto ok = Step("wiring kernel hosts from the controller's endpoints"); !ok) return ok;
  return RefreshKernelHosts();
}

Expected<void, std::string> Lab::BuildSpecVm(const SpecVm& spec_vm) {
  const size_t index = spec_.NetworkIndexOf(spec_vm);
  VmInfo vm;
  vm.name = spec_vm.name;
  vm.host = spec_vm.host;
  vm.domain = spec_vm.domain;
  vm.network = spec_vm.network;
  vm.network_id = network_ids_[index];
  vm.vni = network_vnis_[index];
  vm.ip = spec_vm.ip;
  vm.prefix_length = spec_.networks[index].prefix_length;
  vm.dhcp = spec_vm.dhcp;
  vm.mac = "02:00:00:00:" + Hex2(static_cast<unsigned>(index + 1)) + ":" +
           Hex2(static_cast<unsigned>(vms_.size() + 1));
  vm.ns = VmNamespace(vm.name);
  vm.host_ns = HostNamespace(vm.host);
  vm.veth_peer = "v-" + vm.name;
  vm.veth_ns = vm.host_ns;
  vm.host_link = vm.veth_peer;
  // A userspace dove-switch reads its port from a TAP, or from v-VM itself through a packet
  // socket (a packet VM); the kernel backend enslaves v-VM itself.
  vm.packet = spec_vm.packet;
  if (!Host(vm.host).kernel && !Host(vm.host).kernel_backend && !vm.packet) {
    vm.tap = "t-" + vm.name;
  }
  if (auto ok = BuildVm(vm); !ok) return ok;
  vms_.push_back(std::move(vm));
  return {};
}

Expected<void, std::string> Lab::AddVm(const std::string& statement) {
  auto parsed = ParseVm(spec_, statement);
  if (!parsed) return Error("vm: " + parsed.error());
  const SpecVm spec_vm = *parsed;
  if (auto ok = AddNamespace(VmNamespace(spec_vm.name)); !ok) return ok;
  spec_.vms.push_back(spec_vm);
  if (auto ok = BuildSpecVm(spec_.vms.back()); !ok) return ok;
  const VmInfo& vm = vms_.back();
  if (Host(vm.host).kernel_backend) {
    if (auto ok = Run({"ip", "netns", "exec", vm.host_ns, "sysctl", "-qw",
                       "net.ipv6.conf." + vm.veth_peer + ".disable_ipv6=1"});
        !ok) {
      return ok;
    }
  }
  if (vm.dhcp) {
    if (auto ok = StartDhcpClient(vm); !ok) return ok;
  }
  return RefreshKernelHosts();
}

Expected<void, std::string> Lab::BuildUnderlayAndManagement() {
  const std::string ul = UnderlayNamespace();
  const std::string mg = ManagementNamespace();
  if (auto ok = Step("building the underlay " + ul + " and management network " + mg); !ok) {
    return ok;
  }
  for (const auto& ns : {ul, mg}) {
    if (auto ok = Run({"ip", "-n", ns, "link", "add", "br0", "type", "bridge"}); !ok) return ok;
    if (auto ok = Run({"ip", "-n", ns, "link", "set", "br0", "up"}); !ok) return ok;
  }
  // The controller or each replica, and the etcd members: "mg0" in their namespace, its peer
  // "c-ctl" ("c-ctl<i>", "c-etcd") in the management bridge.
  struct Attached {
    std::string ns;
    std::string peer;
    std::vector<std::string> ips;
  };
  std::vector<Attached> attached;
  attached.reserve(static_cast<size_t>(controllers()) + 1);
  for (int replica = 0; replica < controllers(); ++replica) {
    attached.push_back({ControllerNamespace(replica),
                        controllers() == 1 ? "c-ctl" : "c-ctl" + std::to_string(replica + 1),
                        {ControllerIp(replica)}});
  }
  if (controllers() > 1) {
    Attached etcd{EtcdNamespace(), "c-etcd", {}};
    for (int member = 0; member < kEtcdMembers; ++member) {
      etcd.ips.push_back("198.51.100." + std::to_string(kEtcdFirstOctet + member));
    }
    attached.push_back(std::move(etcd));
  }
  for (const auto& [ns, peer, ips] : attached) {
    std::vector<std::vector<std::string>> commands = {
        {"ip", "link", "add", "mg0", "netns", ns, "type", "veth", "peer", "name", peer, "netns",
         mg},
        {"ip", "-n", mg, "link", "set", peer, "master", "br0", "up"},
    };
    for (const auto& ip : ips)
      commands.push_back({"ip", "-n", ns, "addr", "add", ip + "/24", "dev", "mg0"});
    commands.push_back({"ip", "-n", ns, "link", "set", "mg0", "up"});
    for (const auto& argv : commands) {
      if (auto ok = Run(argv); !ok) return ok;
    }
  }
  const std::string mtu = std::to_string(spec_.underlay_mtu);
  for (const auto& host : hosts_) {
    const std::vector<std::vector<std::string>> commands = {
        {"ip", "link", "add", "ul0", "netns", host.ns, "type", "veth", "peer", "name",
         "u-" + host.name, "netns", ul},
        {"ip", "-n", host.ns, "link", "set", "ul0", "address", host.underlay_mac, "mtu", mtu},
        {"ip", "-n", host.ns, "addr", "add", host.tunnel_ip + "/24", "dev", "ul0"},
        {"ip", "-n", host.ns, "link", "set", "ul0", "up"},
        {"ip", "-n", ul, "link", "set", "u-" + host.name, "mtu", mtu, "master", "br0", "up"},
        {"ip", "link", "add", "mg0", "netns", host.ns, "type", "veth", "peer", "name",
         "m-" + host.name, "netns", mg},
        {"ip", "-n", host.ns, "addr", "add", host.management_ip + "/24", "dev", "mg0"},
        {"ip", "-n", host.ns, "link", "set", "mg0", "up"},
        {"ip", "-n", mg, "link", "set", "m-" + host.name, "master", "br0", "up"},
    };
    for (const auto& argv : commands) {
      if (auto ok = Run(argv); !ok) return ok;
    }
  }
  for (const auto& host : hosts_) {
    for (const auto& other : hosts_) {
      if (other.name == host.name) continue;
      if (auto ok = Run({"ip", "-n", host.ns, "neigh", "replace", other.tunnel_ip, "lladdr",
                         other.underlay_mac, "dev", "ul0", "nud", "permanent"});
          !ok) {
        return ok;
      }
    }
  }
  return {};
}

Expected<void, std::string> Lab::CreateObjects() {
  auto& domain_ids = domain_ids_;
  for (const auto& network : spec_.networks) {
    if (domain_ids.count(network.domain) != 0) continue;
    auto created = ControllerRest("POST", "/v1/domains", {{"name", network.domain}});
    if (!created) return Error(created.error());
    domain_ids[network.domain] = (*created)["id"].get<std::string>();
  }
  for (const auto& network : spec_.networks) {
    nlohmann::json body = {{"domain_id", domain_ids[network.domain]}, {"name", network.name}};
    if (network.vni != 0) body["vni"] = network.vni;
    auto created = ControllerRest("POST", "/v1/networks", body);
    if (!created) return Error(created.error());
    network_ids_.push_back((*created)["id"].get<std::string>());
    network_vnis_.push_back((*created).value("vni", 0U));
    for (const auto& subnet : network.subnets) {
      nlohmann::json fields = {{"network_id", network_ids_.back()}, {"cidr", subnet.cidr}};
      if (!subnet.gateway.empty()) fields["gateway"] = subnet.gateway;
      if (network.mtu != 0) fields["mtu"] = network.mtu;
      if (!network.dns.empty()) fields["dns_servers"] = network.dns;
      auto made = ControllerRest("POST", "/v1/subnets", fields);
      if (!made) return Error(made.error());
    }
  }
  for (const auto& policy : spec_.policies) {
    auto id = CreatePolicy(policy);
    if (!id) return Error("line " + std::to_string(policy.line) + ": " + id.error());
    policy_ids_.push_back(*id);
  }
  for (const auto& host : hosts_) {
    if (!host.kernel) continue;
    auto created = ControllerRest("POST", "/v1/switches",
                                  {{"name", host.name}, {"tunnel_ip", host.tunnel_ip}});
    if (!created) return Error(created.error());
  }
  return {};
}

Expected<void, std::string> Lab::BuildVm(VmInfo& vm) {
  const SpecVm& spec_vm = *spec_.FindVm(vm.name);
  const SpecNetwork& network = spec_.networks[spec_.NetworkIndexOf(spec_vm)];
  nlohmann::json body = {{"id", vm.name},
                         {"network_id", vm.network_id},
                         {"mac", vm.mac},
                         {"switch_name", vm.host},
                         {"port_name", vm.tap.empty() ? vm.veth_peer : vm.tap}};
  if (spec_vm.packet) body["port_kind"] = "PORT_KIND_PACKET";
  if (!spec_vm.ips.empty()) body["ips"] = spec_vm.ips;
  // The TAP exists before the endpoint: a running switch (AddVm) opens the one the lab made
  // instead of making its own under the lab's feet.
  if (!vm.tap.empty()) {
    for (const std::vector<std::string>& argv :
         {std::vector<std::string>{"ip", "-n", vm.host_ns, "tuntap", "add", "dev", vm.tap, "mode",
                                   "tap", "vnet_hdr"},
          std::vector<std::string>{"ip", "-n", vm.host_ns, "link", "set", vm.tap, "up"}}) {
      if (auto ok = Run(argv); !ok) return ok;
    }
  }
  auto created = ControllerRest("POST", "/v1/endpoints", body);
  if (!created) return Error(created.error());
  vm.endpoint_id = (*created)["id"].get<std::string>();
  vm.ip.clear();
  for (const auto& item : (*created).value("ips", nlohmann::json::array())) {
    if (!item.is_string()) continue;
    const auto ip = net::IpAddress::Parse(item.get<std::string>());
    if (!ip) continue;
    for (const auto& subnet : network.subnets) {
      if (!net::IpPrefix::Parse(subnet.cidr)->Contains(*ip)) continue;
      vm.addresses.push_back(ip->ToString() + "/" + std::to_string(subnet.prefix_length));
      if (ip->is_v4() && vm.ip.empty()) {
        vm.ip = ip->ToString();
        vm.prefix_length = subnet.prefix_length;
        vm.gateway = subnet.gateway;
      } else if (ip->is_v6() && vm.ipv6.empty()) {
        vm.ipv6 = ip->ToString();
        vm.ipv6_prefix_length = subnet.prefix_length;
        vm.gateway6 = subnet.gateway;
      }
    }
  }
  if (vm.ip.empty()) return Error("the controller allocated no IPv4 address to vm " + vm.name);
  vm.mtu = vm.dhcp ? 1500 : static_cast<int>(network.mtu != 0 ? network.mtu : 1450);

  const std::string& host_ns = vm.host_ns;
  std::vector<std::vector<std::string>> commands = {
      {"ip", "link", "add", "eth0", "netns", vm.ns, "type", "veth", "peer", "name", vm.veth_peer,
       "netns", host_ns},
      {"ip", "-n", vm.ns, "link", "set", "eth0", "address", vm.mac, "mtu", std::to_string(vm.mtu)},
  };
  if (!vm.ipv6.empty() && !vm.dhcp) {
    // IPv6 on for this VM only (the lab turns it off everywhere): no DAD (the switch answers
    // for its VMs), no autoconfiguration from router advertisements (its address is static).
    commands.push_back({"ip", "netns", "exec", vm.ns, "sysctl", "-qw",
                        "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.eth0.accept_dad=0",
                        "net.ipv6.conf.eth0.accept_ra=0", "net.ipv6.conf.eth0.disable_ipv6=0"});
  }
  if (!vm.dhcp) {
    for (const auto& address : vm.addresses) {
      std::vector<std::string> add = {"ip", "-n", vm.ns, "addr", "add", address, "dev", "eth0"};
      if (address.find(':') != std::string::npos) add.push_back("nodad");
      commands.push_back(std::move(add));
    }
  }
  commands.push_back({"ip", "-n", vm.ns, "link", "set", "eth0", "up"});
  if (!vm.dhcp && !vm.gateway.empty()) {
    commands.push_back(
        {"ip", "-n", vm.ns, "route", "replace", "default", "via", vm.gateway, "dev", "eth0"});
  }
  if (!vm.dhcp && !vm.gateway6.empty()) {
    commands.push_back({"ip", "-n", vm.ns, "-6", "route", "replace", "default", "via", vm.gateway6,
                        "dev", "eth0"});
  }
  commands.push_back({"ip", "-n", host_ns, "link", "set", vm.veth_peer, "up"});
  if (!vm.tap.empty()) {
    const std::vector<std::vector<std::string>> tap = {
        {"tc", "-n", host_ns, "qdisc", "add", "dev", vm.veth_peer, "ingress"},
        {"tc", "-n", host_ns, "qdisc", "add", "dev", vm.tap, "ingress"},
    };
    commands.insert(commands.end(), tap.begin(), tap.end());
  } else if (Host(vm.host).kernel) {
    // Kernel host: one bridge + VXLAN device per network, made by the network's first VM here.
    const size_t index = spec_.NetworkIndexOf(*spec_.FindVm(vm.name));
    const std::string bridge = "br" + std::to_string(index);
    const std::string vxlan = "vx" + std::to_string(index);
    const CommandResult exists = RunCommand({"ip", "-n", host_ns, "link", "show", bridge});
    if (exists.exit_code != 0) {
      const std::vector<std::vector<std::string>> wiring = {
          {"ip", "-n", host_ns, "link", "add", bridge, "type", "bridge"},
          {"ip", "-n", host_ns, "link", "set", bridge, "up"},
          {"ip", "-n", host_ns, "link", "add", vxlan, "type", "vxlan", "id", std::to_string(vm.vni),
           "dstport", "4789", "local", Host(vm.host).tunnel_ip, "dev", "ul0", "nolearning", "proxy",
           Host(vm.host).udp_checksum ? "udpcsum" : "noudpcsum"},
          {"ip", "-n", host_ns, "link", "set", vxlan, "master", bridge, "up"},
      };
      commands.insert(commands.end(), wiring.begin(), wiring.end());
    }
    commands.push_back({"ip", "-n", host_ns, "link", "set", vm.veth_peer, "master", bridge});
  }
  for (const auto& argv : commands) {
    if (auto ok = Run(argv); !ok) return ok;
  }
  if (!vm.tap.empty()) {
    if (auto ok = Redirect(host_ns, vm.veth_peer, vm.tap); !ok) return ok;
    if (auto ok = Redirect(host_ns, vm.tap, vm.veth_peer); !ok) return ok;
  }
  return {};
}

Expected<void, std::string> Lab::Redirect(const std::string& ns, const std::string& from,
                                          const std::string& to) const {
  // matchall where the kernel has it (CONFIG_NET_CLS_MATCHALL); else u32 matching everything.
  auto matchall = RunChecked({"tc", "-n", ns, "filter", "add", "dev", from, "ingress", "matchall",
                              "action", "mirred", "egress", "redirect", "dev", to});
  if (matchall) return {};
  auto u32 =
      RunChecked({"tc",       "-n",     ns,       "filter", "add",      "dev",   from,  "ingress",
                  "protocol", "all",    "prio",   "1",      "u32",      "match", "u32", "0",
                  "0",        "action", "mirred", "egress", "redirect", "dev",   to});
  if (u32) return {};
  return Error(matchall.error() + "; and the u32 fallback: " + u32.error());
}

std::vector<std::string> Lab::SwitchArgv(const HostInfo& host) const {
  // Every replica, the k-th DOVE host's list starting at replica k mod N: the switches spread
  // over the replicas, and each falls over to the next in its list.
  int k = 0;
  for (const auto& other : hosts_) {
    if (other.name == host.name) break;
    if (!other.kernel) ++k;
  }
  std::string controller_list;
  for (int i = 0; i < controllers(); ++i) {
    controller_list += (i == 0 ? "" : ",") + ControllerAddress((k + i) % controllers());
  }
  std::vector<std::string> argv = {"ip",
                                   "netns",
                                   "exec",
                                   host.ns,
                                   binaries_.switch_binary,
                                   "--name",
                                   host.name,
                                   "--tunnel-ip",
                                   host.tunnel_ip,
                                   "--controller",
                                   controller_list,
                                   "--southbound-plaintext",
                                   "--control-socket",
                                   ControlSocket(host.name),
                                   "--metrics-listen",
                                   "127.0.0.1:" + std::to_string(kMetricsPort)};
  if (host.kernel_backend) {
    argv.emplace_back("--backend");
    argv.emplace_back("kernel");
  }
  argv.insert(argv.end(), options_.switch_args.begin(), options_.switch_args.end());
  return argv;
}

Expected<std::string, std::string> Lab::CreatePolicy(const SpecPolicy& policy) {
  const auto domain = domain_ids_.find(policy.domain);
  const SpecNetwork* from = spec_.FindNetwork(policy.domain, policy.from);
  const SpecNetwork* to = spec_.FindNetwork(policy.domain, policy.to);
  if (domain == domain_ids_.end() || from == nullptr || to == nullptr) {
    return Error(policy.Text() + ": names a domain or network this lab does not have");
  }
  const auto id_of = [&](const SpecNetwork* network) {
    return network_ids_[static_cast<size_t>(network - spec_.networks.data())];
  };
  nlohmann::json body = {{"domain_id", domain->second},
                         {"source_network_id", id_of(from)},
                         {"destination_network_id", id_of(to)},
                         {"action", policy.ActionName()},
                         {"priority", policy.priority}};
  if (policy.protocol != 0) body["protocol"] = policy.protocol;
  if (policy.first_port != 0) {
    body["port_range"] = {{"first", policy.first_port}, {"last", policy.last_port}};
  }
  auto created = ControllerRest("POST", "/v1/policies", body);
  if (!created) return Error(policy.Text() + ": " + created.error());
  return (*created)["id"].get<std::string>();
}

Expected<void, std::string> Lab::DeletePolicy(const std::string& id) {
  auto deleted = ControllerRest("DELETE", "/v1/policies/" + id);
  if (!deleted) return Error(deleted.error());
  return {};
}

// udhcpc calls the script with the event as $1 and the lease in the environment (busybox's
// names: ip, mask = prefix length, subnet, router, mtu, dns, lease, serverid). It applies
// address, MTU and default route, then logs one line per call to $DOVE_LAB_DHCP_LOG.
constexpr const char* kDhcpScript = R"(#!/bin/sh
# dove-lab: busybox udhcpc's script (docs/lab.md): apply the lease, then log the event (so a
# reader of the log finds the lease already in force).
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set dev "$interface" up
    ;;
  bound|renew)
    if ! ip -4 -o addr show dev "$interface" | grep -q " $ip/$mask "; then
      ip -4 addr flush dev "$interface"
      ip addr add "$ip/$mask" dev "$interface"
    fi
    [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
    for gw in $router; do
      ip route replace default via "$gw" dev "$interface"
      break
    done
    ;;
esac
echo "$(date +%s.%N) $1 ip=$ip mask=$mask router=$router mtu=$mtu dns=$dns lease=$lease serverid=$serverid" >>"$DOVE_LAB_DHCP_LOG"
exit 0
)";

Expected<void, std::string> Lab::WriteDhcpScript() {
  const fs::path path = temp_dir_ / "udhcpc.script";
  if (fs::exists(path)) return {};
  std::ofstream out(path);
  out << kDhcpScript;
  out.close();
  if (!out) return Error("cannot write " + path.string());
  std::error_code error;
  fs::permissions(path, fs::perms::owner_all, error);
  if (error) return Error("cannot chmod " + path.string() + ": " + error.message());
  return {};
}

std::string Lab::DhcpLog(const std::string& vm) const {
  return (temp_dir_ / ("dhcp-" + vm + ".log")).string();
}

Expected<void, std::string> Lab::StartDhcpClient(const VmInfo& vm) {
  if (auto ok = WriteDhcpScript(); !ok) return ok;
  // -f: stay in the foreground (a child of the lab); -O mtu: ask for option 26 too; a DISCOVER
  // every second, 3 at a time, then a 1 s pause, for ever (until the lab stops it).
  auto child = ChildProcess::Spawn({"ip",
                                    "netns",
                                    "exec",
                                    vm.ns,
                                    "env",
                                    "DOVE_LAB_DHCP_LOG=" + DhcpLog(vm.name),
                                    "busybox",
                                    "udhcpc",
                                    "-f",
                                    "-i",
                                    "eth0",
                                    "-s",
                                    (temp_dir_ / "udhcpc.script").string(),
                                    "-O",
                                    "mtu",
                                    "-t",
                                    "3",
                                    "-T",
                                    "1",
                                    "-A",
                                    "1"},
                                   (temp_dir_ / ("udhcpc-" + vm.name + ".out")).string());
  if (!child) return Error("starting busybox udhcpc in " + vm.ns + ": " + child.error());
  dhcp_clients_[vm.name] = std::move(*child);
  return {};
}

namespace {

int ToInt(const std::string& text) {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  return end == text.c_str() ? 0 : static_cast<int>(value);
}

}  // namespace

std::vector<DhcpEvent> Lab::DhcpEvents(const std::string& vm) const {
  std::vector<DhcpEvent> events;
  std::ifstream in(DhcpLog(vm));
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    DhcpEvent event;
    std::string time;
    words >> time >> event.event;
    event.time = std::strtod(time.c_str(), nullptr);
    for (std::string word; words >> word;) {
      const size_t equals = word.find('=');
      if (equals == std::string::npos) continue;
      const std::string key = word.substr(0, equals);
      const std::string value = word.substr(equals + 1);
      if (key == "ip") event.ip = value;
      if (key == "mask") event.mask = ToInt(value);
      if (key == "router") event.router = value;
      if (key == "mtu") event.mtu = ToInt(value);
      if (key == "dns") event.dns = value;
      if (key == "lease") event.lease = ToInt(value);
      if (key == "serverid") event.server_id = value;
    }
    events.push_back(std::move(event));
  }
  return events;
}

Expected<DhcpEvent, std::string> Lab::WaitDhcpEvent(const std::string& vm, const std::string& event,
                                                    size_t count,
                                                    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::vector<DhcpEvent> matching;
    for (auto& seen : DhcpEvents(vm)) {
      if (seen.event == event) matching.push_back(std::move(seen));
    }
    if (matching.size() >= count) return matching.back();
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string why = "vm " + vm + ": ";
      why += std::to_string(matching.size()) + " \"" + event + "\" event(s) of busybox udhcpc ";
      why += "within " + std::to_string(timeout.count()) + " ms, not " + std::to_string(count);
      why += "; its script's log " + DhcpLog(vm) + ":\n" + Tail(DhcpLog(vm), 800);
      why += "\nits output:\n" + Tail((temp_dir_ / ("udhcpc-" + vm + ".out")).string(), 800);
      return Error(why);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Expected<void, std::string> Lab::RenewDhcp(const std::string& vm) {
  auto found = dhcp_clients_.find(vm);
  if (found == dhcp_clients_.end() || !found->second->Running()) {
    return Error("vm " + vm + " runs no DHCP client");
  }
  found->second->Signal(SIGUSR1);
  return {};
}

Expected<void, std::string> Lab::RestartDhcp(const std::string& vm) {
  auto found = dhcp_clients_.find(vm);
  if (found == dhcp_clients_.end()) return Error("vm " + vm + " is not a dhcp VM");
  // SIGKILL: gone without a RELEASE, as a VM that crashed and boots again.
  found->second->Signal(SIGKILL);
  found->second->Stop();
  dhcp_clients_.erase(found);
  return StartDhcpClient(Vm(vm));
}

Expected<void, std::string> Lab::StartSwitch(const std::string& host) {
  const HostInfo& info = Host(host);
  if (info.kernel) return Error("host " + host + " is a kernel host: it runs no dove-switch");
  if (auto running = switches_.find(host);
      running != switches_.end() && running->second->Running()) {
    return Error("the dove-switch of " + host + " is already running");
  }
  auto child = ChildProcess::Spawn(SwitchArgv(info), SwitchLog(host));
  if (!child) return Error("starting dove-switch on " + host + ": " + child.error());
  switches_[host] = std::move(*child);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (!switches_[host]->Running()) {
    return Error("dove-switch on " + host + " exited at once (status " +
                 std::to_string(switches_[host]->exit_status()) + "); its log " + SwitchLog(host) +
                 ":\n" + Tail(SwitchLog(host)));
  }
  return {};
}

Expected<void, std::string> Lab::KillSwitch(const std::string& host, int signal) {
  auto found = switches_.find(host);
  if (found == switches_.end() || !found->second->Running()) {
    return Error("the dove-switch of " + host + " is not running");
  }
  if (signal == SIGTERM) {
    found->second->Stop();
    return {};
  }
  found->second->Signal(signal);
  if (signal == SIGKILL) found->second->Stop();  // reaps it (already dead: no SIGTERM sent)
  return {};
}

Expected<void, std::string> Lab::StartEtcd() {
  EtcdCluster::Options options;
  options.netns = EtcdNamespace();
  options.dir = temp_dir_ / "etcd";
  options.timeout = std::chrono::seconds(30);
  // Killed with the lab's process (also when it crashes), unless the lab is to outlive it.
  options.die_with_parent = !options_.keep;
  for (int member = 0; member < kEtcdMembers; ++member) {
    options.addresses.push_back({"198.51.100." + std::to_string(kEtcdFirstOctet + member),
                                 kEtcdClientPort, kEtcdPeerPort, kEtcdMetricsPort});
  }
  auto cluster = EtcdCluster::Start(kEtcdMembers, std::move(options));
  if (!cluster) return Error("starting etcd in " + EtcdNamespace() + ": " + cluster.error());
  etcd_ = std::move(*cluster);
  return {};
}

Expected<void, std::string> Lab::StartController(int replica) {
  if (auto ok = CheckReplica(replica); !ok) return ok;
  auto& controller = controllers_[static_cast<size_t>(replica)];
  if (controller != nullptr && controller->Running()) {
    return Error("the controller in " + ControllerNamespace(replica) + " is already running");
  }
  std::vector<std::string> argv = {"ip", "netns", "exec", ControllerNamespace(replica),
                                   binaries_.controller};
  if (controllers() == 1) {
    argv.insert(argv.end(), {"--data-dir", (temp_dir_ / "ctl").string()});
  } else {
    // Each replica its own index cache: a restarted replica reads it and etcd's changes since.
    argv.insert(argv.end(), {"--store", "etcd", "--etcd-endpoints", etcd_->Endpoints(),
                             "--etcd-prefix", kEtcdPrefix, "--cache-dir",
                             (temp_dir_ / ("ctl-cache-" + std::to_string(replica))).string()});
  }
  argv.insert(argv.end(), {"--listen",
                           std::string(options_.rest_on_management ? "0.0.0.0" : "127.0.0.1") +
                               ":" + std::to_string(kRestPort),
                           "--southbound", ControllerAddress(replica), "--southbound-plaintext"});
  if (!options_.token.empty()) {
    const std::string token_file = (temp_dir_ / "token").string();
    std::ofstream(token_file) << options_.token << "\n";
    if (::chmod(token_file.c_str(), 0600) != 0) return Error("cannot write " + token_file);
    argv.insert(argv.end(), {"--token-file", token_file});
  }
  auto child = ChildProcess::Spawn(argv, ControllerLog(replica));
  if (!child) return Error("starting dove-controller: " + child.error());
  controller = std::move(*child);
  return WaitHealthy(replica, std::chrono::seconds(15));
}

Expected<void, std::string> Lab::StopController(int replica) {
  if (auto ok = CheckReplica(replica); !ok) return ok;
  auto& controller = controllers_[static_cast<size_t>(replica)];
  if (controller == nullptr || !controller->Running()) {
    return Error("the controller in " + ControllerNamespace(replica) + " is not running");
  }
  controller->Stop();
  return {};
}

Expected<void, std::string> Lab::KillController(int replica) {
  if (auto ok = CheckReplica(replica); !ok) return ok;
  auto& controller = controllers_[static_cast<size_t>(replica)];
  if (controller == nullptr || !controller->Running()) {
    return Error("the controller in " + ControllerNamespace(replica) + " is not running");
  }
  controller->Signal(SIGKILL);
  controller->Stop();  // reaps it (dead already: no SIGTERM reaches it)
  return {};
}

Expected<void, std::string> Lab::WaitHealthy(int replica, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto& controller = controllers_[static_cast<size_t>(replica)];
  while (true) {
    if (!controller->Running()) {
      return Error("dove-controller in " + ControllerNamespace(replica) + " exited (status " +
                   std::to_string(controller->exit_status()) +
                   ") before answering /healthz; its log " + ControllerLog(replica) + ":\n" +
                   Tail(ControllerLog(replica)));
    }
    const RestReply reply = RestAt(replica, "GET", "/healthz");
    if (reply.status == 200) return {};
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error("dove-controller in " + ControllerNamespace(replica) +
                   " did not answer GET /healthz with 200 within " +
                   std::to_string(timeout.count()) + " ms; its log " + ControllerLog(replica) +
                   ":\n" + Tail(ControllerLog(replica)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Lab::RestReply Lab::RestAt(int replica, const std::string& method, const std::string& path,
                           const nlohmann::json& body) const {
  RestReply reply;
  if (replica < 0 || replica >= controllers()) {
    reply.error = "no controller replica " + std::to_string(replica);
    reply.unsent = true;
    return reply;
  }
  if (method != "GET" && method != "POST" && method != "PUT" && method != "DELETE") {
    reply.error = "unknown method " + method;
    reply.unsent = true;
    return reply;
  }
  const std::string ns = ControllerNamespace(replica);
  auto entered = RunInNetns(ns, [&] {
    httplib::Client client("127.0.0.1", kRestPort);
    client.set_connection_timeout(std::chrono::seconds(2));
    client.set_read_timeout(std::chrono::seconds(10));
    client.set_write_timeout(std::chrono::seconds(10));
    if (!options_.token.empty()) client.set_bearer_token_auth(options_.token);
    httplib::Result result = method == "GET"    ? client.Get(path)
                             : method == "POST" ? client.Post(path, body.dump(), "application/json")
                             : method == "PUT"  ? client.Put(path, body.dump(), "application/json")
                                                : client.Delete(path);
    if (!result) {
      reply.error = "cannot reach the controller" +
                    (controllers() == 1 ? std::string() : " in " + ns) + ": " +
                    httplib::to_string(result.error());
      reply.unsent = result.error() == httplib::Error::Connection;
      return;
    }
    reply.status = result->status;
    reply.body = result->body;
  });
  if (!entered) {
    reply.error = entered.error();
    reply.unsent = true;
  }
  return reply;
}

Expected<nlohmann::json, std::string> Lab::DecodeRest(const std::string& method,
                                                      const std::string& path,
                                                      const RestReply& reply) {
  const std::string what = method + " " + path + ": ";
  if (reply.status == 0) return Error(what + reply.error);
  auto json = nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (reply.status < 200 || reply.status >= 300) {
    std::string detail = reply.body;
    if (json.is_object() && json.contains("error") && json["error"].is_object()) {
      detail = json["error"].value("code", "") + ": " + json["error"].value("message", "");
    }
    return Error(what + "HTTP " + std::to_string(reply.status) + " " + detail);
  }
  if (reply.body.empty()) return nlohmann::json::object();
  if (json.is_discarded()) {
    return Error(what + "HTTP " + std::to_string(reply.status) + " body is not JSON");
  }
  return json;
}

Expected<nlohmann::json, std::string> Lab::ControllerRest(const std::string& method,
                                                          const std::string& path,
                                                          const nlohmann::json& body) const {
  const int first = rest_replica_.load();
  std::string unreachable;
  RestReply reply;
  for (int k = 0; k < controllers(); ++k) {
    const int replica = (first + k) % controllers();
    reply = RestAt(replica, method, path, body);
    if (reply.status == 0 && (reply.unsent || method == "GET") && k + 1 < controllers()) {
      unreachable += reply.error + "; ";
      continue;
    }
    if (reply.status != 0 && replica != first) rest_replica_.store(replica);
    break;
  }
  if (reply.status == 0) reply.error = unreachable + reply.error;
  return DecodeRest(method, path, reply);
}

Expected<void, std::string> Lab::DeleteEndpoint(const std::string& vm) {
  auto deleted = ControllerRest("DELETE", "/v1/endpoints/" + Vm(vm).endpoint_id);
  if (!deleted) return Error(deleted.error());
  return {};
}

Expected<void, std::string> Lab::MoveVm(const std::string& vm_name, const std::string& to_host,
                                        std::chrono::milliseconds timeout) {
  auto vm = std::find_if(vms_.begin(), vms_.end(),
                         [&](const VmInfo& info) { return info.name == vm_name; });
  if (vm == vms_.end()) return Error("move: no VM named " + vm_name);
  const auto host = std::find_if(hosts_.begin(), hosts_.end(),
                                 [&](const HostInfo& info) { return info.name == to_host; });
  if (host == hosts_.end()) return Error("move: no host named " + to_host);
  if (vm->host == to_host) return Error("move: vm " + vm_name + " is on " + to_host + " already");
  if (vm->packet) {
    return Error("move: vm " + vm_name +
                 " has a packet port (its own veth); the lab moves only VMs on TAPs");
  }
  for (const HostInfo* end : {&Host(vm->host), static_cast<const HostInfo*>(&*host)}) {
    if (end->kernel || end->kernel_backend) {
      return Error("move: host " + end->name +
                   " is not a userspace DOVE host (only those can take part in a move)");
    }
  }
  const std::string to_ns = HostNamespace(to_host);
  // Where the VM's frames go from v-VM after the move: the new TAP itself when v-VM is in the
  // new host's namespace (the VM moves back to its first host), else a new cable near-far
  // whose far end is in the new host's namespace. Two cables exist for a moment (the old one
  // goes after the switch-over): their names alternate.
  const bool direct = to_ns == vm->veth_ns;
  const bool first_pair = vm->cable != "m-" + vm->name;
  const std::string near = first_pair ? "m-" + vm->name : "o-" + vm->name;
  const std::string far = first_pair ? "n-" + vm->name : "p-" + vm->name;
  using Clock = std::chrono::steady_clock;
  const auto since = [](Clock::time_point from) {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - from);
  };
  last_move_ = {};
  const auto started = Clock::now();
  // 1. Prepared before anything changes for the VM: the TAP the new host's switch will open,
  // the cable (when one is needed) wired to it, its end by v-VM wired to v-VM, and the netlink
  // sockets the switch-over (4.) needs, so that nothing forks, moves a link or looks up a name
  // in its gap.
  std::vector<std::vector<std::string>> commands = {
      {"ip", "-n", to_ns, "tuntap", "add", "dev", vm->tap, "mode", "tap", "vnet_hdr"},
      {"ip", "-n", to_ns, "link", "set", vm->tap, "up"}};
  if (!direct) {
    commands.push_back({"ip", "-n", vm->veth_ns, "link", "add", near, "type", "veth", "peer",
                        "name", far, "netns", to_ns});
  }
  for (const auto& argv : commands) {
    if (auto ok = Run(argv); !ok) return ok;
  }
  std::unique_ptr<netlink::Rtnl> near_rtnl;  // in veth_ns, where v-VM is
  std::unique_ptr<netlink::Rtnl> to_rtnl;
  std::string open_error;
  int probe = -1;
  for (auto [ns, rtnl] : {std::pair{vm->veth_ns, &near_rtnl}, std::pair{to_ns, &to_rtnl}}) {
    auto entered = RunInNetns(ns, [&, ns = ns, rtnl = rtnl] {
      auto opened = netlink::Rtnl::Open();
      if (!opened) {
        open_error = "move: in " + ns + ": " + opened.error().message;
        return;
      }
      *rtnl = std::move(*opened);
      // The carrier probe of step 3 (ioctl on a socket of the new host's namespace).
      if (ns == to_ns) probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    });
    if (!entered) return Error("move: " + entered.error());
    if (!open_error.empty()) return Error(open_error);
  }
  const dswitch::io::FileDescriptor probe_fd(probe);
  if (!probe_fd.valid()) return Error("move: no socket in " + to_ns + ": " + std::strerror(errno));
  const auto in = [](const std::string& ns, const netlink::Error& error) {
    return Error("move: in " + ns + ": " + error.message);
  };
  const auto veth = near_rtnl->GetLink(vm->veth_peer);
  if (!veth) return in(vm->veth_ns, veth.error());
  const auto tap = to_rtnl->GetLink(vm->tap);
  if (!tap) return in(to_ns, tap.error());
  if (auto ok = to_rtnl->AddIngressQdisc(tap->ifindex); !ok) return in(to_ns, ok.error());
  // Whether the kernel has matchall, found out at the first move, here (a missing classifier
  // makes the kernel look for its module: not something for the gap). Tried on the new TAP,
  // redirecting to itself: no switch has it open yet, so no frame passes; the qdisc is made
  // again without it.
  if (!redirect_probed_) {
    auto matchall =
        to_rtnl->AddIngressRedirect(tap->ifindex, tap->ifindex, netlink::Classifier::kMatchall);
    redirect_u32_ = !matchall && matchall.error().code == ENOENT;
    if (!matchall && !redirect_u32_) return in(to_ns, matchall.error());
    if (auto ok = to_rtnl->DeleteIngressQdisc(tap->ifindex); !ok) return in(to_ns, ok.error());
    if (auto ok = to_rtnl->AddIngressQdisc(tap->ifindex); !ok) return in(to_ns, ok.error());
    redirect_probed_ = true;
  }
  const auto classifier =
      redirect_u32_ ? netlink::Classifier::kU32 : netlink::Classifier::kMatchall;
  // What the new TAP's frames go to (pre-wired: nothing comes from the TAP before the new
  // switch has it, and then the VM is its port), and what v-VM's frames will go to.
  int target = tap->ifindex;
  if (direct) {
    if (auto ok = to_rtnl->AddIngressRedirect(tap->ifindex, veth->ifindex, classifier); !ok) {
      return in(to_ns, ok.error());
    }
  } else {
    const auto near_link = near_rtnl->GetLink(near);
    if (!near_link) return in(vm->veth_ns, near_link.error());
    const auto far_link = to_rtnl->GetLink(far);
    if (!far_link) return in(to_ns, far_link.error());
    // As large frames as v-VM takes (a veth drops what exceeds its peer's MTU).
    for (auto [rtnl, link, ns] : {std::tuple{near_rtnl.get(), *near_link, vm->veth_ns},
                                  std::tuple{to_rtnl.get(), *far_link, to_ns}}) {
      if (auto ok = rtnl->SetMtu(link.ifindex, veth->mtu); !ok) return in(ns, ok.error());
      if (auto ok = rtnl->AddIngressQdisc(link.ifindex); !ok) return in(ns, ok.error());
    }
    if (auto ok = near_rtnl->AddIngressRedirect(near_link->ifindex, veth->ifindex, classifier);
        !ok) {
      return in(vm->veth_ns, ok.error());
    }
    if (auto ok = to_rtnl->AddIngressRedirect(far_link->ifindex, tap->ifindex, classifier); !ok) {
      return in(to_ns, ok.error());
    }
    if (auto ok = to_rtnl->AddIngressRedirect(tap->ifindex, far_link->ifindex, classifier); !ok) {
      return in(to_ns, ok.error());
    }
    if (auto ok = near_rtnl->SetUp(near_link->ifindex, true); !ok) {
      return in(vm->veth_ns, ok.error());
    }
    if (auto ok = to_rtnl->SetUp(far_link->ifindex, true); !ok) return in(to_ns, ok.error());
    target = near_link->ifindex;
  }
  // 2. The move, through the API: the endpoint as stored, with its new switch and port.
  auto stored = ControllerRest("GET", "/v1/endpoints/" + vm->endpoint_id);
  if (!stored) return Error("move: " + stored.error());
  nlohmann::json body = {{"id", vm->endpoint_id},
                         {"network_id", vm->network_id},
                         {"mac", vm->mac},
                         {"ips", stored->value("ips", nlohmann::json::array())},
                         {"switch_name", to_host},
                         {"port_name", vm->tap},
                         {"version", stored->value("version", 0)}};
  last_move_.prepare = since(started);
  const auto put_started = Clock::now();
  if (auto put = ControllerRest("PUT", "/v1/endpoints/" + vm->endpoint_id, body); !put) {
    return Error("move: " + put.error());
  }
  last_move_.put = since(put_started);
  // 3. The new switch opens the TAP (its carrier comes up: IFF_RUNNING), then attaches the
  // endpoint. Asked with ioctl every millisecond: an `ip link show` per look would cost ~20 ms.
  const auto wait_started = Clock::now();
  const auto running = [&] {
    ifreq request{};
    vm->tap.copy(request.ifr_name, IFNAMSIZ - 1);
    return ioctl(probe_fd.get(), SIOCGIFFLAGS, &request) == 0 &&
           (request.ifr_flags & IFF_RUNNING) != 0;
  };
  const auto deadline = Clock::now() + timeout;
  bool opened = running();
  while (!opened && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    opened = running();
  }
  last_move_.tap_open = since(wait_started);
  if (!opened) {
    return Error("move: the switch on " + to_host + " did not open " + vm->tap + " within " +
                 std::to_string(timeout.count()) + " ms; its log " + SwitchLog(to_host) + ":\n" +
                 Tail(SwitchLog(to_host)));
  }
  // 4. The switch-over: v-VM's frames go to the new path instead of the old TAP (or the old
  // cable), on a link that stays up: the VM's carrier never drops, it keeps its neighbours.
  // With u32 (the lab's redirects are u32 at priority 1 where the kernel lacks matchall) one
  // request points v-VM's filter at `target` in place; matchall cannot be replaced, so there
  // (and should the u32 filter be missing) v-VM's ingress qdisc is made again with the one
  // redirect: three requests, which may wait for an RCU grace period.
  const auto switch_started = Clock::now();
  const auto cut_off = [&](const netlink::Error& error) {
    return Error("move: in " + vm->veth_ns + " (the VM is cut off: " + vm->veth_peer +
                 " lost its redirect): " + error.message);
  };
  if (!redirect_u32_ || !near_rtnl->ReplaceIngressRedirectU32(veth->ifindex, target)) {
    if (auto ok = near_rtnl->DeleteIngressQdisc(veth->ifindex); !ok) return cut_off(ok.error());
    if (auto ok = near_rtnl->AddIngressQdisc(veth->ifindex); !ok) return cut_off(ok.error());
    if (auto ok = near_rtnl->AddIngressRedirect(veth->ifindex, target, classifier); !ok) {
      return cut_off(ok.error());
    }
  }
  last_move_.switch_over = since(switch_started);
  // The old path goes: the old TAP is its switch's (it deletes it on EndpointMoved); the old
  // cable (deleting one end deletes both) is the lab's.
  if (!vm->cable.empty()) {
    const auto old_cable = near_rtnl->GetLink(vm->cable);
    if (!old_cable) return in(vm->veth_ns, old_cable.error());
    if (auto ok = near_rtnl->DeleteLink(old_cable->ifindex); !ok) {
      return in(vm->veth_ns, ok.error());
    }
  }
  vm->cable = direct ? "" : near;
  vm->host_link = direct ? vm->veth_peer : far;
  vm->host = to_host;
  vm->host_ns = to_ns;
  return {};
}

Expected<void, std::string> Lab::RewirePort(const std::string& vm_name) {
  const VmInfo& vm = Vm(vm_name);
  // dove-kernel: the switch enslaves v-VM to its bridge again itself; nothing to redirect.
  if (Host(vm.host).kernel_backend) return {};
  // A packet port: the switch binds v-VM itself again; nothing to redirect.
  if (vm.packet) return {};
  if (vm.tap.empty()) return Error("vm " + vm_name + " is on a kernel host: it has no TAP");
  for (const std::string& device : {vm.host_link, vm.tap}) {
    // A new TAP has no ingress qdisc yet; the veth's still holds the stale redirect.
    RunCommand({"tc", "-n", vm.host_ns, "qdisc", "del", "dev", device, "ingress"});
    if (auto ok = Run({"tc", "-n", vm.host_ns, "qdisc", "add", "dev", device, "ingress"}); !ok) {
      return ok;
    }
  }
  if (auto ok = Redirect(vm.host_ns, vm.host_link, vm.tap); !ok) return ok;
  return Redirect(vm.host_ns, vm.tap, vm.host_link);
}

Expected<void, std::string> Lab::WaitReady(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // The switch logs go with the temp dir on teardown: the error carries their ends.
  const auto logs_of = [this](const std::vector<std::string>& hosts) {
    std::string logs;
    for (const auto& host : hosts) {
      logs += "\n--- the end of " + SwitchLog(host) + ":\n" + Tail(SwitchLog(host), 600);
    }
    return logs;
  };
  std::string missing;
  std::set<std::string> not_ready;
  while (true) {
    missing.clear();
    not_ready.clear();
    for (const auto& [host, process] : switches_) {
      if (!process->Running()) {
        return Error("dove-switch on " + host + " exited (status " +
                     std::to_string(process->exit_status()) + "); its log " + SwitchLog(host) +
                     ":\n" + Tail(SwitchLog(host)));
      }
    }
    if (etcd_ != nullptr) {
      for (int member = 0; member < etcd_->size(); ++member) {
        if (etcd_->Running(member) && !etcd_->Healthy(member)) {
          missing += " etcd member m" + std::to_string(member) + " is not healthy;";
        }
      }
    }
    // Every replica that runs must see it all (its index follows etcd's watch).
    int asked = 0;
    for (int replica = 0; replica < controllers(); ++replica) {
      const auto& controller = controllers_[static_cast<size_t>(replica)];
      if (controller == nullptr || !controller->Running()) continue;
      ++asked;
      const std::string who =
          controllers() == 1 ? "" : " (seen by " + ControllerNamespace(replica) + ")";
      auto switches = DecodeRest("GET", "/v1/switches", RestAt(replica, "GET", "/v1/switches"));
      auto endpoints = DecodeRest("GET", "/v1/endpoints", RestAt(replica, "GET", "/v1/endpoints"));
      if (!switches) return Error(switches.error());
      if (!endpoints) return Error(endpoints.error());
      std::map<std::string, std::string> states;
      for (const auto& item : (*switches)["items"]) {
        states[item.value("name", "")] = item.value("state", "STATE_UNSPECIFIED");
      }
      for (const auto& host : hosts_) {
        if (host.kernel) continue;
        auto found = states.find(host.name);
        if (found == states.end()) {
          missing += " switch " + host.name + " not registered" + who + ";";
          not_ready.insert(host.name);
        } else if (found->second != "STATE_UP") {
          missing += " switch " + host.name + " is " + found->second + who + ";";
          not_ready.insert(host.name);
        }
      }
      std::set<std::string> ids;
      for (const auto& item : (*endpoints)["items"]) ids.insert(item.value("id", ""));
      for (const auto& vm : vms_) {
        if (ids.count(vm.endpoint_id) == 0) {
          missing += " endpoint " + vm.endpoint_id + " absent" + who + ";";
        }
      }
    }
    if (asked == 0) return Error(std::string("no controller runs"));
    if (missing.empty()) return {};
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error("the lab was not ready within " + std::to_string(timeout.count()) +
                   " ms:" + missing + logs_of({not_ready.begin(), not_ready.end()}));
    }
    if (options_.cancel != nullptr && options_.cancel->load()) {
      return Error(std::string("interrupted"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Expected<void, std::string> Lab::RefreshKernelHosts() {
  bool any_kernel = false;
  for (const auto& host : hosts_) any_kernel |= host.kernel || host.kernel_backend;
  if (!any_kernel) return {};
  auto switches = ControllerRest("GET", "/v1/switches");
  if (!switches) return Error(switches.error());
  std::map<std::string, std::string> tunnel_ips;
  for (const auto& item : (*switches)["items"]) {
    tunnel_ips[item.value("name", "")] = item.value("tunnel_ip", "");
  }
  std::set<std::string> kernel_tunnel_ips;
  for (const auto& host : hosts_) {
    if (host.kernel || host.kernel_backend) kernel_tunnel_ips.insert(host.tunnel_ip);
  }
  for (auto& host : hosts_) {
    // dove-kernel hosts: their switch owns the entries; only their checksums are the lab's.
    if (!host.kernel && !host.kernel_backend) continue;
    std::set<size_t> networks;
    for (const auto& vm : vms_) {
      if (vm.host == host.name) networks.insert(spec_.NetworkIndexOf(*spec_.FindVm(vm.name)));
    }
    std::vector<KernelWiring> wirings;
    bool other_peer = false;  // a peer that is not a kernel host of this lab
    for (const size_t index : networks) {
      KernelWiring& wiring = wirings.emplace_back();
      wiring.vxlan = "vx" + std::to_string(index);
      auto endpoints = ControllerRest("GET", "/v1/endpoints?network=" + network_ids_[index]);
      if (!endpoints) return Error(endpoints.error());
      for (const auto& item : (*endpoints)["items"]) {
        const std::string switch_name = item.value("switch_name", "");
        if (switch_name.empty() || switch_name == host.name) continue;
        const auto tip = tunnel_ips.find(switch_name);
        if (tip == tunnel_ips.end() || tip->second.empty()) continue;  // not registered yet
        const std::string mac = item.value("mac", "");
        wiring.fdb.insert({mac, tip->second});
        wiring.fdb.insert({"00:00:00:00:00:00", tip->second});
        other_peer |= kernel_tunnel_ips.count(tip->second) == 0;
        for (const auto& ip : item.value("ips", nlohmann::json::array())) {
          if (ip.is_string() && ip.get<std::string>().find(':') == std::string::npos) {
            wiring.neighbours[ip.get<std::string>()] = mac;
          }
        }
      }
    }
    // Checksums first: no frame towards a new dove-switch peer leaves with a partial checksum.
    if (other_peer != host.completes_checksums) {
      Expected<void, std::string> set;
      auto entered = RunInNetns(host.ns, [&] { set = SetTxChecksumOffload("ul0", !other_peer); });
      if (!entered) return Error(entered.error());
      if (!set) return Error(host.name + ": " + set.error());
      host.completes_checksums = other_peer;
    }
    if (host.kernel_backend) continue;
    for (const auto& wiring : wirings) {
      if (auto ok = ApplyKernelWiring(host, wiring); !ok) return ok;
    }
  }
  return {};
}

Expected<void, std::string> Lab::ApplyKernelWiring(const HostInfo& host,
                                                   const KernelWiring& wiring) const {
  const std::string& vxlan = wiring.vxlan;
  auto current_fdb = RunChecked({"bridge", "-j", "-n", host.ns, "fdb", "show", "dev", vxlan});
  if (!current_fdb) return Error(current_fdb.error());
  const auto fdb_json = nlohmann::json::parse(*current_fdb, nullptr, false);
  std::set<std::pair<std::string, std::string>> present;
  if (fdb_json.is_array()) {
    for (const auto& entry : fdb_json) {
      if (!entry.contains("dst")) continue;
      present.insert({entry.value("mac", ""), entry.value("dst", "")});
    }
  }
  for (const auto& [mac, dst] : present) {
    if (wiring.fdb.count({mac, dst}) != 0) continue;
    if (auto ok = Run({"bridge", "-n", host.ns, "fdb", "del", mac, "dev", vxlan, "dst", dst});
        !ok) {
      return ok;
    }
  }
  for (const auto& [mac, dst] : wiring.fdb) {
    if (present.count({mac, dst}) != 0) continue;
    if (auto ok = Run({"bridge", "-n", host.ns, "fdb", "append", mac, "dev", vxlan, "dst", dst});
        !ok) {
      return ok;
    }
  }
  auto current_neigh = RunChecked({"ip", "-j", "-n", host.ns, "neigh", "show", "dev", vxlan});
  if (!current_neigh) return Error(current_neigh.error());
  const auto neigh_json = nlohmann::json::parse(*current_neigh, nullptr, false);
  if (neigh_json.is_array()) {
    for (const auto& entry : neigh_json) {
      const std::string ip = entry.value("dst", "");
      if (ip.empty() || wiring.neighbours.count(ip) != 0) continue;
      if (auto ok = Run({"ip", "-n", host.ns, "neigh", "del", ip, "dev", vxlan}); !ok) return ok;
    }
  }
  for (const auto& [ip, mac] : wiring.neighbours) {
    if (auto ok = Run({"ip", "-n", host.ns, "neigh", "replace", ip, "lladdr", mac, "dev", vxlan,
                       "nud", "permanent"});
        !ok) {
      return ok;
    }
  }
  return {};
}

CommandResult Lab::Exec(const std::string& ns, const std::vector<std::string>& argv,
                        std::chrono::milliseconds timeout) const {
  std::vector<std::string> full = {"ip", "netns", "exec", ns};
  full.insert(full.end(), argv.begin(), argv.end());
  return RunCommand(full, timeout);
}

int Lab::Ping(const std::string& from_vm, const std::string& ip, int count,
              std::chrono::seconds timeout, int payload_bytes) const {
  std::vector<std::string> argv = {"ping",
                                   "-n",
                                   "-q",
                                   "-c",
                                   std::to_string(count),
                                   "-i",
                                   "0.2",
                                   "-W",
                                   std::to_string(timeout.count())};
  if (payload_bytes > 0) {
    argv.insert(argv.end(), {"-s", std::to_string(payload_bytes), "-M", "do"});
  }
  argv.push_back(ip);
  const CommandResult result =
      Exec(VmNamespace(from_vm), argv, std::chrono::seconds(5 + count * (1 + timeout.count())));
  static const std::regex kReceived("([0-9]+) (packets )?received");
  std::smatch match;
  if (std::regex_search(result.out, match, kReceived)) return std::stoi(match[1].str());
  return 0;
}

Expected<void, std::string> Lab::StartCapture(const std::string& ns, const std::string& iface,
                                              const std::string& pcap_path) {
  if (captures_.count(pcap_path) != 0) return Error("a capture into " + pcap_path + " runs");
  std::error_code error;
  fs::remove(pcap_path, error);
  auto child =
      ChildProcess::Spawn({"ip", "netns", "exec", ns, "tcpdump", "-i", iface, "-w", pcap_path, "-U",
                           "--immediate-mode", "-n", "-s", "0", "-Z", "root"},
                          pcap_path + ".log");
  if (!child) return Error("starting tcpdump: " + child.error());
  const auto fail = [&](const std::string& why) {
    return Error("tcpdump on " + iface + " in " + ns + why);
  };
  auto& capture = captures_[pcap_path];
  capture = std::move(*child);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (true) {
    if (!capture->Running()) {
      const std::string log = Tail(pcap_path + ".log");
      captures_.erase(pcap_path);
      return fail(" exited: " + log);
    }
    if (fs::file_size(pcap_path, error) >= 24 && !error) break;  // the pcap file header
    if (std::chrono::steady_clock::now() >= deadline) {
      return fail(" wrote no pcap header within 10 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return {};
}

Expected<void, std::string> Lab::StopCapture(const std::string& pcap_path) {
  auto found = captures_.find(pcap_path);
  if (found == captures_.end()) return Error("no capture into " + pcap_path + " runs");
  found->second->Stop();
  captures_.erase(found);
  return {};
}

void Lab::StopAllCaptures() {
  for (auto& [path, capture] : captures_) capture->Signal(SIGTERM);
  for (auto& [path, capture] : captures_) capture->Stop();
  captures_.clear();
}

Expected<void, std::string> Lab::Down() {
  if (down_) return {};
  down_ = true;
  std::string first_error;
  StopAllCaptures();
  for (auto& [vm, client] : dhcp_clients_) client->Signal(SIGKILL);
  dhcp_clients_.clear();  // reaps them
  for (auto& [host, process] : switches_) process->Signal(SIGTERM);
  for (auto& [host, process] : switches_) process->Stop();
  switches_.clear();
  for (auto& controller : controllers_) {
    if (controller != nullptr) controller->Signal(SIGTERM);
  }
  for (auto& controller : controllers_) {
    if (controller != nullptr) controller->Stop();
  }
  controllers_.clear();
  etcd_.reset();  // kills the members
  for (const auto& ns : NamespacesWithPrefix(prefix_)) {
    if (auto ok = DeleteNamespace(ns); !ok && first_error.empty()) first_error = ok.error();
  }
  std::error_code error;
  fs::remove_all(temp_dir_, error);
  if (error && first_error.empty()) {
    first_error = "cannot remove " + temp_dir_.string() + ": " + error.message();
  }
  if (!first_error.empty()) return Error(first_error);
  return {};
}

}  // namespace dove::lab
