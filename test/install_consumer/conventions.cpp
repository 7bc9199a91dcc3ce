// SPDX-License-Identifier: BSL-1.0
// Built against the installed package: the Asio conventions that the group
// once broke, each as a user would meet it. Prints "ok - ..." or
// "not ok - ..." per convention; exits 1 if any is broken.
#include <singleflight/async_group.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <thread>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Group = singleflight::AsyncGroup<int, int>;

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  std::printf("%s - %s\n", ok ? "ok" : "not ok", what);
  if (!ok) ++failures;
}

asio::awaitable<int> at_once() { co_return 7; }

// From inside a handler of the group's io_context, with a loader that returns
// at once, the callback still runs after async_do has returned.
void never_completes_inside_the_initiating_call() {
  asio::io_context ioc;
  Group group(ioc.get_executor());
  bool returned = false, inside = false, called = false;
  asio::post(ioc, [&] {
    group.async_do(1, at_once, [&](std::exception_ptr, int) {
      inside = !returned;
      called = true;
    });
    returned = true;
  });
  ioc.run();
  check(called && !inside, "async_do from a handler, loader returning at once: the callback runs after async_do returns");
}

// A parked callback holds work on its associated executor: run() on the
// caller's own context waits for it instead of returning at once.
void parked_callback_keeps_work_on_its_executor() {
  asio::io_context group_ctx, caller_ctx;
  auto work = asio::make_work_guard(group_ctx);
  std::thread group_thread([&] { group_ctx.run(); });
  int got = 0;
  {
    Group group(group_ctx.get_executor());
    auto slow = []() -> asio::awaitable<int> {
      asio::steady_timer t(co_await asio::this_coro::executor, 50ms);
      co_await t.async_wait(asio::use_awaitable);
      co_return 3;
    };
    group.async_do(1, slow, asio::bind_executor(caller_ctx, [&](std::exception_ptr, int v) { got = v; }));
    caller_ctx.run_for(10s);  // returns when no work is left
  }
  work.reset();
  group_thread.join();
  check(got == 3, "a callback bound to another io_context: that context's run() waits for it");
}

// A completion token that reads the initiation's executor, as
// asio::cancel_after and similar tokens do.
struct executor_probe {
  asio::any_io_executor* seen;
};

}  // namespace

template <>
struct asio::async_result<executor_probe, void(std::exception_ptr, int)> {
  template <class Initiation, class... Args>
  static void initiate(Initiation&& init, executor_probe token, Args&&... args) {
    *token.seen = init.get_executor();
    std::move(init)([](std::exception_ptr, int) {}, std::forward<Args>(args)...);
  }
};

namespace {

void initiation_exposes_its_executor() {
  asio::io_context ioc;
  Group group(ioc.get_executor());
  asio::any_io_executor seen;
  group.async_do(1, at_once, executor_probe{&seen});
  ioc.run();
  check(seen == group.get_executor(), "async_do's initiation has get_executor(): the group's executor");
}

}  // namespace

int main() {
  never_completes_inside_the_initiating_call();
  parked_callback_keeps_work_on_its_executor();
  initiation_exposes_its_executor();
  std::printf("conventions: %d broken\n", failures);
  return failures == 0 ? 0 : 1;
}
