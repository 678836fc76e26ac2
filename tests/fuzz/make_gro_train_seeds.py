# Run from tests/fuzz with /usr/bin/python3 after make_tcp_coalescer_seeds.py. Writes seeds for
# gro_train_fuzz: every tcp_coalescer_fuzz seed behind a 0 byte (the structured mode: a train
# built from a cut super-frame, then damaged by the same script), and two raw trains behind a
# 1 byte (a 2-byte segment size, then the buffer): the kernel's IPv4 segments as one buffer,
# and the same with a segment size that does not divide it.
import os

src = 'corpus/tcp_coalescer_fuzz/'
dst = 'corpus/gro_train_fuzz/'
os.makedirs(dst, exist_ok=True)
for name in sorted(os.listdir(src)):
    open(dst + name, 'wb').write(b'\x00' + open(src + name, 'rb').read())

# A raw train: VXLAN header + each segment of the kernel's IPv4 capture (tests/data/kernel).
def pcap_records(path):
    data = open(path, 'rb').read()
    at, out = 24, []
    while at + 16 <= len(data):
        incl = int.from_bytes(data[at + 8:at + 12], 'little')
        out.append(data[at + 16:at + 16 + incl])
        at += 16 + incl
    return out

vxlan = bytes([0x08, 0, 0, 0, 0, 0, 42, 0])
segments = pcap_records('../data/kernel/tso_ipv4_segments.pcap')
train = b''.join(vxlan + s for s in segments)
size = len(vxlan) + len(segments[0])
open(dst + 'raw_kernel_ipv4', 'wb').write(b'\x01' + size.to_bytes(2, 'big') + train)
open(dst + 'raw_kernel_ipv4_odd_size', 'wb').write(b'\x01' + (size - 3).to_bytes(2, 'big') + train)

# The mode byte's bits 1-2 pick a small pool for SplitGroTrain (1: no small slot and one large,
# 2: one small and two large, 3: three small and one large): the same trains, where datagrams
# and runs find no slot. And an Ethernet trailer (script op 5) on every frame of a clean train.
def structured(name):
    return open(dst + name, 'rb').read()[1:]

for pool in (1, 2, 3):
    for name in ('gso_tcp4_mixed', 'kernel_tso_ipv6_drop_middle'):
        open(dst + '%s_pool%d' % (name, pool), 'wb').write(bytes([pool << 1]) + structured(name))
    open(dst + 'raw_kernel_ipv4_pool%d' % pool, 'wb').write(
        bytes([pool << 1 | 1]) + size.to_bytes(2, 'big') + train)
open(dst + 'gso_tcp4_trailer', 'wb').write(b'\x00' + structured('gso_tcp4_clean') + bytes([5, 0, 0xee, 5]))
open(dst + 'kernel_tso_ipv4_trailer', 'wb').write(
    b'\x00' + structured('kernel_tso_ipv4_clean') + bytes([5, 0, 0, 3]))
