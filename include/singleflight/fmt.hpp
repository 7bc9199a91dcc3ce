// SPDX-License-Identifier: BSL-1.0
// Opt-in fmt support: fmt::formatter for Stats and CacheStats, printing the
// text of their to_string. The other public headers do not include fmt, so
// only a program that includes this header needs fmt's headers.
#ifndef SINGLEFLIGHT_FMT_HPP
#define SINGLEFLIGHT_FMT_HPP

#include <singleflight/cache_stats.hpp>
#include <singleflight/stats.hpp>

#include <fmt/format.h>

#include <string>

namespace singleflight::detail {

/// Formats a value as its to_string text, honouring string format specs
/// (width, fill, alignment).
template <class T>
struct to_string_formatter : fmt::formatter<fmt::string_view> {
  template <class FormatContext>
  auto format(const T& value, FormatContext& ctx) const {
    const std::string text = to_string(value);
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(text), ctx);
  }
};

}  // namespace singleflight::detail

namespace fmt {

template <>
struct formatter<singleflight::Stats> : singleflight::detail::to_string_formatter<singleflight::Stats> {};

template <>
struct formatter<singleflight::CacheStats> : singleflight::detail::to_string_formatter<singleflight::CacheStats> {};

}  // namespace fmt

#endif
