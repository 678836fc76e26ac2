// dovectl switch show (without a name) | ports | cache | counters: what one running dove-switch
// says about itself, over its control socket (no controller involved). The counters table
// shows the "counters" member (every non-zero counter, drop.<reason> included); "drops" (every
// reason, zero ones too) is there for -o json.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/switch_socket.h"
#include "cli/table.h"

namespace dove::cli {
namespace {

std::string Text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    std::string joined;
    for (const auto& item : value) joined += (joined.empty() ? "" : ",") + Text(item);
    return joined;
  }
  return value.dump();
}

// doc[key] when present, else an empty value (iterating it does nothing).
const nlohmann::json& Member(const nlohmann::json& doc, const char* key) {
  static const nlohmann::json kNone;
  auto it = doc.find(key);
  return it == doc.end() ? kNone : *it;
}

void PrintShow(Context& ctx, const nlohmann::json& doc) {
  Table table({"FIELD", "VALUE"});
  for (const auto& [key, value] : doc.items()) table.AddRow({key, Text(value)});
  ctx.out() << table.Render();
}

void PrintPorts(Context& ctx, const nlohmann::json& doc) {
  Table table(
      {"PORT", "KIND", "ENDPOINT", "VNI", "MAC", "IPS", "STATE", "RECEIVED", "SENT", "DROPPED"});
  for (const auto& port : Member(doc, "ports")) {
    const bool open = port.value("open", false);
    table.AddRow(
        {Text(Member(port, "name")), Text(Member(port, "kind")), Text(Member(port, "endpoint_id")),
         Text(Member(port, "vni")), Text(Member(port, "mac")), Text(Member(port, "ips")),
         open ? "open" : "error: " + Text(Member(port, "error")), Text(Member(port, "received")),
         Text(Member(port, "sent")), Text(Member(port, "dropped"))});
  }
  ctx.out() << table.Render();
}

void PrintCache(Context& ctx, const nlohmann::json& doc) {
  Table table({"ENDPOINT", "VNI", "MAC", "IPS", "SWITCH", "TUNNEL IP", "VERSION"});
  for (const auto& entry : Member(doc, "endpoints")) {
    std::string tunnel = Text(Member(entry, "tunnel_ip"));
    if (entry.value("switch_down", false)) tunnel += " (switch down)";
    table.AddRow({Text(Member(entry, "endpoint_id")), Text(Member(entry, "vni")),
                  Text(Member(entry, "mac")), Text(Member(entry, "ips")),
                  Text(Member(entry, "switch")), tunnel, Text(Member(entry, "version"))});
  }
  ctx.out() << "last revision " << Text(Member(doc, "last_revision"))
            << (doc.value("syncing", false) ? " (catching up)" : "") << "\n"
            << table.Render();
}

void PrintCounters(Context& ctx, const nlohmann::json& doc) {
  Table table({"COUNTER", "VALUE"});
  for (const auto& [name, value] : Member(doc, "counters").items()) {
    table.AddRow({name, Text(value)});
  }
  ctx.out() << table.Render();
}

}  // namespace

int RunSwitchLocal(Context& ctx, const std::string& socket, const std::string& command) {
  const auto timeout =
      std::chrono::milliseconds(static_cast<int64_t>(ctx.options().timeout_seconds * 1000));
  auto answer = AskSwitch(socket.empty() ? DefaultSwitchSocket() : socket, command, timeout);
  if (!answer) return ctx.FailWith(ExitCode::kUnavailable, answer.error(), "unavailable");
  auto doc = nlohmann::json::parse(*answer, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return ctx.FailWith(ExitCode::kUnavailable, "the switch's answer is not a JSON object",
                        "unavailable");
  }
  if (doc.contains("error")) {
    return ctx.FailWith(ExitCode::kRefused, Text(Member(Member(doc, "error"), "message")),
                        Text(Member(Member(doc, "error"), "code")));
  }
  if (ctx.json_output()) {
    ctx.PrintJson(doc);
  } else if (command == "show") {
    PrintShow(ctx, doc);
  } else if (command == "ports") {
    PrintPorts(ctx, doc);
  } else if (command == "cache") {
    PrintCache(ctx, doc);
  } else {
    PrintCounters(ctx, doc);
  }
  return 0;
}

}  // namespace dove::cli
