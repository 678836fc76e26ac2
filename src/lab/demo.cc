#include "lab/demo.h"

#include <future>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "lab/probe.h"

namespace dove::lab {
namespace {

using Error = Unexpected<std::string>;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, '\t')) fields.push_back(field);
  if (!line.empty() && line.back() == '\t') fields.emplace_back();
  return fields;
}

std::string VmPcap(const std::string& dir, const std::string& vm) {
  std::string path = dir;
  path.append("/vm-").append(vm).append(".pcap");
  return path;
}

std::string Flow(const std::string& src, const std::string& dst) {
  std::string flow = src;
  flow.append(" -> ").append(dst);
  return flow;
}

const char* Verdict(bool ok) { return ok ? "PASS" : "FAIL"; }

struct Pair {
  size_t from = 0;
  size_t to = 0;
  std::future<int> received;
};

}  // namespace

Expected<bool, std::string> RunDemoChecks(Lab& lab, std::ostream& out) {
  const auto& vms = lab.vms();
  const std::string dir = lab.temp_dir().string();
  const std::string underlay_pcap = dir + "/underlay.pcap";
  out << "dove-lab: capturing on " << kUnderlayBridge << " in " << lab.UnderlayNamespace()
      << " and on every VM's eth0\n";
  if (auto ok = lab.StartCapture(lab.UnderlayNamespace(), kUnderlayBridge, underlay_pcap); !ok) {
    return Error(ok.error());
  }
  for (const auto& vm : vms) {
    if (auto ok = lab.StartCapture(vm.ns, "eth0", VmPcap(dir, vm.name)); !ok) {
      return Error(ok.error());
    }
  }

  // 1. Pings of every VM to every other VM of its network, all at once.
  out << "dove-lab: pinging (3 packets, 1 s timeout) every VM of the same network\n";
  std::vector<Pair> pairs;
  for (size_t a = 0; a < vms.size(); ++a) {
    for (size_t b = 0; b < vms.size(); ++b) {
      if (a == b || vms[a].network_id != vms[b].network_id) continue;
      Pair pair{a, b, {}};
      pair.received = std::async(std::launch::async, [&lab, &vms, a, b] {
        return lab.Ping(vms[a].name, vms[b].ip, 3, std::chrono::seconds(1));
      });
      pairs.push_back(std::move(pair));
    }
  }
  std::map<std::pair<size_t, size_t>, int> received;
  for (auto& pair : pairs) received[{pair.from, pair.to}] = pair.received.get();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // late frames into the captures
  lab.StopAllCaptures();

  // 2. Per VM capture: the source MACs seen on its eth0.
  std::map<std::string, size_t> vm_of_mac;
  for (size_t i = 0; i < vms.size(); ++i) vm_of_mac[vms[i].mac] = i;
  std::vector<std::future<CommandResult>> reads;
  reads.reserve(vms.size());
  for (const auto& vm : vms) {
    reads.push_back(std::async(std::launch::async, [path = VmPcap(dir, vm.name)] {
      return RunCommand({"tshark", "-n", "-r", path, "-T", "fields", "-e", "eth.src"});
    }));
  }
  auto underlay_read = std::async(std::launch::async, [underlay_pcap] {
    return RunCommand({"tshark", "-n",       "-r", underlay_pcap,  "-d", "udp.port==4789,vxlan",
                       "-T",     "fields",   "-E", "occurrence=f", "-e", "vxlan.vni",
                       "-e",     "ip.src",   "-e", "ip.dst",       "-e", "arp.opcode",
                       "-e",     "eth.type", "-e", "igmp.type"});
  });
  // frames[b][a]: frames on b's eth0 whose source is a's MAC.
  std::vector<std::vector<int>> frames(vms.size(), std::vector<int>(vms.size(), 0));
  std::vector<int> captured(vms.size(), 0);
  for (size_t b = 0; b < vms.size(); ++b) {
    const CommandResult result = reads[b].get();
    if (result.exit_code != 0) {
      return Error("`tshark -r " + dir + "/vm-" + vms[b].name + ".pcap` failed: " + result.err);
    }
    for (const auto& line : Lines(result.out)) {
      ++captured[b];
      auto found = vm_of_mac.find(line);
      if (found != vm_of_mac.end()) ++frames[b][found->second];
    }
  }

  bool all_ok = true;
  // The matrix: a cell says whether A's traffic reached B.
  size_t width = 6;
  for (const auto& vm : vms) width = std::max(width, vm.name.size() + 2);
  out << "\nConnectivity (row pings column; same network: replies/3; other network: frames of "
         "the row's MAC seen on the column's eth0)\n"
      << std::setw(static_cast<int>(width)) << "";
  for (const auto& vm : vms) out << std::setw(static_cast<int>(width + 8)) << vm.name;
  out << "\n";
  int connectivity_failures = 0;
  int leaks = 0;
  for (size_t a = 0; a < vms.size(); ++a) {
    out << std::setw(static_cast<int>(width)) << vms[a].name;
    for (size_t b = 0; b < vms.size(); ++b) {
      std::string cell;
      if (a == b) {
        cell = "-";
      } else if (vms[a].network_id == vms[b].network_id) {
        const int got = received[{a, b}];
        const bool ok = got > 0;
        connectivity_failures += ok ? 0 : 1;
        cell = std::string("yes/") + (ok ? "yes " : "NO ") + std::to_string(got) + "/3";
      } else {
        const int seen = frames[b][a];
        leaks += seen == 0 ? 0 : 1;
        cell = std::string("no/") + (seen == 0 ? "no" : "LEAK " + std::to_string(seen));
      }
      out << std::setw(static_cast<int>(width + 8)) << cell;
    }
    out << "\n";
  }
  out << "(cells: expected/measured)\n\n";
  out << Verdict(connectivity_failures == 0) << ": every VM reaches every other VM of its network ("
      << connectivity_failures << " pair(s) without reply)\n";
  all_ok &= connectivity_failures == 0;
  // A capture that saw nothing proves nothing: each VM with a peer must see its own frames.
  int blind_captures = 0;
  for (size_t b = 0; b < vms.size(); ++b) {
    bool has_peer = false;
    for (size_t a = 0; a < vms.size(); ++a)
      has_peer |= a != b && vms[a].network_id == vms[b].network_id;
    if (has_peer && frames[b][b] == 0) ++blind_captures;
  }
  out << Verdict(blind_captures == 0) << ": every VM's capture holds its own frames ("
      << blind_captures << " empty)\n";
  all_ok &= blind_captures == 0;
  int foreign_frames = 0;
  for (size_t b = 0; b < vms.size(); ++b) {
    int foreign = 0;
    for (size_t a = 0; a < vms.size(); ++a) {
      if (vms[a].network_id != vms[b].network_id) foreign += frames[b][a];
    }
    foreign_frames += foreign;
    out << "  " << vms[b].name << " eth0: " << captured[b] << " frame(s), " << foreign
        << " from VMs of other networks\n";
  }
  out << Verdict(foreign_frames == 0) << ": no frame crossed networks/tenants (" << foreign_frames
      << " frame(s), " << leaks << " leaking pair(s))\n";
  all_ok &= foreign_frames == 0;

  // 3. The underlay.
  const CommandResult underlay = underlay_read.get();
  if (underlay.exit_code != 0) {
    return Error("`tshark -r " + underlay_pcap + "` failed: " + underlay.err);
  }
  std::set<std::string> tunnel_ips;
  for (const auto& host : lab.hosts()) tunnel_ips.insert(host.tunnel_ip);
  int total = 0;
  int vxlan = 0;
  int not_vxlan = 0;
  int arp = 0;
  int inner_arp = 0;
  int igmp = 0;  // the underlay's own multicast membership reports (its bridge, the hosts)
  std::map<std::string, std::map<std::string, int>> by_vni;  // VNI -> "src -> dst" -> frames
  for (const auto& line : Lines(underlay.out)) {
    const auto fields = Fields(line);
    const auto field = [&](size_t i) { return i < fields.size() ? fields[i] : std::string(); };
    ++total;
    const std::string vni = field(0);
    const std::string src = field(1);
    const std::string dst = field(2);
    const bool has_arp = !field(3).empty();
    if (!field(5).empty() && vni.empty()) {
      ++igmp;
      continue;
    }
    if (!vni.empty() && tunnel_ips.count(src) != 0 && tunnel_ips.count(dst) != 0) {
      ++vxlan;
      ++by_vni[vni][Flow(src, dst)];
      if (has_arp) ++inner_arp;
    } else {
      ++not_vxlan;
      if (has_arp) ++arp;
    }
  }
  out << "\nUnderlay capture (" << underlay_pcap << "): " << total << " frame(s), " << vxlan
      << " VXLAN between tunnel IPs";
  if (igmp > 0) out << ", " << igmp << " IGMP of the underlay itself (not overlay traffic)";
  out << "\n";
  for (const auto& [vni, flows] : by_vni) {
    for (const auto& [flow, count] : flows) {
      out << "  VNI " << vni << "  " << flow << ": " << count << "\n";
    }
  }
  out << Verdict(vxlan > 0) << ": the underlay carried the overlay's traffic as VXLAN (" << vxlan
      << " frame(s))\n";
  out << Verdict(not_vxlan == 0) << ": no frame on the underlay other than VXLAN between tunnel "
      << "IPs (" << not_vxlan << ")\n";
  out << Verdict(arp == 0) << ": no ARP on the underlay (" << arp << ")\n";
  out << Verdict(inner_arp == 0) << ": no ARP inside VXLAN: switches answer ARP locally ("
      << inner_arp << ")\n";
  all_ok &= vxlan > 0 && not_vxlan == 0 && arp == 0 && inner_arp == 0;

  auto routed = RunRoutedChecks(lab, out);
  if (!routed) return Error(routed.error());
  all_ok &= *routed;
  out << "\n" << (all_ok ? "PASS" : "FAIL") << ": demo\n";
  return all_ok;
}

