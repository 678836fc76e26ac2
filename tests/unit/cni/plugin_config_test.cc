// dove-cni's network configuration and environment: every key accepted as documented, every
// bad one refused with the spec's code and a sentence naming it.
#include "cni/plugin_config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "cni/plugin_env.h"

namespace dove::cni {
namespace {

constexpr const char* kMinimal =
    R"({"cniVersion":"1.0.0","name":"dove","type":"dove-cni","controller":"ctl1","network":"acme/web")";

std::string With(const std::string& extra) { return std::string(kMinimal) + extra + "}"; }

TEST(PluginConfigTest, MinimalConfigTakesTheDefaults) {
  auto config = ParseConfig(With(""));
  ASSERT_TRUE(config) << config.error().msg;
  EXPECT_EQ(config->cni_version, "1.0.0");
  EXPECT_EQ(config->name, "dove");
  EXPECT_EQ(config->type, "dove-cni");
  EXPECT_EQ(config->controller.host, "ctl1");
  EXPECT_EQ(config->controller.port, 8740);
  EXPECT_EQ(config->network, "acme/web");
  EXPECT_EQ(config->switch_name, "");
  EXPECT_EQ(config->switch_socket, "");
  EXPECT_EQ(config->mtu, 0u);
  EXPECT_EQ(config->data_dir, "/var/lib/cni/dove");
  EXPECT_EQ(config->port_timeout, std::chrono::seconds(10));
  EXPECT_EQ(config->token, "");
  EXPECT_EQ(config->token_file, "");
}

TEST(PluginConfigTest, EveryOptionalKeyIsRead) {
  auto config = ParseConfig(With(
      R"(,"tokenFile":"/etc/dove/token","switch":"h1","switchSocket":"/run/x.sock","mtu":1450,)"
      R"("dataDir":"/tmp/d","portTimeout":0,"prevResult":{},"runtimeConfig":{},"args":{},)"
      R"("capabilities":{})"));
  ASSERT_TRUE(config) << config.error().msg;
  EXPECT_EQ(config->token_file, "/etc/dove/token");
  EXPECT_EQ(config->switch_name, "h1");
  EXPECT_EQ(config->switch_socket, "/run/x.sock");
  EXPECT_EQ(config->mtu, 1450u);
  EXPECT_EQ(config->data_dir, "/tmp/d");
  EXPECT_EQ(config->port_timeout, std::chrono::seconds(0));
  auto with_token = ParseConfig(With(R"(,"token":"s3cret")"));
  ASSERT_TRUE(with_token);
  EXPECT_EQ(with_token->token, "s3cret");
}

TEST(PluginConfigTest, AnHttpsControllerMayNameTheCaToTrust) {
  const std::string text = R"({"cniVersion":"1.0.0","name":"dove","type":"dove-cni",)"
                           R"("controller":"https://ctl.example:8740","network":"acme/web",)"
                           R"("caFile":"/etc/dove/ca.pem"})";
  auto config = ParseConfig(text);
  ASSERT_TRUE(config) << config.error().msg;
  EXPECT_TRUE(config->controller.tls);
  EXPECT_EQ(config->controller.host, "ctl.example");
  EXPECT_EQ(config->ca_file, "/etc/dove/ca.pem");
}

TEST(PluginConfigTest, VersionsOtherThan040And100AreIncompatible) {
  auto old = ParseConfig(
      R"({"cniVersion":"0.3.1","name":"d","type":"t","controller":"c","network":"a/b"})");
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code, kIncompatibleVersion);
  EXPECT_NE(old.error().msg.find("0.3.1"), std::string::npos);
  EXPECT_TRUE(ParseConfig(
      R"({"cniVersion":"0.4.0","name":"d","type":"t","controller":"c","network":"a/b"})"));
}

TEST(PluginConfigTest, BadConfigsAreRefusedNamingTheKey) {
  struct Case {
    std::string text;
    int code;
    std::string mentions;
  };
  const Case cases[] = {
      {"not json", kDecodingFailure, "JSON"},
      {"[1]", kDecodingFailure, "JSON object"},
      {R"({"name":"d","type":"t","controller":"c","network":"a/b"})", kInvalidConfig, "cniVersion"},
      {R"({"cniVersion":"1.0.0","type":"t","controller":"c","network":"a/b"})", kInvalidConfig,
       "name"},
      {R"({"cniVersion":"1.0.0","name":"d","controller":"c","network":"a/b"})", kInvalidConfig,
       "type"},
      {R"({"cniVersion":"1.0.0","name":"d","type":"t","network":"a/b"})", kInvalidConfig,
       "controller"},
      {R"({"cniVersion":"1.0.0","name":"d","type":"t","controller":"c"})", kInvalidConfig,
       "network"},
      {With(R"(,"netwrok":"x")"), kInvalidConfig, "netwrok"},
      {With(R"(,"controller":"ftp://c")"), kInvalidConfig, "controller"},
      {With(R"(,"caFile":"/etc/dove/ca.pem")"), kInvalidConfig, "caFile"},
      {With(R"(,"caFile":"")"), kInvalidConfig, "caFile"},
      {With(R"(,"controller":7)"), kInvalidConfig, "controller"},
      {With(R"(,"token":"a","tokenFile":"/b")"), kInvalidConfig, "not both"},
      {With(R"(,"token":"")"), kInvalidConfig, "token"},
      {With(R"(,"switch":"bad name")"), kInvalidConfig, "switch"},
      {With(R"(,"switchSocket":"relative.sock")"), kInvalidConfig, "switchSocket"},
      {With(R"(,"dataDir":"relative")"), kInvalidConfig, "dataDir"},
      {With(R"(,"mtu":67)"), kInvalidConfig, "mtu"},
      {With(R"(,"mtu":65536)"), kInvalidConfig, "mtu"},
      {With(R"(,"mtu":"1450")"), kInvalidConfig, "mtu"},
      {With(R"(,"mtu":1450.5)"), kInvalidConfig, "mtu"},
      {With(R"(,"mtu":18446744073709551615)"), kInvalidConfig, "mtu"},
      {With(R"(,"portTimeout":-1)"), kInvalidConfig, "portTimeout"},
      {With(R"(,"portTimeout":301)"), kInvalidConfig, "portTimeout"},
  };
  for (const auto& c : cases) {
    auto config = ParseConfig(c.text);
    ASSERT_FALSE(config) << c.text;
    EXPECT_EQ(config.error().code, c.code) << c.text << ": " << config.error().msg;
    EXPECT_NE(config.error().msg.find(c.mentions), std::string::npos)
        << c.text << ": " << config.error().msg;
  }
}

TEST(PluginConfigTest, ConfigVersionReadsOnlyAStringVersion) {
  EXPECT_EQ(ConfigVersion(R"({"cniVersion":"0.4.0"})"), "0.4.0");
  EXPECT_EQ(ConfigVersion(R"({"cniVersion":4})"), "");
  EXPECT_EQ(ConfigVersion("garbage"), "");
}

EnvLookup Lookup(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

TEST(PluginEnvTest, AddNeedsContainerNetnsAndIfname) {
  auto env = ReadEnv(Lookup({{"CNI_COMMAND", "ADD"},
                             {"CNI_CONTAINERID", "c1"},
                             {"CNI_NETNS", "/run/netns/c1"},
                             {"CNI_IFNAME", "eth0"},
                             {"CNI_PATH", "/opt/cni/bin"}}));
  ASSERT_TRUE(env) << env.error().msg;
  EXPECT_EQ(env->command, Command::kAdd);
  EXPECT_EQ(env->container_id, "c1");
  EXPECT_EQ(env->netns, "/run/netns/c1");
  EXPECT_EQ(env->ifname, "eth0");
  EXPECT_EQ(env->path, "/opt/cni/bin");
}

TEST(PluginEnvTest, DelWithoutNetnsIsFineVersionNeedsNothing) {
  auto del =
      ReadEnv(Lookup({{"CNI_COMMAND", "DEL"}, {"CNI_CONTAINERID", "c1"}, {"CNI_IFNAME", "eth0"}}));
  ASSERT_TRUE(del) << del.error().msg;
  EXPECT_EQ(del->netns, "");
  auto version = ReadEnv(Lookup({{"CNI_COMMAND", "VERSION"}}));
  ASSERT_TRUE(version);
  EXPECT_EQ(version->command, Command::kVersion);
}

TEST(PluginEnvTest, BadEnvironmentIsCode4NamingTheVariable) {
  const std::map<std::string, std::string> good = {{"CNI_COMMAND", "ADD"},
                                                   {"CNI_CONTAINERID", "c1"},
                                                   {"CNI_NETNS", "/run/netns/c1"},
                                                   {"CNI_IFNAME", "eth0"}};
  struct Case {
    std::string variable;
    std::optional<std::string> value;  // nullopt: unset
  };
  const Case cases[] = {
      {"CNI_COMMAND", std::nullopt},
      {"CNI_COMMAND", "ATTACH"},
      {"CNI_CONTAINERID", std::nullopt},
      {"CNI_CONTAINERID", "-c1"},
      {"CNI_CONTAINERID", "c/1"},
      {"CNI_NETNS", std::nullopt},
      {"CNI_NETNS", "run/netns/c1"},
      {"CNI_IFNAME", std::nullopt},
      {"CNI_IFNAME", "a-name-too-long-x"},
      {"CNI_IFNAME", "eth/0"},
      {"CNI_IFNAME", ".."},
      {"CNI_IFNAME", "eth 0"},
  };
  for (const auto& c : cases) {
    auto vars = good;
    if (c.value) {
      vars[c.variable] = *c.value;
    } else {
      vars.erase(c.variable);
    }
    auto env = ReadEnv(Lookup(vars));
    ASSERT_FALSE(env) << c.variable << "=" << c.value.value_or("(unset)");
    EXPECT_EQ(env.error().code, kInvalidEnvironment);
    EXPECT_NE(env.error().msg.find(c.variable), std::string::npos) << env.error().msg;
  }
}

}  // namespace
}  // namespace dove::cni
