#include "dswitch/io/io_counters.h"

#include <array>
#include <string_view>
#include <utility>

namespace dove::dswitch::io {

namespace {

using Field = uint64_t IoCounters::*;

constexpr std::array<std::pair<std::string_view, Field>, 32> kFields = {{
    {"read_frames", &IoCounters::read_frames},
    {"read_super_frames", &IoCounters::read_super_frames},
    {"read_errors", &IoCounters::read_errors},
    {"csum_refused", &IoCounters::csum_refused},
    {"gso_refused", &IoCounters::gso_refused},
    {"gso_unsupported", &IoCounters::gso_unsupported},
    {"read_truncated", &IoCounters::read_truncated},
    {"read_vlan_refused", &IoCounters::read_vlan_refused},
    {"ring_full", &IoCounters::ring_full},
    {"write_frames", &IoCounters::write_frames},
    {"write_super_frames", &IoCounters::write_super_frames},
    {"write_errors", &IoCounters::write_errors},
    {"tx_queue_full", &IoCounters::tx_queue_full},
    {"sw_segmented", &IoCounters::sw_segmented},
    {"sw_segments", &IoCounters::sw_segments},
    {"sw_csum_finished", &IoCounters::sw_csum_finished},
    {"sw_offload_failed", &IoCounters::sw_offload_failed},
    {"underlay_rx", &IoCounters::underlay_rx},
    {"underlay_rx_errors", &IoCounters::underlay_rx_errors},
    {"underlay_rx_truncated", &IoCounters::underlay_rx_truncated},
    {"underlay_rx_no_slot", &IoCounters::underlay_rx_no_slot},
    {"gro_receives", &IoCounters::gro_receives},
    {"gro_datagrams", &IoCounters::gro_datagrams},
    {"underlay_rx_merged", &IoCounters::underlay_rx_merged},
    {"underlay_rx_merged_datagrams", &IoCounters::underlay_rx_merged_datagrams},
    {"underlay_rx_bad_checksum", &IoCounters::underlay_rx_bad_checksum},
    {"underlay_tx", &IoCounters::underlay_tx},
    {"underlay_tx_errors", &IoCounters::underlay_tx_errors},
    {"underlay_tx_queue_full", &IoCounters::underlay_tx_queue_full},
    {"underlay_tx_malformed", &IoCounters::underlay_tx_malformed},
    {"gso_sends", &IoCounters::gso_sends},
    {"gso_fallback", &IoCounters::gso_fallback},
}};
static_assert(sizeof(IoCounters) == kFields.size() * sizeof(uint64_t),
              "every IoCounters field must be named in kFields");

}  // namespace

std::map<std::string, uint64_t> IoCounters::Dump() const {
  std::map<std::string, uint64_t> out;
  for (const auto& [name, field] : kFields) {
    if (this->*field != 0) out.emplace("io." + std::string(name), this->*field);
  }
  return out;
}

}  // namespace dove::dswitch::io
