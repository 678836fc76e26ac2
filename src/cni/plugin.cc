#include "cni/plugin.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/api_client.h"
#include "cli/resolver.h"
#include "cli/switch_socket.h"
#include "cli/token.h"
#include "cni/attachment_names.h"
#include "cni/cni_version.h"
#include "cni/container_link.h"
#include "cni/container_plan.h"
#include "cni/local_switch.h"
#include "cni/plugin_config.h"
#include "cni/state_store.h"

namespace dove::cni {
namespace {

using nlohmann::json;
using Result = Expected<std::optional<json>, CniError>;  // a JSON to print, or nothing

constexpr std::chrono::milliseconds kApiTimeout{10000};

// The endpoint's external ids: which container and interface it is (docs/cni.md). A
// container id longer than a label value may be (253) is left out rather than cut.
json EndpointLabels(const PluginEnv& env) {
  json labels = {{"cni/ifname", env.ifname}};
  if (env.container_id.size() <= 253) labels["cni/container-id"] = env.container_id;
  return labels;
}

// The CNI error for a failed API call about `what`.
CniError FromApi(const cli::ApiError& error, const std::string& what) {
  if (error.kind == cli::ApiError::Kind::kUnreachable ||
      (error.kind == cli::ApiError::Kind::kStatus && error.status >= 500)) {
    return CniError{kTryAgainLater, "The controller cannot be asked about " + what + " now.",
                    error.message};
  }
  return CniError{kControllerRefused, "The controller refused " + what + ": " + error.message,
                  error.code};
}

std::string SocketOf(const PluginConfig& config) {
  return config.switch_socket.empty() ? cli::DefaultSwitchSocket() : config.switch_socket;
}

Expected<std::unique_ptr<cli::ApiClient>, CniError> ClientFor(const PluginConfig& config) {
  auto token = cli::ResolveToken(
      config.token.empty() ? std::nullopt : std::optional<std::string>(config.token),
      config.token_file.empty() ? std::nullopt : std::optional<std::string>(config.token_file),
      std::nullopt);
  if (!token) return Unexpected(CniError{kInvalidConfig, "\"tokenFile\": " + token.error(), ""});
  return std::make_unique<cli::ApiClient>(cli::ApiClient::Options{.url = config.controller,
                                                                  .token = *token,
                                                                  .timeout = kApiTimeout,
                                                                  .ca_file = config.ca_file});
}

// The subnets of network `network_id`.
Expected<json, CniError> Subnets(cli::ApiClient& client, const std::string& network_id) {
  auto subnets = client.Get("/v1/subnets" + cli::Query({{"network", network_id}}));
  if (!subnets) return Unexpected(FromApi(subnets.error(), "the subnets of " + network_id));
  auto items = subnets->body.find("items");
  return items != subnets->body.end() && items->is_array() ? *items : json::array();
}

// What a failed ADD must take back, in reverse order of making.
class Undo {
 public:
  Undo(cli::ApiClient* client, StateStore* store, std::string key)
      : client_(client), store_(store), key_(std::move(key)) {}
  ~Undo() {
    if (done_) return;
    if (!endpoint_.empty()) (void)client_->Delete("/v1/endpoints" + cli::PathSegment(endpoint_));
    if (!pair_.empty()) (void)DeleteHostEnd(pair_);
    if (recorded_) (void)store_->Remove(key_);
  }
  Undo(const Undo&) = delete;
  Undo& operator=(const Undo&) = delete;
  void Recorded() { recorded_ = true; }
  void MadePair(std::string host_veth) { pair_ = std::move(host_veth); }
  void MadeEndpoint(std::string id) { endpoint_ = std::move(id); }
  void Keep() { done_ = true; }

