# Run from tests/fuzz with /usr/bin/python3. Seeds for tcp_coalescer_fuzz: the GSO seeds of
# virtio_header_fuzz (10-byte virtio-net header, then the frame) with the frame's length put
# between the two (2 bytes, big-endian), then a script of 4-byte steps {op, packet, position,
# value}: op 0 flips bits, 1 swaps with the next, 2 duplicates, 3 drops, 4 sets out_port.
import struct

scripts = {
    'clean': b'',
    'flip_payload': bytes([0, 1, 200, 0x10]),
    'swap': bytes([1, 0, 0, 0]),
    'duplicate': bytes([2, 1, 0, 0]),
    'drop_middle': bytes([3, 1, 0, 0]),
    'other_port': bytes([4, 2, 0, 1]),
    'mixed': bytes([0, 0, 60, 0x01, 1, 2, 0, 0, 2, 0, 0, 0, 4, 3, 0, 2]),
}
for seed in ('gso_tcp4', 'gso_tcp6_ecn'):
    data = open('corpus/virtio_header_fuzz/' + seed, 'rb').read()
    header, frame = data[:10], data[10:]
    for name, script in scripts.items():
        open('corpus/tcp_coalescer_fuzz/%s_%s' % (seed, name), 'wb').write(
            header + struct.pack('!H', len(frame)) + frame + script)
