// SPDX-License-Identifier: BSL-1.0
// One keep-alive HTTP/1.1 client connection.
#ifndef STAMPEDE_LOAD_HTTP_CLIENT_HPP
#define STAMPEDE_LOAD_HTTP_CLIENT_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace stampede_load {

struct Reply {
  boost::system::error_code error;  // connect, I/O or timeout; then status is 0
  unsigned status = 0;
  std::string body;
};

class HttpClient {
 public:
  HttpClient(boost::asio::any_io_executor ex, boost::asio::ip::tcp::endpoint server);

  /// GET `target`, on the open connection if any, else on a new one. The
  /// connection is closed after an error or a response that asks for it.
  boost::asio::awaitable<Reply> get(std::string_view target, std::chrono::steady_clock::duration timeout);

 private:
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  boost::asio::ip::tcp::endpoint server_;
  bool connected_ = false;
};

}  // namespace stampede_load

#endif
