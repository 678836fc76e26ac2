#!/usr/bin/python3
"""Writes DOVE's crafted test vectors: one single-frame pcap per case, and MANIFEST.tsv.

Run from anywhere with Debian's python3-scapy (the `python3` on PATH may lack scapy):

    /usr/bin/python3 tests/data/make_scapy_vectors.py

Frames come from scapy, not from DOVE's own builders, so DOVE's parsers are checked against
an independent implementation. Everything is fixed (addresses, ids, ports, timestamps), so a
rerun writes byte-identical files; `git diff --stat tests/data` after a rerun must be empty.

MANIFEST.tsv has one line per file (lines starting with '#' are comments):
    <path relative to tests/data/scapy>  TAB  <description>  TAB  <key=value key=value ...>
Keys name a scapy layer and field in lower case ("ip.ttl", "vxlan.vni"); keys of the frame
inside a VXLAN packet start with "inner." and keys of the packet an ICMP error quotes are
scapy's "iperror." / "udperror." / "ipv6inicmp." ... layer names. Values contain no spaces:
MACs and addresses in their usual text form, checksums as 0x%04x, other numbers in decimal.
Every line has "len" (frame length), "layers" (scapy's dissection, comma-separated),
"eth.type", "ether.src" and "ether.dst" (the outer frame's); a deliberately bad frame has "error=<net::Error name>" for the first fault a
parser should report, and "fault=<what was broken>" (its prefix names the layer whose parser
refuses it: ip, udp, icmpv6, nd, vxlan). The VXLAN ones also have "lenient.error": what a
parser that follows RFC 7348 to the letter (ignoring reserved bits) reports, "none" if it
accepts the frame.
"""

import os
import sys

from scapy.all import (ARP, BOOTP, DHCP, ICMP, IP, TCP, UDP, VXLAN, Dot1Q, Ether,
                       ICMPv6DestUnreach, ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS,
                       ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, ICMPv6PacketTooBig,
                       ICMPv6TimeExceeded, IPOption_NOP, IPOption_RR, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, Raw,
                       RouterAlert, fragment6, mac2str, wrpcap)
from scapy.layers.inet6 import in6_getnsma, in6_getnsmac, inet_pton, socket

assert ICMPv6DestUnreach  # imported so the dissector knows every layer a quote may hold

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scapy")
BASE_TIME = 1700000000  # 2023-11-14T22:13:20Z; file n is stamped BASE_TIME + n seconds

# The cast: two VMs on overlay 10.0.0.0/24 and 2001:db8::/64, a gateway/DHCP server, and two
# VTEPs on underlay 192.0.2.0/24 (2001:db8:ffff::/64 for the IPv6 underlay case).
VM1_MAC, VM2_MAC, GW_MAC = "52:54:00:00:00:01", "52:54:00:00:00:02", "52:54:00:00:00:fe"
VM1_IP, VM2_IP, GW_IP = "10.0.0.1", "10.0.0.2", "10.0.0.254"
VM1_IP6, VM2_IP6, GW_IP6 = "2001:db8::1", "2001:db8::2", "2001:db8::fe"
VTEP1_MAC, VTEP2_MAC = "02:00:c0:00:02:01", "02:00:c0:00:02:02"
VTEP1_IP, VTEP2_IP = "192.0.2.1", "192.0.2.2"
VTEP1_IP6, VTEP2_IP6 = "2001:db8:ffff::1", "2001:db8:ffff::2"
VNI = 42
PAYLOAD = b"DOVE test vector"


def vm1_to_vm2():
    return Ether(src=VM1_MAC, dst=VM2_MAC)


def solicited_node(ip6):
    group = in6_getnsma(inet_pton(socket.AF_INET6, ip6))
    return socket.inet_ntop(socket.AF_INET6, group), in6_getnsmac(group)


