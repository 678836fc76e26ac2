// Replays fuzz inputs without libFuzzer, so the ordinary build exercises every fuzz target.
//
// Usage: <target> [FILE_OR_DIR...]
// Runs LLVMFuzzerTestOneInput on every named file and every file inside each named directory,
// then on a fixed set of generated inputs (every prefix of each file, and pseudo-random buffers
// from a fixed seed) so a target with an empty corpus is still driven through its error paths.
// Exits 0 when every input ran; a crash or sanitizer report ends the process non-zero.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void RunWithPrefixes(const std::vector<uint8_t>& input) {
  // Every prefix of a valid input is a truncated packet: the most common malformed input.
  for (size_t length = 0; length <= input.size(); ++length) {
    std::vector<uint8_t> copy(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(length));
    LLVMFuzzerTestOneInput(copy.data(), copy.size());
  }
}

size_t RunFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  RunWithPrefixes(bytes);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  size_t files = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path path(argv[i]);
    if (std::filesystem::is_directory(path)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
        if (entry.is_regular_file()) files += RunFile(entry.path());
      }
    } else if (std::filesystem::exists(path)) {
      files += RunFile(path);
    } else {
      std::fprintf(stderr, "%s: no such file or directory\n", argv[i]);
      return 2;
    }
  }
  std::mt19937 random(4789);
  constexpr int kRandomInputs = 2000;
  for (int i = 0; i < kRandomInputs; ++i) {
    std::vector<uint8_t> buffer(random() % 600);
    for (auto& byte : buffer) byte = static_cast<uint8_t>(random());
    LLVMFuzzerTestOneInput(buffer.data(), buffer.size());
  }
  std::printf("replayed %zu files (with every prefix) and %d random inputs\n", files,
              kRandomInputs);
  return 0;
}
