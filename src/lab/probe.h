// Probes: does traffic from one VM reach an address, and WHICH VM gets it? For the policy
// matrix of the routed demo and the end-to-end tests.
//
// A TCP or UDP probe sends a unique token with nc (Debian's netcat-openbsd) from the `from` VM
// to ip:port: TCP `echo TOKEN | nc -n -N -w 2 IP PORT` (one connection), UDP three datagrams
// 200 ms apart (`nc -n -u -w 1`), so a first datagram parked while the switch resolves the
// destination is not the only one. Before any probe is sent, a listener (python, one per VM, on
// every port any probe aims at one of its addresses) starts in EVERY VM of the lab that holds
// the probe's destination IP, whatever its tenant: so a probe that crossed tenants is seen where
// it landed. `received_by` lists the VMs whose listener read the token. An ICMP probe is
// `ping -c 3 -i 0.2 -W 1`; `replied` says whether one reply came (received_by stays empty).
// All probes of one call run in parallel; the listeners stop 0.5 s after the last sender is
// done (a denied TCP probe gives up after 2 s), or after `listen_for` at the latest: a call
// takes 2-3 s.
// Thread-compatible: one RunProbes per lab at a time.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/expected.h"
#include "lab/lab.h"

namespace dove::lab {

enum class ProbeProtocol { kIcmp, kTcp, kUdp };

struct Probe {
  std::string from;  // VM name
  std::string ip;    // destination, IPv4 or IPv6
  ProbeProtocol protocol = ProbeProtocol::kTcp;
  int port = 0;  // TCP/UDP destination port
};

struct ProbeResult {
  bool replied = false;                  // ICMP: a reply came; TCP: nc connected and sent
  std::vector<std::string> received_by;  // TCP/UDP: the VMs whose listener read the token
  std::string detail;                    // the sender's output, for messages
};

// "tcp 10.2.0.21:8080", "icmp 10.2.0.21".
std::string Describe(const Probe& probe);

// Runs every probe at once; the error says why the probes could not run (a listener that did
// not start), not that a probe failed.
Expected<std::vector<ProbeResult>, std::string> RunProbes(
    const Lab& lab, const std::vector<Probe>& probes,
    std::chrono::milliseconds listen_for = std::chrono::milliseconds(10000));

// What the spec's policies say about traffic from network `from` to network `to` of `domain`
// (IPv4 protocols: ICMP is protocol 1): the same network always; else the matching rule of the
// highest priority decides, deny and reject winning ties; no matching rule: denied. What the
// lab expects of a probe (replies pass back: the switches remember allowed flows).
bool PolicyAllows(const Spec& spec, const std::string& domain, const std::string& from,
                  const std::string& to, ProbeProtocol protocol, int port);

}  // namespace dove::lab
