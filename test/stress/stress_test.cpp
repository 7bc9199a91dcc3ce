// Randomized stress test of AsyncGroup (issue #6).
//
// Each round builds a multi-threaded io_context, a group and a thread pool,
// and throws a few hundred callers at a few keys: plain do_, do_shared, do_
// raced against a timer with `||`, and async_do with a callback; callers are
// cancelled at random moments with signals of every type (terminal, partial,
// total, none, combinations); keys are forgotten at random; loaders return,
// throw (at once or from deep inside nested awaits), hop through another
// executor, ignore cancellation for a while, or never finish unless
// cancelled. Rounds end normally, or by destroying the group, or by shutting
// the execution context down while callers are parked.
//
// Checked:
//  - every caller completes exactly once (value, the loader's exception, or
//    operation_aborted, or too_many_flights), or, in shutdown rounds only,
//    is destroyed without completing; no caller resumes after its frame died;
//  - a caller gets its own key's value or exception, the exception object is
//    the same in every caller of a flight, do_shared's flag is exact;
//  - operation_aborted only for callers that were cancelled, timed out or
//    whose group was destroyed;
//  - never two loaders at once for a key unless the older one was forgotten
//    or was cancelled (abandoned) in between;
//  - in_flight() back to 0, and the counters add up (identities below).
//
// Seeded: SF_STRESS_SEED=<n> (or `-- --seed=<n>`) reproduces a run's
// workload, SF_STRESS_ROUND=<r> runs one round of it. Bounded in time:
// SF_STRESS_SECONDS (default 3) of rounds, at least kMinRounds;
// SF_STRESS_SCALE multiplies the callers per round (soak runs).
// Library bugs found this way have regression tests in
// misbehaving_loaders_test.cpp, or are described there. Two switches concern
// them:
//  - SF_STRESS_UNPINNED=1: destroy rounds let a group's core be freed while
//    its callers can still be cancelled. Hit cancelling_a_caller_after_its_
//    group_is_gone (fixed in 6b83b55), and still hits its racy variant: a
//    canceller whose detach() succeeds then reads the core in resume_op()
//    after the last loader freed it (ASan: heap-use-after-free in
//    waiter_op::resume_op, from canceller::operator()). By default destroy
//    rounds keep the core alive with a loader that outlives the group.
//  - loaders that finish on another executor's thread (on by default;
//    SF_STRESS_OFF_STRAND=0 drops them): their flights' ends raced with their
//    cancellation before 6b83b55 (loader_completing_off_strand_races_with_
//    its_cancellation) and freed listed flights from 6b83b55 to e0cc986
//    (cancelled_loader_finishing_on_another_executor). Such a loader's own
//    coroutine must not read its cancellation state while it is elsewhere:
//    the group emits on its strand (see loader_scope).
#define BOOST_TEST_MODULE stress
#include <singleflight/async_group.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include "tsan_suppressions.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace sf = singleflight;
using asio::awaitable;
using asio::use_awaitable;
using asio::cancellation_type;
using asio::cancellation_type_t;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using Value = std::string;
using Group = sf::AsyncGroup<std::string, Value>;

constexpr int kMinRounds = 6;

// ---------------------------------------------------------------- config

std::optional<std::uint64_t> env_u64(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::strtoull(v, nullptr, 0);
}

double env_double(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return (v == nullptr || *v == '\0') ? fallback : std::strtod(v, nullptr);
}

struct config {
  std::uint64_t seed = 0;
  double seconds = 3.0;
  double scale = 1.0;
  int only_round = -1;
  bool unpinned = false;
  bool off_strand = false;
};

config read_config() {
  config c;
  std::optional<std::uint64_t> seed = env_u64("SF_STRESS_SEED");
  auto& suite = boost::unit_test::framework::master_test_suite();
  for (int i = 1; i < suite.argc; ++i)
    if (std::strncmp(suite.argv[i], "--seed=", 7) == 0) seed = std::strtoull(suite.argv[i] + 7, nullptr, 0);
  if (!seed) {
    std::random_device rd;
    seed = (std::uint64_t{rd()} << 32) ^ rd();
  }
  c.seed = *seed;
  c.seconds = env_double("SF_STRESS_SECONDS", 3.0);
  c.scale = std::max(0.05, env_double("SF_STRESS_SCALE", 1.0));
  if (auto r = env_u64("SF_STRESS_ROUND")) c.only_round = static_cast<int>(*r);
  c.unpinned = env_u64("SF_STRESS_UNPINNED").value_or(1) != 0;
  c.off_strand = env_u64("SF_STRESS_OFF_STRAND").value_or(1) != 0;
  return c;
}

// execution_context::shutdown() is protected: expose it, so that a round can
// shut its context down while the group is still alive (the group is then
// destroyed before the context, as Asio's own I/O objects must be).
class shutdown_context : public asio::io_context {
 public:
  explicit shutdown_context(int hint) : asio::io_context(hint) {}
  void shut_down() { shutdown(); }
};

// ---------------------------------------------------------------- workload

enum class round_kind { normal, destroy, shutdown };
enum class caller_mode { plain, shared, timeout, callback };
enum class loader_mode { value_now, value_later, throw_now, throw_deep, hop, hang, stubborn, elsewhere, pin };

const char* name(round_kind k) {
  switch (k) {
    case round_kind::normal: return "normal";
    case round_kind::destroy: return "destroy";
    case round_kind::shutdown: return "shutdown";
  }
  return "?";
}

struct round_params {
  round_kind kind = round_kind::normal;
  int threads = 2;
  int keys = 8;
  int strands = 4;
  int callers = 300;
  bool keep = false;
  std::size_t max_in_flight = SIZE_MAX;
  int pct_cancel = 30;
  int pct_timeout = 30;
  int pct_forget = 3;
  int loader_weights[8] = {};
};