Expected<bool, std::string> RunRoutedChecks(Lab& lab, std::ostream& out) {
  const Spec& spec = lab.spec();
  const auto& vms = lab.vms();
  // Per pair of VMs of one domain in different networks, where a policy names the two networks:
  // each port a policy names and the next one, over its protocol, and ICMP.
  struct Row {
    const VmInfo* from;
    const VmInfo* to;
    std::vector<Probe> probes;
  };
  std::vector<Row> rows;
  int on_kernel_hosts = 0;
  for (const auto& a : vms) {
    for (const auto& b : vms) {
      if (a.domain != b.domain || a.network == b.network || b.dhcp) continue;
      if (lab.Host(a.host).kernel || lab.Host(b.host).kernel) {
        ++on_kernel_hosts;
        continue;
      }
      Row row{&a, &b, {}};
      std::set<std::pair<ProbeProtocol, int>> seen;
      for (const auto& policy : spec.policies) {
        if (policy.domain != a.domain || policy.from != a.network || policy.to != b.network ||
            policy.first_port == 0) {
          continue;
        }
        const ProbeProtocol protocol =
            policy.protocol == 6 ? ProbeProtocol::kTcp : ProbeProtocol::kUdp;
        for (const int port :
             {static_cast<int>(policy.first_port), static_cast<int>(policy.last_port) + 1}) {
          if (port > 65535 || !seen.insert({protocol, port}).second) continue;
          row.probes.push_back({a.name, b.ip, protocol, port});
        }
      }
      if (row.probes.empty()) continue;
      row.probes.push_back({a.name, b.ip, ProbeProtocol::kIcmp, 0});
      rows.push_back(std::move(row));
    }
  }
  if (on_kernel_hosts > 0) {
    out << "\ndove-lab: routed checks skipped for " << on_kernel_hosts
        << " pair(s) of VMs on kernel-VXLAN hosts: the kernel's VXLAN has no distributed "
           "router\n";
  }
  if (rows.empty()) return true;
  std::vector<Probe> probes;
  for (const auto& row : rows) probes.insert(probes.end(), row.probes.begin(), row.probes.end());
  out << "\ndove-lab: routed probes (" << probes.size()
      << ", all at once): nc to each port a policy names and the next one, ICMP; a listener in "
         "every VM holding the destination IP, whatever its tenant\n";
  auto results = RunProbes(lab, probes);
  if (!results) return Error(results.error());

  out << "\nRouted (row -> column's IP through the distributed router; cells expected/measured, "
         "measured names the VM that got it)\n";
  int wrong_allowed = 0;
  int wrong_denied = 0;
  int crossed = 0;
  int allowed_total = 0;
  int denied_total = 0;
  size_t at = 0;
  for (const auto& row : rows) {
    out << "  " << std::left << std::setw(8) << row.from->name << "-> " << std::setw(8)
        << row.to->name << std::setw(11) << row.to->ip << std::right;
    for (const auto& probe : row.probes) {
      const ProbeResult& result = (*results)[at++];
      const bool expected = PolicyAllows(spec, row.from->domain, row.from->network, row.to->network,
                                         probe.protocol, probe.port);
      std::string measured;
      bool ok = false;
      if (probe.protocol == ProbeProtocol::kIcmp) {
        measured = result.replied ? "yes" : "no";
        ok = result.replied == expected;
      } else {
        for (const auto& name : result.received_by) {
          measured += (measured.empty() ? "" : ",") + name;
          if (lab.Vm(name).domain != row.from->domain) ++crossed;
        }
        const bool own = result.received_by.size() == 1 && result.received_by[0] == row.to->name;
        ok = expected ? own : result.received_by.empty();
        if (measured.empty()) measured = "no";
      }
      (expected ? allowed_total : denied_total) += 1;
      if (!ok) ++(expected ? wrong_allowed : wrong_denied);
      std::string label = probe.protocol == ProbeProtocol::kIcmp ? "icmp"
                          : probe.protocol == ProbeProtocol::kTcp
                              ? "tcp " + std::to_string(probe.port)
                              : "udp " + std::to_string(probe.port);
      out << "  " << label << ": " << (expected ? "yes" : "no") << "/" << (ok ? "" : "WRONG ")
          << measured;
    }
    out << "\n";
  }
  out << Verdict(wrong_allowed == 0) << ": allowed ports reach the VM of their own tenant ("
      << allowed_total - wrong_allowed << "/" << allowed_total << ")\n";
  out << Verdict(wrong_denied == 0) << ": other ports and ICMP stay denied by default ("
      << denied_total - wrong_denied << "/" << denied_total << ")\n";
  out << Verdict(crossed == 0) << ": no routed probe landed in another tenant (" << crossed
      << ")\n";
  return wrong_allowed == 0 && wrong_denied == 0 && crossed == 0;
}

}  // namespace dove::lab
