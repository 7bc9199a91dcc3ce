// SPDX-License-Identifier: BSL-1.0
// The benchmark of bench/SPEC.md (scenarios cold, stampede, mixed and
// parallel), plus a scaling scenario of our own: one line per scenario,
// implementation and thread count, in the spec's key=value format. Each run
// measures once; bench/run repeats it and keeps the median (bench/README.md).
//
//   impl=singleflight  co_await group.do_(key, loader)
//   impl=bare          co_await loader()   (the same harness, no group: the
//                                           floor a caller pays without it)
//
// Usage: singleflight_bench [--scale N] [--scenario NAME[,NAME...]]
//                           [--impl singleflight|bare] [--threads N]
//                           [--malloc-default] [--spread-above N] [--loader-strands N]
//                           [--yields-anywhere] [--idle-thread]
// NAME: cold, stampede, mixed, parallel, scaling (default: all five).
//
// --idle-thread starts one more thread, asleep for the whole run. In a
// process of one thread, glibc's mutexes, libstdc++'s reference counts and
// the group's own lock skip their atomic instructions, and cold runs in such
// a process (its io_context runs on the main thread alone); a server almost
// always has a second thread, and then every one of them pays its lock
// prefix. Lines then end with idle_thread=1.
//
// glibc's malloc gives freed memory back to the kernel as soon as the top of
// the heap is free, so every stampede round (10,000 callers, ~11 MB of
// coroutine frames, all freed at the round's end) would pay its page faults
// again; a long-running server, like Go's runtime, keeps its heap. So the
// benchmark keeps it (M_TRIM_THRESHOLD 1 GiB, M_TOP_PAD 64 MiB), for every
// implementation alike; --malloc-default leaves glibc's defaults.
//
// Note (g++ 12): no temporary with a non-trivial destructor stands in a
// co_await expression here; loaders are named locals that hold pointers.
#include "counting_new.hpp"

#include <singleflight/async_group.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#if __has_include(<valgrind/callgrind.h>)
// Under `valgrind --tool=callgrind`, each timed part is dumped on its own
// (callgrind.out.PID.N); elsewhere these are a few no-op instructions.
#include <valgrind/callgrind.h>
#define SFBENCH_PROFILE_START() CALLGRIND_ZERO_STATS
#define SFBENCH_PROFILE_STOP(name) CALLGRIND_DUMP_STATS_AT(name)
#else
#define SFBENCH_PROFILE_START()
#define SFBENCH_PROFILE_STOP(name)
#endif

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using sfbench::alloc_count;
using group_type = singleflight::AsyncGroup<std::string, int>;

// The groups' options: the defaults, or what --spread-above and
// --loader-strands set (to find the crossover of spread resumption).
singleflight::Options group_options;

// --idle-thread: see the top of this file.
bool idle_thread_running = false;

namespace {

enum class impl { singleflight, bare };

const char* name_of(impl i) { return i == impl::singleflight ? "singleflight" : "bare"; }

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "singleflight_bench: %s\n", what);
  std::abort();
}

void check(int v) {
  if (v != 42) fail("a caller got a value other than 42");
}

// co_spawn's completion handler: a caller that throws is a failed benchmark.
struct abort_on_error {
  void operator()(std::exception_ptr e) const {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::fprintf(stderr, "singleflight_bench: a caller threw: %s\n", x.what());
    } catch (...) {
      std::fprintf(stderr, "singleflight_bench: a caller threw\n");
    }
    std::abort();
  }
};

// cold's loader: returns at once, without suspending.
struct immediate_loader {
  std::uint64_t* loads;
  asio::awaitable<int> operator()() const {
    ++*loads;
    co_return 42;
  }
};

// The other scenarios' loader: yields once to the scheduler.
struct yield_loader {
  std::atomic<std::uint64_t>* loads;
  asio::awaitable<int> operator()() const {
    loads->fetch_add(1, std::memory_order_relaxed);
    auto ex = co_await asio::this_coro::executor;
    co_await asio::post(ex, asio::use_awaitable);
    co_return 42;
  }
};

// parallel's loader work: steps of a 64-bit LCG from x = the key's index.
// Each step depends on the last (a multiply-add chain the compiler can
// neither vectorize nor fold), so the work is real CPU time, ~1 ns a step.
std::uint64_t lcg(std::uint64_t x, int steps) {
  for (int i = 0; i < steps; ++i) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  return x;
}

