#!/usr/bin/python3
"""Captures what the Linux kernel does for TCP segmentation offload, as DOVE's test vectors.

Run as root (network namespaces and TAP devices):

    sudo /usr/bin/python3 tests/data/capture_kernel_offload_vectors.py [OUTPUT_DIR]

(default OUTPUT_DIR: tests/data/kernel). For IPv4 and IPv6 it writes:

  tso_ipv4_super.pcap      ONE record: a TCP super-frame exactly as the kernel's TCP stack
  tso_ipv6_super.pcap      hands it to a TAP opened with IFF_VNET_HDR and TSO offloads (the
                           Ethernet frame only; its virtio-net header is in tso_manifest.tsv)
  tso_ipv4_segments.pcap   the wire segments the kernel itself cuts from that same
  tso_ipv6_segments.pcap   super-frame (software GSO), in the order it sent them
  tso_manifest.tsv         one line per super-frame file, as tests/data/scapy/MANIFEST.tsv:
                           <file> TAB <description> TAB virtio.flags=.. virtio.gso_type=..
                           virtio.hdr_len=.. virtio.gso_size=.. virtio.csum_start=..
                           virtio.csum_offset=.. (the virtio-net header that came with it,
                           decimal) segments_file=<its segments' pcap> segments=<how many>

How (two network namespaces of their own, dtso<pid>tso and dtso<pid>segment, removed on exit,
failure too):
 1. "tso": a TAP `dvtso` (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, TUNSETOFFLOAD CSUM|TSO4|TSO6)
    holding 10.9.0.1/24 and 2001:db8::1/64; this script plays the peer 10.9.0.2 /
    2001:db8::2 (MAC 02:00:00:00:00:02, a static neighbour entry, route initcwnd 40). A kernel
    TCP socket (source port 40000 / 40006) connects to port 80, the script answers the SYN
    with a hand-made SYN-ACK (MSS 1000, timestamps, window 65535, no window scaling), the
    socket sends DATA_SIZE (10000) bytes, and the first frame with a GSO type is kept with its
    virtio header (on 6.18: all 10000 bytes in one super-frame of 11 segments, PSH set).
 2. "segment": a bridge holding two TAPs: `dvin` (IFF_VNET_HDR) and `dvout` (no virtio
    header, no offloads). The super-frame is written with its virtio header into dvin; the
    bridge floods it (its destination is unknown there) to dvout, which can take neither TSO
    nor checksum offload, so the kernel segments it in software (skb_gso_segment:
    tcp_gso_segment, inet_gso_segment / ipv6_gso_segment) with every checksum complete. The
    TCP frames read from dvout are the segments. IPv6 is disabled in that namespace so
    nothing else appears.

Records are stamped 1700000000 s + n microseconds (the real times say nothing), written
little-endian, microsecond, snaplen 262144. The kernel picks the ISNs and timestamps, so a
rerun gives other bytes of the same shape; tests compare a super-frame with its own segments.
"""

import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
TUNSETOFFLOAD = 0x400454D0
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000
TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6 = 0x01, 0x02, 0x04
VNET_HDR = struct.Struct("=BBHHHH")  # struct virtio_net_hdr, host byte order

PEER_MAC = bytes.fromhex("020000000002")
FAMILIES = {
    # name: (address family, host address, peer address, prefix, source port, EtherType)
    "ipv4": (socket.AF_INET, "10.9.0.1", "10.9.0.2", 24, 40000, 0x0800),
    "ipv6": (socket.AF_INET6, "2001:db8::1", "2001:db8::2", 64, 40006, 0x86DD),
}
PEER_PORT = 80
PEER_ISN = 5000
MSS = 1000
# Not a multiple of the segment size (988: MSS less the timestamps), so the last segment is
# short, and small enough to leave in one super-frame, with PSH.
DATA_SIZE = 10000
BASE_TIME = 1700000000


def run(*command):
    subprocess.run(command, check=True)


def open_tap(name, vnet_hdr, offloads):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    flags = IFF_TAP | IFF_NO_PI | (IFF_VNET_HDR if vnet_hdr else 0)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
    fcntl.ioctl(fd, TUNSETOFFLOAD, offloads)
    return fd


