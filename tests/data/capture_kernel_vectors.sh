#!/usr/bin/env bash
# Captures traffic the Linux kernel generates into DOVE's test vectors (run as root):
#   tests/data/kernel/vxlan_underlay.pcap  the underlay veth of host 1: kernel VXLAN (VNI 42,
#                                          UDP 4789) around ARP, ICMP echo, ICMPv6 NS/NA and
#                                          echo, plus the underlay's own ARP (VTEP to VTEP)
#   tests/data/kernel/vm_inner.pcap        the same conversation inside VM 1, unencapsulated,
#                                          with nanosecond timestamps (magic a1b23c4d)
#
# Topology (every name starts with a per-run prefix; everything is removed on exit):
#   vm1 [eth0 10.0.0.1, 2001:db8::1] -- veth -- h1 [br0: t1, vx0] [u1 192.0.2.1] --+
#                                                                                 | veth
#   vm2 [eth0 10.0.0.2, 2001:db8::2] -- veth -- h2 [br0: t2, vx0] [u2 192.0.2.2] --+
# Host namespaces have IPv6 disabled and VMs neither do DAD nor send router solicitations
# or repeated MLD reports late, so the captures hold the pings' traffic and little else.
#
# Usage: sudo tests/data/capture_kernel_vectors.sh [OUTPUT_DIR]   (default: tests/data/kernel)
set -euo pipefail

OUT=${1:-$(cd "$(dirname "$0")" && pwd)/kernel}
P=dvec$$
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for n in h1 h2 vm1 vm2; do ip netns del "${P}$n" 2>/dev/null || true; done
}
trap cleanup EXIT

[[ $(id -u) == 0 ]] || { echo "run as root" >&2; exit 1; }
for tool in ip bridge tcpdump ping; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install iproute2 tcpdump iputils-ping)" >&2; exit 1; }
done
mkdir -p "$OUT"

for n in h1 h2 vm1 vm2; do
  ip netns add "${P}$n"
  ip -n "${P}$n" link set lo up
done
for n in h1 h2; do
  ip netns exec "${P}$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
done
for n in vm1 vm2; do
  ip netns exec "${P}$n" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.default.router_solicitations=0 \
    net.ipv6.conf.default.mldv2_unsolicited_report_interval=1 \
    net.ipv6.conf.default.mldv1_unsolicited_report_interval=1
done

ip link add "${P}u1" netns "${P}h1" address 02:00:c0:00:02:01 type veth \
  peer name "${P}u2" netns "${P}h2" address 02:00:c0:00:02:02
for i in 1 2; do
  h=${P}h$i
  o=$((3 - i))
  ip -n "$h" addr add "192.0.2.$i/24" dev "${P}u$i"
  ip -n "$h" link set "${P}u$i" up
  ip -n "$h" link add br0 type bridge
  ip -n "$h" link set br0 up
  ip -n "$h" link add vx0 type vxlan id 42 dstport 4789 local "192.0.2.$i" dev "${P}u$i" \
    nolearning
  ip -n "$h" link set vx0 master br0 up
  bridge -n "$h" fdb append 00:00:00:00:00:00 dev vx0 dst "192.0.2.$o"
  ip link add "${P}t$i" netns "$h" type veth peer name eth0 netns "${P}vm$i" \
    address "52:54:00:00:00:0$i"
  ip -n "$h" link set "${P}t$i" master br0 up
  ip -n "${P}vm$i" addr add "10.0.0.$i/24" dev eth0
  ip -n "${P}vm$i" addr add "2001:db8::$i/64" dev eth0 nodad
  ip -n "${P}vm$i" link set eth0 mtu 1450 up
done
# Let the VMs' MLD reports for their new groups go out before the captures start, then
# forget the underlay neighbours that they resolved, so the capture shows the hosts' ARP too.
sleep 2
for i in 1 2; do ip -n "${P}h$i" neigh flush dev "${P}u$i"; done

start_capture() {  # netns interface file: runs tcpdump in the background until it listens
  local log
  log=$(mktemp)
  ip netns exec "$1" tcpdump -i "$2" -s 0 -c 49 -U "${@:4}" -w "$3" 2>"$log" &
  PIDS+=($!)
  for _ in $(seq 50); do
    grep -q "listening on" "$log" && break
    sleep 0.1
  done
  grep -q "listening on" "$log" || { cat "$log" >&2; exit 1; }
  rm -f "$log"
}
start_capture "${P}h1" "${P}u1" "$OUT/vxlan_underlay.pcap"
start_capture "${P}vm1" eth0 "$OUT/vm_inner.pcap" --time-stamp-precision=nano

ip netns exec "${P}vm1" ping -c 2 -i 0.2 -W 1 10.0.0.2 >/dev/null
ip netns exec "${P}vm1" ping -6 -c 2 -i 0.2 -W 1 2001:db8::2 >/dev/null
sleep 0.5
for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
PIDS=()

for f in vxlan_underlay vm_inner; do
  echo "$f.pcap: $(tcpdump -r "$OUT/$f.pcap" -nn 2>/dev/null | grep -c '^[0-9]') frames"
done
echo "kernel: $(uname -r)"