// parallel's loader: computes without suspending, checks the result against
// the value computed before timing (so the work cannot be skipped), returns.
struct work_loader {
  std::atomic<std::uint64_t>* loads;
  const std::vector<std::uint64_t>* want;  // want[k] == lcg(k, steps)
  std::uint32_t key;
  int steps;
  asio::awaitable<int> operator()() const {
    loads->fetch_add(1, std::memory_order_relaxed);
    if (lcg(key, steps) != (*want)[key]) fail("parallel: a loader computed a wrong value");
    co_return 42;
  }
};

// Each caller below awaits in place (no wrapper coroutine of the harness's
// own), so that the two implementations differ by exactly this:
//   singleflight: co_await group->do_(key, loader)
//   bare:         co_await loader()

// ---------------------------------------------------------------------------
// Timing: the io_context runs on `threads` threads (the main one and helpers
// that wait for the start); wall time and allocations from just before the
// starter is posted until every thread has left run().

struct measurement {
  double ns = 0;
  alloc_count alloc;
};

template <class Starter>
measurement run_timed(const char* name, asio::io_context& ctx, int threads, Starter starter) {
  std::atomic<bool> go{false};
  std::vector<std::thread> helpers;
  for (int i = 1; i < threads; ++i)
    helpers.emplace_back([&] {
      go.wait(false, std::memory_order_acquire);
      ctx.run();
    });
  SFBENCH_PROFILE_START();
  const alloc_count a0 = sfbench::allocations();
  const auto t0 = std::chrono::steady_clock::now();
  asio::post(ctx, std::move(starter));
  go.store(true, std::memory_order_release);
  go.notify_all();
  ctx.run();
  for (auto& t : helpers) t.join();
  const auto t1 = std::chrono::steady_clock::now();
  const alloc_count a1 = sfbench::allocations();
  SFBENCH_PROFILE_STOP(name);
  return {static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()),
          a1 - a0};
}

// Per call: allocs/bytes through operator new (the spec's allocs_per_call),
// then every heap allocation (malloc level, Asio's own included).
void print_line(const char* scenario, impl i, int threads, std::uint64_t calls, const measurement& m,
                std::uint64_t loader_calls) {
  const double n = static_cast<double>(calls);
  std::printf(
      "scenario=%s impl=%s threads=%d calls=%llu ns_per_call=%.1f loader_calls=%llu "
      "allocs_per_call=%.2f bytes_per_call=%.1f heap_allocs_per_call=%.2f heap_bytes_per_call=%.1f%s\n",
      scenario, name_of(i), threads, static_cast<unsigned long long>(calls), m.ns / n,
      static_cast<unsigned long long>(loader_calls), static_cast<double>(m.alloc.allocs) / n,
      static_cast<double>(m.alloc.bytes) / n, static_cast<double>(m.alloc.heap) / n,
      static_cast<double>(m.alloc.heap_bytes) / n, idle_thread_running ? " idle_thread=1" : "");
  std::fflush(stdout);
}

std::vector<std::string> make_keys(std::size_t n) {
  std::vector<std::string> keys;
  keys.reserve(n);
  for (std::size_t i = 0; i < n; ++i) keys.push_back("key-" + std::to_string(i));
  return keys;
}

// ---------------------------------------------------------------------------
// cold: one caller, every call on a new key, the loader returns at once.

template <impl I>
asio::awaitable<void> cold_caller(group_type* group, const std::vector<std::string>* keys,
                                  std::uint64_t* loads, std::uint64_t* done) {
  const immediate_loader loader{loads};
  for (const std::string& key : *keys) {
    int v;
    if constexpr (I == impl::singleflight)
      v = co_await group->do_(key, loader);
    else
      v = co_await loader();
    check(v);
    ++*done;
  }
}

template <impl I>
void cold(std::size_t n) {
  const std::vector<std::string> keys = make_keys(n);
  asio::io_context ctx(1);
  group_type group(ctx.get_executor(), group_options);
  std::uint64_t loads = 0, done = 0;
  const measurement m = run_timed("cold", ctx, 1, [&] {
    asio::co_spawn(ctx, cold_caller<I>(&group, &keys, &loads, &done), abort_on_error{});
  });
  if (done != n) fail("cold: not every call completed");
  print_line("cold", I, 1, n, m, loads);
}

// ---------------------------------------------------------------------------
// stampede (and scaling): rounds of `callers` concurrent callers on one key,
// spawned from one handler; the last caller of a round posts the next one.

