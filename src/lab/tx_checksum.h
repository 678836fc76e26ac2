// Transmit checksum offload of a network interface ("tx-checksumming" in `ethtool -k`), read
// and set through the SIOCETHTOOL ioctl (ETHTOOL_GTXCSUM / ETHTOOL_STXCSUM), so the lab needs
// no ethtool binary.
//
// Why the lab cares (docs/lab.md, "Checksums on the underlay"): a veth keeps a packet's
// checksum "partial" (CHECKSUM_PARTIAL: the field holds only the pseudo-header sum) all the way
// into the peer namespace, where the kernel trusts it; a real NIC would have completed it on
// transmit. A userspace reader on the other side (dove-switch's UDP socket) gets the bytes as
// they are. With the offload off, the kernel completes every checksum (and segments every GSO
// packet) before the packet reaches the veth, as a NIC does before the wire.
//
// Both act on the calling thread's network namespace (wrap them in RunInNetns for another one).
// Errors are one sentence naming the interface and errno's text. Need CAP_NET_ADMIN to set.
// Thread-safe.
//
//   if (auto ok = SetTxChecksumOffload("ul0", false); !ok) return Unexpected(ok.error());
#pragma once

#include <string>

#include "base/expected.h"

namespace dove::lab {

// Whether transmit checksum offload is on.
Expected<bool, std::string> TxChecksumOffload(const std::string& iface);

// Turns transmit checksum offload on or off (`ethtool -K IFACE tx on|off`). Turning it off also
// turns off what depends on it (TSO, GSO of tunnels): the kernel then segments in software.
Expected<void, std::string> SetTxChecksumOffload(const std::string& iface, bool on);

}  // namespace dove::lab