round_params make_params(std::mt19937_64& rng, int round, double scale, bool off_strand) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  round_params p;
  // The first rounds cover every kind; later ones pick at random.
  static constexpr round_kind first[] = {round_kind::normal, round_kind::destroy, round_kind::shutdown};
  if (round < 3)
    p.kind = first[round];
  else
    p.kind = pick(0, 9) < 6 ? round_kind::normal : (pick(0, 1) ? round_kind::destroy : round_kind::shutdown);
  p.threads = pick(2, 4);
  p.keys = pick(0, 3) == 0 ? pick(1, 3) : pick(4, 48);
  p.strands = pick(1, 8);
  p.callers = std::max(20, static_cast<int>(pick(150, 450) * scale));
  p.keep = pick(0, 3) == 0;
  if (pick(0, 3) == 0) p.max_in_flight = static_cast<std::size_t>(pick(1, 6));
  p.pct_cancel = pick(10, 50);
  p.pct_timeout = pick(10, 50);
  p.pct_forget = pick(0, 8);
  // value_now, value_later, throw_now, throw_deep, hop, hang, stubborn,
  // elsewhere (finishes on the pool's thread; SF_STRESS_OFF_STRAND=0 drops it)
  const int base[8] = {20, 25, 8, 10, 17, 8, 7, off_strand ? 10 : 0};
  for (int i = 0; i < 8; ++i) p.loader_weights[i] = base[i] * pick(0, 4);
  if (std::all_of(std::begin(p.loader_weights), std::end(p.loader_weights), [](int w) { return w == 0; }))
    p.loader_weights[0] = 1;
  return p;
}

std::string describe(const round_params& p) {
  return fmt::format(
      "kind={} threads={} keys={} strands={} callers={} keep_abandoned_loaders={} max_in_flight={} "
      "cancel={}% timeout={}% forget={}% loader_weights=[{},{},{},{},{},{},{},{}]",
      name(p.kind), p.threads, p.keys, p.strands, p.callers, p.keep,
      p.max_in_flight == SIZE_MAX ? std::string("unlimited") : std::to_string(p.max_in_flight), p.pct_cancel,
      p.pct_timeout, p.pct_forget, p.loader_weights[0], p.loader_weights[1], p.loader_weights[2],
      p.loader_weights[3], p.loader_weights[4], p.loader_weights[5], p.loader_weights[6], p.loader_weights[7]);
}

// ---------------------------------------------------------------- records

struct stress_error : std::runtime_error {
  stress_error(int k, std::uint64_t s, bool killed)
      : std::runtime_error(fmt::format("loader {} of key {} {}", s, k, killed ? "killed" : "failed")),
        key(k),
        serial(s) {}
  int key;
  std::uint64_t serial;
};

enum class outcome { none, value, loader_error, aborted, too_many, unexpected };

struct caller_rec {
  int id = 0;
  int key = 0;
  caller_mode mode = caller_mode::plain;
  loader_mode lmode = loader_mode::value_now;
  int lparam = 0;
  bool reset_filter = false;
  std::chrono::microseconds timeout{0};
  bool cancel_planned = false;
  cancellation_type_t cancel_type = cancellation_type::none;
  std::chrono::microseconds cancel_after{0};
  std::shared_ptr<asio::cancellation_signal> signal;

  // Written on the caller's strand, read after the io threads are joined.
  std::atomic<int> handler_calls{0};      // completion handler invocations
  std::atomic<int> handler_destroyed{0};  // handler destroyed without being invoked
  std::atomic<int> resumes{0};            // do_ returned or threw (coroutine modes)
  std::atomic<int> frames_created{0};
  std::atomic<int> frames_destroyed{0};
  std::atomic<bool> initiated{false};  // about to reach the group
  std::atomic<bool> cancel_emitted{false};
  bool reached = false;  // the group saw this call (not cancelled before it)
  bool timed_out = false;
  outcome result = outcome::none;
  std::uint64_t serial = 0;
  bool shared = false;
  const void* exception_address = nullptr;
  std::string detail;

  bool cancel_effective() const {
    cancellation_type_t mask = cancellation_type::terminal | cancellation_type::partial | cancellation_type::total;
    if (mode == caller_mode::timeout)
      mask = cancellation_type::terminal;  // the inner do_ of `||` keeps the default filter
    else if (mode != caller_mode::callback && !reset_filter)
      mask = cancellation_type::terminal;  // co_spawn's default filter
    return cancel_emitted.load() && (cancel_type & mask) != cancellation_type::none;
  }
};

struct loader_result {
  int key = 0;
  bool returned = false;
  bool saw_cancel = false;
};

struct round_state;

// A caller's frame: detects resumption of a destroyed frame (ASan reports the
// access; without ASan the magic number usually tells).
class frame_canary {
 public:
  explicit frame_canary(caller_rec* r) : r_(r) { ++r_->frames_created; }
  frame_canary(const frame_canary&) = delete;
  frame_canary& operator=(const frame_canary&) = delete;
  ~frame_canary() {
    magic_ = kDead;
    ++r_->frames_destroyed;
  }
  bool alive() const { return magic_ == kAlive; }

 private:
  static constexpr std::uint32_t kAlive = 0x5F1A11E5u, kDead = 0xDEADDEADu;
  volatile std::uint32_t magic_ = kAlive;
  caller_rec* r_;
};

// Held by a completion handler: counts handlers destroyed without a call
// (shutdown rounds) and invoked more than once.
class handler_guard {
 public:
  explicit handler_guard(caller_rec* r) : r_(r) {}
  handler_guard(handler_guard&& o) noexcept : r_(std::exchange(o.r_, nullptr)), fired_(o.fired_) {}
  handler_guard& operator=(handler_guard&&) = delete;
  ~handler_guard() {
    if (r_ != nullptr && !fired_) ++r_->handler_destroyed;
  }
  caller_rec* fire() {
    fired_ = true;
    ++r_->handler_calls;
    return r_;
  }

 private:
  caller_rec* r_;
  bool fired_ = false;
};

struct round_state {
  round_state(const round_params& params, std::uint64_t seed_, int round_)
      : p(params),
        seed(seed_),
        round(round_),
        ioc(std::make_unique<shutdown_context>(params.threads)),
        pool(2),
        forget_begun(static_cast<std::size_t>(params.keys + 1)),
        forget_done(static_cast<std::size_t>(params.keys + 1)),
        active(static_cast<std::size_t>(params.keys + 1)) {}