def read_frames(fd, timeout):
    """Yields what the TAP gives until nothing came for `timeout` seconds."""
    while select.select([fd], [], [], timeout)[0]:
        yield os.read(fd, 262144)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def tcp_of(frame, ether_type):
    """(IP header, TCP segment) of an untagged frame of `ether_type` carrying TCP, or None."""
    if len(frame) < 14 or struct.unpack("!H", frame[12:14])[0] != ether_type:
        return None
    ip = frame[14:]
    if ether_type == 0x0800:
        if ip[9] != 6:
            return None
        ihl = (ip[0] & 15) * 4
        return ip[:ihl], ip[ihl:struct.unpack("!H", ip[2:4])[0]]
    if ip[6] != 6:
        return None
    return ip[:40], ip[40:40 + struct.unpack("!H", ip[4:6])[0]]


def syn_ack(syn_frame, ether_type):
    """The peer's answer to the kernel's SYN: MSS 1000 and timestamps, as bytes of a frame."""
    ip, tcp = tcp_of(syn_frame, ether_type)
    source_port, sequence = struct.unpack("!H2xI", tcp[:8])
    tsval = 0
    options = tcp[20:(tcp[12] >> 4) * 4]
    i = 0
    while i < len(options) and options[i] != 0:
        if options[i] == 1:
            i += 1
            continue
        if options[i] == 8:
            tsval = struct.unpack("!I", options[i + 2:i + 6])[0]
        i += options[i + 1]
    reply_options = struct.pack("!BBH", 2, 4, MSS) + struct.pack("!BBBBII", 1, 1, 8, 10, 1, tsval)
    header = struct.pack("!HHIIBBHHH", PEER_PORT, source_port, PEER_ISN, sequence + 1,
                         (20 + len(reply_options)) // 4 << 4, 0x12, 65535, 0, 0)
    segment = bytearray(header + reply_options)
    if ether_type == 0x0800:
        source, destination = ip[16:20], ip[12:16]
        pseudo = source + destination + struct.pack("!BBH", 0, 6, len(segment))
        struct.pack_into("!H", segment, 16, checksum(pseudo + bytes(segment)))
        ip_header = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(segment), 0, 0x4000,
                                          64, 6, 0, source, destination))
        struct.pack_into("!H", ip_header, 10, checksum(bytes(ip_header)))
    else:
        source, destination = ip[24:40], ip[8:24]
        pseudo = source + destination + struct.pack("!I3xB", len(segment), 6)
        struct.pack_into("!H", segment, 16, checksum(pseudo + bytes(segment)))
        ip_header = struct.pack("!IHBB16s16s", 6 << 28, len(segment), 6, 64, source, destination)
    return syn_frame[6:12] + PEER_MAC + struct.pack("!H", ether_type) + bytes(ip_header) + segment


