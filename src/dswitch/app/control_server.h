// ControlServer: the switch's local control socket, for `dovectl switch show|ports|cache|
// counters`. A unix stream socket at a path; each connection sends one command line ("show\n")
// and gets one JSON document back, then the switch closes the connection.
//
// Who may ask is who may open the path: the socket is made mode 0660 (root and the socket's
// group). A stale socket file of a dead switch is replaced; a path a live switch is serving is
// refused (Start() fails), so two switches never share one.
//
// Threading: Start() spawns one thread that accepts and answers connections one at a time
// (a status read is short); `handler` runs on it. Stop() (and the destructor) joins it and
// removes the socket file.
//
//   auto server = ControlServer::Start("/run/dove/dove-switch.sock",
//                                      [&](std::string_view command) { return Answer(command); });
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "base/expected.h"

namespace dove::dswitch::app {

class ControlServer {
 public:
  // Returns the response for one command (without its newline).
  using Handler = std::function<std::string(std::string_view command)>;

  static Expected<std::unique_ptr<ControlServer>, std::string> Start(const std::string& path,
                                                                     Handler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  void Stop();

 private:
  ControlServer(std::string path, int fd, Handler handler);
  void Serve();

  std::string path_;
  int fd_;
  Handler handler_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace dove::dswitch::app
