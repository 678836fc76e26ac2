// Call: one REST request to a dove-controller on 127.0.0.1 (a fresh connection each time), for
// the tests that start real controllers. The answer's status is 0 when no answer came (refused,
// reset, or nothing within `timeout`); its body is the parsed JSON (discarded when not JSON).
//
//   Answer created = Call(port, "POST", "/v1/domains", {{"name", "acme"}});
//   ASSERT_EQ(created.status, 201) << created.body.dump();
#pragma once

#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace dove::test_support {

struct Answer {
  int status = 0;  // 0: no answer
  nlohmann::json body;
};

// `method`: GET, POST, PUT or DELETE (anything else is a GET).
inline Answer Call(int port, const std::string& method, const std::string& path,
                   const nlohmann::json& body = nullptr,
                   std::chrono::seconds timeout = std::chrono::seconds(15)) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(timeout);
  httplib::Result result = method == "POST"     ? client.Post(path, body.dump(), "application/json")
                           : method == "PUT"    ? client.Put(path, body.dump(), "application/json")
                           : method == "DELETE" ? client.Delete(path)
                                                : client.Get(path);
  if (!result) return {};
  return {result->status, nlohmann::json::parse(result->body, nullptr, false)};
}

}  // namespace dove::test_support
