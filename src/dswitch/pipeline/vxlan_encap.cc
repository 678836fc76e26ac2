#include "dswitch/pipeline/vxlan_encap.h"

#include "net/vxlan.h"

namespace dove::dswitch::pipeline {

bool VxlanEncap::Encapsulate(Packet& packet) {
  const auto vxlan = net::MakeVxlanHeader(packet.meta.vni);
  if (!vxlan) return false;
  if (!packet.offload.is_gso() && sizeof(net::VxlanHeader) + packet.size() > kMaxDatagramPayload) {
    return false;
  }
  const uint32_t flow_hash = net::InnerFlowHash(packet.span());
  uint8_t* header = packet.Prepend(sizeof(net::VxlanHeader));
  if (header == nullptr) return false;
  net::StoreHeader(packet.mutable_span(), *vxlan);
  packet.meta.flow_hash = flow_hash;
  return true;
}

void VxlanEncap::Process(PacketBatch& batch) {
  batch.Retain([this](Packet* packet) {
    if (!Encapsulate(*packet)) {
      DropPacket(DropReason::kEncapFailed, packet, counters_, pool_);
      return false;
    }
    counters_.ToTunnel(packet->meta.vni, packet->size() - sizeof(net::VxlanHeader));
    return true;
  });
}

}  // namespace dove::dswitch::pipeline
