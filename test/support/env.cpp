// SPDX-License-Identifier: BSL-1.0
#include "env.hpp"

#include <cstdlib>

namespace sftest {

namespace {
const char* non_empty(const char* name) {
  const char* v = std::getenv(name);
  return (v == nullptr || *v == '\0') ? nullptr : v;
}
}  // namespace

std::optional<std::uint64_t> env_u64(const char* name) {
  const char* v = non_empty(name);
  if (v == nullptr) return std::nullopt;
  return std::strtoull(v, nullptr, 0);
}

double env_double(const char* name, double fallback) {
  const char* v = non_empty(name);
  return v == nullptr ? fallback : std::strtod(v, nullptr);
}

bool env_flag(const char* name) {
  const char* v = non_empty(name);
  return v != nullptr && !(v[0] == '0' && v[1] == '\0');
}

}  // namespace sftest
