# Run from tests/fuzz/corpus/tcp_segmenter_fuzz with /usr/bin/python3 (scapy).
# Hand-made seeds for tcp_segmenter_fuzz (make_tcp_coalescer_seeds.py adds the kernel's and
# builds tcp_coalescer_fuzz's from these): a 10-byte virtio-net header (host byte order, little-endian on
# the machines we build on) followed by an Ethernet frame as a VM with offloads would send it.
import struct
from scapy.all import Ether, IP, IPv6, UDP, TCP, Raw, raw

def header(flags, gso_type, hdr_len, gso_size, csum_start, csum_offset):
    return struct.pack('<BBHHHH', flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)

def pseudo_sum(src, dst, proto, length, v6=False):
    import ipaddress
    a = ipaddress.ip_address(src).packed + ipaddress.ip_address(dst).packed
    total = sum(struct.unpack('!%dH' % (len(a) // 2), a)) + proto + length
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return total

def with_partial(frame, at, value):
    b = bytearray(raw(frame))
    b[at:at + 2] = struct.pack('!H', value)
    return bytes(b)

eth = Ether(src='52:54:00:00:00:01', dst='52:54:00:00:00:02')
payload = bytes(range(256)) * 12

udp = eth / IP(src='10.0.0.1', dst='10.0.0.2') / UDP(sport=5000, dport=53) / Raw(payload[:101])
udp_len = 8 + 101
open('needs_csum_udp4', 'wb').write(
    header(1, 0, 0, 0, 34, 6) +
    with_partial(udp, 34 + 6, pseudo_sum('10.0.0.1', '10.0.0.2', 17, udp_len)))

tcp4 = eth / IP(src='10.0.0.1', dst='10.0.0.2', flags='DF', id=0x1234) / \
    TCP(sport=40000, dport=80, seq=1000, ack=1, flags='PA', window=512,
        options=[('NOP', None), ('NOP', None), ('Timestamp', (1, 2))]) / Raw(payload[:3 * 1000 + 100])
open('gso_tcp4', 'wb').write(
    header(1, 1, 66, 1000, 34, 16) +
    with_partial(tcp4, 34 + 16, pseudo_sum('10.0.0.1', '10.0.0.2', 6, 32 + 3100)))

tcp6 = eth / IPv6(src='2001:db8::1', dst='2001:db8::2') / \
    TCP(sport=40000, dport=80, seq=0xfffffff0, ack=1, flags='FPA', window=512) / Raw(payload[:2500])
open('gso_tcp6_ecn', 'wb').write(
    header(1, 4 | 0x80, 74, 1200, 54, 16) +
    with_partial(tcp6, 54 + 16, pseudo_sum('2001:db8::1', '2001:db8::2', 6, 20 + 2500)))

arp_like = eth / IP(src='10.0.0.1', dst='10.0.0.2') / UDP(sport=1, dport=2) / Raw(b'x' * 20)
open('udp_gso_refused', 'wb').write(header(1, 5, 42, 8, 34, 6) + raw(arp_like))
