// SPDX-License-Identifier: BSL-1.0
// The server's own counters (the database's and the group's are elsewhere).
#ifndef CACHE_SERVER_SERVER_STATS_HPP
#define CACHE_SERVER_SERVER_STATS_HPP

#include <atomic>
#include <cstdint>

namespace cache_server {

struct ServerStats {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> requests{0};       // every parsed request, /stats included
  std::atomic<std::uint64_t> cache_hits{0};     // GET /item answered from the cache
  std::atomic<std::uint64_t> cache_misses{0};   // ... that had to wait for a load
  std::atomic<std::uint64_t> clients_gone{0};   // hung up while waiting for a load
  std::atomic<std::uint64_t> timeouts{0};       // waited longer than --request-timeout-ms
  std::atomic<std::uint64_t> client_errors{0};  // 4xx responses
  std::atomic<std::uint64_t> server_errors{0};  // 5xx responses
};

}  // namespace cache_server

#endif
