// SPDX-License-Identifier: BSL-1.0
#include "load_run.hpp"

#include "http_client.hpp"
#include "progress.hpp"
#include "schedule.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace stampede_load {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

namespace {
// An open-loop request sent more than this long after it was due, or never
// sent, is late: the run was more than the server (or this client) could
// carry at that rate.
constexpr auto late_after = std::chrono::seconds(1);

struct Run {
  const Options& options;
  const std::vector<asio::ip::tcp::endpoint>& servers;
  clock::time_point deadline;
  std::optional<Schedule> schedule;  // open loop (--rate); none: closed loop
  LoadResult result;
  int running = 0;  // connections not finished yet
};

// The next request of a connection: which item, and when it counts from.
struct Next {
  std::uint64_t index;
  clock::time_point scheduled;
};

// Closed loop: the connection's own next request, now, until the deadline.
std::optional<Next> next_closed(Run& run, std::uint64_t& own) {
  const auto now = clock::now();
  if (now >= run.deadline) return std::nullopt;
  return Next{own++, now};
}

// Open loop: the earliest request nobody has taken, counted from when it was
// due. A connection stops taking requests once the run's end is more than
// late_after behind it; those left are late, and never sent.
std::optional<Next> next_open(Run& run) {
  if (clock::now() > run.deadline + late_after) return std::nullopt;
  const auto request = run.schedule->take();
  if (!request) return std::nullopt;
  return Next{request->index, request->due};
}

// One connection, sending requests until the run's last, cycling through the
// hot ids so that every id is in demand: from its own starting point in a
// closed loop, in the schedule's order in an open loop.
asio::awaitable<void> connection(Run& run, int index) {
  // The executor is named first: g++ 12 destroys twice a non-trivial
  // temporary that stands in the same full-expression as a co_await.
  const auto ex = co_await asio::this_coro::executor;
  HttpClient client(ex, run.servers[static_cast<std::size_t>(index) % run.servers.size()]);
  asio::steady_timer timer(ex);
  std::uint64_t own = static_cast<std::uint64_t>(index);
  for (;;) {
    const auto next = run.schedule ? next_open(run) : next_closed(run, own);
    if (!next) break;
    if (next->scheduled > clock::now()) {
      timer.expires_at(next->scheduled);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (run.schedule && clock::now() - next->scheduled > late_after) ++run.result.late;
    const std::string target =
        fmt::format("/item/{}", 1 + next->index % static_cast<std::uint64_t>(run.options.hot_ids));
    const Reply reply = co_await client.get(target, run.options.timeout);
    // From the scheduled time: a request that waited for a free connection
    // waited for the server as much as one that waited for its answer.
    // Failed requests count too, at the time they took to fail (a timeout
    // is a slow answer for whoever waited).
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - next->scheduled).count();
    run.result.latencies_us.push_back(static_cast<std::uint32_t>(us));
    ++run.result.requests;
    if (reply.error || reply.status != 200) ++run.result.errors;
    if (reply.error) {
      // Do not spin on a server that refuses connections.
      timer.expires_after(std::chrono::milliseconds(100));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
}
}  // namespace

asio::awaitable<LoadResult> run_load(const Options& options, const std::vector<asio::ip::tcp::endpoint>& servers) {
  const auto ex = co_await asio::this_coro::executor;
  const auto start = clock::now();
  Run run{options, servers, start + options.duration, std::nullopt, {}, options.connections};
  if (options.rate > 0) run.schedule.emplace(start, options.duration, options.rate);
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
  if (run.schedule) run.result.late += run.schedule->untaken();
  co_return std::move(run.result);
}

}  // namespace stampede_load
