// SPDX-License-Identifier: BSL-1.0
// What a request asks for, decided from its method and target alone.
#ifndef CACHE_SERVER_ROUTES_HPP
#define CACHE_SERVER_ROUTES_HPP

// Boost 1.81's beast/http/verb.hpp needs <ostream> and does not include it.
#include <ostream>

#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cache_server {

/// Targets longer than this get 414 (Beast's header limit bounds the rest).
inline constexpr std::size_t max_target_length = 1024;

struct Route {
  enum class Kind { item, stats, error } kind = Kind::error;
  std::int64_t id = 0;                                       // Kind::item
  boost::beast::http::status status = boost::beast::http::status::ok;  // Kind::error
  std::string message;                                       // Kind::error: a short reason
};

/// GET /item/<id> (id in 1..max_id) and GET /stats; anything else is a
/// Kind::error with a 4xx status. A query string is ignored.
Route route(boost::beast::http::verb method, std::string_view target, std::int64_t max_id);

}  // namespace cache_server

#endif