def vxlan_outer(inner, vni=VNI):
    # What the Linux kernel sends: DF clear, id 0 for our purposes, UDP checksum 0 over IPv4,
    # a source port hashed from the inner flow (fixed here).
    return (Ether(src=VTEP1_MAC, dst=VTEP2_MAC) / IP(src=VTEP1_IP, dst=VTEP2_IP, id=0, ttl=64) /
            UDP(sport=49152, dport=4789, chksum=0) / VXLAN(vni=vni, flags=0x08) / inner)


def arp_request():
    return Ether(src=VM1_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(
        op=1, hwsrc=VM1_MAC, psrc=VM1_IP, hwdst="00:00:00:00:00:00", pdst=VM2_IP)


def ns_vm1_for_vm2():
    group, group_mac = solicited_node(VM2_IP6)
    return (Ether(src=VM1_MAC, dst=group_mac) / IPv6(src=VM1_IP6, dst=group, hlim=255) /
            ICMPv6ND_NS(tgt=VM2_IP6) / ICMPv6NDOptSrcLLAddr(lladdr=VM1_MAC))


def dhcp(message_type, options, client_ip="0.0.0.0", your_ip="0.0.0.0", server=False):
    if server:
        l2 = Ether(src=GW_MAC, dst=VM1_MAC)
        l3 = IP(src=GW_IP, dst=your_ip, id=0x0100, ttl=64) / UDP(sport=67, dport=68)
    else:
        l2 = Ether(src=VM1_MAC, dst="ff:ff:ff:ff:ff:ff")
        l3 = IP(src="0.0.0.0", dst="255.255.255.255", id=0x0100, ttl=64) / UDP(sport=68, dport=67)
    bootp = BOOTP(op=2 if server else 1, xid=0x12345678, flags=0, ciaddr=client_ip,
                  yiaddr=your_ip, siaddr=GW_IP if server else "0.0.0.0",
                  chaddr=mac2str(VM1_MAC))
    return l2 / l3 / bootp / DHCP(options=[("message-type", message_type)] + options + ["end"])


SERVER_OPTIONS = [("server_id", GW_IP), ("lease_time", 3600), ("subnet_mask", "255.255.255.0"),
                  ("router", GW_IP), ("name_server", GW_IP), ("interface-mtu", 1450)]
DHCP_FIELDS = ["IP.ihl", "IP.src", "IP.dst", "IP.ttl", "IP.id", "IP.flags", "IP.proto",
               "IP.len", "IP.chksum", "UDP.sport", "UDP.dport",
               "UDP.len", "UDP.chksum", "BOOTP.op", "BOOTP.htype", "BOOTP.hlen", "BOOTP.xid",
               "BOOTP.flags", "BOOTP.ciaddr", "BOOTP.yiaddr", "BOOTP.siaddr"]
DHCP_SERVER_EXTRA = {"dhcp.server_id": GW_IP, "dhcp.lease_time": 3600,
                     "dhcp.subnet_mask": "255.255.255.0", "dhcp.router": GW_IP,
                     "dhcp.dns": GW_IP, "dhcp.mtu": 1450, "dhcp.chaddr": VM1_MAC}

# (file, description, frame, fields to read back from scapy's dissection, extra key=values)
CASES = [
    ("arp_request.pcap", "ARP who-has 10.0.0.2 tell 10.0.0.1, broadcast", arp_request(),
     ["Ether.src", "Ether.dst", "ARP.op", "ARP.hwsrc", "ARP.psrc", "ARP.hwdst", "ARP.pdst"], {}),
    ("arp_reply.pcap", "ARP 10.0.0.2 is-at 52:54:00:00:00:02, unicast to the asker",
     Ether(src=VM2_MAC, dst=VM1_MAC) / ARP(op=2, hwsrc=VM2_MAC, psrc=VM2_IP, hwdst=VM1_MAC,
                                          pdst=VM1_IP),
     ["Ether.src", "Ether.dst", "ARP.op", "ARP.hwsrc", "ARP.psrc", "ARP.hwdst", "ARP.pdst"], {}),
    ("vlan_ipv4_udp.pcap", "802.1Q VLAN 100 priority 5, IPv4 UDP 12345 -> 5000",
     vm1_to_vm2() / Dot1Q(vlan=100, prio=5) / IP(src=VM1_IP, dst=VM2_IP, id=1, ttl=64) /
     UDP(sport=12345, dport=5000) / Raw(PAYLOAD),
     ["Dot1Q.vlan", "Dot1Q.prio", "Dot1Q.type", "IP.ihl", "IP.src", "IP.dst", "IP.ttl", "IP.id",
      "IP.flags", "IP.proto", "IP.len", "IP.chksum", "UDP.sport", "UDP.dport", "UDP.len",
      "UDP.chksum"],
     {"payload_len": len(PAYLOAD)}),
    ("ipv4_icmp_echo.pcap", "IPv4 ICMP echo request 10.0.0.1 -> 10.0.0.2",
     vm1_to_vm2() / IP(src=VM1_IP, dst=VM2_IP, id=2, ttl=64, flags="DF") /
     ICMP(type=8, code=0, id=0x1234, seq=1) / Raw(PAYLOAD),
     ["IP.ihl", "IP.src", "IP.dst", "IP.ttl", "IP.id", "IP.flags", "IP.proto", "IP.len",
      "IP.chksum", "ICMP.type", "ICMP.code", "ICMP.id", "ICMP.seq", "ICMP.chksum"],
     {"payload_len": len(PAYLOAD)}),
    ("ipv4_options_udp.pcap", "IPv4 with NOP + record-route options (ihl 7), UDP",
     vm1_to_vm2() / IP(src=VM1_IP, dst=VM2_IP, id=3, ttl=64,
                       options=[IPOption_NOP(), IPOption_RR(routers=["0.0.0.0"])]) /
     UDP(sport=12345, dport=5000) / Raw(PAYLOAD),
     ["IP.ihl", "IP.src", "IP.dst", "IP.ttl", "IP.id", "IP.flags", "IP.proto", "IP.len",
      "IP.chksum", "UDP.sport", "UDP.dport", "UDP.len", "UDP.chksum"], {"ip.options_len": 8}),
    ("ipv4_tcp_syn.pcap", "IPv4 TCP SYN 40000 -> 80 with MSS 1460",
     vm1_to_vm2() / IP(src=VM1_IP, dst=VM2_IP, id=4, ttl=64, flags="DF") /
     TCP(sport=40000, dport=80, seq=1000, flags="S", window=64240, options=[("MSS", 1460)]),
     ["IP.ihl", "IP.src", "IP.dst", "IP.ttl", "IP.id", "IP.flags", "IP.proto", "IP.len",
      "IP.chksum", "TCP.sport", "TCP.dport", "TCP.seq", "TCP.ack", "TCP.dataofs", "TCP.flags",
      "TCP.window", "TCP.chksum"],
     {"tcp.mss": 1460}),
    ("ipv4_icmp_frag_needed.pcap",
     "ICMP destination unreachable / fragmentation needed, MTU 1450, quoting IPv4/UDP",
     Ether(src=GW_MAC, dst=VM1_MAC) / IP(src=GW_IP, dst=VM1_IP, id=5, ttl=64) /
     ICMP(type=3, code=4, nexthopmtu=1450) /
     IP(src=VM1_IP, dst=VM2_IP, id=6, ttl=63, flags="DF", len=1500) /
     UDP(sport=12345, dport=5000, len=1480, chksum=0) / Raw(PAYLOAD),
     ["IP.ihl", "IP.src", "IP.dst", "IP.ttl", "IP.id", "IP.flags", "IP.proto", "IP.len",
      "IP.chksum", "ICMP.type", "ICMP.code", "ICMP.nexthopmtu", "ICMP.chksum", "IPerror.src",
      "IPerror.dst", "IPerror.ttl", "IPerror.len", "IPerror.id", "IPerror.flags",
      "IPerror.proto", "IPerror.chksum", "UDPerror.sport", "UDPerror.dport", "UDPerror.len",
      "UDPerror.chksum"], {"mtu": 1450, "payload_len": len(PAYLOAD)}),
    ("ipv4_icmp_time_exceeded.pcap", "ICMP time exceeded in transit, quoting a traceroute probe",
     Ether(src=GW_MAC, dst=VM1_MAC) / IP(src=GW_IP, dst=VM1_IP, id=7, ttl=64) /
     ICMP(type=11, code=0) / IP(src=VM1_IP, dst=VM2_IP, id=8, ttl=1) /
     UDP(sport=33000, dport=33434) / Raw(PAYLOAD),
     ["IP.ihl", "IP.src", "IP.dst", "IP.ttl", "IP.id", "IP.flags", "IP.proto", "IP.len",
      "IP.chksum", "ICMP.type", "ICMP.code", "ICMP.chksum", "IPerror.src", "IPerror.dst", "IPerror.ttl", "IPerror.len",
      "IPerror.id", "IPerror.flags", "IPerror.proto", "IPerror.chksum", "UDPerror.sport",
      "UDPerror.dport", "UDPerror.len", "UDPerror.chksum"], {}),
    ("ipv6_icmpv6_echo.pcap", "IPv6 ICMPv6 echo request 2001:db8::1 -> 2001:db8::2",
     vm1_to_vm2() / IPv6(src=VM1_IP6, dst=VM2_IP6, hlim=64) /
     ICMPv6EchoRequest(id=0x1234, seq=1, data=PAYLOAD),
     ["IPv6.src", "IPv6.dst", "IPv6.hlim", "IPv6.plen", "IPv6.nh", "ICMPv6EchoRequest.type",
      "ICMPv6EchoRequest.code", "ICMPv6EchoRequest.id", "ICMPv6EchoRequest.seq",
      "ICMPv6EchoRequest.cksum"], {"payload_len": len(PAYLOAD)}),
    ("ipv6_ext_udp.pcap",
     "IPv6 hop-by-hop (router alert) then destination options (padding), carrying UDP",
     vm1_to_vm2() / IPv6(src=VM1_IP6, dst=VM2_IP6, hlim=64) /
     IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)]) / IPv6ExtHdrDestOpt() /
     UDP(sport=12345, dport=5000) / Raw(PAYLOAD),
     ["IPv6.src", "IPv6.dst", "IPv6.hlim", "IPv6.nh", "IPv6.plen", "IPv6ExtHdrHopByHop.nh",
      "IPv6ExtHdrHopByHop.len",
      "IPv6ExtHdrDestOpt.nh", "IPv6ExtHdrDestOpt.len", "UDP.sport", "UDP.dport", "UDP.len",
      "UDP.chksum"], {"l4_offset": 14 + 40 + 8 + 8}),
]

