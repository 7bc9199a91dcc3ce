// SPDX-License-Identifier: BSL-1.0
#include "http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

namespace stampede_load {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}

HttpClient::HttpClient(asio::any_io_executor ex, asio::ip::tcp::endpoint server)
    : stream_(std::move(ex)), server_(server) {}

asio::awaitable<Reply> HttpClient::get(std::string_view target, std::chrono::steady_clock::duration timeout) {
  Reply reply;
  // One deadline for the whole exchange, connecting included.
  stream_.expires_after(timeout);
  if (!connected_) {
    buffer_.clear();
    auto [ec] = co_await stream_.async_connect(server_, use_tuple);
    if (ec) {
      stream_.close();
      reply.error = ec;
      co_return reply;
    }
    connected_ = true;
  }
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, server_.address().to_string());
  req.set(http::field::user_agent, "stampede_load");
  http::response<http::string_body> res;
  auto [wec, wn] = co_await http::async_write(stream_, req, use_tuple);
  boost::system::error_code ec = wec;
  if (!ec) {
    auto [rec, rn] = co_await http::async_read(stream_, buffer_, res, use_tuple);
    ec = rec;
  }
  if (ec || !res.keep_alive()) {
    stream_.close();
    connected_ = false;
  }
  if (ec) {
    reply.error = ec;
    co_return reply;
  }
  reply.status = res.result_int();
  reply.body = std::move(res.body());
  co_return reply;
}

}  // namespace stampede_load
