// SPDX-License-Identifier: BSL-1.0
// The JSON bodies of the server's responses.
#ifndef CACHE_SERVER_STATS_JSON_HPP
#define CACHE_SERVER_STATS_JSON_HPP

#include "database.hpp"
#include "item.hpp"
#include "item_service.hpp"
#include "server_stats.hpp"

#include <string>
#include <string_view>

namespace cache_server {

std::string item_json(const Item& item);

/// {"error": message}, or with "detail" when not empty.
std::string error_json(std::string_view message, std::string_view detail = {});

/// GET /stats: the server's, the database's and the group's counters.
std::string stats_json(const ServerStats& server, const DatabaseStats& db, const ItemService& items);

}  // namespace cache_server

#endif