# fragment6 splits a 208-byte UDP datagram into 88 + 88 + 32 bytes; we keep the first and last.
_FRAGMENTS = fragment6(
    vm1_to_vm2() / IPv6(src=VM1_IP6, dst=VM2_IP6, hlim=64) / IPv6ExtHdrFragment(id=0x12345678) /
    UDP(sport=12345, dport=5000) / Raw(b"F" * 200), 150)
CASES += [
    ("ipv6_fragment_first.pcap",
     "IPv6 first fragment (offset 0, M=1) holding the UDP header and 80 bytes of a 208-byte datagram",
     _FRAGMENTS[0],
     ["IPv6.src", "IPv6.dst", "IPv6.hlim", "IPv6.nh", "IPv6.plen", "IPv6ExtHdrFragment.nh",
      "IPv6ExtHdrFragment.offset", "IPv6ExtHdrFragment.m", "IPv6ExtHdrFragment.id", "UDP.len"],
     {"udp.sport": 12345, "udp.dport": 5000}),
    ("ipv6_fragment_last.pcap", "IPv6 last fragment (offset 22 units = 176 bytes, M=0), the last 32 bytes",
     _FRAGMENTS[-1],
     ["IPv6.src", "IPv6.dst", "IPv6.hlim", "IPv6.nh", "IPv6.plen", "IPv6ExtHdrFragment.nh",
      "IPv6ExtHdrFragment.offset", "IPv6ExtHdrFragment.m", "IPv6ExtHdrFragment.id"], {}),
]