  const round_params p;
  const std::uint64_t seed;
  const int round;
  // Destroyed explicitly, after the group and before everything below that
  // the frames it may still destroy refer to.
  std::unique_ptr<shutdown_context> ioc;
  asio::thread_pool pool;
  std::unique_ptr<Group> group;
  std::vector<std::unique_ptr<caller_rec>> callers;

  std::vector<std::atomic<std::uint64_t>> forget_begun, forget_done;  // per key
  std::atomic<std::uint64_t> forgets{0}, forgets_true{0};
  std::atomic<bool> kill{false};         // hang loaders give up
  std::atomic<bool> pin_release{false};  // the pin loader ends
  std::atomic<int> completed{0};         // caller handlers invoked
  std::atomic<int> initiated{0};

  // Loaders.
  struct active_loader {
    std::uint64_t serial;
    asio::cancellation_state cs;
    std::uint64_t forget_snapshot;
    int caller;
    loader_mode mode;
  };
  std::mutex mu;
  std::vector<std::vector<active_loader>> active;  // per key, guarded by mu
  std::map<std::uint64_t, loader_result> results;  // guarded by mu
  std::atomic<std::uint64_t> next_serial{0};
  std::atomic<std::uint64_t> loaders_started{0}, loaders_ended{0}, loaders_threw{0}, loaders_saw_cancel{0},
      loaders_threw_cancelled{0};

  std::mutex kept_mu;
  std::vector<std::exception_ptr> kept_exceptions;  // see record_exception

  // Failures, reported with the seed at the end of the round.
  std::mutex fail_mu;
  std::vector<std::string> failures;

  template <class... Args>
  void fail(fmt::format_string<Args...> f, Args&&... args) {
    std::string msg = fmt::format(f, std::forward<Args>(args)...);
    std::lock_guard lock(fail_mu);
    if (failures.size() < 50) failures.push_back(std::move(msg));
  }

  std::string key_name(int k) const { return k == p.keys ? std::string("pin") : fmt::format("key-{:03}", k); }
};

// ---------------------------------------------------------------- loaders

// Registers a running loader; checks that no other loader of its key runs
// unless that one was forgotten or cancelled since its flight began.
class loader_scope {
 public:
  loader_scope(round_state& s, int key, std::uint64_t forget_snapshot, asio::cancellation_state cs, int caller,
               loader_mode mode)
      : s_(s), key_(key), cs_(cs), serial(++s.next_serial) {
    ++s_.loaders_started;
    std::lock_guard lock(s_.mu);
    // A flight is created under the group's lock but its loader is spawned
    // after the lock is released, so with a forget in between the newer
    // flight's loader may start first: either of the two may be the one that
    // was unlinked.
    const std::uint64_t begun = s_.forget_begun[static_cast<std::size_t>(key)].load();
    const bool self_unlinked = begun > forget_snapshot || cs.cancelled() != cancellation_type::none;
    for (const auto& other : s_.active[static_cast<std::size_t>(key)]) {
      const bool other_unlinked = begun > other.forget_snapshot || other.cs.cancelled() != cancellation_type::none;
      if (!self_unlinked && !other_unlinked)
        s_.fail(
            "two loaders at once for {}: loader {} (caller {}, mode {}) started while loader {} (caller {}, mode {}) "
            "runs, and neither was forgotten (forgets begun {}, snapshots {} and {}) nor cancelled",
            s_.key_name(key), serial, caller, static_cast<int>(mode), other.serial, other.caller,
            static_cast<int>(other.mode), begun, forget_snapshot, other.forget_snapshot);
    }
    s_.active[static_cast<std::size_t>(key)].push_back({serial, cs, forget_snapshot, caller, mode});
  }
  loader_scope(const loader_scope&) = delete;
  loader_scope& operator=(const loader_scope&) = delete;

  ~loader_scope() {
    // Off the strand, the state is not ours to read: the group emits
    // cancellations on its strand.
    const bool saw_cancel = !elsewhere_ && cs_.cancelled() != cancellation_type::none;
    {
      std::lock_guard lock(s_.mu);
      auto& list = s_.active[static_cast<std::size_t>(key_)];
      std::erase_if(list, [&](const auto& a) { return a.serial == serial; });
      s_.results[serial] = loader_result{key_, returned_, saw_cancel};
    }
    if (!returned_) ++s_.loaders_threw;
    if (saw_cancel) ++s_.loaders_saw_cancel;
    if (!returned_ && saw_cancel) ++s_.loaders_threw_cancelled;
    ++s_.loaders_ended;
  }

  void returned() { returned_ = true; }
  void left_the_strand() { elsewhere_ = true; }

 private:
  round_state& s_;
  int key_;
  asio::cancellation_state cs_;
  bool returned_ = false;
  bool elsewhere_ = false;

 public:
  const std::uint64_t serial;
};

Value make_value(int key, std::uint64_t serial) {
  // Longer than the small-string buffer: every caller's copy allocates.
  return fmt::format("{}|{}|a value long enough to live on the heap", key, serial);
}

bool parse_value(const Value& v, int& key, std::uint64_t& serial) {
  unsigned long long s = 0;
  return std::sscanf(v.c_str(), "%d|%llu|", &key, &s) == 2 && (serial = s, true);
}

awaitable<void> nested_throw(int key, std::uint64_t serial, int depth) {
  if (depth == 0) throw stress_error(key, serial, false);
  auto ex = co_await asio::this_coro::executor;
  if (depth % 2 == 1) {
    co_await asio::post(ex, use_awaitable);
  } else {
    asio::steady_timer t(ex, std::chrono::microseconds(50 * depth));
    co_await t.async_wait(use_awaitable);
  }
  auto inner = nested_throw(key, serial, depth - 1);
  co_await std::move(inner);
}

