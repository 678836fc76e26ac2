// TempDir: a fresh directory made by mkdtemp under $TMPDIR (or /tmp), removed with everything
// in it when the guard goes out of scope, also when an assertion ends a test early. Shared by
// every test that needs files (store, tools). Aborts when the directory cannot be made: no
// test can go on without it.
//
//   dove::test_support::TempDir dir("dove-store");
//   auto store = SqliteStore::Open(dir.path());
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace dove::test_support {

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "dove-test") {
    std::string pattern =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror(("mkdtemp " + pattern).c_str());
      std::abort();
    }
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace dove::test_support