 private:
  cli::ApiClient* client_;
  StateStore* store_;
  std::string key_;
  bool recorded_ = false;
  std::string pair_;
  std::string endpoint_;
  bool done_ = false;
};

Result Add(const PluginEnv& env, const PluginConfig& config) {
  const auto names = NamesFor(env.container_id, env.ifname);
  StateStore store(config.data_dir);
  auto existing = store.Load(names.endpoint_id);
  if (!existing) return Unexpected(CniError{kIoFailure, existing.error(), ""});
  if (*existing) {
    return Unexpected(CniError{kAlreadyAdded,
                               "Container " + env.container_id + " interface " + env.ifname +
                                   " is already added (endpoint " + (*existing)->endpoint_id +
                                   "); DEL it first.",
                               ""});
  }
  auto client = ClientFor(config);
  if (!client) return Unexpected(client.error());
  cli::Resolver resolver(client->get());
  auto network = resolver.Network(config.network);
  if (!network) {
    if (network.error().kind == cli::ApiError::Kind::kStatus && network.error().status == 404) {
      return Unexpected(
          CniError{kInvalidConfig,
                   "\"network\": the controller knows no network " + config.network + ".", ""});
    }
    return Unexpected(FromApi(network.error(), "network " + config.network));
  }
  const std::string network_id = network->value("id", "");
  auto subnets = Subnets(**client, network_id);
  if (!subnets) return Unexpected(subnets.error());

  // The switch: named in the config, else the local one's own name.
  auto identity = AskIdentity(SocketOf(config));
  std::string switch_name = config.switch_name;
  if (switch_name.empty()) {
    if (!identity) {
      return Unexpected(CniError{kTryAgainLater,
                                 "No \"switch\" is configured and the local switch cannot say "
                                 "its name: " +
                                     identity.error() + ".",
                                 ""});
    }
    switch_name = identity->name;
  }
  uint32_t mtu = config.mtu;
  if (mtu == 0) mtu = SmallestMtu(*subnets);
  if (mtu == 0 && identity) mtu = identity->overlay_mtu;

  Undo undo(client->get(), &store, names.endpoint_id);
  if (auto saved = store.Save(names.endpoint_id, {.container_id = env.container_id,
                                                  .ifname = env.ifname,
                                                  .netns = env.netns,
                                                  .endpoint_id = names.endpoint_id,
                                                  .host_veth = names.host_veth,
                                                  .network = config.network,
                                                  .switch_name = switch_name});
      !saved) {
    return Unexpected(CniError{kIoFailure, saved.error() + ".", ""});
  }
  undo.Recorded();
  // The pair before the endpoint: the switch finds the port as soon as it learns of it.
  auto host_mac = CreatePair(names.host_veth, env.ifname, env.netns, mtu);
  if (!host_mac) return Unexpected(CniError{kInterfaceFailure, host_mac.error() + ".", ""});
  undo.MadePair(names.host_veth);
  auto created = (*client)->Post("/v1/endpoints", json{{"id", names.endpoint_id},
                                                       {"network_id", network_id},
                                                       {"switch_name", switch_name},
                                                       {"port_name", names.host_veth},
                                                       {"port_kind", "PORT_KIND_PACKET"},
                                                       {"labels", EndpointLabels(env)}});
  if (!created) return Unexpected(FromApi(created.error(), "endpoint " + names.endpoint_id));
  undo.MadeEndpoint(names.endpoint_id);
  auto plan = PlanContainer(created->body, *subnets);
  if (!plan) return Unexpected(plan.error());
  if (auto configured = Configure(env.netns, env.ifname, *plan); !configured) {
    return Unexpected(CniError{kInterfaceFailure, configured.error() + ".", ""});
  }
  if (config.port_timeout.count() > 0) {
    auto served =
        WaitForPort(SocketOf(config), names.host_veth, names.endpoint_id, config.port_timeout);
    if (!served) {
      return Unexpected(CniError{kTryAgainLater,
                                 "Switch " + switch_name + " did not serve port " +
                                     names.host_veth + " within " +
                                     std::to_string(config.port_timeout.count()) + " s.",
                                 served.error()});
    }
  }
  undo.Keep();
  return std::optional<json>(ResultJson(config.cni_version, *plan,
                                        {.host_veth = names.host_veth,
                                         .host_mac = *host_mac,
                                         .ifname = env.ifname,
                                         .netns = env.netns}));
}

Result Del(const PluginEnv& env, const PluginConfig& config) {
  const auto names = NamesFor(env.container_id, env.ifname);
  StateStore store(config.data_dir);
  std::string endpoint_id = names.endpoint_id;
  std::string host_veth = names.host_veth;
  // An unreadable record does not stop a DEL: the names are derived the same way.
  if (auto record = store.Load(names.endpoint_id); record && *record) {
    endpoint_id = (*record)->endpoint_id;
    host_veth = (*record)->host_veth;
  }
  auto client = ClientFor(config);
  if (!client) return Unexpected(client.error());
  auto deleted = (*client)->Delete("/v1/endpoints" + cli::PathSegment(endpoint_id));
  if (!deleted &&
      !(deleted.error().kind == cli::ApiError::Kind::kStatus && deleted.error().status == 404)) {
    return Unexpected(FromApi(deleted.error(), "deleting endpoint " + endpoint_id));
  }
  if (auto pair = DeleteHostEnd(host_veth); !pair) {
    return Unexpected(CniError{kInterfaceFailure, pair.error() + ".", ""});
  }
  if (auto removed = store.Remove(names.endpoint_id); !removed) {
    return Unexpected(CniError{kIoFailure, removed.error() + ".", ""});
  }
  return std::optional<json>();
}

CniError CheckFailed(const std::string& msg) { return CniError{kCheckFailed, msg, ""}; }

Result Check(const PluginEnv& env, const PluginConfig& config) {
  const auto names = NamesFor(env.container_id, env.ifname);
  StateStore store(config.data_dir);
  auto record = store.Load(names.endpoint_id);
  if (!record) return Unexpected(CniError{kIoFailure, record.error(), ""});
  if (!*record) {
    return Unexpected(CniError{kUnknownContainer,
                               "No record of container " + env.container_id + " interface " +
                                   env.ifname + " (was it added?).",
                               ""});
  }
  auto client = ClientFor(config);
  if (!client) return Unexpected(client.error());
  const std::string endpoint_id = (*record)->endpoint_id;
  auto endpoint = (*client)->Get("/v1/endpoints" + cli::PathSegment(endpoint_id));
  if (!endpoint) {
    if (endpoint.error().kind == cli::ApiError::Kind::kStatus && endpoint.error().status == 404) {
      return Unexpected(CheckFailed("Endpoint " + endpoint_id + " no longer exists."));
    }
    return Unexpected(FromApi(endpoint.error(), "endpoint " + endpoint_id));
  }
  auto subnets = Subnets(**client, endpoint->body.value("network_id", ""));
  if (!subnets) return Unexpected(subnets.error());
  auto plan = PlanContainer(endpoint->body, *subnets);
  if (!plan) return Unexpected(plan.error());
  auto found = Inspect(env.netns, env.ifname);
  if (!found) return Unexpected(CniError{kInterfaceFailure, found.error() + ".", ""});
  if (!*found) {
    return Unexpected(CheckFailed("Interface " + env.ifname + " is missing in " + env.netns + "."));
  }
  if ((*found)->mac != plan->mac) {
    return Unexpected(CheckFailed("Interface " + env.ifname + " has MAC " +
                                  (*found)->mac.ToString() + ", endpoint " + endpoint_id + " has " +
                                  plan->mac.ToString() + "."));
  }
  for (const auto& address : plan->addresses) {
    const std::string want = address.ip.ToString() + "/" + std::to_string(address.prefix_length);
    const auto& have = (*found)->addresses;
    if (std::find(have.begin(), have.end(), want) == have.end()) {
      std::string msg = "Interface " + env.ifname + " lacks address " + want;
      msg += " of endpoint " + endpoint_id + ".";
      return Unexpected(CheckFailed(msg));
    }
  }
  if (!(*found)->up) return Unexpected(CheckFailed("Interface " + env.ifname + " is down."));
  return std::optional<json>();
}

}  // namespace

int RunPlugin(const EnvLookup& lookup, std::string_view stdin_text, std::ostream& out) {
  const std::string version = ConfigVersion(stdin_text);
  auto fail = [&](const CniError& error) {
    out << ErrorJson(error, IsSupportedVersion(version) ? version : "");
    return 1;
  };
  auto env = ReadEnv(lookup);
  if (!env) return fail(env.error());
  if (env->command == Command::kVersion) {
    out << VersionJson();
    return 0;
  }
  auto config = ParseConfig(stdin_text);
  if (!config) return fail(config.error());
  Result result = env->command == Command::kAdd   ? Add(*env, *config)
                  : env->command == Command::kDel ? Del(*env, *config)
                                                  : Check(*env, *config);
  if (!result) return fail(result.error());
  if (*result) out << (*result)->dump(2) << "\n";
  return 0;
}

}  // namespace dove::cni
