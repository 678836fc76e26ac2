// RunPlugin: one call of dove-cni as a runtime makes it (CNI SPEC 1.0): the CNI_* environment,
// the network configuration on stdin, the result or the error JSON on stdout.
//
// ADD    creates the endpoint through the controller's REST API (POST /v1/endpoints with no
//        MAC or IPs: the controller allocates them; port_kind PORT_KIND_PACKET; port_name the
//        host end of a veth pair; switch_name this host's switch), makes the pair (the
//        container end named CNI_IFNAME inside CNI_NETNS), gives the container end the
//        endpoint's MAC and IPs, a default route via each family's gateway and the MTU, and
//        waits (portTimeout, default 10 s) until the switch serves the port. Its record goes
//        to the data dir first, so a DEL after a crash finds everything. When any step
//        fails, what was made is undone (endpoint, pair, record) and the error is reported.
// DEL    deletes the endpoint (already gone is fine), the pair (already gone is fine) and the
//        record. Idempotent: a DEL without ADD, a second DEL, a DEL whose namespace is gone
//        all succeed. Fails only when the controller cannot be asked (code 11: the runtime
//        retries) or refuses.
// CHECK  the endpoint of the record still exists, and the container interface exists with its
//        MAC and every one of its IPs; code 102 naming what differs otherwise.
// VERSION  the supported versions (0.4.0, 1.0.0).
// Returns the process's exit status: 0 on success, 1 after printing an error.
#pragma once

#include <ostream>
#include <string_view>

#include "cni/plugin_env.h"

namespace dove::cni {

int RunPlugin(const EnvLookup& lookup, std::string_view stdin_text, std::ostream& out);

}  // namespace dove::cni
