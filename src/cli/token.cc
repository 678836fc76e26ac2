#include "cli/token.h"

#include <fstream>
#include <sstream>

namespace dove::cli {
namespace {

std::string Trim(const std::string& text) {
  const char* blanks = " \t\r\n";
  const size_t first = text.find_first_not_of(blanks);
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

}  // namespace

Expected<std::string, std::string> ResolveToken(const std::optional<std::string>& flag,
                                                const std::optional<std::string>& file,
                                                const std::optional<std::string>& env) {
  if (flag) return Trim(*flag);
  if (file) {
    std::ifstream in(*file);
    if (!in) return Unexpected("cannot read token file " + *file);
    std::stringstream text;
    text << in.rdbuf();
    std::string token = Trim(text.str());
    if (token.empty()) return Unexpected("token file " + *file + " is empty");
    return token;
  }
  if (env) return Trim(*env);
  return std::string();
}

}  // namespace dove::cli