struct stampede_state {
  asio::io_context* ctx;
  group_type* group;
  const std::string* key;
  int callers;
  int rounds_left;
  std::atomic<int> remaining{0};
  std::atomic<std::uint64_t> loads{0};
  std::atomic<std::uint64_t> done{0};
};

template <impl I>
void start_round(stampede_state& s);

template <impl I>
asio::awaitable<void> stampede_caller(stampede_state* s) {
  const yield_loader loader{&s->loads};
  int v;
  if constexpr (I == impl::singleflight)
    v = co_await s->group->do_(*s->key, loader);
  else
    v = co_await loader();
  check(v);
  s->done.fetch_add(1, std::memory_order_relaxed);
  // The last caller of a round starts the next one from a handler of its
  // own (as Go's main goroutine does after wg.Wait()), not nested in
  // whatever resumed this caller.
  if (s->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1 && --s->rounds_left > 0)
    asio::post(*s->ctx, [s] { start_round<I>(*s); });
}

template <impl I>
void start_round(stampede_state& s) {
  s.remaining.store(s.callers, std::memory_order_relaxed);
  for (int i = 0; i < s.callers; ++i)
    asio::co_spawn(*s.ctx, stampede_caller<I>(&s), abort_on_error{});
}

struct stampede_result {
  measurement m;
  std::uint64_t loads;
};

template <impl I>
stampede_result run_stampede(int threads, int callers, int rounds) {
  const std::string key = "hot";
  asio::io_context ctx(threads);
  group_type group(ctx.get_executor(), group_options);
  stampede_state s{&ctx, &group, &key, callers, rounds};
  const measurement m = run_timed("stampede", ctx, threads, [&] { start_round<I>(s); });
  if (s.done.load() != static_cast<std::uint64_t>(callers) * static_cast<std::uint64_t>(rounds))
    fail("stampede: not every caller completed");
  return {m, s.loads.load()};
}

template <impl I>
void stampede(int threads, int callers, int rounds) {
  const stampede_result r = run_stampede<I>(threads, callers, rounds);
  print_line("stampede", I, threads,
             static_cast<std::uint64_t>(callers) * static_cast<std::uint64_t>(rounds), r.m, r.loads);
}

// scaling: the cost per caller and the bytes per caller as the callers on
// one key grow; enough rounds that every point has about `total` callers.
template <impl I>
void scaling(int threads, int callers, long total) {
  const int rounds = static_cast<int>(std::max<long>(1, total / callers));
  const stampede_result r = run_stampede<I>(threads, callers, rounds);
  const double n = static_cast<double>(callers) * rounds;
  std::printf(
      "scenario=scaling impl=%s threads=%d callers=%d ns_per_caller=%.1f bytes_per_caller=%.1f "
      "allocs_per_caller=%.2f heap_bytes_per_caller=%.1f heap_allocs_per_caller=%.2f rounds=%d "
      "loader_calls=%llu\n",
      name_of(I), threads, callers, r.m.ns / n, static_cast<double>(r.m.alloc.bytes) / n,
      static_cast<double>(r.m.alloc.allocs) / n, static_cast<double>(r.m.alloc.heap_bytes) / n,
      static_cast<double>(r.m.alloc.heap) / n, rounds, static_cast<unsigned long long>(r.loads));
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------
// mixed: `tasks` concurrent callers, each making `per` sequential calls on
// keys drawn uniformly (fixed seed) from `nkeys` keys; the loader yields once.

struct mixed_state {
  group_type* group;
  const std::vector<std::string>* keys;
  std::atomic<std::uint64_t> loads{0};
  std::atomic<std::uint64_t> done{0};
};

// tasks × per key indexes drawn uniformly from nkeys keys, fixed seed, so
// every run and implementation makes the same calls.
std::vector<std::uint32_t> make_plan(int tasks, int per, int nkeys) {
  std::vector<std::uint32_t> plan(static_cast<std::size_t>(tasks) * static_cast<std::size_t>(per));
  std::uint64_t x = 1;  // splitmix64, seed 1
  for (auto& k : plan) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    k = static_cast<std::uint32_t>(z % static_cast<std::uint64_t>(nkeys));
  }
  return plan;
}

