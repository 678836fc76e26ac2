// The topology page (GET /ui/) in a real browser: Debian's headless Chromium, driven through
// chromedriver's W3C WebDriver HTTP protocol, against a dove-lab with two dove-switch hosts and a
// controller that requires a token. The test types the token into the page, checks that the DOM
// shows what the REST API says (domains, networks and VNIs, switches and their state, endpoints
// on their switches with MAC, IPs and port, counters), then changes the model through the API
// (an endpoint placed, a network created, the endpoint deleted, a switch stopped) and measures
// how long the page takes to follow each change (at most a second). It saves a screenshot of
// the page to build/ui-screenshot.png.
//
// chromedriver and Chromium run inside the controller's namespace (the REST API listens on
// 127.0.0.1 there); the lab's teardown kills whatever still runs in its namespaces, so a failed
// test leaves no browser behind. Root only (the lab), skipped without chromedriver.
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "e2e/lab_fixture.h"
#include "lab/command.h"
#include "lab/netns.h"

namespace dove::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kChromedriver = "/usr/bin/chromedriver";
constexpr const char* kChromium = "/usr/bin/chromium";
constexpr int kDriverPort = 9515;
constexpr const char* kToken = "page-test-token";
constexpr auto kFollowWithin = 1000ms;

constexpr const char* kSpec = R"(
host h1
host h2
network acme/web 10.0.0.0/24 gateway 10.0.0.1
network acme/db 10.1.0.0/24 gateway 10.1.0.1
network globex/web 10.0.0.0/24
policy acme web db allow tcp 5432 priority 10
vm a h1 acme/web 10.0.0.11
vm b h2 acme/web 10.0.0.12
vm c h2 acme/db 10.1.0.11
vm g h1 globex/web 10.0.0.11
)";

// What the page shows, read from its DOM (the data-* attributes the page sets for this).
constexpr const char* kSnapshotScript = R"(
  const all = (selector, root = document) => [...root.querySelectorAll(selector)];
  const text = (root, selector) => (root.querySelector(selector) || {}).textContent || '';
  return {
    live: document.getElementById('live').dataset.state,
    revision: Number(document.body.dataset.revision || 0),
    domains: all('[data-domain]').map((e) => e.dataset.name),
    networks: all('tr[data-network]').map((e) => ({id: e.dataset.network, name: e.dataset.name,
      vni: Number(e.dataset.vni), domain: e.closest('[data-domain]').dataset.name})),
    switches: all('[data-switch]').map((e) => ({name: e.dataset.switch, state: e.dataset.state,
      tunnel_ip: text(e, '[data-field=tunnel_ip]'), version: text(e, '[data-field=version]')})),
    endpoints: all('[data-endpoint]').map((e) => ({id: e.dataset.endpoint,
      switch: e.closest('[data-switch]').dataset.switch, text: e.textContent})),
    policies: all('[data-policy]').map((e) => e.dataset.policy),
    counters: Object.fromEntries(all('[data-counters]').map((e) => [e.dataset.counters,
      Object.fromEntries(all('[data-counter]', e).map((c) =>
        [c.dataset.counter, Number(c.textContent.replace(/,/g, ''))]))])),
  };
)";

// A WebDriver client for chromedriver in a network namespace (each call enters it).
class WebDriver {
 public:
  explicit WebDriver(std::string ns) : ns_(std::move(ns)) {}

  // One command; the response's "value", or why it failed.
  Expected<json, std::string> Call(const std::string& method, const std::string& path,
                                   const json& body = json::object()) {
    int status = 0;
    std::string text;
    std::string error;
    auto entered = lab::RunInNetns(ns_, [&] {
      httplib::Client client("127.0.0.1", kDriverPort);
      client.set_connection_timeout(2s);
      client.set_read_timeout(30s);
      const std::string full =
          session_.empty() || path.rfind("/session", 0) == 0 || path == "/status"
              ? path
              : "/session/" + session_ + path;
      auto result = method == "GET"    ? client.Get(full)
                    : method == "POST" ? client.Post(full, body.dump(), "application/json")
                                       : client.Delete(full);
      if (!result) {
        error = httplib::to_string(result.error());
        return;
      }
      status = result->status;
      text = result->body;
    });
    if (!entered) return Unexpected<std::string>(entered.error());
    if (status == 0) return Unexpected<std::string>(method + " " + path + ": " + error);
    auto reply = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (status != 200 || !reply.is_object() || !reply.contains("value")) {
      return Unexpected<std::string>(method + " " + path + ": HTTP " + std::to_string(status) +
                                     " " + text.substr(0, 500));
    }
    return reply["value"];
  }

