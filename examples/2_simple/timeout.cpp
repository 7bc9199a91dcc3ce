// SPDX-License-Identifier: BSL-1.0
// A caller that stops waiting: `||` with a timer. The impatient caller leaves
// with operation_aborted; the loader goes on for the patient one; when every
// caller has left, the loader itself is cancelled.
#include <singleflight/async_group.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <variant>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

using Group = singleflight::AsyncGroup<std::string, std::string>;

// [snippet timeout]
// The value of `key`, or nothing if it takes longer than `patience`.
asio::awaitable<std::optional<std::string>> get_within(Group& group, const std::string& key, auto loader,
                                                       std::chrono::milliseconds patience) {
  asio::steady_timer timer(co_await asio::this_coro::executor, patience);
  // Named first: g++ 12 frees twice a non-trivial temporary in a co_await.
  auto load = group.do_(key, loader);
  auto timeout = timer.async_wait(asio::use_awaitable);
  std::variant<std::string, std::monostate> first = co_await (std::move(load) || std::move(timeout));
  if (first.index() == 1) co_return std::nullopt;  // this caller left; the flight goes on
  co_return std::get<0>(std::move(first));
}
// [end snippet]

int main() {
  asio::io_context ioc;
  Group group(ioc.get_executor());
  int loads = 0, loads_cancelled = 0;
  auto slow_report = [&]() -> asio::awaitable<std::string> {
    ++loads;
    asio::steady_timer work(co_await asio::this_coro::executor, 100ms);
    try {
      co_await work.async_wait(asio::use_awaitable);
    } catch (const boost::system::system_error&) {
      ++loads_cancelled;  // every caller left: the group cancelled the loader
      throw;
    }
    co_return std::string("report");
  };

  std::optional<std::string> impatient, patient, alone = std::string("unset");
  auto run = [&]() -> asio::awaitable<void> {
    // Two callers share one flight; the first gives up after 10 ms.
    auto a = [&]() -> asio::awaitable<void> { impatient = co_await get_within(group, "r", slow_report, 10ms); };
    auto b = [&]() -> asio::awaitable<void> { patient = co_await get_within(group, "r", slow_report, 1s); };
    auto both = a() && b();
    co_await std::move(both);
    // A caller alone that gives up: the loader is cancelled at once.
    alone = co_await get_within(group, "s", slow_report, 10ms);
  };
  asio::co_spawn(ioc, run(), asio::detached);
  ioc.run();

  std::printf("impatient: %s, patient: %s, alone: %s, loads: %d, loaders cancelled: %d\n",
              impatient ? impatient->c_str() : "(left)", patient ? patient->c_str() : "(left)",
              alone ? alone->c_str() : "(left)", loads, loads_cancelled);
  return !impatient && patient == "report" && !alone && loads == 2 && loads_cancelled == 1 ? 0 : 1;
}
