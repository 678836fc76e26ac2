#include "cli/token.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.h"

namespace dove::cli {
namespace {

class TokenTest : public ::testing::Test {
 protected:
  std::string WriteFile(const std::string& name, const std::string& text) {
    const auto path = dir_.path() / name;
    std::ofstream(path) << text;
    return path.string();
  }
  test_support::TempDir dir_{"dovectl-token"};
};

TEST_F(TokenTest, FlagWinsOverFileAndEnv) {
  const std::string file = WriteFile("token", "from-file\n");
  EXPECT_EQ(*ResolveToken("from-flag", file, "from-env"), "from-flag");
}

TEST_F(TokenTest, FileWinsOverEnvAndIsTrimmed) {
  const std::string file = WriteFile("token", "  from-file\r\n\n");
  EXPECT_EQ(*ResolveToken(std::nullopt, file, "from-env"), "from-file");
}

TEST_F(TokenTest, EnvWhenNothingElse) {
  EXPECT_EQ(*ResolveToken(std::nullopt, std::nullopt, "from-env"), "from-env");
}

TEST_F(TokenTest, NoneAtAllIsEmpty) {
  EXPECT_EQ(*ResolveToken(std::nullopt, std::nullopt, std::nullopt), "");
}

TEST_F(TokenTest, UnreadableOrEmptyFileIsAnError) {
  EXPECT_FALSE(ResolveToken(std::nullopt, (dir_.path() / "missing").string(), "from-env"));
  EXPECT_FALSE(ResolveToken(std::nullopt, WriteFile("empty", " \n"), "from-env"));
}

}  // namespace
}  // namespace dove::cli