  Expected<void, std::string> Start(const std::string& profile_dir) {
    const json capabilities = {
        {"capabilities",
         {{"alwaysMatch",
           {{"browserName", "chrome"},
            {"goog:chromeOptions",
             {{"binary", kChromium},
              {"args",
               {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--window-size=1400,1100",
                "--user-data-dir=" + profile_dir}}}}}}}}};
    auto session = Call("POST", "/session", capabilities);
    if (!session) return Unexpected<std::string>(session.error());
    session_ = (*session)["sessionId"].get<std::string>();
    return {};
  }
  bool started() const { return !session_.empty(); }
  void Quit() {
    if (session_.empty()) return;
    [[maybe_unused]] auto quit = Call("DELETE", "/session/" + session_);
    session_.clear();
  }

  Expected<json, std::string> Script(const std::string& script) {
    return Call("POST", "/execute/sync", {{"script", script}, {"args", json::array()}});
  }
  Expected<std::string, std::string> Find(const std::string& css) {
    auto found = Call("POST", "/element", {{"using", "css selector"}, {"value", css}});
    if (!found) return Unexpected<std::string>(found.error());
    return found->begin().value().get<std::string>();
  }

 private:
  std::string ns_;
  std::string session_;
};

std::string Base64Decode(const std::string& in) {
  std::string out;
  int value = 0;
  int bits = -8;
  for (const char c : in) {
    int digit = -1;
    if (c >= 'A' && c <= 'Z') digit = c - 'A';
    if (c >= 'a' && c <= 'z') digit = c - 'a' + 26;
    if (c >= '0' && c <= '9') digit = c - '0' + 52;
    if (c == '+') digit = 62;
    if (c == '/') digit = 63;
    if (digit < 0) continue;
    value = (value << 6) + digit;
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((value >> bits) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

class TopologyPageTest : public LabTest {
 protected:
  void SetUp() override {
    LabTest::SetUp();
    if (IsSkipped()) return;
    if (!std::filesystem::exists(kChromedriver) || !std::filesystem::exists(kChromium)) {
      GTEST_SKIP() << "needs Debian's chromium and chromium-driver (scripts/install-deps)";
    }
    token_ = kToken;
  }
  void TearDown() override {
    driver_.reset();  // DELETE /session: Chromium exits
    if (chromedriver_) chromedriver_->Stop();
    LabTest::TearDown();  // kills whatever still runs in the lab's namespaces
  }

  void StartBrowser() {
    const std::string ns = lab_->ControllerNamespace();
    const std::string log = (lab_->temp_dir() / "chromedriver.log").string();
    auto spawned = lab::ChildProcess::Spawn(
        {"ip", "netns", "exec", ns, kChromedriver, "--port=" + std::to_string(kDriverPort)}, log);
    ASSERT_TRUE(spawned) << spawned.error();
    chromedriver_ = std::move(*spawned);
    driver_ = std::make_unique<WebDriver>(ns);
    const auto deadline = Clock::now() + 10s;
    while (true) {
      auto ready = driver_->Call("GET", "/status");
      if (ready && ready->value("ready", false)) break;
      ASSERT_LT(Clock::now(), deadline)
          << "chromedriver not ready: " << (ready ? ready->dump() : ready.error());
      std::this_thread::sleep_for(50ms);
    }
    auto started = driver_->Start((lab_->temp_dir() / "chromium").string());
    ASSERT_TRUE(started) << started.error();
  }

  json Snapshot() {
    auto value = driver_->Script(kSnapshotScript);
    EXPECT_TRUE(value) << value.error();
    return value ? *value : json::object();
  }

  // Polls the page until `holds` is true of its snapshot; the time it took from `since`, or
  // fails the test (naming `what`) after `timeout`.
  double WaitFor(const std::string& what, const std::function<bool(const json&)>& holds,
                 Clock::time_point since, std::chrono::milliseconds timeout = kFollowWithin) {
    json last;
    while (true) {
      last = Snapshot();
      if (holds(last)) break;
      if (Clock::now() - since > timeout) {
        ADD_FAILURE() << "the page did not show " << what << " within " << timeout.count()
                      << " ms; it shows " << last.dump();
        return -1;
      }
      std::this_thread::sleep_for(10ms);
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - since).count();
    std::printf("page followed: %-40s in %6.0f ms\n", what.c_str(), ms);
    return ms;
  }

  json Rest(const std::string& method, const std::string& path, const json& body = {}) {
    auto reply = lab_->ControllerRest(method, path, body);
    EXPECT_TRUE(reply) << reply.error();
    return reply ? *reply : json::object();
  }

  // Every network, switch and endpoint the API lists is on the page as the API says.
  void ExpectPageShowsApi(const json& page) {
    std::map<std::string, std::string> domain_names;
    const json domains =
        Rest("GET", "/v1/domains");  // kept: a loop over a temporary's part dangles
    for (const json& domain : domains["items"]) {
      domain_names[domain["id"].get<std::string>()] = domain["name"].get<std::string>();
    }
    std::set<std::string> shown_domains(page["domains"].begin(), page["domains"].end());
    for (const auto& [id, name] : domain_names) EXPECT_EQ(shown_domains.count(name), 1U) << name;
    std::map<std::string, json> networks;
    for (const json& network : page["networks"])
      networks[network["id"].get<std::string>()] = network;
    const json listed_networks = Rest("GET", "/v1/networks")["items"];
    EXPECT_EQ(networks.size(), listed_networks.size());
    for (const json& network : listed_networks) {
      ASSERT_EQ(networks.count(network["id"].get<std::string>()), 1U) << network.dump();
      const json& shown = networks[network["id"].get<std::string>()];
      EXPECT_EQ(shown["vni"], network["vni"]) << network.dump();
      EXPECT_EQ(shown["name"], network["name"]);
      EXPECT_EQ(shown["domain"], domain_names[network["domain_id"].get<std::string>()]);
    }
    std::map<std::string, json> switches;
    for (const json& sw : page["switches"]) switches[sw["name"].get<std::string>()] = sw;
    const json listed_switches = Rest("GET", "/v1/switches");
    for (const json& sw : listed_switches["items"]) {
      ASSERT_EQ(switches.count(sw["name"].get<std::string>()), 1U) << sw.dump();
      const json& shown = switches[sw["name"].get<std::string>()];
      EXPECT_EQ(shown["state"], sw["state"]);
      EXPECT_EQ(shown["tunnel_ip"], sw["tunnel_ip"]);
      EXPECT_EQ(shown["version"], sw["software_version"]);
    }
    std::map<std::string, json> endpoints;
    for (const json& endpoint : page["endpoints"]) {
      endpoints[endpoint["id"].get<std::string>()] = endpoint;
    }
    const json listed_endpoints = Rest("GET", "/v1/endpoints")["items"];
    EXPECT_EQ(endpoints.size(), listed_endpoints.size());
    for (const json& endpoint : listed_endpoints) {
      ASSERT_EQ(endpoints.count(endpoint["id"].get<std::string>()), 1U) << endpoint.dump();
      const json& shown = endpoints[endpoint["id"].get<std::string>()];
      EXPECT_EQ(shown["switch"], endpoint["switch_name"]) << "endpoint " << endpoint["id"];
      const std::string text = shown["text"];
      EXPECT_NE(text.find(endpoint["mac"].get<std::string>()), std::string::npos) << text;
      EXPECT_NE(text.find(endpoint["port_name"].get<std::string>()), std::string::npos) << text;
      for (const json& ip : endpoint["ips"]) {
        EXPECT_NE(text.find(ip.get<std::string>()), std::string::npos) << text;
      }
    }
    EXPECT_EQ(page["policies"].size(), Rest("GET", "/v1/policies")["items"].size());
  }

  void SaveScreenshot() {
    // The whole page: the window as tall as the document.
    auto height = driver_->Script("return document.documentElement.scrollHeight;");
    if (height) {
      [[maybe_unused]] auto resized =
          driver_->Call("POST", "/window/rect",
                        {{"width", 1400}, {"height", std::max(1100, height->get<int>())}});
    }
    auto shot = driver_->Call("GET", "/screenshot");
    ASSERT_TRUE(shot) << shot.error();
    std::ofstream(DOVE_UI_SCREENSHOT, std::ios::binary) << Base64Decode(shot->get<std::string>());
    std::printf("screenshot: %s\n", DOVE_UI_SCREENSHOT);
  }

  std::unique_ptr<lab::ChildProcess> chromedriver_;
  std::unique_ptr<WebDriver> driver_;
};

TEST_F(TopologyPageTest, ShowsTheApiAndFollowsItsChanges) {
  const auto test_started = Clock::now();
  ASSERT_NO_FATAL_FAILURE(Up(kSpec));
  std::printf("lab up in %.1f s\n",
              std::chrono::duration<double>(Clock::now() - test_started).count());
  ASSERT_NO_FATAL_FAILURE(StartBrowser());

  // The page, then its token form (the API refused it without one).
  ASSERT_TRUE(driver_->Call("POST", "/url", {{"url", "http://127.0.0.1:8740/ui/"}}));
  const auto deadline = Clock::now() + 5s;
  while (true) {
    auto login_shown = driver_->Script("return !document.getElementById('login').hidden;");
    ASSERT_TRUE(login_shown) << login_shown.error();
    if (login_shown->get<bool>()) break;
    ASSERT_LT(Clock::now(), deadline) << "the page did not ask for the token";
    std::this_thread::sleep_for(20ms);
  }
  auto input = driver_->Find("#token");
  ASSERT_TRUE(input) << input.error();
  ASSERT_TRUE(driver_->Call("POST", "/element/" + *input + "/value", {{"text", kToken}}));
  auto submit = driver_->Find("#login-submit");
  ASSERT_TRUE(submit) << submit.error();
  ASSERT_TRUE(driver_->Call("POST", "/element/" + *submit + "/click"));
  const int64_t revision = Rest("GET", "/healthz")["revision"];
  WaitFor(
      "the model (live)",
      [&](const json& page) { return page["live"] == "live" && page["revision"] >= revision; },
      Clock::now(), 5s);
  ExpectPageShowsApi(Snapshot());

  // The switches' counters: each reports every 5 s; the page shows what the API lists.
  WaitFor(
      "counters of h1 and h2",
      [](const json& page) {
        return page["counters"].contains("h1") && page["counters"].contains("h2") &&
               page["counters"]["h1"].contains("ports");
      },
      Clock::now(), 8s);
  std::map<std::string, uint64_t> ports;
  const json stats = Rest("GET", "/v1/switch-stats");
  for (const json& item : stats["items"]) {
    ports[item["switch_name"].get<std::string>()] = item["counters"].value("ports", uint64_t{0});
  }
  const json counted = Snapshot()["counters"];
  EXPECT_EQ(counted["h1"]["ports"], ports["h1"]);
  EXPECT_EQ(counted["h2"]["ports"], ports["h2"]);
  EXPECT_EQ(ports["h1"], 2U);  // a and g

  // Changes through the API; the page follows each within a second.
  const std::string web = lab_->Vm("a").network_id;
  auto started = Clock::now();
  const json placed = Rest("POST", "/v1/endpoints",
                           {{"network_id", web}, {"switch_name", "h1"}, {"port_name", "t-new"}});
  const std::string added = placed.value("id", "");
  std::vector<double> latencies;
  latencies.push_back(WaitFor(
      "an endpoint placed on h1",
      [&](const json& page) {
        for (const json& endpoint : page["endpoints"]) {
          if (endpoint["id"] == added) return endpoint["switch"] == "h1";
        }
        return false;
      },
      started));

  started = Clock::now();
  const std::string acme = Rest("GET", "/v1/domains/acme").value("id", "");
  const json network = Rest("POST", "/v1/networks", {{"domain_id", acme}, {"name", "cache"}});
  latencies.push_back(WaitFor(
      "a network with its VNI",
      [&](const json& page) {
        for (const json& shown : page["networks"]) {
          if (shown["id"] == network["id"]) return shown["vni"] == network["vni"];
        }
        return false;
      },
      started));

  started = Clock::now();
  Rest("DELETE", "/v1/endpoints/" + added);
  latencies.push_back(WaitFor(
      "the endpoint deleted",
      [&](const json& page) {
        for (const json& endpoint : page["endpoints"]) {
          if (endpoint["id"] == added) return false;
        }
        return true;
      },
      started));

  // A drop reason: db may not reach web (only web -> db tcp 5432 is allowed), so c's pings to a
  // die in h2's router, counted; the page shows h2's drop counters as the API lists them at the
  // switch's next report (every 5 s).
  EXPECT_EQ(lab_->Ping("c", lab_->Vm("a").ip, 2, 1s), 0);
  auto h2_drops = [this] {
    const json listed = Rest("GET", "/v1/switch-stats");
    uint64_t total = 0;
    for (const json& item : listed["items"]) {
      if (item["switch_name"] != "h2") continue;
      for (const auto& [name, value] : item["counters"].items()) {
        if (name.rfind("drop_", 0) == 0) total += value.get<uint64_t>();
      }
    }
    return total;
  };
  WaitFor(
      "h2's drops as the API counts them",
      [&](const json& page) {
        const json& shown = page["counters"].value("h2", json::object());
        const uint64_t dropped = shown.value("drops_total", uint64_t{0});
        return dropped > 0 && dropped == h2_drops();
      },
      Clock::now(), 8s);

  started = Clock::now();
  ASSERT_TRUE(lab_->KillSwitch("h2", SIGTERM));
  latencies.push_back(WaitFor(
      "switch h2 stopped (DOWN)",
      [](const json& page) {
        for (const json& sw : page["switches"]) {
          if (sw["name"] == "h2") return sw["state"] == "STATE_DOWN";
        }
        return false;
      },
      started));
  ExpectPageShowsApi(Snapshot());

  double worst = 0;
  for (const double ms : latencies) worst = std::max(worst, ms);
  std::printf("page follows the API: worst %.0f ms over %zu changes (bound %lld ms)\n", worst,
              latencies.size(), static_cast<long long>(kFollowWithin.count()));
  SaveScreenshot();
  std::printf("test body took %.1f s\n",
              std::chrono::duration<double>(Clock::now() - test_started).count());
}

}  // namespace
}  // namespace dove::e2e
