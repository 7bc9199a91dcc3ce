// SPDX-License-Identifier: BSL-1.0
// Test helpers: an io_context that tests step by hand and that cannot hang,
// coroutines whose outcome is recorded, and loaders that the test releases.
#ifndef SINGLEFLIGHT_TEST_FIXTURE_HPP
#define SINGLEFLIGHT_TEST_FIXTURE_HPP

#include <singleflight/error.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace sftest {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct io_fixture {
  asio::io_context ioc;

  /// Runs handlers until `pred()` holds or `limit` passes; returns pred().
  template <class Pred>
  bool run_until(Pred pred, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
      ioc.restart();
      if (ioc.poll() == 0) std::this_thread::sleep_for(1ms);
    }
    return pred();
  }

  /// Runs until no work is left; false if work is still pending after `limit`.
  bool drain(std::chrono::milliseconds limit = 10s) {
    ioc.restart();
    ioc.run_for(limit);
    return ioc.stopped();
  }
};

/// What a spawned coroutine ended with.
template <class T>
struct result {
  std::atomic<bool> done{false};
  std::exception_ptr error;
  std::optional<T> value;

  /// The error's code if it is a system_error, else a default code.
  boost::system::error_code code() const { return singleflight::error_code_of(error); }
};

/// Spawns `a` on `ex` and records its outcome.
template <class T, class Executor>
std::shared_ptr<result<T>> spawn(const Executor& ex, asio::awaitable<T> a) {
  auto r = std::make_shared<result<T>>();
  asio::co_spawn(ex, std::move(a), [r](std::exception_ptr e, T v) {
    r->error = e;
    if (!e) r->value = std::move(v);
    r->done = true;
  });
  return r;
}

/// Whether every recorded coroutine has ended.
template <class T>
bool all_done(const std::vector<std::shared_ptr<result<T>>>& rs) {
  return std::all_of(rs.begin(), rs.end(), [](auto& r) { return r->done.load(); });
}

/// A loader body that waits until the test releases it with a value or an
/// error; it counts its calls and sees cancellation as operation_aborted.
template <class T>
class released_loader {
 public:
  explicit released_loader(asio::any_io_executor ex) : channel_(std::make_shared<channel>(ex, 1)) {}

  asio::awaitable<T> operator()() {
    auto ch = channel_;  // the loader outlives no test, but keep it honest
    ++calls_;
    try {
      T v = co_await ch->async_receive(asio::use_awaitable);
      co_return v;
    } catch (const boost::system::system_error& e) {
      if (e.code() == asio::error::operation_aborted || e.code() == asio::experimental::channel_errc::channel_cancelled)
        ++cancelled_;
      throw;
    }
  }

  void release(T v) { BOOST_REQUIRE(channel_->try_send(boost::system::error_code{}, std::move(v))); }
  void fail(boost::system::error_code ec) { BOOST_REQUIRE(channel_->try_send(ec, T{})); }

  int calls() const { return calls_; }
  int cancelled() const { return cancelled_; }

 private:
  using channel = asio::experimental::channel<void(boost::system::error_code, T)>;
  std::shared_ptr<channel> channel_;
  int calls_ = 0;
  int cancelled_ = 0;
};

/// A copyable handle to a released_loader, to pass as a loader.
template <class T>
auto loader_of(released_loader<T>& l) {
  return [&l]() { return l(); };
}

}  // namespace sftest

#endif
