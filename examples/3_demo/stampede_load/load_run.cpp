// SPDX-License-Identifier: BSL-1.0
#include "load_run.hpp"

#include "http_client.hpp"
#include "progress.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <chrono>
#include <string>

namespace stampede_load {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

namespace {
struct Run {
  const Options& options;
  const std::vector<asio::ip::tcp::endpoint>& servers;
  clock::time_point deadline;
  LoadResult result;
  int running = 0;  // connections not finished yet
};

// One connection: requests back to back until the deadline, cycling through
// the hot ids from its own starting point so that every id is in demand.
asio::awaitable<void> connection(Run& run, int index) {
  // The executor is named first: g++ 12 destroys twice a non-trivial
  // temporary that stands in the same full-expression as a co_await.
  const auto ex = co_await asio::this_coro::executor;
  HttpClient client(ex, run.servers[static_cast<std::size_t>(index) % run.servers.size()]);
  int next = index;
  while (clock::now() < run.deadline) {
    const std::string target = fmt::format("/item/{}", 1 + next++ % run.options.hot_ids);
    const auto start = clock::now();
    const Reply reply = co_await client.get(target, run.options.timeout);
    // Failed requests count too, at the time they took to fail (a timeout
    // is a slow answer for whoever waited).
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start).count();
    run.result.latencies_us.push_back(static_cast<std::uint32_t>(us));
    ++run.result.requests;
    if (reply.error || reply.status != 200) ++run.result.errors;
    if (reply.error) {
      // Do not spin on a server that refuses connections.
      asio::steady_timer pause(ex, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
}
}  // namespace

asio::awaitable<LoadResult> run_load(const Options& options, const std::vector<asio::ip::tcp::endpoint>& servers) {
  const auto ex = co_await asio::this_coro::executor;
  const auto start = clock::now();
  Run run{options, servers, start + options.duration, {}, options.connections};
  for (int i = 0; i < options.connections; ++i)
    asio::co_spawn(ex, connection(run, i), [&run](std::exception_ptr) { --run.running; });

  Progress progress;
  asio::steady_timer tick(ex);
  while (run.running > 0) {
    tick.expires_after(progress.period());
    co_await tick.async_wait(asio::use_awaitable);
    progress.show(clock::now() - start, options.duration, run.result.requests, run.result.errors, run.running);
  }
  progress.finish();
  co_return std::move(run.result);
}

}  // namespace stampede_load
