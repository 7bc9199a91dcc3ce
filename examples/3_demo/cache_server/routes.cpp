// SPDX-License-Identifier: BSL-1.0
#include "routes.hpp"

#include <charconv>

namespace cache_server {

namespace {
using boost::beast::http::status;

Route error(status s, std::string message) { return {Route::Kind::error, 0, s, std::move(message)}; }

bool is_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}
}  // namespace

Route route(boost::beast::http::verb method, std::string_view target, std::int64_t max_id) {
  if (target.size() > max_target_length) return error(status::uri_too_long, "request target too long");
  const std::string_view path = target.substr(0, target.find('?'));
  const bool is_item = path.starts_with("/item/");
  if (!is_item && path != "/stats") return error(status::not_found, "no such resource");
  if (method != boost::beast::http::verb::get) return error(status::method_not_allowed, "only GET is allowed");
  if (!is_item) return {Route::Kind::stats, 0, status::ok, {}};

  const std::string_view id_text = path.substr(std::string_view("/item/").size());
  if (id_text.empty()) return error(status::bad_request, "missing item id");
  if (!is_digits(id_text)) return error(status::bad_request, "item id must be a positive integer");
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  // Too large for int64 is out of range too.
  if (ec != std::errc{} || id < 1 || id > max_id)
    return error(status::not_found, "item id out of range (1.." + std::to_string(max_id) + ")");
  return {Route::Kind::item, id, status::ok, {}};
}

}  // namespace cache_server
