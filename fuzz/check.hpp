// SPDX-License-Identifier: BSL-1.0
// How the fuzz target reports: trace() prints the operations when
// SF_FUZZ_VERBOSE=1; a mismatch with the model aborts, so that libFuzzer
// keeps the input as a crash.
#ifndef SINGLEFLIGHT_FUZZ_CHECK_HPP
#define SINGLEFLIGHT_FUZZ_CHECK_HPP

namespace sffuzz {

void trace(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] void mismatch(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace sffuzz

#define SFFUZZ_CHECK(cond, ...)               \
  do {                                        \
    if (!(cond)) ::sffuzz::mismatch(__VA_ARGS__); \
  } while (0)

#endif
