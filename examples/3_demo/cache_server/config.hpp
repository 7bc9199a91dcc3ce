// SPDX-License-Identifier: BSL-1.0
// Command-line options of cache_server.
#ifndef CACHE_SERVER_CONFIG_HPP
#define CACHE_SERVER_CONFIG_HPP

#include <chrono>
#include <cstdint>
#include <string>

namespace cache_server {

struct Config {
  // --create-db PATH: create the database and exit.
  std::string create_db;
  std::int64_t items = 1000;    // --items N, with --create-db
  std::int64_t sales = 600000;  // --sales N, with --create-db: ~30 ms per item query

  std::string db;                                      // --db PATH
  std::uint16_t port = 0;                              // --port N (0: any free port)
  int threads = 0;                                     // --threads N (0: one per core)
  int db_threads = 4;                                  // --db-threads N
  int db_nice = 0;                                     // --db-nice N: of the db threads
  std::chrono::milliseconds cache_ttl{1000};           // --cache-ttl-ms N
  std::chrono::milliseconds stale_ttl{0};              // --stale-ttl-ms N
  std::chrono::milliseconds error_ttl{0};              // --error-ttl-ms N
  std::chrono::milliseconds query_delay{0};            // --query-delay-ms N
  std::chrono::milliseconds request_timeout{10000};    // --request-timeout-ms N
  std::chrono::milliseconds idle_timeout{30000};       // --idle-timeout-ms N
  bool coalesce = true;                                // --no-coalesce
  std::string redis_host;                              // --redis HOST:PORT (empty: no fleet tier)
  std::uint16_t redis_port = 0;
  std::string redis_prefix = "cache_server:";          // --redis-prefix P
};

/// Parses argv; prints usage and exits on --help (0) or a bad option (2).
Config parse_config(int argc, char** argv);

}  // namespace cache_server

#endif
