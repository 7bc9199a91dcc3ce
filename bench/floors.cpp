// SPDX-License-Identifier: BSL-1.0
// The unit costs that bound the group's hot paths on this machine, each
// measured alone in a loop (ns per operation, median of 5 runs): an
// uncontended mutex lock/unlock, the seeded hash of a short key, a coroutine
// frame awaited in place, an io_context post (round trip through the queue),
// and entering an idle strand from the io_context's own thread.
//
// Usage: singleflight_floors   (prints one `floor=<name> ns=<x>` line each)
#include <singleflight/hash.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace {
namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

constexpr long kOps = 1'000'000;
volatile std::size_t sink;

template <class F>
double median_ns(F run_once) {
  std::vector<double> runs;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = clock_type::now();
    run_once();
    runs.push_back(std::chrono::duration<double, std::nano>(clock_type::now() - t0).count() / kOps);
  }
  std::sort(runs.begin(), runs.end());
  return runs[2];
}

asio::awaitable<int> leaf(int i) { co_return i; }

asio::awaitable<void> frames() {
  std::size_t sum = 0;
  for (long i = 0; i < kOps; ++i) sum += static_cast<std::size_t>(co_await leaf(static_cast<int>(i)));
  sink = sum;
}

struct poster {
  asio::io_context* ioc;
  long left;
  void operator()() {
    if (--left > 0) asio::post(*ioc, *this);
  }
};
}  // namespace

int main() {
  std::mutex m;
  std::printf("floor=mutex_lock_unlock ns=%.1f\n", median_ns([&] {
                for (long i = 0; i < kOps; ++i) {
                  m.lock();
                  sink = static_cast<std::size_t>(i);
                  m.unlock();
                }
              }));

  singleflight::SeededStringHash hash;
  const std::string key = "key-123456";
  std::printf("floor=seeded_hash_short_key ns=%.1f\n", median_ns([&] {
                std::size_t h = 0;
                for (long i = 0; i < kOps; ++i) h += hash(key) + static_cast<std::size_t>(i);
                sink = h;
              }));

  std::printf("floor=coroutine_frame ns=%.1f\n", median_ns([] {
                asio::io_context ioc;
                asio::co_spawn(ioc, frames(), asio::detached);
                ioc.run();
              }));

  std::printf("floor=post ns=%.1f\n", median_ns([] {
                asio::io_context ioc(1);
                asio::post(ioc, poster{&ioc, kOps});
                ioc.run();
              }));

  std::printf("floor=idle_strand_dispatch ns=%.1f\n", median_ns([] {
                asio::io_context ioc(1);
                auto strand = asio::make_strand(ioc.get_executor());
                asio::post(ioc, [&] {
                  for (long i = 0; i < kOps; ++i) asio::dispatch(strand, [i] { sink = static_cast<std::size_t>(i); });
                });
                ioc.run();
              }));
}
