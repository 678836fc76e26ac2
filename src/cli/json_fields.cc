#include "cli/json_fields.h"

namespace dove::cli {

std::string StringField(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string NumberField(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto it = object.find(key);
  if (it == object.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  return "";
}

std::string JoinedField(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return "";
  std::string joined;
  for (const auto& item : *it) {
    if (!item.is_string()) continue;
    if (!joined.empty()) joined += ",";
    joined += item.get<std::string>();
  }
  return joined;
}

const nlohmann::json& Items(const nlohmann::json& list_body) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  if (!list_body.is_object()) return kEmpty;
  const auto it = list_body.find("items");
  return it != list_body.end() && it->is_array() ? *it : kEmpty;
}

}  // namespace dove::cli