awaitable<Value> run_loader(round_state* s, int key, loader_mode mode, int param, std::uint64_t snapshot,
                            int caller) {
  auto cs = co_await asio::this_coro::cancellation_state;
  loader_scope scope(*s, key, snapshot, cs, caller, mode);
  auto ex = co_await asio::this_coro::executor;
  switch (mode) {
    case loader_mode::value_now:
      break;
    case loader_mode::value_later: {
      asio::steady_timer t(ex, std::chrono::microseconds(param));
      co_await t.async_wait(use_awaitable);
      break;
    }
    case loader_mode::throw_now:
      throw stress_error(key, scope.serial, false);
    case loader_mode::throw_deep: {
      auto deep = nested_throw(key, scope.serial, param);
      co_await std::move(deep);
      break;
    }
    case loader_mode::hop: {
      // Through the pool and back to the group's strand.
      auto pool_ex = s->pool.get_executor();
      for (int i = 0; i < param; ++i) co_await asio::post(pool_ex, use_awaitable);
      if (param == 3) throw stress_error(key, scope.serial, false);
      break;
    }
    case loader_mode::hang:
      // Never finishes unless cancelled (each wait is cancellable), or the
      // round ends and kills it.
      for (;;) {
        if (s->kill.load()) throw stress_error(key, scope.serial, true);
        asio::steady_timer t(ex, 2ms);
        co_await t.async_wait(use_awaitable);
      }
    case loader_mode::stubborn: {
      // Ignores cancellation for a while, then returns.
      co_await asio::this_coro::throw_if_cancelled(false);
      asio::steady_timer t(ex, std::chrono::microseconds(param));
      co_await t.async_wait(asio::bind_cancellation_slot(asio::cancellation_slot(), use_awaitable));
      break;
    }
    case loader_mode::elsewhere: {
      // Finishes on a pool thread: the group delivers from there.
      auto pool_ex = s->pool.get_executor();
      co_await asio::post(asio::bind_executor(pool_ex, use_awaitable));
      scope.left_the_strand();
      break;
    }
    case loader_mode::pin: {
      // Ignores cancellation until the round releases it: keeps the group's
      // core alive after the group is destroyed.
      co_await asio::this_coro::throw_if_cancelled(false);
      while (!s->pin_release.load()) {
        asio::steady_timer t(ex, 1ms);
        co_await t.async_wait(asio::bind_cancellation_slot(asio::cancellation_slot(), use_awaitable));
      }
      break;
    }
  }
  Value v = make_value(key, scope.serial);
  scope.returned();
  co_return v;
}

auto make_loader(round_state* s, int key, loader_mode mode, int param, int caller) {
  // Read before the call: a forget that unlinks this call's flight ends
  // after this snapshot.
  const std::uint64_t snapshot = s->forget_done[static_cast<std::size_t>(key)].load();
  return [s, key, mode, param, snapshot, caller]() { return run_loader(s, key, mode, param, snapshot, caller); };
}

// ---------------------------------------------------------------- callers

void record_exception(round_state* s, caller_rec* r, std::exception_ptr e) {
  // Callers on different threads share one exception object. libstdc++
  // counts its references inside (uninstrumented) libsupc++, so TSan would
  // see the last caller's free race with another caller's read; keeping a
  // reference until the round's threads are joined makes every free happen
  // after them.
  {
    std::lock_guard lock(s->kept_mu);
    s->kept_exceptions.push_back(e);
  }
  try {
    std::rethrow_exception(e);
  } catch (const stress_error& err) {
    r->result = outcome::loader_error;
    r->serial = err.serial;
    r->exception_address = &err;
    if (err.key != r->key) s->fail("caller {} of key {} got the exception of key {}", r->id, r->key, err.key);
  } catch (const boost::system::system_error& err) {
    if (err.code() == asio::error::operation_aborted) {
      r->result = outcome::aborted;
    } else if (err.code() == sf::make_error_code(sf::errc::too_many_flights)) {
      r->result = outcome::too_many;
    } else {
      r->result = outcome::unexpected;
      r->detail = err.what();
    }
  } catch (const std::exception& err) {
    r->result = outcome::unexpected;
    r->detail = err.what();
  } catch (...) {
    r->result = outcome::unexpected;
    r->detail = "unknown exception";
  }
}

void record_value(round_state* s, caller_rec* r, const Value& v) {
  int key = -1;
  std::uint64_t serial = 0;
  if (!parse_value(v, key, serial)) {
    r->result = outcome::unexpected;
    r->detail = "malformed value: " + v;
    return;
  }
  r->result = outcome::value;
  r->serial = serial;
  if (key != r->key) s->fail("caller {} of key {} got the value of key {}", r->id, r->key, key);
}

struct pass_all {
  cancellation_type_t operator()(cancellation_type_t t) const noexcept { return t; }
};

awaitable<void> attempt(round_state* s, caller_rec* r) {
  frame_canary canary(r);
  const std::string key = s->key_name(r->key);
  auto loader = make_loader(s, r->key, r->lmode, r->lparam, r->id);
  auto cs = co_await asio::this_coro::cancellation_state;
  // A coroutine cancelled before it awaits do_ throws without calling the
  // group; otherwise the group sees the call.
  r->reached = cs.cancelled() == cancellation_type::none;
  r->initiated = true;
  ++s->initiated;
  try {
    if (r->mode == caller_mode::shared) {
      auto op = s->group->do_shared(key, loader);
      sf::Shared<Value> got = co_await std::move(op);
      record_value(s, r, got.value);
      r->shared = got.shared;
    } else {
      auto op = s->group->do_(key, loader);
      Value got = co_await std::move(op);
      record_value(s, r, got);
    }
  } catch (...) {
    record_exception(s, r, std::current_exception());
  }
  if (!canary.alive()) s->fail("caller {} resumed in a destroyed frame", r->id);
  ++r->resumes;
}

awaitable<void> caller(round_state* s, caller_rec* r) {
  using namespace asio::experimental::awaitable_operators;
  if (r->reset_filter) co_await asio::this_coro::reset_cancellation_state(pass_all{});
  if (r->mode == caller_mode::timeout) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer timer(ex, r->timeout);
    auto a = attempt(s, r);
    auto w = timer.async_wait(use_awaitable);
    auto race = std::move(a) || std::move(w);
    auto which = co_await std::move(race);
    if (which.index() == 1) r->timed_out = true;
  } else {
    auto a = attempt(s, r);
    co_await std::move(a);
  }
}

