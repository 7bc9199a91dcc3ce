// SPDX-License-Identifier: BSL-1.0
#include "http_session.hpp"

#include <singleflight/remote_tier.hpp>

#include "client_watch.hpp"
#include "routes.hpp"
#include "stats_json.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/system/system_error.hpp>

#include <optional>
#include <string>
#include <variant>

namespace cache_server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Parser limits: a request line with its headers, and a body (GET has none).
constexpr std::uint32_t header_limit = 8 * 1024;
constexpr std::uint64_t body_limit = 4 * 1024;
constexpr std::size_t buffer_limit = 16 * 1024;
constexpr auto write_timeout = std::chrono::seconds(10);
constexpr auto linger_timeout = std::chrono::seconds(1);

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response json_response(http::status status, std::string body, unsigned version, bool keep_alive) {
  Response res{status, version};
  res.set(http::field::server, "singleflight-cache-server");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.body() += '\n';
  res.prepare_payload();
  return res;
}

// The response to a request that could not be parsed, if it deserves one;
// the connection is closed after it, as the stream cannot be resynchronised.
std::optional<Response> parse_error_response(const boost::system::error_code& ec) {
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
    return json_response(http::status::request_header_fields_too_large, error_json("request headers too large"), 11,
                         false);
  if (ec == http::error::body_limit)
    return json_response(http::status::payload_too_large, error_json("request body too large"), 11, false);
  // Closed between requests or in the middle of one: nobody to answer.
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;
  if (ec.category() == http::make_error_code(http::error::bad_method).category())
    return json_response(http::status::bad_request, error_json("malformed HTTP request", ec.message()), 11, false);
  return std::nullopt;  // a socket error or the idle timeout
}

class Session {
 public:
  Session(tcp::socket socket, const ServerContext& ctx) : stream_(std::move(socket)), ctx_(ctx) {}

  asio::awaitable<void> run() {
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(header_limit);
      parser.body_limit(body_limit);
      stream_.expires_after(ctx_.idle_timeout);
      auto [ec, n] = co_await http::async_read(stream_, buffer_, parser, use_tuple);
      if (ec) {
        std::optional<Response> res = parse_error_response(ec);
        if (!res) co_return;
        ++ctx_.stats.client_errors;
        co_await send_and_close(*res);
        co_return;
      }
      // The wait for a load has its own deadline (watch_client).
      stream_.expires_never();
      ++ctx_.stats.requests;
      const Request& req = parser.get();
      std::optional<Response> res = co_await respond(req);
      if (!res) co_return;  // the client has gone
      if (!res->keep_alive()) {
        co_await send_and_close(*res);
        co_return;
      }
      stream_.expires_after(write_timeout);
      auto [wec, wn] = co_await http::async_write(stream_, *res, use_tuple);
      if (wec) co_return;
    }
  }

 private:
  // Nullopt when the client hangs up before its response is ready.
  asio::awaitable<std::optional<Response>> respond(const Request& req) {
    const Route r = route(req.method(), req.target(), ctx_.max_id);
    switch (r.kind) {
      case Route::Kind::stats:
        co_return reply(req, http::status::ok, stats_json(ctx_.stats, ctx_.db.stats(), ctx_.items));
      case Route::Kind::error: {
        Response res = reply(req, r.status, error_json(r.message));
        if (r.status == http::status::method_not_allowed) res.set(http::field::allow, "GET");
        co_return res;
      }
      case Route::Kind::item:
        break;
    }
    if (std::optional<Item> hit = ctx_.items.cached(r.id)) {
      ++ctx_.stats.cache_hits;
      co_return reply(req, http::status::ok, item_json(*hit));
    }
    ++ctx_.stats.cache_misses;
    co_return co_await load(req, r.id);
  }

  // A cache miss: waits for the load, racing a watch on the client, so that a
  // client that hangs up stops waiting at once (and, if it was the load's last
  // caller, cancels the query).
  asio::awaitable<std::optional<Response>> load(const Request& req, std::int64_t id) {
    // Named before the co_await (g++ 12, see ItemService::load).
    auto loaded = load_or_error(id);
    auto watch = watch_client(stream_.socket(), ctx_.request_timeout);
    auto first = std::move(loaded) || std::move(watch);
    auto outcome = co_await std::move(first);
    if (outcome.index() == 1) {
      if (std::get<1>(outcome) == WatchResult::hangup) {
        ++ctx_.stats.clients_gone;
        co_return std::nullopt;
      }
      ++ctx_.stats.timeouts;
      co_return reply(req, http::status::gateway_timeout, error_json("timed out waiting for the database"));
    }
    const Loaded& result = std::get<0>(outcome);
    if (!result.error) co_return reply(req, http::status::ok, item_json(result.item));
    if (result.error == asio::error::not_found)
      co_return reply(req, http::status::not_found, error_json("no such item"));
    // Not cached anywhere: the next request for this id tries again.
    co_return reply(req, http::status::service_unavailable,
                    error_json("database unavailable", result.detail.empty() ? result.error.message() : result.detail));
  }

  struct Loaded {
    Item item;
    boost::system::error_code error;
    std::string detail;  // when another instance's load failed (--redis)
  };

  // `||` waits for the first branch that *succeeds*: a failed load must win
  // the race too, so it reports its error as a value.
  asio::awaitable<Loaded> load_or_error(std::int64_t id) {
    Loaded result;
    try {
      result.item = co_await ctx_.items.load(id);
    } catch (const boost::system::system_error& e) {
      result.error = e.code();
    } catch (const singleflight::remote_error& e) {
      // Shared through Redis: only the message crossed from the instance
      // whose query failed.
      result.error = make_error_code(boost::system::errc::io_error);
      result.detail = e.what();
    }
    co_return result;
  }

  Response reply(const Request& req, http::status status, std::string body) {
    const unsigned code = static_cast<unsigned>(status);
    if (code >= 500)
      ++ctx_.stats.server_errors;
    else if (code >= 400)
      ++ctx_.stats.client_errors;
    return json_response(status, std::move(body), req.version(), req.keep_alive());
  }

  // Writes a last response and closes without losing it: a client still
  // sending (a header flood) would get a reset instead of the response if the
  // socket were closed with unread data, so drain a little first.
  asio::awaitable<void> send_and_close(Response& res) {
    res.keep_alive(false);
    stream_.expires_after(write_timeout);
    auto [ec, n] = co_await http::async_write(stream_, res, use_tuple);
    if (ec) co_return;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(linger_timeout);
    char sink[4096];
    for (std::size_t drained = 0; drained < 64 * 1024;) {
      auto [rec, got] = co_await stream_.async_read_some(asio::buffer(sink), use_tuple);
      if (rec) break;
      drained += got;
    }
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{buffer_limit};
  const ServerContext& ctx_;
};
}  // namespace

asio::awaitable<void> run_session(tcp::socket socket, const ServerContext& ctx) {
  ++ctx.stats.connections;
  Session session(std::move(socket), ctx);
  co_await session.run();
}

}  // namespace cache_server
