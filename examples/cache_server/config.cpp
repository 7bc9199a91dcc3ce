#include "config.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <string_view>
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
  --cache-ttl-ms N       how long a loaded item is served from memory (1000)
  --stale-ttl-ms N       after the ttl, serve the stale item for up to N ms more
                         while one background query refreshes it (default 0:
                         an expired item is a miss that waits for the query)
  --error-ttl-ms N       answer a failed load's error for N ms without a new
                         query (default 0: the next request queries again)
  --no-coalesce          every cache miss queries the database (no singleflight;
                         no stale serving, no kept errors)
  --query-delay-ms N     add N ms to every item query, inside its SQL, where
                         sqlite3_interrupt stops it like the rest (default 0);
                         for tests that need a slow load
  --request-timeout-ms N answer 504 after waiting this long for a load (10000)
  --idle-timeout-ms N    close a connection idle for this long (30000)
With --create-db: --items N (default 1000) items and --sales N (600000) sales
rows; the query for one item scans all the sales rows.
)";

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "cache_server: {}\n{}", message, usage);
  std::exit(2);
}

std::int64_t number(std::string_view flag, const char* text, std::int64_t min, std::int64_t max) {
  std::int64_t v = 0;
  const std::string_view s(text);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v < min || v > max)
    fail(fmt::format("{} wants an integer in {}..{}, not '{}'", flag, min, max, s));
  return v;
}
}  // namespace

Config parse_config(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      fmt::print("{}", usage);
      std::exit(0);
    }
    if (flag == "--no-coalesce") {
      c.coalesce = false;
      continue;
    }
    if (i + 1 >= argc) fail(fmt::format("unknown option or missing value: {}", flag));
    const char* value = argv[++i];
    constexpr std::int64_t big = 1'000'000'000;
    if (flag == "--create-db") c.create_db = value;
    else if (flag == "--db") c.db = value;
    else if (flag == "--items") c.items = number(flag, value, 1, big);
    else if (flag == "--sales") c.sales = number(flag, value, 0, big);
    else if (flag == "--port") c.port = static_cast<std::uint16_t>(number(flag, value, 0, 65535));
    else if (flag == "--threads") c.threads = static_cast<int>(number(flag, value, 1, 256));
    else if (flag == "--db-threads") c.db_threads = static_cast<int>(number(flag, value, 1, 256));
    else if (flag == "--cache-ttl-ms") c.cache_ttl = std::chrono::milliseconds(number(flag, value, 0, big));
    else if (flag == "--stale-ttl-ms") c.stale_ttl = std::chrono::milliseconds(number(flag, value, 0, big));
    else if (flag == "--error-ttl-ms") c.error_ttl = std::chrono::milliseconds(number(flag, value, 0, big));
    else if (flag == "--query-delay-ms") c.query_delay = std::chrono::milliseconds(number(flag, value, 0, big));
    else if (flag == "--request-timeout-ms") c.request_timeout = std::chrono::milliseconds(number(flag, value, 1, big));
    else if (flag == "--idle-timeout-ms") c.idle_timeout = std::chrono::milliseconds(number(flag, value, 1, big));
    else fail(fmt::format("unknown option: {}", flag));
  }
  if (c.create_db.empty() == c.db.empty()) fail("give either --create-db PATH or --db PATH");
  if (c.threads == 0) c.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return c;
}

}  // namespace cache_server
