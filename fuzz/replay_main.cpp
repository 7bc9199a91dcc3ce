// SPDX-License-Identifier: BSL-1.0
// Replays inputs through LLVMFuzzerTestOneInput without libFuzzer, so that
// the corpus and the regressions run in every build (g++ included) as a
// ctest test. Arguments: files, or directories whose regular files (not
// subdirectories, not *.md) are replayed in name order. A mismatch aborts.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const fs::path p(argv[i]);
    if (fs::is_directory(p)) {
      std::vector<fs::path> here;
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file() && e.path().extension() != ".md") here.push_back(e.path());
      std::sort(here.begin(), here.end());
      inputs.insert(inputs.end(), here.begin(), here.end());
    } else {
      inputs.push_back(p);
    }
  }
  std::size_t bytes = 0;
  for (const auto& p : inputs) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "fuzz replay: cannot read %s\n", p.c_str());
      return 2;
    }
    const std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "fuzz replay: %s (%zu bytes)\n", p.c_str(), data.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
    bytes += data.size();
  }
  std::printf("fuzz replay: %zu passed, 0 failed (%zu bytes)\n", inputs.size(), bytes);
  return inputs.empty() ? 1 : 0;
}
