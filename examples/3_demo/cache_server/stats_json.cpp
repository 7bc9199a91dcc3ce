// SPDX-License-Identifier: BSL-1.0
#include "stats_json.hpp"

#include "fleet.hpp"

#include <boost/json.hpp>

namespace cache_server {

namespace json = boost::json;

std::string item_json(const Item& item) {
  return json::serialize(json::object{{"id", item.id},
                                      {"name", item.name},
                                      {"sales", item.sales},
                                      {"revenue", item.revenue},
                                      {"customers", item.customers},
                                      {"min_amount", item.min_amount},
                                      {"max_amount", item.max_amount}});
}

std::string error_json(std::string_view message, std::string_view detail) {
  json::object body{{"error", message}};
  if (!detail.empty()) body["detail"] = detail;
  return json::serialize(body);
}

std::string stats_json(const ServerStats& server, const DatabaseStats& db, const ItemService& items) {
  json::object body{{"coalescing", items.coalescing()},
                    {"connections", server.connections.load()},
                    {"requests", server.requests.load()},
                    {"cache_hits", server.cache_hits.load()},
                    {"cache_misses", server.cache_misses.load()},
                    {"clients_gone", server.clients_gone.load()},
                    {"timeouts", server.timeouts.load()},
                    {"responses_4xx", server.client_errors.load()},
                    {"responses_5xx", server.server_errors.load()},
                    {"db_queries_started", db.started.load()},
                    {"db_queries_completed", db.completed.load()},
                    {"db_queries_interrupted", db.interrupted.load()},
                    {"db_queries_failed", db.failed.load()},
                    {"db_queries_skipped", db.skipped.load()}};
  const singleflight::CacheStats c = items.cache_stats();
  body["cache"] = json::object{{"hits", c.hits},
                               {"stale_hits", c.stale_hits},
                               {"error_hits", c.error_hits},
                               {"misses", c.misses},
                               {"loads", c.loads},
                               {"load_failures", c.load_failures},
                               {"refreshes", c.refreshes},
                               {"early_refreshes", c.early_refreshes},
                               {"refresh_failures", c.refresh_failures},
                               {"invalidated", c.invalidated},
                               {"evictions", c.evictions},
                               {"size", c.size}};
  const singleflight::Stats& g = c.group;
  body["group"] = json::object{{"calls", g.calls},
                               {"flights_started", g.flights_started},
                               {"joins", g.joins},
                               {"callers_cancelled", g.callers_cancelled},
                               {"loader_failures", g.loader_failures},
                               {"loaders_cancelled", g.loaders_cancelled},
                               {"loaders_kept", g.loaders_kept},
                               {"forgotten", g.forgotten},
                               {"rejected", g.rejected},
                               {"in_flight", g.in_flight}};
  if (items.fleet() != nullptr) body["fleet"] = fleet_stats(items.fleet());
  return json::serialize(body);
}

}  // namespace cache_server
