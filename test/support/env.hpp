// SPDX-License-Identifier: BSL-1.0
// Knobs that tests read from the environment (seeds, durations, sizes).
#ifndef SINGLEFLIGHT_TEST_ENV_HPP
#define SINGLEFLIGHT_TEST_ENV_HPP

#include <cstdint>
#include <optional>

namespace sftest {

/// The variable as an unsigned integer (decimal, 0x hex or 0 octal); nullopt
/// when unset or empty.
std::optional<std::uint64_t> env_u64(const char* name);

/// The variable as a floating-point number, or `fallback` when unset or empty.
double env_double(const char* name, double fallback);

/// True when the variable is set, non-empty and not "0".
bool env_flag(const char* name);

}  // namespace sftest

#endif
