// SPDX-License-Identifier: BSL-1.0
// libFuzzer target: drives an AsyncGroup with an operation sequence decoded
// from the input (decoder.hpp) and checks every outcome against a reference
// model (model.hpp); the harness (harness.hpp) runs both and aborts on the
// first mismatch. replay_main.cpp runs the same entry point without
// libFuzzer, as the test_fuzz_replay test.
//
// SF_FUZZ_VERBOSE=1 prints the operations.
#include "harness.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sffuzz::harness h;
  h.run(data, size);
  return 0;
}