struct caller_done {
  round_state* s;
  handler_guard guard;
  void operator()(std::exception_ptr e) {
    caller_rec* r = guard.fire();
    if (e) s->fail("caller {}: the coroutine itself threw", r->id);
    ++s->completed;
  }
};

struct callback_done {
  round_state* s;
  handler_guard guard;
  void operator()(std::exception_ptr e, Value v) {
    caller_rec* r = guard.fire();
    if (e)
      record_exception(s, r, e);
    else
      record_value(s, r, v);
    ++s->completed;
  }
};

template <class Strand>
void start_caller(round_state& s, caller_rec* r, const Strand& strand) {
  r->signal = std::make_shared<asio::cancellation_signal>();
  if (r->mode == caller_mode::callback) {
    // The guard travels with the dispatched function: a shutdown may
    // destroy it before it runs.
    asio::dispatch(strand, [&s, r, strand, guard = handler_guard(r)]() mutable {
      const std::string key = s.key_name(r->key);
      auto loader = make_loader(&s, r->key, r->lmode, r->lparam, r->id);
      r->reached = true;
      r->initiated = true;
      ++s.initiated;
      s.group->async_do(
          key, loader,
          asio::bind_cancellation_slot(r->signal->slot(),
                                       asio::bind_executor(strand, callback_done{&s, std::move(guard)})));
    });
  } else {
    asio::co_spawn(strand, caller(&s, r),
                   asio::bind_cancellation_slot(r->signal->slot(), caller_done{&s, handler_guard(r)}));
  }
  if (r->cancel_planned) {
    auto t = std::make_shared<asio::steady_timer>(strand, r->cancel_after);
    t->async_wait([t, r](boost::system::error_code) {
      r->cancel_emitted = true;
      r->signal->emit(r->cancel_type);
    });
  }
}

// ---------------------------------------------------------------- chaos

// Forgets keys and reads the counters from its own thread while callers run;
// checks the identities that hold in every snapshot.
void chaos(round_state& s, std::uint64_t seed, std::atomic<bool>& stop) {
  std::mt19937_64 rng(seed);
  while (!stop.load()) {
    const int key = std::uniform_int_distribution<int>(0, s.p.keys - 1)(rng);
    if (std::uniform_int_distribution<int>(0, 99)(rng) < 10 * s.p.pct_forget) {
      const std::string k = s.key_name(key);
      ++s.forgets;
      ++s.forget_begun[static_cast<std::size_t>(key)];
      if (s.group->forget(k)) ++s.forgets_true;
      ++s.forget_done[static_cast<std::size_t>(key)];
    }
    const sf::Stats st = s.group->stats();
    if (st.calls != st.flights_started + st.joins + st.rejected)
      s.fail("snapshot: calls != flights_started + joins + rejected: {}", sf::to_string(st));
    if (st.in_flight > s.p.max_in_flight && s.p.kind == round_kind::normal)
      s.fail("snapshot: in_flight {} above max_in_flight {}", st.in_flight, s.p.max_in_flight);
    if (st.callers_cancelled > st.flights_started + st.joins)
      s.fail("snapshot: more callers cancelled than callers parked: {}", sf::to_string(st));
    if (st.forgotten > st.flights_started) s.fail("snapshot: more forgotten than flights: {}", sf::to_string(st));
    (void)s.group->in_flight();
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(50, 400)(rng)));
  }
}

// ---------------------------------------------------------------- totals

struct totals {
  int rounds = 0, rounds_by_kind[3] = {};
  long callers = 0, cancels_emitted = 0, cancels_by_type[5] = {}, timeouts = 0, values = 0, loader_errors = 0,
       aborted = 0, too_many = 0, destroyed_unresumed = 0, forgets = 0, forgets_true = 0, loaders = 0,
       loaders_threw = 0, loaders_cancelled = 0;
};

int cancel_type_index(cancellation_type_t t) {
  if (t == cancellation_type::terminal) return 0;
  if (t == cancellation_type::partial) return 1;
  if (t == cancellation_type::total) return 2;
  if (t == cancellation_type::none) return 3;
  return 4;  // a combination
}

template <class Pred>
bool wait_for(Pred pred, clock_type::duration limit) {
  const auto deadline = clock_type::now() + limit;
  while (!pred()) {
    if (clock_type::now() > deadline) return false;
    std::this_thread::sleep_for(200us);
  }
  return true;
}

// ---------------------------------------------------------------- a round