def capture_super_frame(name, tap):
    """Connects a kernel socket through `tap`; returns (virtio header, frame) of its first
    super-frame."""
    family, host, peer, _, source_port, ether_type = FAMILIES[name]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((host, source_port))
    sock.setblocking(False)
    try:
        sock.connect((peer, PEER_PORT))
    except BlockingIOError:
        pass
    for data in read_frames(tap, 1.0):
        frame = data[VNET_HDR.size:]
        parsed = tcp_of(frame, ether_type)
        if parsed and parsed[1][13] & 0x02:  # SYN
            os.write(tap, bytes(VNET_HDR.size) + syn_ack(frame, ether_type))
            break
    else:
        sys.exit(f"{name}: no SYN came out of the TAP")
    if not select.select([], [sock], [], 1.0)[1]:
        sys.exit(f"{name}: the connection did not complete")
    sock.setblocking(True)
    sock.sendall(bytes((i * 13 + i // 256) & 0xFF for i in range(DATA_SIZE)))
    for data in read_frames(tap, 1.0):
        header = VNET_HDR.unpack(data[:VNET_HDR.size])
        if header[1] != 0 and tcp_of(data[VNET_HDR.size:], ether_type):
            sock.close()
            return data[:VNET_HDR.size], data[VNET_HDR.size:]
    sys.exit(f"{name}: the kernel sent no super-frame")


def phase_tso(scratch):
    tap = open_tap("dvtso", True, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)
    for _, host, _, prefix, _, _ in FAMILIES.values():
        run("ip", "addr", "add", f"{host}/{prefix}", "dev", "dvtso", *(["nodad"] if ":" in host
                                                                       else []))
    run("ip", "link", "set", "dvtso", "up")
    for _, _, peer, _, _, _ in FAMILIES.values():
        run("ip", "neigh", "replace", peer, "lladdr", PEER_MAC.hex(":"), "dev", "dvtso")
        run("ip", "route", "add", f"{peer}/{128 if ':' in peer else 32}", "dev", "dvtso",
            "initcwnd", "40")
    for name in FAMILIES:
        header, frame = capture_super_frame(name, tap)
        with open(os.path.join(scratch, name), "wb") as f:
            f.write(header + frame)


def phase_segment(scratch):
    run("ip", "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0")
    into = open_tap("dvin", True, 0)
    out = open_tap("dvout", False, 0)
    for device in ("dvin", "dvout"):
        run("ip", "link", "set", device, "master", "br0", "up")
    run("ip", "link", "set", "br0", "up")
    for _ in range(50):
        states = subprocess.run(["bridge", "link", "show"], capture_output=True, text=True).stdout
        if states.count("state forwarding") == 2:
            break
        time.sleep(0.1)
    else:
        sys.exit("the bridge's ports never began forwarding")
    list(read_frames(out, 0.2))  # whatever the bridge sent before
    for name, (*_, ether_type) in FAMILIES.items():
        with open(os.path.join(scratch, name), "rb") as f:
            os.write(into, f.read())
        segments = [frame for frame in read_frames(out, 0.5) if tcp_of(frame, ether_type)]
        if not segments:
            sys.exit(f"{name}: the kernel forwarded no segment")
        with open(os.path.join(scratch, name + ".segments"), "wb") as f:
            for segment in segments:
                f.write(struct.pack("=I", len(segment)) + segment)


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for n, frame in enumerate(frames):
            f.write(struct.pack("<IIII", BASE_TIME, n, len(frame), len(frame)) + frame)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] in ("tso", "segment"):
        (phase_tso if sys.argv[1] == "tso" else phase_segment)(sys.argv[2])
        return
    if os.geteuid() != 0:
        sys.exit("run as root")
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "kernel")
    prefix = f"dtso{os.getpid()}"
    scratch = f"/tmp/{prefix}"
    os.makedirs(scratch)
    os.makedirs(out, exist_ok=True)
    namespaces = {phase: prefix + phase for phase in ("tso", "segment")}
    try:
        for phase, namespace in namespaces.items():
            run("ip", "netns", "add", namespace)
            run("ip", "-n", namespace, "link", "set", "lo", "up")
        run("ip", "netns", "exec", namespaces["segment"], "sysctl", "-qw",
            "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
        run("ip", "netns", "exec", namespaces["tso"], "sysctl", "-qw",
            "net.ipv6.conf.default.router_solicitations=0", "net.ipv6.conf.default.accept_dad=0")
        for phase, namespace in namespaces.items():
            run("ip", "netns", "exec", namespace, sys.executable, os.path.abspath(__file__),
                phase, scratch)
        lines = []
        for name in FAMILIES:
            with open(os.path.join(scratch, name), "rb") as f:
                data = f.read()
            header = VNET_HDR.unpack(data[:VNET_HDR.size])
            write_pcap(os.path.join(out, f"tso_{name}_super.pcap"), [data[VNET_HDR.size:]])
            segments = []
            with open(os.path.join(scratch, name + ".segments"), "rb") as f:
                data = f.read()
            while data:
                size = struct.unpack("=I", data[:4])[0]
                segments.append(data[4:4 + size])
                data = data[4 + size:]
            write_pcap(os.path.join(out, f"tso_{name}_segments.pcap"), segments)
            fields = zip(("flags", "gso_type", "hdr_len", "gso_size", "csum_start", "csum_offset"),
                         header)
            description = (f"{name} TCP super-frame of {len(segments)} segments from a TAP with "
                           f"TSO, kernel {os.uname().release}")
            lines.append(f"tso_{name}_super.pcap\t{description}\t" +
                         " ".join(f"virtio.{k}={v}" for k, v in fields) +
                         f" segments_file=tso_{name}_segments.pcap segments={len(segments)}")
            print(lines[-1])
        with open(os.path.join(out, "tso_manifest.tsv"), "w") as f:
            f.write("# super-frame file TAB description TAB the virtio-net header the TAP gave "
                    "with it, and its segments' file (capture_kernel_offload_vectors.py)\n")
            f.write("\n".join(lines) + "\n")
        print(f"kernel: {os.uname().release}")
    finally:
        for namespace in namespaces.values():
            subprocess.run(["ip", "netns", "del", namespace], stderr=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", scratch])


if __name__ == "__main__":
    main()
