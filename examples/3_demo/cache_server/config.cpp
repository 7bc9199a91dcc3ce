// SPDX-License-Identifier: BSL-1.0
#include "config.hpp"

#include "command_line.hpp"

#include <algorithm>
#include <charconv>
#include <thread>

namespace cache_server {

namespace {
constexpr const char* usage = R"(usage:
  cache_server --create-db PATH [--items N] [--sales N]
  cache_server --db PATH [--port N] [options]

Serves GET /item/<id> (JSON; ids 1..N) and GET /stats on 127.0.0.1.
  --port N               port to listen on; 0 (default) picks a free one,
                         printed as "listening on 127.0.0.1:PORT"
  --threads N            threads running the server (default: one per core)
  --db-threads N         threads running SQLite queries (default 4)
  --db-nice N            nice value of those threads, 0..19 (default 0); the
                         queries stand in for a database on another machine,
                         and 19 keeps them from delaying the server's threads
                         on a machine with few cores
  --cache-ttl-ms N       how long a loaded item is served from memory (1000)
  --stale-ttl-ms N       after the ttl, serve the stale item for up to N ms more
                         while one background query refreshes it (default 0:
                         an expired item is a miss that waits for the query)
  --error-ttl-ms N       answer a failed load's error for N ms without a new
                         query (default 0: the next request queries again)
  --no-coalesce          every cache miss queries the database (no singleflight;
                         no stale serving, no kept errors)
  --redis HOST:PORT      share the cache with every instance given the same
                         Redis: items live there with their ttl, and one
                         instance of the fleet queries a missing item while
                         the others wait for its result (Redis down or slow:
                         each instance coalesces alone)
  --redis-prefix P       prefix of this fleet's Redis keys (cache_server:)
  --query-delay-ms N     add N ms to every item query, inside its SQL, where
                         sqlite3_interrupt stops it like the rest (default 0);
                         for tests that need a slow load
  --request-timeout-ms N answer 504 after waiting this long for a load (10000)
  --idle-timeout-ms N    close a connection idle for this long (30000)
With --create-db: --items N (default 1000) items and --sales N (600000) sales
rows; the query for one item scans all the sales rows.
)";

}  // namespace

Config parse_config(int argc, char** argv) {
  Config c;
  demo::command_line cl("cache_server", usage);
  constexpr std::int64_t big = 1'000'000'000;
  cl.text("--create-db", c.create_db);
  cl.text("--db", c.db);
  cl.integer("--items", c.items, 1, big);
  cl.integer("--sales", c.sales, 0, big);
  cl.integer("--port", c.port, 0, 65535);
  cl.integer("--threads", c.threads, 1, 256);
  cl.integer("--db-threads", c.db_threads, 1, 256);
  cl.integer("--db-nice", c.db_nice, 0, 19);
  cl.milliseconds("--cache-ttl-ms", c.cache_ttl, 0, big);
  cl.milliseconds("--stale-ttl-ms", c.stale_ttl, 0, big);
  cl.milliseconds("--error-ttl-ms", c.error_ttl, 0, big);
  cl.milliseconds("--query-delay-ms", c.query_delay, 0, big);
  cl.milliseconds("--request-timeout-ms", c.request_timeout, 1, big);
  cl.milliseconds("--idle-timeout-ms", c.idle_timeout, 1, big);
  cl.toggle("--no-coalesce", c.coalesce, false);
  std::string redis;
  cl.text("--redis", redis);
  cl.text("--redis-prefix", c.redis_prefix);
  cl.parse(argc, argv);
  if (c.create_db.empty() == c.db.empty()) cl.fail("give either --create-db PATH or --db PATH");
  if (!redis.empty()) {
    const auto colon = redis.rfind(':');
    unsigned port = 0;
    const char* end = redis.data() + redis.size();
    if (colon == std::string::npos || colon == 0 ||
        std::from_chars(redis.data() + colon + 1, end, port).ptr != end || port == 0 || port > 65535)
      cl.fail("--redis wants HOST:PORT, not '" + redis + "'");
    c.redis_host = redis.substr(0, colon);
    c.redis_port = static_cast<std::uint16_t>(port);
    if (!c.coalesce) cl.fail("--redis needs coalescing (drop --no-coalesce)");
  }
  if (c.threads == 0) c.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return c;
}

}  // namespace cache_server