_NA_FRAME = (Ether(src=VM2_MAC, dst=VM1_MAC) /
             IPv6(src=VM2_IP6, dst=VM1_IP6, hlim=255) /
             ICMPv6ND_NA(tgt=VM2_IP6, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=VM2_MAC))
CASES += [
    ("icmpv6_ns.pcap", "neighbour solicitation for 2001:db8::2 with source link-layer option",
     ns_vm1_for_vm2(),
     ["Ether.src", "Ether.dst", "IPv6.src", "IPv6.dst", "IPv6.hlim", "IPv6.nh", "IPv6.plen",
      "ICMPv6ND_NS.type", "ICMPv6ND_NS.code",
      "ICMPv6ND_NS.tgt", "ICMPv6ND_NS.cksum", "ICMPv6NDOptSrcLLAddr.type",
      "ICMPv6NDOptSrcLLAddr.len", "ICMPv6NDOptSrcLLAddr.lladdr"], {}),
    ("icmpv6_na.pcap", "neighbour advertisement (solicited, override) with target link-layer",
     _NA_FRAME,
     ["Ether.src", "Ether.dst", "IPv6.src", "IPv6.dst", "IPv6.hlim", "IPv6.nh", "IPv6.plen",
      "ICMPv6ND_NA.type", "ICMPv6ND_NA.code", "ICMPv6ND_NA.R",
      "ICMPv6ND_NA.S", "ICMPv6ND_NA.O", "ICMPv6ND_NA.tgt", "ICMPv6ND_NA.cksum",
      "ICMPv6NDOptDstLLAddr.type", "ICMPv6NDOptDstLLAddr.len", "ICMPv6NDOptDstLLAddr.lladdr"],
     {}),
    ("icmpv6_packet_too_big.pcap", "ICMPv6 packet too big, MTU 1450, quoting IPv6/UDP",
     Ether(src=GW_MAC, dst=VM1_MAC) / IPv6(src=GW_IP6, dst=VM1_IP6, hlim=64) /
     ICMPv6PacketTooBig(mtu=1450) / IPv6(src=VM1_IP6, dst=VM2_IP6, hlim=63, plen=1460) /
     UDP(sport=12345, dport=5000, len=1460, chksum=0x1234) / Raw(PAYLOAD),
     ["IPv6.src", "IPv6.dst", "IPv6.hlim", "IPv6.plen", "ICMPv6PacketTooBig.type",
      "ICMPv6PacketTooBig.code", "ICMPv6PacketTooBig.mtu", "ICMPv6PacketTooBig.cksum",
      "IPv6.nh", "IPerror6.src", "IPerror6.dst", "IPerror6.hlim", "IPerror6.plen",
      "IPerror6.nh", "UDPerror.sport", "UDPerror.dport", "UDPerror.len", "UDPerror.chksum"],
     {"mtu": 1450, "payload_len": len(PAYLOAD)}),
    ("icmpv6_time_exceeded.pcap", "ICMPv6 hop limit exceeded in transit, quoting IPv6/UDP",
     Ether(src=GW_MAC, dst=VM1_MAC) / IPv6(src=GW_IP6, dst=VM1_IP6, hlim=64) /
     ICMPv6TimeExceeded(code=0) / IPv6(src=VM1_IP6, dst=VM2_IP6, hlim=1) /
     UDP(sport=33000, dport=33434) / Raw(PAYLOAD),
     ["IPv6.src", "IPv6.dst", "IPv6.hlim", "IPv6.plen", "IPv6.nh", "ICMPv6TimeExceeded.type",
      "ICMPv6TimeExceeded.code", "ICMPv6TimeExceeded.cksum", "IPerror6.src", "IPerror6.dst",
      "IPerror6.hlim", "IPerror6.plen", "IPerror6.nh", "UDPerror.sport", "UDPerror.dport",
      "UDPerror.len", "UDPerror.chksum"], {}),
    ("dhcp_discover.pcap", "DHCPDISCOVER from 52:54:00:00:00:01, broadcast",
     dhcp("discover", [("param_req_list", [1, 3, 6, 26, 51, 54])]), DHCP_FIELDS,
     {"dhcp.message_type": 1, "dhcp.chaddr": VM1_MAC}),
    ("dhcp_offer.pcap", "DHCPOFFER of 10.0.0.1: mask, router, DNS, lease 3600, server id, MTU 1450",
     dhcp("offer", SERVER_OPTIONS, your_ip=VM1_IP, server=True), DHCP_FIELDS,
     dict(DHCP_SERVER_EXTRA, **{"dhcp.message_type": 2})),
    ("dhcp_request.pcap", "DHCPREQUEST for 10.0.0.1 from server 10.0.0.254, broadcast",
     dhcp("request", [("requested_addr", VM1_IP), ("server_id", GW_IP),
                      ("param_req_list", [1, 3, 6, 26, 51, 54])]), DHCP_FIELDS,
     {"dhcp.message_type": 3, "dhcp.requested_addr": VM1_IP, "dhcp.server_id": GW_IP,
      "dhcp.chaddr": VM1_MAC}),
    ("dhcp_ack.pcap", "DHCPACK of 10.0.0.1 with the same options as the offer",
     dhcp("ack", SERVER_OPTIONS, your_ip=VM1_IP, server=True), DHCP_FIELDS,
     dict(DHCP_SERVER_EXTRA, **{"dhcp.message_type": 5})),
    ("vxlan_arp.pcap", "VXLAN VNI 42 over IPv4/UDP 4789 carrying an ARP request",
     vxlan_outer(arp_request()),
     ["Ether.src", "Ether.dst", "IP.ihl", "IP.src", "IP.dst", "IP.ttl", "IP.id", "IP.flags",
      "IP.proto", "IP.len", "IP.chksum", "UDP.sport", "UDP.dport", "UDP.len", "UDP.chksum", "VXLAN.flags",
      "VXLAN.vni", "VXLAN>Ether.src", "VXLAN>Ether.dst", "VXLAN>Ether.type", "VXLAN>ARP.op",
      "VXLAN>ARP.hwsrc", "VXLAN>ARP.psrc", "VXLAN>ARP.hwdst", "VXLAN>ARP.pdst"],
     {"vxlan.offset": 14 + 20 + 8, "inner.offset": 14 + 20 + 8 + 8}),
    ("vxlan_ipv6_ns.pcap", "VXLAN VNI 42 over IPv4 carrying an ICMPv6 neighbour solicitation",
     vxlan_outer(ns_vm1_for_vm2()),
     ["IP.ihl", "IP.src", "IP.dst", "IP.ttl", "IP.id", "IP.flags", "IP.proto", "IP.len",
      "IP.chksum", "UDP.sport", "UDP.dport", "UDP.len", "UDP.chksum", "VXLAN.flags", "VXLAN.vni",
      "VXLAN>Ether.src", "VXLAN>Ether.dst", "VXLAN>Ether.type", "VXLAN>IPv6.src",
      "VXLAN>IPv6.dst", "VXLAN>IPv6.hlim", "VXLAN>IPv6.plen", "VXLAN>IPv6.nh",
      "VXLAN>ICMPv6ND_NS.type", "VXLAN>ICMPv6ND_NS.code", "VXLAN>ICMPv6ND_NS.tgt",
      "VXLAN>ICMPv6ND_NS.cksum", "VXLAN>ICMPv6NDOptSrcLLAddr.type",
      "VXLAN>ICMPv6NDOptSrcLLAddr.len", "VXLAN>ICMPv6NDOptSrcLLAddr.lladdr"],
     {"inner.offset": 14 + 20 + 8 + 8}),
    ("vxlan_ipv6_underlay.pcap",
     "VXLAN VNI 42 over IPv6/UDP 4789 (checksum required) carrying an IPv4 ICMP echo",
     Ether(src=VTEP1_MAC, dst=VTEP2_MAC) / IPv6(src=VTEP1_IP6, dst=VTEP2_IP6, hlim=64) /
     UDP(sport=49153, dport=4789) / VXLAN(vni=VNI, flags=0x08) /
     vm1_to_vm2() / IP(src=VM1_IP, dst=VM2_IP, id=2, ttl=64, flags="DF") /
     ICMP(type=8, id=0x1234, seq=1) / Raw(PAYLOAD),
     ["IPv6.src", "IPv6.dst", "IPv6.hlim", "IPv6.nh", "IPv6.plen", "UDP.sport", "UDP.dport",
      "UDP.len", "UDP.chksum", "VXLAN.flags", "VXLAN.vni", "VXLAN>Ether.src", "VXLAN>Ether.dst",
      "VXLAN>Ether.type", "VXLAN>IP.ihl", "VXLAN>IP.src", "VXLAN>IP.dst", "VXLAN>IP.ttl",
      "VXLAN>IP.id", "VXLAN>IP.flags", "VXLAN>IP.proto", "VXLAN>IP.len", "VXLAN>IP.chksum",
      "VXLAN>ICMP.type", "VXLAN>ICMP.code", "VXLAN>ICMP.id", "VXLAN>ICMP.seq",
      "VXLAN>ICMP.chksum"], {"inner.offset": 14 + 40 + 8 + 8}),
]


