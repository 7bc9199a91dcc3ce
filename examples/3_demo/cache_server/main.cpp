// SPDX-License-Identifier: BSL-1.0
// cache_server: an HTTP cache over an expensive SQLite query, where concurrent
// misses for one item share one query (singleflight::Cache over an AsyncGroup), and a query
// nobody waits for any more is interrupted.
#include "config.hpp"
#include "create_database.hpp"
#include "database.hpp"
#include "fleet.hpp"
#include "http_session.hpp"
#include "item_service.hpp"
#include "listener.hpp"
#include "server_stats.hpp"
#include "thread_priority.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace cache_server;

namespace {
int create(const Config& config) {
  const auto start = std::chrono::steady_clock::now();
  create_database(config.create_db, config.items, config.sales);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  fmt::print("created {}: {} items, {} sales rows ({} ms)\n", config.create_db, config.items, config.sales, ms);
  return 0;
}

int serve(const Config& config) {
  // Declared first, destroyed last: the queries' and the connections'
  // leftovers (destroyed with the pool and the io_context) refer to them.
  ServerStats stats;
  Database db(config.db, config.query_delay);
  const std::int64_t max_id = db.max_item_id();  // and fail early on a bad file

  asio::io_context ioc(config.threads);
  // SQLite calls block: they run here, never on the io_context's threads.
  asio::thread_pool pool(static_cast<std::size_t>(config.db_threads));
  if (config.db_nice != 0) set_pool_nice(pool, static_cast<std::size_t>(config.db_threads), config.db_nice);
  singleflight::CacheOptions cache;
  cache.ttl = config.cache_ttl;
  cache.stale_ttl = config.stale_ttl;
  cache.error_ttl = config.error_ttl;
  if (!config.redis_host.empty())
    cache.remote = make_fleet_tier(ioc, config.redis_host, config.redis_port, config.redis_prefix);
  ItemService items(ioc.get_executor(), pool, db, cache, config.coalesce);
  const ServerContext ctx{items, db, stats, max_id, config.request_timeout, config.idle_timeout};

  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), config.port));
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { ioc.stop(); });
  asio::co_spawn(ioc, accept_loop(acceptor, ctx), asio::detached);

  fmt::print("cache_server: db {} (items 1..{}), coalescing {}, cache ttl {} ms, stale ttl {} ms, error ttl {} ms, "
             "{} threads, {} db threads{}{}{}\n",
             config.db, max_id, config.coalesce ? "on" : "off", config.cache_ttl.count(),
             config.coalesce ? config.stale_ttl.count() : 0, config.coalesce ? config.error_ttl.count() : 0, config.threads,
             config.db_threads, config.db_nice != 0 ? fmt::format(" (nice {})", config.db_nice) : "",
             config.query_delay.count() > 0 ? fmt::format(", query delay {} ms", config.query_delay.count()) : "",
             config.redis_host.empty() ? "" : fmt::format(", fleet cache on redis {}:{}", config.redis_host, config.redis_port));
  fmt::print("listening on 127.0.0.1:{}\n", acceptor.local_endpoint().port());
  std::fflush(stdout);

  std::vector<std::thread> threads;
  for (int i = 1; i < config.threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  // Queries still running finish (or are abandoned if queued); their
  // completions land in the stopped io_context and are destroyed with it.
  pool.stop();
  pool.join();
  fmt::print("cache_server: stopped\n");
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  const Config config = parse_config(argc, argv);
  try {
    return config.create_db.empty() ? serve(config) : create(config);
  } catch (const std::exception& e) {
    fmt::print(stderr, "cache_server: {}\n", e.what());
    return 1;
  }
}
