// The names ADD gives what it makes for one container interface, derived only from the
// container id and CNI_IFNAME so that DEL finds them again even without ADD's state file:
//   host veth  "dc" + 12 hex digits (14 bytes: within the kernel's 15)
//   endpoint   "cni-" + 16 hex digits (the controller's id rules: [A-Za-z0-9._-])
//   state key  the endpoint id (its file: DATA_DIR/<key>.json)
// Both from one 64-bit FNV-1a hash of "CONTAINER_ID/IFNAME". Two containers collide only
// with the hash: the controller then refuses the second (409 on id), and ADD fails cleanly.
#pragma once

#include <string>

namespace dove::cni {

struct AttachmentNames {
  std::string host_veth;
  std::string endpoint_id;
};

AttachmentNames NamesFor(const std::string& container_id, const std::string& ifname);

}  // namespace dove::cni
