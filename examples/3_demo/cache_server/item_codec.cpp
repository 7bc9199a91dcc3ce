// SPDX-License-Identifier: BSL-1.0
#include "item_codec.hpp"

#include "stats_json.hpp"

#include <boost/json.hpp>

#include <stdexcept>

namespace json = boost::json;

std::string singleflight::codec<cache_server::Item>::encode(const cache_server::Item& item) {
  return cache_server::item_json(item);
}

cache_server::Item singleflight::codec<cache_server::Item>::decode(std::string_view bytes) {
  boost::system::error_code ec;
  const json::value v = json::parse(bytes, ec);
  if (ec || !v.is_object()) throw std::invalid_argument("not an item: " + std::string(bytes.substr(0, 80)));
  const json::object& o = v.get_object();
  try {
    return {o.at("id").to_number<std::int64_t>(),        std::string(o.at("name").as_string()),
            o.at("sales").to_number<std::int64_t>(),     o.at("revenue").to_number<std::int64_t>(),
            o.at("customers").to_number<std::int64_t>(), o.at("min_amount").to_number<std::int64_t>(),
            o.at("max_amount").to_number<std::int64_t>()};
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("not an item: ") + e.what());
  }
}