template <impl I>
asio::awaitable<void> mixed_task(mixed_state* s, const std::uint32_t* plan, int per) {
  const yield_loader loader{&s->loads};
  for (int i = 0; i < per; ++i) {
    const std::string& key = (*s->keys)[plan[i]];
    int v;
    if constexpr (I == impl::singleflight)
      v = co_await s->group->do_(key, loader);
    else
      v = co_await loader();
    check(v);
  }
  s->done.fetch_add(static_cast<std::uint64_t>(per), std::memory_order_relaxed);
}

template <impl I>
void mixed(int threads, int tasks, int per, int nkeys) {
  const std::vector<std::string> keys = make_keys(static_cast<std::size_t>(nkeys));
  const std::vector<std::uint32_t> plan = make_plan(tasks, per, nkeys);
  asio::io_context ctx(threads);
  group_type group(ctx.get_executor(), group_options);
  mixed_state s{&group, &keys};
  const measurement m = run_timed("mixed", ctx, threads, [&] {
    for (int t = 0; t < tasks; ++t)
      asio::co_spawn(ctx, mixed_task<I>(&s, plan.data() + static_cast<std::size_t>(t) * per, per),
                     abort_on_error{});
  });
  const std::uint64_t calls = static_cast<std::uint64_t>(tasks) * static_cast<std::uint64_t>(per);
  if (s.done.load() != calls) fail("mixed: not every call completed");
  print_line("mixed", I, threads, calls, m, s.loads.load());
}

// ---------------------------------------------------------------------------
// parallel: like mixed (tasks callers × per sequential calls, keys drawn
// uniformly from nkeys), but the loader is CPU work that never suspends.
// Loaders of different keys can only overlap on different threads, so
// time(threads=1) / time(threads=2) tells how well the group lets them.

struct parallel_state {
  group_type* group;
  const std::vector<std::string>* keys;
  const std::vector<std::uint64_t>* want;
  int steps;
  std::atomic<std::uint64_t> loads{0};
  std::atomic<std::uint64_t> done{0};
};

template <impl I>
asio::awaitable<void> parallel_task(parallel_state* s, const std::uint32_t* plan, int per) {
  for (int i = 0; i < per; ++i) {
    const work_loader loader{&s->loads, s->want, plan[i], s->steps};
    int v;
    if constexpr (I == impl::singleflight)
      v = co_await s->group->do_((*s->keys)[plan[i]], loader);
    else
      v = co_await loader();
    check(v);
  }
  s->done.fetch_add(static_cast<std::uint64_t>(per), std::memory_order_relaxed);
}

template <impl I>
void parallel(int threads, int tasks, int per, int nkeys, int steps) {
  const std::vector<std::string> keys = make_keys(static_cast<std::size_t>(nkeys));
  const std::vector<std::uint32_t> plan = make_plan(tasks, per, nkeys);
  std::vector<std::uint64_t> want(static_cast<std::size_t>(nkeys));
  for (int k = 0; k < nkeys; ++k) want[static_cast<std::size_t>(k)] = lcg(static_cast<std::uint64_t>(k), steps);
  asio::io_context ctx(threads);
  group_type group(ctx.get_executor(), group_options);
  parallel_state s{&group, &keys, &want, steps};
  // Each caller is spawned from a handler of its own: co_spawn from inside
  // the io_context starts the coroutine inline (its first step is a
  // dispatch), and a bare caller that never suspends would then run all its
  // calls before the next caller is even spawned, on one thread. Posted, the
  // callers are spread over the threads, as Go's goroutines are.
  const measurement m = run_timed("parallel", ctx, threads, [&] {
    for (int t = 0; t < tasks; ++t)
      asio::post(ctx, [&s, &plan, &ctx, t, per] {
        asio::co_spawn(ctx, parallel_task<I>(&s, plan.data() + static_cast<std::size_t>(t) * per, per),
                       abort_on_error{});
      });
  });
  const std::uint64_t calls = static_cast<std::uint64_t>(tasks) * static_cast<std::uint64_t>(per);
  if (s.done.load() != calls) fail("parallel: not every call completed");
  print_line("parallel", I, threads, calls, m, s.loads.load());
}

// ---------------------------------------------------------------------------

struct options {
  long scale = 1;
  bool malloc_default = false;
  bool idle_thread = false;
  std::vector<std::string> scenarios;
  std::vector<impl> impls;
  std::vector<int> threads;

