// RandomIds: the ids and MACs the registry makes up when a client gives none.
//
// Ids are 12 lowercase hex characters (48 random bits: a clash is rare, and the caller
// retries on one); MACs are locally administered unicast, 02:xx:xx:xx:xx:xx (40 random bits).
// Seeded once from std::random_device. Not thread-safe: the registry calls it under its write
// lock.
//
//   RandomIds ids;
//   std::string id = ids.NewId();           // "3f9a0c41be07"
//   net::MacAddress mac = ids.NewMac();     // 02:5e:19:c4:07:aa
#pragma once

#include <random>
#include <string>

#include "net/mac_address.h"

namespace dove::controller {

class RandomIds {
 public:
  RandomIds();

  std::string NewId();
  net::MacAddress NewMac();

 private:
  std::mt19937_64 engine_;
};

}  // namespace dove::controller