def corrupt(frame, offset, value):
    """The frame's bytes with a 16-bit big-endian `value` at `offset`, re-dissected."""
    raw = bytearray(bytes(frame))
    raw[offset:offset + 2] = value.to_bytes(2, "big")
    return Ether(bytes(raw))


def patch(frame, offset, byte):
    raw = bytearray(bytes(frame))
    raw[offset] = byte
    return Ether(bytes(raw))


def bad_cases():
    """Frames each with one fault; their other checksums and lengths are right."""
    udp = Ether(bytes(vm1_to_vm2() / IP(src=VM1_IP, dst=VM2_IP, id=9, ttl=64) /
                      UDP(sport=12345, dport=5000) / Raw(PAYLOAD)))
    ip_sum, udp_sum = udp[IP].chksum, udp[UDP].chksum
    short = bytes(udp)[:14 + 20 + 8 + 4]  # total length still says 44 bytes of IPv4
    vx = Ether(bytes(vxlan_outer(arp_request())))
    vx_at = 14 + 20 + 8
    echo6 = Ether(bytes(vm1_to_vm2() / IPv6(src=VM1_IP6, dst=VM2_IP6, hlim=64) /
                        ICMPv6EchoRequest(id=0x1234, seq=1, data=PAYLOAD)))
    echo6_sum = echo6[ICMPv6EchoRequest].cksum
    group, group_mac = solicited_node(VM2_IP6)
    ns_zero = (Ether(src=VM1_MAC, dst=group_mac) / IPv6(src=VM1_IP6, dst=group, hlim=255) /
               ICMPv6ND_NS(tgt=VM2_IP6) / ICMPv6NDOptSrcLLAddr(len=0, lladdr=VM1_MAC))
    return [
        ("bad/ipv4_bad_header_checksum.pcap", "IPv4 UDP whose header checksum is off by one",
         corrupt(udp, 14 + 10, (ip_sum + 1) & 0xffff), ["IP.chksum", "UDP.chksum"],
         {"error": "bad_checksum", "fault": "ip.chksum", "good.ip.chksum": "0x%04x" % ip_sum}),
        ("bad/udp_bad_checksum.pcap", "IPv4 UDP whose UDP checksum is off by one",
         corrupt(udp, 14 + 20 + 6, (udp_sum + 1) & 0xffff), ["IP.chksum", "UDP.chksum"],
         {"error": "bad_checksum", "fault": "udp.chksum", "good.udp.chksum": "0x%04x" % udp_sum}),
        ("bad/ipv4_truncated.pcap",
         "IPv4 UDP cut 12 bytes short of its total length (44): the frame has 32 IPv4 bytes",
         Ether(short), ["IP.len"],
         {"error": "truncated", "fault": "ip.len", "ip.bytes_present": 32}),
        ("bad/vxlan_no_i_flag.pcap", "VXLAN with flags 0x00: the VNI is not valid",
         patch(vx, vx_at, 0x00), ["UDP.dport"],
         {"error": "bad_field", "fault": "vxlan.flags", "vxlan.flags": 0, "vxlan.vni": VNI,
          "lenient.error": "bad_field"}),
        ("bad/vxlan_reserved_bits.pcap",
         "VXLAN flags 0x08 with reserved bits set (byte 1 = 0x01, last byte = 0x01); "
         "RFC 7348 says ignore, the Linux kernel drops it",
         patch(patch(vx, vx_at + 1, 0x01), vx_at + 7, 0x01), ["UDP.dport"],
         {"error": "bad_field", "fault": "vxlan.reserved", "vxlan.flags": 8, "vxlan.vni": VNI,
          "lenient.error": "none"}),
        ("bad/icmpv6_bad_checksum.pcap", "ICMPv6 echo request whose checksum is off by one",
         corrupt(echo6, 14 + 40 + 2, (echo6_sum + 1) & 0xffff), ["ICMPv6EchoRequest.cksum"],
         {"error": "bad_checksum", "fault": "icmpv6.cksum",
          "good.icmpv6.cksum": "0x%04x" % echo6_sum}),
        ("bad/nd_option_length_zero.pcap",
         "neighbour solicitation whose source link-layer option has length 0 (RFC 4861 4.6: "
         "discard); the ICMPv6 checksum is right",
         ns_zero, ["ICMPv6ND_NS.cksum", "ICMPv6NDOptSrcLLAddr.len"],
         # bad_field: neighbor_discovery.h's decision (a value RFC 4861 forbids, not a length
         # that disagrees with the buffer).
         {"error": "bad_field", "fault": "nd.option.len"}),
    ]