bool run_round(const config& cfg, int round, totals& tot) {
  std::mt19937_64 rng(cfg.seed ^ (0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(round + 1)));
  const round_params p = make_params(rng, round, cfg.scale, cfg.off_strand);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const std::string where = fmt::format("seed={} round={} ({})", cfg.seed, round, describe(p));
  BOOST_TEST_MESSAGE("stress round: " << where);

  auto s = std::make_unique<round_state>(p, cfg.seed, round);
  sf::Options opts;
  opts.keep_abandoned_loaders = p.keep;
  opts.max_in_flight = p.max_in_flight;
  s->group = std::make_unique<Group>(s->ioc->get_executor(), opts);

  // Callers, decided up front from the seed.
  std::discrete_distribution<int> loader_pick(std::begin(p.loader_weights), std::end(p.loader_weights));
  const cancellation_type_t cancel_types[] = {cancellation_type::terminal, cancellation_type::partial,
                                              cancellation_type::total, cancellation_type::none,
                                              cancellation_type::terminal | cancellation_type::partial};
  std::chrono::microseconds max_timeout{0};
  for (int i = 0; i < p.callers; ++i) {
    auto r = std::make_unique<caller_rec>();
    r->id = i;
    r->key = pick(0, p.keys - 1);
    const int m = pick(0, 99);
    r->mode = m < p.pct_timeout ? caller_mode::timeout
              : m < p.pct_timeout + (100 - p.pct_timeout) / 3 ? caller_mode::plain
              : m < p.pct_timeout + 2 * (100 - p.pct_timeout) / 3 ? caller_mode::shared
                                                                 : caller_mode::callback;
    r->lmode = static_cast<loader_mode>(loader_pick(rng));
    switch (r->lmode) {
      case loader_mode::value_later: r->lparam = pick(0, 2000); break;
      case loader_mode::throw_deep: r->lparam = pick(1, 8); break;
      case loader_mode::hop: r->lparam = pick(1, 3); break;
      case loader_mode::stubborn: r->lparam = pick(200, 3000); break;
      default: break;
    }
    r->reset_filter = pick(0, 1) == 1;
    r->timeout = std::chrono::microseconds(pick(50, 5000));
    if (r->mode == caller_mode::timeout) max_timeout = std::max(max_timeout, r->timeout);
    r->cancel_planned = pick(0, 99) < p.pct_cancel;
    r->cancel_type = cancel_types[pick(0, 4)];
    r->cancel_after = std::chrono::microseconds(pick(0, 3000));
    s->callers.push_back(std::move(r));
  }

  // Threads.
  auto work = asio::make_work_guard(*s->ioc);
  std::vector<std::thread> threads;
  for (int i = 0; i < p.threads; ++i)
    threads.emplace_back([&s] {
      // Nothing should escape a handler; if something does, say what and go on.
      for (;;) {
        try {
          s->ioc->run();
          return;
        } catch (const std::exception& e) {
          s->fail("an exception escaped io_context::run: {} ({})", e.what(), typeid(e).name());
        } catch (...) {
          s->fail("an exception escaped io_context::run");
        }
      }
    });
  std::vector<asio::strand<asio::io_context::executor_type>> strands;
  for (int i = 0; i < p.strands; ++i) strands.push_back(asio::make_strand(*s->ioc));

  const bool pinned = p.kind == round_kind::destroy && !cfg.unpinned;
  std::optional<caller_rec> pin_rec;
  if (pinned) {
    // The pin: a flight whose loader outlives the group (see run_loader).
    pin_rec.emplace();
    pin_rec->key = p.keys;
    s->group->async_do(s->key_name(p.keys), make_loader(s.get(), p.keys, loader_mode::pin, 0, -1),
                       [g = handler_guard(&*pin_rec)](std::exception_ptr, Value) mutable { g.fire(); });
  }

  std::atomic<bool> stop_chaos{false};
  std::thread chaos_thread([&, chaos_seed = rng()] { chaos(*s, chaos_seed, stop_chaos); });
  auto stop_chaos_thread = [&] {
    stop_chaos = true;
    if (chaos_thread.joinable()) chaos_thread.join();
  };

  // Spawn.
  const int stop_at = p.kind == round_kind::shutdown ? pick(p.callers / 3, p.callers) : p.callers;
  int spawned = 0;
  for (; spawned < stop_at; ++spawned) {
    caller_rec* r = s->callers[static_cast<std::size_t>(spawned)].get();
    start_caller(*s, r, strands[static_cast<std::size_t>(pick(0, p.strands - 1))]);
    if (pick(0, 99) < p.pct_forget) {
      const std::string k = s->key_name(r->key);
      ++s->forgets;
      ++s->forget_begun[static_cast<std::size_t>(r->key)];
      if (s->group->forget(k)) ++s->forgets_true;
      ++s->forget_done[static_cast<std::size_t>(r->key)];
    }
    if (pick(0, 9) == 0) std::this_thread::sleep_for(std::chrono::microseconds(pick(0, 300)));
  }

  auto report_stuck = [&](const char* what) {
    std::string stuck;
    int n = 0;
    for (int i = 0; i < spawned && n < 10; ++i) {
      const caller_rec& r = *s->callers[static_cast<std::size_t>(i)];
      if (r.handler_calls.load() == 0) {
        stuck += fmt::format(" [caller {} key {} mode {} loader {} initiated {} cancel {}]", r.id, r.key,
                             static_cast<int>(r.mode), static_cast<int>(r.lmode), r.initiated.load(),
                             r.cancel_emitted.load());
        ++n;
      }
    }
    std::fprintf(stderr, "stress: %s; %s\n  completed %d/%d, loaders started %llu ended %llu, stats %s\n  stuck:%s\n",
                 what, where.c_str(), s->completed.load(), spawned,
                 static_cast<unsigned long long>(s->loaders_started.load()),
                 static_cast<unsigned long long>(s->loaders_ended.load()),
                 s->group ? sf::to_string(s->group->stats()).c_str() : "(group destroyed)", stuck.c_str());
    std::fflush(stderr);
    std::abort();  // a hang: nothing sensible can be unwound with callers parked
  };

  const auto grace = 2 * max_timeout + 3000us + 20ms;
  std::optional<sf::Stats> final_stats;
  if (p.kind == round_kind::shutdown) {
    std::this_thread::sleep_for(std::chrono::microseconds(pick(0, 3000)));
    stop_chaos_thread();
    s->ioc->stop();
    for (auto& t : threads) t.join();
    threads.clear();
    s->pool.join();  // the pool's work posts back to the stopped context, not run
    final_stats = s->group->stats();
    s->ioc->shut_down();  // destroys parked callers and every pending handler
    s->group.reset();
  } else {
    if (p.kind == round_kind::destroy) {
      // No caller may be inside a call on the group when it goes: every
      // attempt has begun, and each caller strand has then run one more
      // handler (a call into the group is part of one handler on its strand).
      if (!wait_for([&] { return s->initiated.load() == spawned; }, 30s))
        report_stuck("callers never reached the group");
      std::atomic<int> drained{0};
      for (auto& st : strands) asio::post(st, [&drained] { ++drained; });
      if (!wait_for([&] { return drained.load() == static_cast<int>(strands.size()); }, 30s))
        report_stuck("caller strands never drained");
      std::this_thread::sleep_for(std::chrono::microseconds(pick(0, 2000)));
      stop_chaos_thread();
      final_stats = s->group->stats();
      s->group.reset();  // parked callers complete with operation_aborted
    }
    wait_for([&] { return s->completed.load() == spawned; }, grace);
    s->kill = true;  // hang loaders give up: their callers get the loader's exception
    if (!wait_for([&] { return s->completed.load() == spawned; }, 30s)) report_stuck("callers never completed");
    stop_chaos_thread();
    s->pin_release = true;
    if (s->group && !wait_for([&] { return s->loaders_ended.load() == s->group->stats().flights_started; }, 30s))
      report_stuck("loaders never ended");
    // A loader's body ends just before the group finishes its flight: the
    // counters are final once the threads have run out of work.
    work.reset();
    for (auto& t : threads) t.join();
    threads.clear();
    s->pool.join();
    if (s->group) {
      final_stats = s->group->stats();
      if (final_stats->in_flight != 0 || s->group->in_flight() != 0)
        s->fail("in_flight not back to 0: {}", sf::to_string(*final_stats));
    }
    s->group.reset();
  }
  stop_chaos_thread();
  // The context goes before anything its leftover handlers refer to (frames
  // that shutdown() posted for destruction are destroyed only here), and
  // after every object that refers to it (group, strands, work guard).
  work.reset();
  strands.clear();
  s->ioc->shut_down();  // no-op unless a shutdown round left handlers
  // co_spawn keeps the coroutine's executor (a strand) in the handler it
  // installs in the caller's signal: the signals go before the context.
  for (auto& r : s->callers) r->signal.reset();
  s->ioc.reset();

  // ------------------------------------------------------------ checks
  long values = 0, loader_errors = 0, aborted = 0, aborted_reached = 0, too_many = 0, reached = 0, destroyed = 0;
  std::map<std::uint64_t, int> recipients;  // flight serial -> callers that got its value
  std::map<std::uint64_t, const void*> exception_of;
  for (int i = 0; i < spawned; ++i) {
    caller_rec& r = *s->callers[static_cast<std::size_t>(i)];
    const bool coroutine = r.mode != caller_mode::callback;
    tot.cancels_emitted += r.cancel_emitted.load() ? 1 : 0;
    if (r.cancel_emitted.load()) ++tot.cancels_by_type[cancel_type_index(r.cancel_type)];
    tot.timeouts += r.timed_out ? 1 : 0;
    if (r.handler_calls.load() > 1) s->fail("caller {} completed {} times", r.id, r.handler_calls.load());
    if (r.handler_calls.load() + r.handler_destroyed.load() != 1)
      s->fail("caller {} (mode {}, initiated {}, frames {}/{}, resumes {}, result {}): {} completions, {} handlers "
              "destroyed unrun",
              r.id, static_cast<int>(r.mode), r.initiated.load(), r.frames_created.load(), r.frames_destroyed.load(),
              r.resumes.load(), static_cast<int>(r.result), r.handler_calls.load(), r.handler_destroyed.load());
    if (coroutine && r.frames_created.load() != r.frames_destroyed.load())
      s->fail("caller {}: frame created {} times, destroyed {} times", r.id, r.frames_created.load(),
              r.frames_destroyed.load());
    if (r.resumes.load() > 1) s->fail("caller {} resumed {} times", r.id, r.resumes.load());
    reached += r.reached ? 1 : 0;
    if (p.kind != round_kind::shutdown) {
      if (r.handler_calls.load() != 1) continue;
      if (coroutine && r.resumes.load() != 1) s->fail("caller {} completed without its do_ returning", r.id);
    } else if (r.handler_calls.load() == 0) {
      ++destroyed;
      continue;
    }
    switch (r.result) {
      case outcome::value:
        ++values;
        ++recipients[r.serial];
        break;
      case outcome::loader_error: {
        ++loader_errors;
        auto [it, fresh] = exception_of.emplace(r.serial, r.exception_address);
        if (!fresh && it->second != r.exception_address)
          s->fail("callers of flight {} got different exception objects", r.serial);
        break;
      }
      case outcome::aborted:
        ++aborted;
        aborted_reached += r.reached ? 1 : 0;
        if (p.kind == round_kind::normal && !r.timed_out && !r.cancel_effective())
          s->fail("caller {} (mode {}, reset {}) got operation_aborted without being cancelled or timing out "
                  "(cancel emitted {}, type {})",
                  r.id, static_cast<int>(r.mode), r.reset_filter, r.cancel_emitted.load(),
                  static_cast<int>(r.cancel_type));
        break;
      case outcome::too_many:
        ++too_many;
        if (p.max_in_flight == SIZE_MAX) s->fail("caller {} got too_many_flights without a limit", r.id);
        break;
      case outcome::none:
        s->fail("caller {} completed without an outcome", r.id);
        break;
      case outcome::unexpected:
        s->fail("caller {} got an unexpected outcome: {}", r.id, r.detail);
        break;
    }
    // A value or exception must come from a loader of this key that ended so.
    if (r.result == outcome::value || r.result == outcome::loader_error) {
      auto it = s->results.find(r.serial);
      if (it == s->results.end())
        s->fail("caller {} got the result of an unknown loader {}", r.id, r.serial);
      else if (it->second.key != r.key)
        s->fail("caller {} of key {} got loader {} of key {}", r.id, r.key, r.serial, it->second.key);
      else if (it->second.returned != (r.result == outcome::value))
        s->fail("caller {} got a {} from loader {}, which {}", r.id,
                r.result == outcome::value ? "value" : "exception", r.serial,
                it->second.returned ? "returned" : "threw");
    }
  }
  // do_shared's flag: true exactly when the value went to more than one caller.
  if (p.kind != round_kind::shutdown)
    for (int i = 0; i < spawned; ++i) {
      const caller_rec& r = *s->callers[static_cast<std::size_t>(i)];
      if (r.mode == caller_mode::shared && r.result == outcome::value && r.shared != (recipients[r.serial] > 1))
        s->fail("caller {}: shared={} but flight {} went to {} caller(s)", r.id, r.shared, r.serial,
                recipients[r.serial]);
    }

  if (final_stats) {
    const sf::Stats& st = *final_stats;
    const std::string sts = sf::to_string(st);
    const std::uint64_t pin_calls = pinned ? 1 : 0;
    if (st.calls != st.flights_started + st.joins + st.rejected)
      s->fail("calls != flights_started + joins + rejected: {}", sts);
    if (p.keep ? st.loaders_cancelled != 0 : st.loaders_kept != 0)
      s->fail("keep_abandoned_loaders={} but {}", p.keep, sts);
    if (st.forgotten != s->forgets_true.load())
      s->fail("forgotten={} but forget() returned true {} times", st.forgotten, s->forgets_true.load());
    if (p.kind == round_kind::normal) {
      // Everything has ended: exact identities.
      if (st.calls != static_cast<std::uint64_t>(reached))
        s->fail("calls={} but {} callers reached the group", st.calls, reached);
      if (st.flights_started != s->loaders_started.load())
        s->fail("flights_started={} but {} loaders ran", st.flights_started, s->loaders_started.load());
      // Failures of abandoned (cancelled) loaders are not counted. A loader
      // that saw its cancellation was abandoned; one abandoned may also end
      // before its cancellation lands, at most loaders_cancelled - seen.
      const std::uint64_t threw_uncancelled = s->loaders_threw.load() - s->loaders_threw_cancelled.load();
      const std::uint64_t unseen = st.loaders_cancelled - std::min(st.loaders_cancelled, s->loaders_saw_cancel.load());
      if (st.loader_failures > threw_uncancelled || st.loader_failures + unseen < threw_uncancelled)
        s->fail("loader_failures={}, but {} loaders threw without seeing a cancellation and {} cancellations were "
                "not seen",
                st.loader_failures, threw_uncancelled, unseen);
      if (st.rejected != static_cast<std::uint64_t>(too_many))
        s->fail("rejected={} but {} callers got too_many_flights", st.rejected, too_many);
      if (st.callers_cancelled != static_cast<std::uint64_t>(aborted_reached))
        s->fail("callers_cancelled={} but {} callers that reached the group were aborted", st.callers_cancelled,
                aborted_reached);
      if (st.flights_started + st.joins - st.callers_cancelled != static_cast<std::uint64_t>(values + loader_errors))
        s->fail("{} callers got a result, expected flights_started + joins - callers_cancelled: {}",
                values + loader_errors, sts);
      if (s->loaders_saw_cancel.load() > st.loaders_cancelled)
        s->fail("{} loaders saw a cancellation but loaders_cancelled={}", s->loaders_saw_cancel.load(),
                st.loaders_cancelled);
      if (st.in_flight != 0) s->fail("in_flight={} at the end", st.in_flight);
    } else {
      if (st.calls > static_cast<std::uint64_t>(reached) + pin_calls)
        s->fail("calls={} but only {} callers reached the group", st.calls, reached);
      if (st.callers_cancelled > static_cast<std::uint64_t>(aborted_reached) + pin_calls &&
          p.kind == round_kind::destroy)
        s->fail("callers_cancelled={} but {} callers were aborted", st.callers_cancelled, aborted_reached);
    }
    tot.loaders_cancelled += static_cast<long>(st.loaders_cancelled);
  }
  if (s->loaders_ended.load() != s->loaders_started.load() && p.kind != round_kind::normal)
    s->fail("{} loaders started but {} ended or were destroyed", s->loaders_started.load(), s->loaders_ended.load());

  tot.rounds += 1;
  tot.rounds_by_kind[static_cast<int>(p.kind)] += 1;
  tot.callers += spawned;
  tot.values += values;
  tot.loader_errors += loader_errors;
  tot.aborted += aborted;
  tot.too_many += too_many;
  tot.destroyed_unresumed += destroyed;
  tot.forgets += static_cast<long>(s->forgets.load());
  tot.forgets_true += static_cast<long>(s->forgets_true.load());
  tot.loaders += static_cast<long>(s->loaders_started.load());
  tot.loaders_threw += static_cast<long>(s->loaders_threw.load());

  std::lock_guard lock(s->fail_mu);
  for (const auto& f : s->failures)
    BOOST_ERROR(f << "\n  reproduce with SF_STRESS_SEED=" << cfg.seed << " SF_STRESS_ROUND=" << round << "; "
                  << where);
  return s->failures.empty();
}

}  // namespace

