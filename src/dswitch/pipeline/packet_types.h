// The packet types the pipeline's stages take and give, under the pipeline's own names: a
// stage works on packet::Packet handles from a packet::PacketPool, in packet::PacketBatch
// batches, and reads and writes their packet::PacketMeta (see dswitch/packet/).
#pragma once

#include <cstdint>

#include "dswitch/packet/packet.h"
#include "dswitch/packet/packet_batch.h"
#include "dswitch/packet/packet_meta.h"
#include "dswitch/packet/packet_pool.h"

namespace dove::dswitch::pipeline {

using packet::kNoPort;
using packet::kNoVni;
using packet::Packet;
using packet::PacketBatch;
using packet::PacketPool;
using packet::PortId;

}  // namespace dove::dswitch::pipeline
