# Run from tests/fuzz with /usr/bin/python3. Writes seeds for tcp_segmenter_fuzz and
# tcp_coalescer_fuzz.
#
# tcp_segmenter_fuzz/kernel_tso_ipv4, kernel_tso_ipv6: the super-frames the Linux kernel handed
# a TAP with TSO (tests/data/kernel/tso_*_super.pcap), each behind the virtio-net header it came
# with (tso_manifest.tsv): 10-byte header in host (little-endian) byte order, then the frame.
#
# tcp_coalescer_fuzz: the hand-made GSO seeds of tcp_segmenter_fuzz (make_tcp_segmenter_seeds.py) and the kernel's super-frames above
# (10-byte virtio-net header, then the frame) with the frame's length put between the two
# (2 bytes, big-endian), then a script of 4-byte steps {op, packet, position, value}: op 0 flips
# bits, 1 swaps with the next, 2 duplicates, 3 drops, 4 sets out_port.
import struct

KERNEL = '../data/kernel/'
VIRTIO_FIELDS = ('flags', 'gso_type', 'hdr_len', 'gso_size', 'csum_start', 'csum_offset')


def only_frame(path):
    data = open(path, 'rb').read()
    assert struct.unpack('<I', data[:4])[0] == 0xa1b2c3d4, path
    caplen = struct.unpack('<I', data[24 + 8:24 + 12])[0]
    assert len(data) == 24 + 16 + caplen, path + ': not exactly one record'
    return data[40:]


for line in open(KERNEL + 'tso_manifest.tsv'):
    if line.startswith('#') or not line.strip():
        continue
    file, _, fields = line.rstrip('\n').split('\t')
    values = dict(pair.split('=') for pair in fields.split())
    header = struct.pack('<BBHHHH', *(int(values['virtio.' + f]) for f in VIRTIO_FIELDS))
    name = 'kernel_' + file.replace('_super.pcap', '')
    open('corpus/tcp_segmenter_fuzz/' + name, 'wb').write(header + only_frame(KERNEL + file))

scripts = {
    'clean': b'',
    'flip_payload': bytes([0, 1, 200, 0x10]),
    'swap': bytes([1, 0, 0, 0]),
    'duplicate': bytes([2, 1, 0, 0]),
    'drop_middle': bytes([3, 1, 0, 0]),
    'other_port': bytes([4, 2, 0, 1]),
    'mixed': bytes([0, 0, 60, 0x01, 1, 2, 0, 0, 2, 0, 0, 0, 4, 3, 0, 2]),
}
kernel_scripts = ('clean', 'drop_middle', 'mixed')
for seed in ('tcp_segmenter_fuzz/gso_tcp4', 'tcp_segmenter_fuzz/gso_tcp6_ecn',
             'tcp_segmenter_fuzz/kernel_tso_ipv4', 'tcp_segmenter_fuzz/kernel_tso_ipv6'):
    data = open('corpus/' + seed, 'rb').read()
    header, frame = data[:10], data[10:]
    for name, script in scripts.items():
        if seed.startswith('tcp_segmenter_fuzz') and name not in kernel_scripts:
            continue
        open('corpus/tcp_coalescer_fuzz/%s_%s' % (seed.split('/')[1], name), 'wb').write(
            header + struct.pack('!H', len(frame)) + frame + script)