BOOST_AUTO_TEST_CASE(randomized_stress) {
  const config cfg = read_config();
  BOOST_TEST_MESSAGE("stress: seed=" << cfg.seed << " (SF_STRESS_SEED to reproduce) seconds=" << cfg.seconds
                                     << " scale=" << cfg.scale);
  std::fprintf(stderr, "stress: seed=%llu\n", static_cast<unsigned long long>(cfg.seed));
  const auto start = clock_type::now();
  totals tot;
  if (cfg.only_round >= 0) {
    run_round(cfg, cfg.only_round, tot);
  } else {
    const auto budget = std::chrono::duration<double>(cfg.seconds);
    for (int round = 0; round < kMinRounds || clock_type::now() - start < budget; ++round) {
      if (!run_round(cfg, round, tot)) break;  // the failing round's seed and number are printed
    }
  }
  const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  const std::string summary = fmt::format(
      "stress summary: seed={} rounds={} (normal {}, destroy {}, shutdown {}) callers={} values={} "
      "loader_errors={} aborted={} too_many_flights={} destroyed_unresumed={} cancellations={} "
      "(terminal {}, partial {}, total {}, none {}, combined {}) timeouts={} forgets={} (unlinked {}) "
      "loaders={} (threw {}, cancelled {}) elapsed={:.2f}s",
      cfg.seed, tot.rounds, tot.rounds_by_kind[0], tot.rounds_by_kind[1], tot.rounds_by_kind[2], tot.callers,
      tot.values, tot.loader_errors, tot.aborted, tot.too_many, tot.destroyed_unresumed, tot.cancels_emitted,
      tot.cancels_by_type[0], tot.cancels_by_type[1], tot.cancels_by_type[2], tot.cancels_by_type[3],
      tot.cancels_by_type[4], tot.timeouts, tot.forgets, tot.forgets_true, tot.loaders, tot.loaders_threw,
      tot.loaders_cancelled, secs);
  BOOST_TEST_MESSAGE(summary);
  std::fprintf(stderr, "%s\n", summary.c_str());
  BOOST_TEST(tot.rounds >= (cfg.only_round >= 0 ? 1 : kMinRounds));
}
