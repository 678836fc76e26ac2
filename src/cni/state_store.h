// StateStore: what ADD made for one container interface, kept on disk for DEL and CHECK, one
// JSON file per attachment in the plugin's data dir (DATA_DIR/<key>.json, key from
// attachment_names.h).
//
// Save writes a temporary file in the same directory, syncs it and renames it over the old
// one, so a reader sees the old record or the new one, never a part (creating the directory,
// mode 0700, when missing). Load of a missing file is "no record", not an error. Remove of a
// missing file is fine. Errors are one sentence naming the file.
//
//   StateStore store("/var/lib/cni/dove");
//   store.Save("cni-0123456789abcdef", record);
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "base/expected.h"

namespace dove::cni {

struct StateRecord {
  std::string container_id;
  std::string ifname;
  std::string netns;
  std::string endpoint_id;
  std::string host_veth;
  std::string network;      // as the config named it
  std::string switch_name;  // the switch the endpoint was placed on
};

class StateStore {
 public:
  explicit StateStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

  Expected<void, std::string> Save(const std::string& key, const StateRecord& record);
  Expected<std::optional<StateRecord>, std::string> Load(const std::string& key) const;
  Expected<void, std::string> Remove(const std::string& key);

  std::filesystem::path PathOf(const std::string& key) const { return dir_ / (key + ".json"); }

 private:
  std::filesystem::path dir_;
};

}  // namespace dove::cni
