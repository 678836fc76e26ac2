// Bearer token authentication, the no-token warning, and dove-controller's flag errors.
#include <filesystem>
#include <fstream>

#include "api/api_client.h"

namespace dove::api_test {
namespace {

std::string WriteFile(const TempDir& dir, const std::string& name, const std::string& text) {
  std::string path = (dir.path() / name).string();
  std::ofstream(path) << text;
  return path;
}

void ExpectUnauthorized(const Reply& reply) {
  EXPECT_EQ(reply.status, 401) << reply.body;
  EXPECT_TRUE(IsErrorShape(reply)) << reply.body;
  EXPECT_EQ(reply.Code(), "unauthorized");
  EXPECT_EQ(reply.Header("WWW-Authenticate").rfind("Bearer", 0), 0U);
}

void CheckTokenEnforced(const ApiFixture& api, const std::string& token) {
  ExpectUnauthorized(api.Send("GET", "/v1/domains"));
  ExpectUnauthorized(api.Send("GET", "/v1/domains", "", {{"Authorization", "Bearer wrong"}}));
  ExpectUnauthorized(api.Send("GET", "/v1/domains", "", {{"Authorization", "Basic " + token}}));
  ExpectUnauthorized(api.Send("GET", "/v1/domains", "", {{"Authorization", token}}));
  ExpectUnauthorized(
      api.Send("GET", "/v1/domains", "", {{"Authorization", "Bearer " + token + "x"}}));
  ExpectUnauthorized(api.Send("POST", "/v1/domains", R"({"name":"acme"})"));
  ExpectUnauthorized(api.Send("GET", "/metrics"));
  ExpectUnauthorized(api.Send("GET", "/nowhere"));
  ExpectUnauthorized(api.Send("POST", "/v1/domains", std::string((1 << 20) + 10, 'x')));
  EXPECT_EQ(api.Revision(), 0);

  const httplib::Headers auth = {{"Authorization", "Bearer " + token}};
  EXPECT_EQ(api.Send("GET", "/v1/domains", "", auth).status, 200);
  EXPECT_EQ(api.Send("POST", "/v1/domains", R"({"name":"acme"})", auth).status, 201);
  EXPECT_EQ(api.Send("GET", "/metrics", "", auth).status, 200);
  EXPECT_EQ(api.Send("GET", "/nowhere", "", auth).status, 404);
  const Reply health = api.Send("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.Json()["revision"], 1);
}

TEST(ApiAuthTest, TokenFile) {
  TempDir secrets("dove-token");
  const std::string token = "s3cret-token_value";
  ApiFixture api({"--token-file", WriteFile(secrets, "token", token + "\n")});
  ASSERT_TRUE(api.running());
  CheckTokenEnforced(api, token);
  // httplib refuses an over-long URI before reading headers: 414 whatever the token, not 401.
  const std::string path = "/v1/domains/" + std::string(20000, 'x');
  EXPECT_EQ(Send(api.port(), "GET", path, "", {{"Authorization", "Bearer " + token}}).status, 414);
  EXPECT_EQ(Send(api.port(), "GET", path).status, 414);
}

TEST(ApiAuthTest, TokenFromEnvironment) {
  TempDir dir("dove-api");
  ControllerProcess::Options options;
  options.args = {"--data-dir", (dir.path() / "data").string()};
  options.env = {{"DOVE_TOKEN", "env-token"}};
  auto controller = ControllerProcess::Start(std::move(options));
  ASSERT_TRUE(controller) << controller.error();
  const int port = (*controller)->port();
  EXPECT_EQ(Send(port, "GET", "/v1/domains").status, 401);
  EXPECT_EQ(Send(port, "GET", "/v1/domains", "", {{"Authorization", "Bearer env-token"}}).status,
            200);
  EXPECT_EQ(Send(port, "GET", "/healthz").status, 200);
}

TEST(ApiAuthTest, WarnsWithoutTokenOnNonLoopback) {
  TempDir dir("dove-api");
  auto controller = ControllerProcess::Start(
      {"--data-dir", (dir.path() / "data").string(), "--listen", "0.0.0.0:0"});
  ASSERT_TRUE(controller) << controller.error();
  EXPECT_NE((*controller)->Log().find("dove-controller: warning: no API token"), std::string::npos)
      << (*controller)->Log();
  EXPECT_NE((*controller)->Log().find("ANYONE WHO CAN REACH"), std::string::npos);
  EXPECT_EQ(Send((*controller)->port(), "GET", "/healthz").status, 200);

  // On loopback there is nothing to warn about.
  TempDir other("dove-api");
  auto quiet = ControllerProcess::Start({"--data-dir", (other.path() / "data").string()});
  ASSERT_TRUE(quiet) << quiet.error();
  EXPECT_EQ((*quiet)->Log().find("no API token"), std::string::npos) << (*quiet)->Log();
  EXPECT_EQ((*quiet)->Log().find("warning:"), std::string::npos) << (*quiet)->Log();
}

// Runs dove-controller expecting it to fail; its exit code and stderr.
std::pair<int, std::string> RunFailing(
    const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& env = {}) {
  ControllerProcess::Options options;
  options.args = args;
  options.env = env;
  options.ready_timeout = std::chrono::milliseconds(10000);
  auto controller = ControllerProcess::Start(std::move(options));
  if (controller) return {-1, "started"};
  // The process has exited; Start's message carries its log.
  return {1, controller.error()};
}

// The exit status needs the child: run it by hand, plaintext southbound unless it is --help
// (the TLS flags have their own tests in southbound_tls_test.cc).
std::pair<int, std::string> Exec(const TempDir& dir, std::vector<std::string> args,
                                 const std::string& env = "") {
  if (args != std::vector<std::string>{"--help"}) args.emplace_back("--southbound-plaintext");
  return RunController(dir, args, env);
}

// The options may come from --config FILE (TOML), as the switch's do: the token file named
// there is enforced; a key that is no option, or a file that cannot be read, is a usage error
// naming it.
TEST(ApiAuthTest, OptionsFromAConfigFile) {
  TempDir secrets("dove-config");
  const std::string token = "from-the-config-file";
  const std::string token_file = WriteFile(secrets, "token", token + "\n");
  ApiFixture api({"--config", WriteFile(secrets, "dove-controller.toml",
                                        "# dove-controller options\ntoken-file = \"" + token_file +
                                            "\"\nswitch-dead-after-ms = 3000\n")});
  ASSERT_TRUE(api.running());
  CheckTokenEnforced(api, token);

  TempDir dir("dove-config-errors");
  const std::string data = (dir.path() / "data").string();
  const std::string typo = WriteFile(dir, "typo.toml", "tokn-file = \"/etc/dove/token\"\n");
  auto [code, text] = RunController(dir, {"--data-dir", data, "--config", typo});
  EXPECT_EQ(code, 2) << text;
  EXPECT_NE(text.find("--config: unknown key \"tokn-file\""), std::string::npos) << text;
  auto [missing_code, missing] =
      RunController(dir, {"--data-dir", data, "--config", (dir.path() / "none.toml").string()});
  EXPECT_EQ(missing_code, 2) << missing;
  EXPECT_NE(missing.find("none.toml"), std::string::npos) << missing;
}

// --log-level (or log-level in the config file) says which records the controller writes: debug
// has a record of every answer, warning not even the lifecycle's; a level that is none of the
// four is a usage error naming the choices.
TEST(ApiAuthTest, LogLevelFromAFlagOrTheConfigFile) {
  TempDir dir("dove-log-level");
  const std::string loud = WriteFile(dir, "loud.toml", "log-level = \"loud\"\n");
  auto [code, text] =
      RunController(dir, {"--data-dir", (dir.path() / "data").string(), "--config", loud});
  EXPECT_EQ(code, 2) << text;
  EXPECT_NE(text.find("--log-level: loud not in {error,warning,info,debug}"), std::string::npos)
      << text;

  TempDir chatty_dir("dove-log-level");
  auto chatty = ControllerProcess::Start(
      {"--data-dir", (chatty_dir.path() / "data").string(), "--log-level", "debug"});
  ASSERT_TRUE(chatty) << chatty.error();
  EXPECT_EQ(Send((*chatty)->port(), "GET", "/healthz").status, 200);
  EXPECT_NE((*chatty)->Log().find(
                "dove-controller: debug: 200 GET /healthz status=200 method=GET path=/healthz\n"),
            std::string::npos)
      << (*chatty)->Log();

  TempDir quiet_dir("dove-log-level");
  auto quiet = ControllerProcess::Start(
      {"--config", WriteFile(quiet_dir, "quiet.toml",
                             "data-dir = \"" + (quiet_dir.path() / "data").string() +
                                 "\"\nlog-level = \"warning\"\n")});
  ASSERT_TRUE(quiet) << quiet.error();
  EXPECT_EQ(Send((*quiet)->port(), "GET", "/healthz").status, 200);
  EXPECT_EQ((*quiet)->Log().find("serving"), std::string::npos) << (*quiet)->Log();
  EXPECT_EQ((*quiet)->Log().find("/healthz"), std::string::npos) << (*quiet)->Log();
}

TEST(ApiAuthTest, FlagErrors) {
  TempDir dir("dove-flags");
  const std::string data = (dir.path() / "data").string();
  {
    auto [code, text] = Exec(dir, {"--listen", "127.0.0.1:0"});
    EXPECT_EQ(code, 2);
    EXPECT_NE(text.find("--data-dir"), std::string::npos) << text;
  }
  for (const char* listen : {"nonsense", "127.0.0.1:99999", "::1:80", "example.com:80"}) {
    auto [code, text] = Exec(dir, {"--data-dir", data, "--listen", listen});
    EXPECT_EQ(code, 1) << listen;
    EXPECT_NE(text.find("invalid listen address"), std::string::npos) << text;
  }
  {
    const std::string empty = WriteFile(dir, "empty", "\n");
    auto [code, text] = Exec(dir, {"--data-dir", data, "--token-file", empty});
    EXPECT_EQ(code, 1);
    EXPECT_NE(text.find("empty"), std::string::npos) << text;
  }
  {
    auto [code, text] =
        Exec(dir, {"--data-dir", data, "--token-file", (dir.path() / "absent").string()});
    EXPECT_EQ(code, 1);
    EXPECT_NE(text.find("cannot read token file"), std::string::npos) << text;
  }
  {
    auto [code, text] = Exec(dir, {"--data-dir", data, "--bogus"});
    EXPECT_EQ(code, 2) << text;
  }
  {
    auto [code, text] = Exec(dir, {"--help"});
    EXPECT_EQ(code, 0);
    for (const char* word :
         {"--data-dir", "--listen", "--token-file", "DOVE_TOKEN", "8740", "Exit codes"}) {
      EXPECT_NE(text.find(word), std::string::npos) << word;
    }
  }
  {
    auto [code, text] = RunFailing({"--data-dir", data, "--listen", "256.1.1.1:0"});
    EXPECT_EQ(code, 1) << text;
  }
}

// etcd's user and password: both or neither, the password from a readable file whose first
// line is not empty (or DOVE_ETCD_PASSWORD), only with --store etcd; refused before anything
// is started (no etcd runs here: these fail before connecting).
TEST(ApiAuthTest, EtcdCredentialFlagErrors) {
  TempDir dir("dove-etcd-flags");
  const std::vector<std::string> etcd = {"--store", "etcd", "--etcd-endpoints",
                                         "http://127.0.0.1:1"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> args = etcd;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  const std::string password = WriteFile(dir, "password", "secret\n");
  {
    auto [code, text] = Exec(dir, with({"--etcd-user", "dove"}));
    EXPECT_EQ(code, 2);
    EXPECT_NE(text.find("--etcd-user needs a password: --etcd-password-file FILE or the "
                        "environment variable DOVE_ETCD_PASSWORD"),
              std::string::npos)
        << text;
  }
  {
    auto [code, text] = Exec(dir, with({"--etcd-password-file", password}));
    EXPECT_EQ(code, 2);
    EXPECT_NE(text.find("--etcd-password-file needs --etcd-user"), std::string::npos) << text;
  }
  {
    const std::string absent = (dir.path() / "absent").string();
    auto [code, text] = Exec(dir, with({"--etcd-user", "dove", "--etcd-password-file", absent}));
    EXPECT_EQ(code, 1);
    EXPECT_NE(text.find("cannot read etcd password file " + absent), std::string::npos) << text;
  }
  for (const char* content : {"", "\n", "\r\nsecret\n"}) {
    const std::string empty = WriteFile(dir, "empty", content);
    auto [code, text] = Exec(dir, with({"--etcd-user", "dove", "--etcd-password-file", empty}));
    EXPECT_EQ(code, 1);
    EXPECT_NE(text.find("etcd password file " + empty + " has an empty first line"),
              std::string::npos)
        << text;
  }
  {
    auto [code, text] =
        Exec(dir, with({"--etcd-user", "dove", "--etcd-password-file", dir.path().string()}));
    EXPECT_EQ(code, 1);
    EXPECT_NE(text.find("cannot read etcd password file " + dir.path().string()), std::string::npos)
        << text;
  }
  {
    auto [code, text] = Exec(dir, with({"--etcd-user", "dove"}), "DOVE_ETCD_PASSWORD=");
    EXPECT_EQ(code, 1);
    EXPECT_NE(text.find("DOVE_ETCD_PASSWORD is set but empty"), std::string::npos) << text;
  }
  for (const char* flag : {"--etcd-user", "--etcd-password-file"}) {
    auto [code, text] = Exec(dir, {"--data-dir", (dir.path() / "data").string(), flag, password});
    EXPECT_EQ(code, 2) << flag;
    EXPECT_NE(text.find(std::string(flag) + " is for --store etcd"), std::string::npos) << text;
  }
  {
    auto [code, text] = Exec(dir, {"--help"});
    EXPECT_EQ(code, 0);
    for (const char* word : {"--etcd-user", "--etcd-password-file", "DOVE_ETCD_PASSWORD"}) {
      EXPECT_NE(text.find(word), std::string::npos) << word;
    }
  }
}

TEST(ApiAuthTest, CorruptStore) {
  TempDir dir("dove-flags");
  std::filesystem::create_directories(dir.path() / "data");
  WriteFile(dir, "data/dove.db", std::string(8192, '\x5a'));
  auto [code, text] = Exec(dir, {"--data-dir", (dir.path() / "data").string()});
  EXPECT_EQ(code, 1) << text;
  EXPECT_NE(text.find("cannot open the store"), std::string::npos) << text;
}

TEST(ApiAuthTest, ListensOnIpv6Loopback) {
  TempDir dir("dove-api");
  auto controller = ControllerProcess::Start(
      {"--data-dir", (dir.path() / "data").string(), "--listen", "[::1]:0"});
  ASSERT_TRUE(controller) << controller.error();
  httplib::Client client("::1", (*controller)->port());
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST(ApiAuthTest, DataDirInUse) {
  ApiFixture api;
  ASSERT_TRUE(api.running());
  TempDir dir("dove-flags");
  auto [code, text] = Exec(dir, {"--data-dir", api.data_dir(), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(code, 1) << text;
  EXPECT_NE(text.find("in use by another running controller"), std::string::npos) << text;
  // The first controller is unharmed.
  EXPECT_EQ(api.Send("GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace dove::api_test
