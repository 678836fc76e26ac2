// Did you mean: unknown commands and options are named with the nearest known one when it is
// close, option values and positional words are not mistaken for commands, and nothing is said
// when every word is known.
#include "cli/suggest.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dove::cli {
namespace {

class SuggestTest : public ::testing::Test {
 protected:
  SuggestTest() {
    root_.require_subcommand(1);
    root_.add_option("--controller", controller_);
    root_.add_option("-o,--output", output_);
    root_.add_flag("--verbose");
    auto* network = root_.add_subcommand("network");
    network->require_subcommand(1);
    auto* list = network->add_subcommand("list");
    list->add_option("--domain", value_);
    auto* endpoint = root_.add_subcommand("endpoint");
    endpoint->require_subcommand(1);
    auto* create = endpoint->add_subcommand("create");
    create->add_option("NETWORK", value_);
    create->add_option("--port", value_);
    create->add_option("--port-kind", value_);
    root_.add_subcommand("status");
  }

  std::string Say(const std::vector<std::string>& args) const { return Suggest(root_, args); }

  CLI::App root_;
  std::string controller_;
  std::string output_;
  std::string value_;
};

TEST_F(SuggestTest, AnUnknownCommandIsNamedWithTheNearestOne) {
  EXPECT_EQ(Say({"netwrk", "list"}), "unknown command \"netwrk\"; did you mean \"network\"?");
  EXPECT_EQ(Say({"network", "lst"}),
            "unknown command \"lst\" of \"network\"; did you mean \"list\"?");
  EXPECT_EQ(Say({"stat"}), "unknown command \"stat\"; did you mean \"status\"?") << "a prefix";
  EXPECT_EQ(Say({"zzzzzz"}), "unknown command \"zzzzzz\"") << "nothing close";
}

TEST_F(SuggestTest, AnUnknownOptionIsNamedWithTheNearestOneOfItsCommand) {
  EXPECT_EQ(Say({"endpoint", "create", "acme/web", "--prt", "3"}),
            "unknown option --prt of \"endpoint create\"; did you mean --port?");
  EXPECT_EQ(Say({"endpoint", "create", "--port-knd=packet"}),
            "unknown option --port-knd of \"endpoint create\"; did you mean --port-kind?");
  EXPECT_EQ(Say({"--controler", "x", "status"}),
            "unknown option --controler; did you mean --controller?");
  EXPECT_EQ(Say({"network", "list", "--contrller", "x"}),
            "unknown option --contrller of \"network list\"; did you mean --controller?")
      << "the root's options fall through to every command";
}

TEST_F(SuggestTest, OptionValuesAndKnownWordsAreNotMistaken) {
  EXPECT_EQ(Say({"--controller", "netwrk", "network", "list"}), "") << "a value, not a command";
  EXPECT_EQ(Say({"-o", "json", "network", "list", "--domain", "acme"}), "");
  EXPECT_EQ(Say({"--output=json", "--verbose", "status"}), "");
  EXPECT_EQ(Say({"endpoint", "create", "acme/web", "--port", "--port-kind"}), "")
      << "a value that looks like an option is the option's value";
  EXPECT_EQ(Say({"network"}), "") << "a missing command is another error";
}

TEST(EditDistanceTest, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("network", "network"), 0u);
  EXPECT_EQ(EditDistance("netwrk", "network"), 1u);
  EXPECT_EQ(EditDistance("prot", "port"), 2u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

}  // namespace
}  // namespace dove::cli