  bool wants(std::string_view s) const {
    if (scenarios.empty()) return true;
    for (const auto& x : scenarios)
      if (x == s) return true;
    return false;
  }
  bool wants(impl i) const {
    if (impls.empty()) return true;
    for (impl x : impls)
      if (x == i) return true;
    return false;
  }
  bool wants_threads(int t) const {
    if (threads.empty()) return true;
    for (int x : threads)
      if (x == t) return true;
    return false;
  }
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: singleflight_bench [--scale N] "
               "[--scenario cold|stampede|mixed|parallel|scaling[,...]] "
               "[--impl singleflight|bare] [--threads N] [--malloc-default]\n"
               "       [--spread-above N] [--loader-strands N] [--yields-anywhere] [--idle-thread]\n");
  std::exit(2);
}

long parse_long(const char* s) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || v <= 0) usage();
  return v;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--scale") {
      o.scale = parse_long(value());
    } else if (a == "--scenario") {
      std::string list = value();
      std::size_t start = 0;
      while (start <= list.size()) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        std::string one = list.substr(start, comma - start);
        if (one != "cold" && one != "stampede" && one != "mixed" && one != "parallel" && one != "scaling")
          usage();
        o.scenarios.push_back(std::move(one));
        start = comma + 1;
      }
    } else if (a == "--impl") {
      const std::string_view v = value();
      if (v == "singleflight")
        o.impls.push_back(impl::singleflight);
      else if (v == "bare")
        o.impls.push_back(impl::bare);
      else
        usage();
    } else if (a == "--malloc-default") {
      o.malloc_default = true;
    } else if (a == "--threads") {
      o.threads.push_back(static_cast<int>(parse_long(value())));
    } else if (a == "--spread-above") {
      group_options.spread_resumption_above = static_cast<std::size_t>(parse_long(value()));
    } else if (a == "--loader-strands") {
      group_options.loader_strands = static_cast<std::size_t>(parse_long(value()));
    } else if (a == "--yields-anywhere") {
      group_options.loader_yields_continue_here = false;
    } else if (a == "--idle-thread") {
      o.idle_thread = true;
    } else {
      usage();
    }
  }
  return o;
}

template <class F>
void for_impls(const options& o, F f) {
  if (o.wants(impl::singleflight)) f(std::integral_constant<impl, impl::singleflight>{});
  if (o.wants(impl::bare)) f(std::integral_constant<impl, impl::bare>{});
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
#if defined(__GLIBC__)
  if (!o.malloc_default) {  // keep the heap: see the top of this file
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
  }
#endif
  std::atomic<bool> idle_until_end{false};
  std::thread idle;
  if (o.idle_thread) {
    idle = std::thread([&] { idle_until_end.wait(false); });
    idle_thread_running = true;
  }
  const long s = o.scale;
  auto at_least_1 = [](long v) { return static_cast<int>(std::max<long>(1, v)); };

  if (o.wants("cold") && o.wants_threads(1))
    for_impls(o, [&](auto i) { cold<decltype(i)::value>(static_cast<std::size_t>(at_least_1(1'000'000 / s))); });

  for (int threads : {1, 2}) {
    if (!o.wants_threads(threads)) continue;
    if (o.wants("stampede"))
      for_impls(o, [&](auto i) { stampede<decltype(i)::value>(threads, at_least_1(10'000 / s), 100); });
  }
  for (int threads : {1, 2}) {
    if (!o.wants_threads(threads)) continue;
    if (o.wants("mixed"))
      for_impls(o, [&](auto i) { mixed<decltype(i)::value>(threads, at_least_1(1'000 / s), 200, 100); });
  }
  for (int threads : {1, 2}) {
    if (!o.wants_threads(threads)) continue;
    // --scale shrinks the number of callers, not a loader's work.
    if (o.wants("parallel"))
      for_impls(o, [&](auto i) { parallel<decltype(i)::value>(threads, at_least_1(1'000 / s), 20, 64, 20'000); });
  }

  if (o.wants("scaling")) {
    // Up to 100k callers on one key, about a million callers per point.
    const long max_callers = std::max<long>(10, 100'000 / s);
    const long total = std::max<long>(1, 1'000'000 / s);
    for (int threads : {1, 2}) {
      if (!o.wants_threads(threads)) continue;
      for (long n = 10; n <= max_callers; n *= 10)
        for_impls(o, [&](auto i) { scaling<decltype(i)::value>(threads, static_cast<int>(n), total); });
    }
  }
  if (idle.joinable()) {
    idle_until_end = true;
    idle_until_end.notify_all();
    idle.join();
  }
  return 0;
}
