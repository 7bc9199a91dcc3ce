// SPDX-License-Identifier: BSL-1.0
#include "check.hpp"

#include "support/env.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace sffuzz {

namespace {
const bool verbose = sftest::env_flag("SF_FUZZ_VERBOSE");
}

void trace(const char* fmt, ...) {
  if (!verbose) return;
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}

void mismatch(const char* fmt, ...) {
  std::fprintf(stderr, "fuzz_group: model mismatch: ");
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  std::abort();
}

}  // namespace sffuzz
