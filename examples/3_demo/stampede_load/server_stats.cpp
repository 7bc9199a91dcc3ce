// SPDX-License-Identifier: BSL-1.0
#include "server_stats.hpp"

#include "http_client.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <chrono>
#include <stdexcept>

namespace stampede_load {

boost::asio::awaitable<std::uint64_t> fetch_origin_loads(boost::asio::ip::tcp::endpoint server) {
  const auto ex = co_await boost::asio::this_coro::executor;
  HttpClient client(ex, server);
  const Reply reply = co_await client.get("/stats", std::chrono::seconds(10));
  if (reply.error) throw std::runtime_error("GET /stats: " + reply.error.message());
  if (reply.status != 200) throw std::runtime_error(fmt::format("GET /stats: status {}", reply.status));
  try {
    co_return boost::json::parse(reply.body).at("db_queries_started").to_number<std::uint64_t>();
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("GET /stats: no db_queries_started in {} ({})", reply.body, e.what()));
  }
}

}  // namespace stampede_load
