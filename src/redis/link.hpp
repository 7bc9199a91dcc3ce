// SPDX-License-Identifier: BSL-1.0
// One hiredis connection, used only on its strand: connects on demand
// (resolve with Asio, AUTH, SELECT, CLIENT SETNAME, then the owner's
// on_connect), runs commands with a deadline each, and reports its loss.
//
// Invariants: `ac_` is the live context or null; hiredis frees a context
// itself after an error or a disconnect, so the only redisAsyncFree calls
// here are on a context that has not failed (connect timeout, close). A
// command's state is shared by its callback and its waiter: whichever comes
// second (a late reply after the deadline) does nothing.
//
// No temporary with a non-trivial destructor stands in a co_await
// expression in this library (g++ 12.2 frees such temporaries twice): the
// awaitables and their arguments are named first.
#ifndef SINGLEFLIGHT_SRC_REDIS_LINK_HPP
#define SINGLEFLIGHT_SRC_REDIS_LINK_HPP

#include "adapter.hpp"
#include "reply.hpp"

#include <singleflight/redis/config.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace singleflight::redis::detail {

class link {
 public:
  link(const strand_type& strand, const config& cfg);
  ~link();
  link(const link&) = delete;
  link& operator=(const link&) = delete;

  /// Connected, or throws system_error(errc). Concurrent callers share one
  /// attempt.
  boost::asio::awaitable<void> ensure();
  /// Sends a command (connecting first if needed) and waits for its reply
  /// up to command_timeout. An error reply is returned, not thrown. Not
  /// cancellable: a command once sent is always waited for (or timed out).
  boost::asio::awaitable<reply> exec(std::vector<std::string> args);
  /// exec on an open connection, without connecting (for on_connect).
  boost::asio::awaitable<reply> exec_now(std::vector<std::string> args);
  /// Sends a command with a callback of its own (the subscriber's), or none.
  bool send(std::vector<std::string> const& args, redisCallbackFn* fn, void* privdata);

  /// Frees the context; commands in flight end with `disconnected`, and
  /// ensure() fails from now on.
  void close();
  bool connected() const { return ac_ != nullptr && ready_; }
  redisAsyncContext* context() const { return ac_; }

  /// Run once connected, before ensure() returns (may exec).
  std::function<boost::asio::awaitable<void>()> on_connect;
  /// Run when an established connection is lost.
  std::function<void()> on_lost;
  /// Commands sent, for the round-trip count.
  std::uint64_t sent = 0;

 private:
  struct attempt;
  boost::asio::awaitable<void> connect(std::shared_ptr<attempt> a);
  static void on_connected(const redisAsyncContext* ac, int status);
  static void on_disconnected(const redisAsyncContext* ac, int status);

  strand_type strand_;
  const config& cfg_;
  redisAsyncContext* ac_ = nullptr;
  bool ready_ = false;   // AUTH and the rest done
  bool closed_ = false;
  std::shared_ptr<attempt> attempt_;  // a connect in progress
};

}  // namespace singleflight::redis::detail

#endif
