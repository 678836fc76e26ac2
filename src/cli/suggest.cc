#include "cli/suggest.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <utility>

namespace dove::cli {

namespace {

// The closest of `names` to `typed`, or "" when none is close enough.
std::string Closest(std::string_view typed, const std::vector<std::string>& names) {
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const auto& name : names) {
    size_t distance = EditDistance(typed, name);
    if (typed.size() >= 3 && name.rfind(typed, 0) == 0) distance = 1;  // a prefix
    if (distance < best_distance) {
      best_distance = distance;
      best = name;
    }
  }
  return best_distance <= 2 ? best : "";
}

// The command's path below the root: "endpoint create".
std::string PathOf(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::App* at = app; at != nullptr && at->get_parent() != nullptr;
       at = at->get_parent()) {
    names.push_back(at->get_name());
  }
  std::string path;
  for (auto name = names.rbegin(); name != names.rend(); ++name) {
    if (!path.empty()) path += ' ';
    path += *name;
  }
  return path;
}

// `message`, with "; did you mean NEAR?" when there is a near name (quoted for commands).
std::string WithNearest(std::string message, const std::string& near, bool quoted) {
  if (near.empty()) return message;
  message += "; did you mean ";
  message += quoted ? "\"" + near + "\"" : near;
  message += '?';
  return message;
}

// Every long option name ("--port") of `app` and the commands above it.
std::vector<std::string> LongOptions(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::App* at = app; at != nullptr; at = at->get_parent()) {
    for (const CLI::Option* option : at->get_options()) {
      for (const auto& name : option->get_lnames()) names.push_back("--" + name);
    }
  }
  return names;
}

// The option `name` ("--port", "-o") of `app` or the commands above it; nullptr when none.
const CLI::Option* FindOption(const CLI::App* app, const std::string& name) {
  for (const CLI::App* at = app; at != nullptr; at = at->get_parent()) {
    for (const CLI::Option* option : at->get_options()) {
      if (option->check_name(name)) return option;
    }
  }
  return nullptr;
}

}  // namespace

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Suggest(const CLI::App& root, const std::vector<std::string>& args) {
  const CLI::App* app = &root;
  bool value_next = false;  // the word is the value of the option before it
  for (const std::string& arg : args) {
    if (value_next) {
      value_next = false;
      continue;
    }
    if (arg.rfind('-', 0) == 0 && arg.size() > 1) {
      const size_t equals = arg.find('=');
      const std::string name = arg.substr(0, equals);
      if (const CLI::Option* option = FindOption(app, name)) {
        value_next = equals == std::string::npos && option->get_items_expected_min() > 0;
        continue;
      }
      if (arg.rfind("--", 0) != 0) continue;  // a short option CLI11 will judge, or a number
      const std::vector<std::string> known = LongOptions(app);
      std::string message = "unknown option " + name;
      if (app != &root) message += " of \"" + PathOf(app) + "\"";
      return WithNearest(std::move(message), Closest(name, known), /*quoted=*/false);
    }
    const auto subcommands = app->get_subcommands([](const CLI::App*) { return true; });
    const auto found = std::find_if(subcommands.begin(), subcommands.end(),
                                    [&](const CLI::App* sub) { return sub->check_name(arg); });
    if (found != subcommands.end()) {
      app = *found;
      continue;
    }
    if (subcommands.empty() || app->get_require_subcommand_min() == 0) continue;  // a value
    std::vector<std::string> names;
    names.reserve(subcommands.size());
    for (const CLI::App* sub : subcommands) names.push_back(sub->get_name());
    std::string message = "unknown command \"" + arg + "\"";
    if (app != &root) message += " of \"" + PathOf(app) + "\"";
    return WithNearest(std::move(message), Closest(arg, names), /*quoted=*/true);
  }
  return "";
}

}  // namespace dove::cli
