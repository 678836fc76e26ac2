// RunDemoChecks: what `dove-lab demo` proves on a running lab, usable on any lab from C++.
//
//   1. connectivity: every VM pings (3 packets, 1 s timeout, all pairs in parallel) the IP of
//      every other VM of its own network; each pair must get at least one reply;
//   2. isolation: while the pings run, every VM's eth0 is captured; a frame whose Ethernet
//      source is the MAC of a VM of another network must never appear there (with overlapping
//      IPs, red1's ping to 10.0.0.12 must reach red2, never blue2);
//   3. underlay: the capture on the underlay bridge holds only VXLAN between tunnel IPs: no
//      other frame, no ARP, no ARP inside VXLAN; it prints frames per VNI and tunnel pair.
//   4. routing (RunRoutedChecks): for every pair of VMs of one tenant in two networks that a
//      policy with ports names, nc to each port the policy names and to the next one, and ICMP,
//      all at once, with a listener in every VM holding the destination IP (of any tenant):
//      allowed probes must land in exactly the VM aimed at, denied ones nowhere, and none in
//      another tenant (the demo's tenants have the same subnets, IPs and router addresses).
//      Pairs with a VM on a kernel-VXLAN host are skipped (said on `out`): no router there.
// Prints a VM x VM matrix (expected / measured) and PASS/FAIL per check on `out`; needs
// tcpdump, tshark, nc and python3. Returns whether every check passed, or why the checks could
// not run.
#pragma once

#include <ostream>
#include <string>

#include "base/expected.h"
#include "lab/lab.h"

namespace dove::lab {

Expected<bool, std::string> RunDemoChecks(Lab& lab, std::ostream& out);
// Check 4 alone (true when the lab has no such pair).
Expected<bool, std::string> RunRoutedChecks(Lab& lab, std::ostream& out);

}  // namespace dove::lab
