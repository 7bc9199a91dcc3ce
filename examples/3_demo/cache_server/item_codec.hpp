// SPDX-License-Identifier: BSL-1.0
// How the demo's items and ids cross processes when the cache is shared
// through Redis (--redis): an item as its JSON, an id as its decimal digits.
#ifndef CACHE_SERVER_ITEM_CODEC_HPP
#define CACHE_SERVER_ITEM_CODEC_HPP

#include "item.hpp"

#include <singleflight/remote_tier.hpp>

#include <cstdint>
#include <string>
#include <string_view>

template <>
struct singleflight::codec<cache_server::Item> {
  static std::string encode(const cache_server::Item& item);
  /// Throws std::invalid_argument on bytes that are not an item.
  static cache_server::Item decode(std::string_view bytes);
};

template <>
struct singleflight::codec<std::int64_t> {
  static std::string encode(std::int64_t id) { return std::to_string(id); }
  static std::int64_t decode(std::string_view bytes) { return std::stoll(std::string(bytes)); }
};

#endif
