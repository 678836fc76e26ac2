// ScriptedResolver: the controller as the datapath tests script it. It records every question
// (and every port the datapath opened under another name than the controller's); the test
// answers when it wants, by calling the question's `done`.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dswitch/userspace/datapath.h"

namespace dove::dswitch::userspace::testing {

class ScriptedResolver final : public Resolver {
 public:
  struct Question {
    uint32_t vni = 0;
    std::string address;
    Done done;
  };
  void ResolveMac(uint32_t vni, const net::MacAddress& mac, Done done) override {
    questions.push_back({vni, mac.ToString(), std::move(done)});
  }
  void ResolveIp(uint32_t vni, const net::IpAddress& ip, Done done) override {
    questions.push_back({vni, ip.ToString(), std::move(done)});
  }
  void PortOpened(const dove::v1::Location& location, const std::string& port_name) override {
    opened[location.endpoint_id()] = port_name;
  }

  std::vector<Question> questions;
  std::map<std::string, std::string> opened;  // endpoint id -> port name
};

}  // namespace dove::dswitch::userspace::testing
