// The bash completion script: generated from dovectl's own command tree, it lists every
// visible command and, for each, every option it accepts (its own and the global ones), and
// `dovectl completion bash` prints exactly it. tests/packages/completion_test.sh runs it in bash.
#include "cli/completion.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/dovectl.h"

namespace dove::cli {
namespace {

using Words = std::set<std::string>;
using ScriptTable = std::map<std::string, Words>;

Words Split(const std::string& text) {
  Words words;
  std::istringstream in(text);
  for (std::string word; in >> word;) words.insert(word);
  return words;
}

// The table `name` of the script: `  ['PATH']='WORD WORD'` lines after `declare -gA NAME=(`.
ScriptTable ReadTable(const std::string& script, const std::string& name) {
  ScriptTable table;
  std::istringstream in(script);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "declare -gA " + name + "=(") {
      inside = true;
    } else if (inside && line == ")") {
      break;
    } else if (inside) {
      const auto key_end = line.find("']='");
      EXPECT_TRUE(line.starts_with("  ['") && key_end != std::string::npos && line.ends_with("'"))
          << line;
      if (key_end == std::string::npos) continue;
      table[line.substr(4, key_end - 4)] =
          Split(line.substr(key_end + 4, line.size() - key_end - 5));
    }
  }
  EXPECT_TRUE(inside) << "no table " << name;
  return table;
}

// What the tree says, walked here independently of the generator.
void Walk(const CLI::App* app, const std::string& path, ScriptTable& subcommands,
          ScriptTable& options) {
  Words& own_options = options[path];
  for (const CLI::App* at = app; at != nullptr; at = at->get_parent()) {
    for (const CLI::Option* option : at->get_options()) {
      for (const auto& name : option->get_lnames()) own_options.insert("--" + name);
      for (const auto& name : option->get_snames()) own_options.insert("-" + name);
    }
  }
  Words& own_subcommands = subcommands[path];
  for (const CLI::App* sub : app->get_subcommands({})) {
    if (sub->get_group().empty()) continue;  // hidden
    own_subcommands.insert(sub->get_name());
    Walk(sub, path + " " + sub->get_name(), subcommands, options);
  }
}

class CompletionTest : public ::testing::Test {
 protected:
  CompletionTest() : ctx_({}, out_, err_) { BuildApp(app_, ctx_); }

  std::ostringstream out_;
  std::ostringstream err_;
  Context ctx_;
  CLI::App app_{"dovectl", "dovectl"};
};

TEST_F(CompletionTest, ListsEveryCommandAndEveryOptionOfDovectl) {
  const std::string script = BashCompletion(app_);
  ScriptTable subcommands;
  ScriptTable options;
  Walk(&app_, "dovectl", subcommands, options);
  ASSERT_GT(subcommands.size(), 20u) << "dovectl has more commands than that";
  EXPECT_EQ(ReadTable(script, "_dovectl_subcommands"), subcommands);
  EXPECT_EQ(ReadTable(script, "_dovectl_options"), options);
}

TEST_F(CompletionTest, KnowsWhatAPersonWouldCheck) {
  const std::string script = BashCompletion(app_);
  const ScriptTable subcommands = ReadTable(script, "_dovectl_subcommands");
  const ScriptTable options = ReadTable(script, "_dovectl_options");
  const ScriptTable valued = ReadTable(script, "_dovectl_valued_options");
  for (const char* command : {"domain", "network", "endpoint", "switch", "policy", "trace"}) {
    EXPECT_TRUE(subcommands.at("dovectl").contains(command)) << command;
  }
  EXPECT_FALSE(subcommands.at("dovectl").contains("completion")) << "a hidden command";
  EXPECT_TRUE(subcommands.at("dovectl endpoint").contains("create"));
  for (const char* option : {"--port", "--port-kind", "--controller", "--help", "-o"}) {
    EXPECT_TRUE(options.at("dovectl endpoint create").contains(option)) << option;
  }
  EXPECT_TRUE(valued.at("dovectl endpoint create").contains("--port"));
  EXPECT_TRUE(valued.at("dovectl").contains("--controller"));
  EXPECT_FALSE(valued.at("dovectl").contains("--help")) << "a flag takes no value";
  EXPECT_NE(script.find("complete -F _dovectl dovectl"), std::string::npos);
}

TEST(CompletionCommandTest, DovectlCompletionBashPrintsTheScript) {
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(cli::Run({"completion", "bash"}, {}, out, err), 0) << err.str();
  std::ostringstream unused_out;
  std::ostringstream unused_err;
  Context ctx({}, unused_out, unused_err);
  CLI::App app{"dovectl", "dovectl"};
  BuildApp(app, ctx);
  EXPECT_EQ(out.str(), BashCompletion(app));

  std::ostringstream bad_out;
  std::ostringstream bad_err;
  EXPECT_EQ(cli::Run({"completion", "fish"}, {}, bad_out, bad_err), 2);
  EXPECT_NE(bad_err.str().find("fish"), std::string::npos) << bad_err.str();
}

}  // namespace
}  // namespace dove::cli