def key_of(spec):
    if ">" in spec:
        return "inner." + spec.split(">", 1)[1].lower()
    return spec.lower()


def value_of(packet, spec):
    layer_spec, field = spec.rsplit(".", 1)
    layer = packet
    for name in layer_spec.split(">"):
        layer = layer.getlayer(name)
        if layer is None:
            sys.exit("no layer %s in %s" % (name, packet.summary()))
    value = layer.getfieldval(field)
    if field in ("chksum", "cksum"):
        return "0x%04x" % value
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "value") and not isinstance(value, (int, str)):
        value = value.value  # scapy FlagValue
    return str(int(value)) if not isinstance(value, str) else value


def layer_names(packet):
    names, layer = [], packet
    while layer and layer.name != "NoPayload" and layer.__class__.__name__ != "NoPayload":
        names.append(layer.__class__.__name__)
        layer = layer.payload
    return ",".join(names)


def main():
    os.makedirs(os.path.join(OUT, "bad"), exist_ok=True)
    lines = ["# file\tdescription\tfields (see make_scapy_vectors.py)"]
    for index, (name, description, frame, specs, extra) in enumerate(CASES + bad_cases()):
        packet = Ether(bytes(frame))  # what a receiver sees: computed fields filled in
        packet.time = BASE_TIME + index
        wrpcap(os.path.join(OUT, name), [packet])
        fields = {"len": len(bytes(packet)), "layers": layer_names(packet),
                  "eth.type": "0x%04x" % packet[Ether].type}
        fields.update((key_of(spec), value_of(packet, spec)) for spec in ["Ether.src", "Ether.dst"])
        fields.update((key_of(spec), value_of(packet, spec)) for spec in specs)
        fields.update(extra)
        text = " ".join("%s=%s" % (k, v) for k, v in fields.items())
        assert "\t" not in description and " " not in "".join(str(v) for v in fields.values())
        lines.append("%s\t%s\t%s" % (name, description, text))
    with open(os.path.join(OUT, "MANIFEST.tsv"), "w") as manifest:
        manifest.write("\n".join(lines) + "\n")
    print("wrote %d vectors to %s" % (len(lines) - 1, OUT))


if __name__ == "__main__":
    main()
