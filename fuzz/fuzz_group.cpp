// libFuzzer target: drives an AsyncGroup with an operation sequence decoded
// from the input, on io_contexts stepped by hand (single thread, so every
// run is deterministic), and checks every outcome against a reference model;
// abort() on the first mismatch.
//
// Two contexts: the group's (its executor and strand: loaders run there)
// and the callers' (where some callers are spawned or bound), so the fuzzer
// interleaves completions across executors.
//
// Input: byte 0 chooses the options (keep_abandoned_loaders, max_in_flight)
// and how the run ends (drain, or shut the contexts down with callers
// parked). Then operations, each an opcode byte and argument bytes:
//   start a caller (key, form: callback / do_ / do_shared, on which context,
//     whether its coroutine passes partial and total cancellation, and its
//     loader: one the input finishes later, or one that returns or throws at
//     once or before its awaitable);
//   cancel caller i (terminal, partial, total, none, combinations);
//   finish loader j (value or exception);
//   forget key k; destroy the group (a new one takes its place);
//   run one ready handler, or all, of one context, or both until idle.
//
// The model is event driven. What the harness does synchronously (a
// callback caller's join, a cancellation, forget, destroy) it applies at
// once; what happens while handlers run (a coroutine caller reaching the
// group, a loader starting, being cancelled, ending, a caller completing)
// the harness logs as events in the order they happen, and the model replays
// and checks them. After every step the group's stats() and in_flight() must
// equal the model's; when both contexts are idle, nothing may be pending.
//
// SF_FUZZ_VERBOSE=1 prints the operations.
#include <singleflight/async_group.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace sf = singleflight;
using asio::awaitable;
using asio::cancellation_type;
using asio::cancellation_type_t;
using Group = sf::AsyncGroup<std::string, int>;

constexpr int kKeys = 4;
constexpr std::size_t kMaxCallers = 48;
constexpr std::size_t kMaxOps = 400;

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' && *v != '0';
}
const bool verbose = env_flag("SF_FUZZ_VERBOSE");

void trace(const char* fmt, ...) {
  if (!verbose) return;
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}

[[noreturn]] void mismatch(const char* fmt, ...) {
  std::fprintf(stderr, "fuzz_group: model mismatch: ");
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  std::abort();
}

#define CHECK(cond, ...) \
  do {                   \
    if (!(cond)) mismatch(__VA_ARGS__); \
  } while (0)

class shutdown_context : public asio::io_context {
 public:
  shutdown_context() : asio::io_context(1) {}
  void shut_down() { shutdown(); }
};

struct fuzz_error : std::runtime_error {
  explicit fuzz_error(int f) : std::runtime_error("loader failed"), flight(f) {}
  int flight;  // the id of the caller that started the flight
};

// ------------------------------------------------------------ callers

enum class form { callback, do_, do_shared };
enum class loader_mode { gated, value_now, throw_now, throw_early };
enum class outcome { none, value, loader_error, aborted, too_many, no_group, other };

const char* name(outcome o) {
  switch (o) {
    case outcome::none: return "none";
    case outcome::value: return "value";
    case outcome::loader_error: return "loader_error";
    case outcome::aborted: return "aborted";
    case outcome::too_many: return "too_many";
    case outcome::no_group: return "no_group";
    case outcome::other: return "other";
  }
  return "?";
}

struct observed {
  outcome kind = outcome::none;
  int value = -1;  // the value, or the fuzz_error's flight
  bool shared = false;
  const void* exception = nullptr;
};

struct caller_rec {
  int id = 0;
  int key = 0;
  int gen = 0;  // the group it was started on
  form f = form::callback;
  bool on_caller_ctx = false;
  bool reset_filter = false;
  loader_mode lmode = loader_mode::gated;
  std::unique_ptr<asio::cancellation_signal> signal;
  observed obs;  // written just before the completion event
  int handler_calls = 0;
  int handler_destroyed = 0;
  int frames = 0, frames_destroyed = 0;
};

// ------------------------------------------------------------ events

enum class ev { attempt, cancel, loader_start, loader_cancel, loader_end, done };
enum class end_kind { value, thrown, aborted };

struct event {
  ev type;
  int caller;  // the caller, or the flight (its creator) for loader events
  int arg = 0;
};

// ------------------------------------------------------------ the model

struct m_flight {
  int id = 0;  // creator caller
  int key = 0;
  int gen = 0;
  bool linked = true;
  bool done = false;
  bool abandoned = false;  // its loader has a cancellation on the way
  bool started = false;
  bool cancel_seen = false;
  std::vector<int> waiters;
};

enum class m_state { spawned, parked, determined, delivered };

struct m_caller {
  m_state state = m_state::spawned;
  int flight = -1;  // parked on, or the result's flight
  observed expect;
  cancellation_type_t pending = cancellation_type::none;  // a coroutine's, before it starts
};

struct model {
  bool keep = false;
  std::size_t max_in_flight = SIZE_MAX;
  int gen = 0;
  sf::Stats stats;  // the current group's
  std::map<int, m_flight> flights;
  std::map<std::pair<int, int>, int> table;  // (gen, key) -> flight
  std::vector<m_caller> callers;
  std::map<int, const void*> exception_of;  // flight -> the exception object its callers saw

  std::size_t linked_in_current() const {
    std::size_t n = 0;
    for (const auto& [k, f] : table)
      if (k.first == gen) ++n;
    return n;
  }

  void determine(int c, observed o, int flight) {
    m_caller& mc = callers[static_cast<std::size_t>(c)];
    mc.state = m_state::determined;
    mc.expect = o;
    mc.flight = flight;
  }

  void join(int c, const caller_rec& r) {
    ++stats.calls;
    auto it = table.find({gen, r.key});
    if (it != table.end()) {
      ++stats.joins;
      flights[it->second].waiters.push_back(c);
      callers[static_cast<std::size_t>(c)].state = m_state::parked;
      callers[static_cast<std::size_t>(c)].flight = it->second;
    } else if (linked_in_current() >= max_in_flight) {
      ++stats.rejected;
      determine(c, {outcome::too_many}, -1);
    } else {
      ++stats.flights_started;
      m_flight f;
      f.id = c;
      f.key = r.key;
      f.gen = gen;
      f.waiters.push_back(c);
      flights[c] = f;
      table[{gen, r.key}] = c;
      callers[static_cast<std::size_t>(c)].state = m_state::parked;
      callers[static_cast<std::size_t>(c)].flight = c;
    }
  }

  void unlink(m_flight& f) {
    if (!f.linked) return;
    table.erase({f.gen, f.key});
    f.linked = false;
  }

  // A parked caller's cancellation reached its waiter.
  void detach(int c) {
    m_caller& mc = callers[static_cast<std::size_t>(c)];
    if (mc.state != m_state::parked) return;
    m_flight& f = flights[mc.flight];
    std::erase(f.waiters, c);
    determine(c, {outcome::aborted}, mc.flight);
    if (f.gen == gen) ++stats.callers_cancelled;
    if (f.waiters.empty() && !f.done && !f.abandoned) {
      if (keep) {
        if (f.gen == gen) ++stats.loaders_kept;
      } else {
        unlink(f);
        f.abandoned = true;
        if (f.gen == gen) ++stats.loaders_cancelled;
      }
    }
  }

  // A cancellation of type `t` reaches caller c (a callback's waiter at
  // once; a coroutine through its cancellation state).
  void cancel(int c, const caller_rec& r, cancellation_type_t t) {
    const cancellation_type_t all3 = cancellation_type::terminal | cancellation_type::partial | cancellation_type::total;
    m_caller& mc = callers[static_cast<std::size_t>(c)];
    if (r.f == form::callback) {
      if ((t & all3) != cancellation_type::none) detach(c);
    } else if (mc.state == m_state::spawned) {
      mc.pending = t & cancellation_type::terminal;  // co_spawn's default filter; the last emit wins
    } else {
      const cancellation_type_t mask = r.reset_filter ? all3 : cancellation_type_t(cancellation_type::terminal);
      if ((t & mask) != cancellation_type::none) detach(c);
    }
  }

  bool forget(int key) {
    auto it = table.find({gen, key});
    if (it == table.end()) return false;
    unlink(flights[it->second]);
    ++stats.forgotten;
    return true;
  }

  // ~AsyncGroup: parked callers get operation_aborted, unfinished loaders a
  // cancellation; a new group (generation) takes over.
  void close() {
    for (auto& [id, f] : flights) {
      if (f.gen != gen || f.done) continue;
      for (int w : f.waiters) determine(w, {outcome::aborted}, id);
      f.waiters.clear();
      f.linked = false;
      if (!f.abandoned && !keep) f.abandoned = true;
    }
    for (auto it = table.begin(); it != table.end();)
      it = it->first.first == gen ? table.erase(it) : std::next(it);
    ++gen;
    stats = {};
  }

  void finish(int id, end_kind k) {
    m_flight& f = flights[id];
    CHECK(f.started && !f.done, "flight %d ended twice or before it started", id);
    f.done = true;
    unlink(f);
    // An abandoned (cancelled) loader's failure reaches no one: not counted.
    if (k != end_kind::value && !f.abandoned && f.gen == gen) ++stats.loader_failures;
    const bool shared = f.waiters.size() > 1;
    for (int w : f.waiters) {
      observed o;
      if (k == end_kind::value) {
        o.kind = outcome::value;
        o.value = id;
        o.shared = shared;
      } else if (k == end_kind::thrown) {
        o.kind = outcome::loader_error;
        o.value = id;
      } else {
        o.kind = outcome::aborted;  // a cancelled loader's own operation_aborted
      }
      determine(w, o, id);
    }
    f.waiters.clear();
  }
};

// ------------------------------------------------------------ the harness

struct gate {
  int flight = 0;
  bool waiting = false;
  bool fail = false;
  std::function<void(boost::system::error_code)> complete;  // posts the loader's resumption
};

struct harness;

struct handler_guard {
  caller_rec* r;
  explicit handler_guard(caller_rec* rec) : r(rec) {}
  handler_guard(handler_guard&& o) noexcept : r(std::exchange(o.r, nullptr)) {}
  handler_guard& operator=(handler_guard&&) = delete;
  ~handler_guard() {
    if (r != nullptr) ++r->handler_destroyed;
  }
  caller_rec* fire() {
    ++r->handler_calls;
    return std::exchange(r, nullptr);
  }
};

class frame_canary {
 public:
  explicit frame_canary(caller_rec* r) : r_(r) { ++r_->frames; }
  frame_canary(const frame_canary&) = delete;
  frame_canary& operator=(const frame_canary&) = delete;
  ~frame_canary() {
    magic_ = 0xDEADDEADu;
    ++r_->frames_destroyed;
  }
  void check() const { CHECK(magic_ == 0x5F1A11E5u, "caller %d resumed in a destroyed frame", r_->id); }

 private:
  volatile unsigned magic_ = 0x5F1A11E5u;
  caller_rec* r_;
};

struct pass_all {
  cancellation_type_t operator()(cancellation_type_t t) const noexcept { return t; }
};

struct harness {
  // Declared first, destroyed last: frames that the contexts destroy refer
  // to the records and the event log.
  std::vector<std::unique_ptr<caller_rec>> callers;
  std::vector<event> events;
  std::vector<std::shared_ptr<gate>> gates;  // in loader start order
  model m;
  std::optional<shutdown_context> group_ctx, caller_ctx;
  std::unique_ptr<Group> group;
  int gen = 0;

  void log(ev type, int caller, int arg = 0) { events.push_back({type, caller, arg}); }

  std::string key_name(int k) const { return "key-" + std::to_string(k); }

  // -------------------------------------------------------- loaders

  awaitable<void> wait_gate(std::shared_ptr<gate> g) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(boost::system::error_code)>(
        [this, g](auto handler) {
          using H = decltype(handler);
          auto hp = std::make_shared<H>(std::move(handler));
          g->waiting = true;
          g->complete = [hp](boost::system::error_code ec) {
            auto ex = asio::get_associated_executor(*hp);
            asio::post(ex, [hp, ec]() mutable { std::move(*hp)(ec); });
          };
          auto slot = asio::get_associated_cancellation_slot(*hp);
          if (slot.is_connected())
            slot.assign([this, g](cancellation_type_t t) {
              if (!g->waiting) return;  // finished already: its completion is on the way
              log(ev::loader_cancel, g->flight, static_cast<int>(t));
              g->waiting = false;
              auto complete = std::move(g->complete);
              complete(asio::error::operation_aborted);
            });
        },
        asio::use_awaitable);
  }

  awaitable<int> run_loader(int flight, loader_mode mode) {
    log(ev::loader_start, flight);
    if (mode == loader_mode::value_now) {
      log(ev::loader_end, flight, static_cast<int>(end_kind::value));
      co_return flight;
    }
    if (mode == loader_mode::throw_now) {
      log(ev::loader_end, flight, static_cast<int>(end_kind::thrown));
      throw fuzz_error(flight);
    }
    auto g = std::make_shared<gate>();
    g->flight = flight;
    gates.push_back(g);
    try {
      auto wait = wait_gate(g);
      co_await std::move(wait);
    } catch (const boost::system::system_error&) {
      log(ev::loader_end, flight, static_cast<int>(end_kind::aborted));
      throw;
    }
    if (g->fail) {
      log(ev::loader_end, flight, static_cast<int>(end_kind::thrown));
      throw fuzz_error(flight);
    }
    log(ev::loader_end, flight, static_cast<int>(end_kind::value));
    co_return flight;
  }

  auto make_loader(const caller_rec* r) {
    const int flight = r->id;
    const loader_mode mode = r->lmode;
    return [this, flight, mode]() -> awaitable<int> {
      if (mode == loader_mode::throw_early) {  // throws instead of returning its awaitable
        log(ev::loader_start, flight);
        log(ev::loader_end, flight, static_cast<int>(end_kind::thrown));
        throw fuzz_error(flight);
      }
      return run_loader(flight, mode);
    };
  }

  // -------------------------------------------------------- callers

  static observed observe(std::exception_ptr e) {
    observed o;
    try {
      std::rethrow_exception(e);
    } catch (const fuzz_error& err) {
      o.kind = outcome::loader_error;
      o.value = err.flight;
      o.exception = &err;
    } catch (const boost::system::system_error& err) {
      if (err.code() == asio::error::operation_aborted)
        o.kind = outcome::aborted;
      else if (err.code() == sf::make_error_code(sf::errc::too_many_flights))
        o.kind = outcome::too_many;
      else
        o.kind = outcome::other;
    } catch (...) {
      o.kind = outcome::other;
    }
    return o;
  }

  awaitable<void> coro_caller(caller_rec* r) {
    if (r->reset_filter) co_await asio::this_coro::reset_cancellation_state(pass_all{});
    frame_canary canary(r);
    log(ev::attempt, r->id);
    if (r->gen != gen) {  // its group was destroyed before it ran
      r->obs.kind = outcome::no_group;
      co_return;
    }
    const std::string key = key_name(r->key);
    auto loader = make_loader(r);
    try {
      if (r->f == form::do_shared) {
        auto op = group->do_shared(key, loader);
        sf::Shared<int> got = co_await std::move(op);
        r->obs = {outcome::value, got.value, got.shared, nullptr};
      } else {
        auto op = group->do_(key, loader);
        int got = co_await std::move(op);
        r->obs = {outcome::value, got, false, nullptr};
      }
    } catch (...) {
      r->obs = observe(std::current_exception());
    }
    canary.check();
  }

  struct coro_done {
    harness* h;
    handler_guard guard;
    void operator()(std::exception_ptr e) {
      caller_rec* r = guard.fire();
      if (e) r->obs = observe(e);  // cancelled before its coroutine ran
      h->log(ev::done, r->id);
    }
  };

  struct callback_done {
    harness* h;
    handler_guard guard;
    void operator()(std::exception_ptr e, int v) {
      caller_rec* r = guard.fire();
      r->obs = e ? observe(e) : observed{outcome::value, v, false, nullptr};
      h->log(ev::done, r->id);
    }
  };

  void start(caller_rec* r) {
    r->signal = std::make_unique<asio::cancellation_signal>();
    m.callers.emplace_back();
    if (r->f == form::callback) {
      const std::string key = key_name(r->key);
      auto loader = make_loader(r);
      auto slot = r->signal->slot();
      if (r->on_caller_ctx)
        group->async_do(std::string_view(key), loader,
                        asio::bind_cancellation_slot(
                            slot, asio::bind_executor(*caller_ctx, callback_done{this, handler_guard(r)})));
      else
        group->async_do(key, loader, asio::bind_cancellation_slot(slot, callback_done{this, handler_guard(r)}));
      m.join(r->id, *r);
    } else {
      auto& ctx = r->on_caller_ctx ? *caller_ctx : *group_ctx;
      asio::co_spawn(ctx, coro_caller(r), asio::bind_cancellation_slot(r->signal->slot(), coro_done{this, handler_guard(r)}));
    }
  }


  // -------------------------------------------------------- events

  void replay_events() {
    for (std::size_t i = 0; i < events.size(); ++i) apply(events[i]);
    events.clear();
  }

  void apply(const event& e) {
    switch (e.type) {
      case ev::attempt: {
        caller_rec& r = *callers[static_cast<std::size_t>(e.caller)];
        m_caller& mc = m.callers[static_cast<std::size_t>(e.caller)];
        trace("  event: caller %d reaches the group", e.caller);
        CHECK(mc.state == m_state::spawned, "caller %d attempted twice", e.caller);
        CHECK(mc.pending == cancellation_type::none, "caller %d ran although cancelled before it started", e.caller);
        if (r.gen != m.gen)
          m.determine(e.caller, {outcome::no_group}, -1);
        else
          m.join(e.caller, r);
        break;
      }
      case ev::cancel:
        trace("  event: caller %d cancelled (type %d)", e.caller, e.arg);
        m.cancel(e.caller, *callers[static_cast<std::size_t>(e.caller)], static_cast<cancellation_type_t>(e.arg));
        break;
      case ev::loader_start: {
        trace("  event: loader of flight %d starts", e.caller);
        auto it = m.flights.find(e.caller);
        CHECK(it != m.flights.end(), "a loader started for flight %d, which the model never created", e.caller);
        CHECK(!it->second.started, "the loader of flight %d started twice", e.caller);
        it->second.started = true;
        break;
      }
      case ev::loader_cancel: {
        trace("  event: loader of flight %d cancelled (type %d)", e.caller, e.arg);
        m_flight& f = m.flights[e.caller];
        CHECK(f.abandoned, "the loader of flight %d was cancelled but its flight was not abandoned or closed", e.caller);
        CHECK(!f.done && !f.cancel_seen, "the loader of flight %d was cancelled after it ended, or twice", e.caller);
        CHECK(static_cast<cancellation_type_t>(e.arg) == cancellation_type::terminal,
              "the loader of flight %d got cancellation type %d, not terminal", e.caller, e.arg);
        f.cancel_seen = true;
        break;
      }
      case ev::loader_end:
        trace("  event: loader of flight %d ends (%d)", e.caller, e.arg);
        m.finish(e.caller, static_cast<end_kind>(e.arg));
        break;
      case ev::done: {
        caller_rec& r = *callers[static_cast<std::size_t>(e.caller)];
        m_caller& mc = m.callers[static_cast<std::size_t>(e.caller)];
        trace("  event: caller %d completes: %s %d shared=%d", e.caller, name(r.obs.kind), r.obs.value, r.obs.shared);
        CHECK(r.handler_calls == 1, "caller %d completed %d times", e.caller, r.handler_calls);
        if (mc.state == m_state::spawned) {
          // A coroutine cancelled before it ran never reaches the group.
          CHECK(mc.pending != cancellation_type::none, "caller %d completed without running", e.caller);
          m.determine(e.caller, {outcome::aborted}, -1);
        }
        CHECK(mc.state == m_state::determined, "caller %d completed while the model has it %s", e.caller,
              mc.state == m_state::parked ? "parked" : "delivered");
        const observed& want = mc.expect;
        CHECK(r.obs.kind == want.kind, "caller %d: got %s, model says %s", e.caller, name(r.obs.kind),
              name(want.kind));
        if (want.kind == outcome::value) {
          CHECK(r.obs.value == want.value, "caller %d: value %d, model says %d", e.caller, r.obs.value, want.value);
          if (r.f == form::do_shared)
            CHECK(r.obs.shared == want.shared, "caller %d: shared=%d, model says %d", e.caller, r.obs.shared,
                  want.shared);
        }
        if (want.kind == outcome::loader_error) {
          CHECK(r.obs.value == want.value, "caller %d: exception of flight %d, model says %d", e.caller, r.obs.value,
                want.value);
          auto [it, fresh] = m.exception_of.emplace(want.value, r.obs.exception);
          CHECK(fresh || it->second == r.obs.exception, "callers of flight %d got different exception objects",
                want.value);
        }
        mc.state = m_state::delivered;
        break;
      }
    }
  }

  // -------------------------------------------------------- checks

  void check_stats() {
    const sf::Stats s = group->stats();
    sf::Stats want = m.stats;
    want.in_flight = m.linked_in_current();
    if (!(s == want))
      mismatch("stats\n  library: %s\n  model:   %s", sf::to_string(s).c_str(), sf::to_string(want).c_str());
    CHECK(group->in_flight() == want.in_flight, "in_flight() %zu, model %zu", group->in_flight(),
          static_cast<std::size_t>(want.in_flight));
  }

  // Both contexts idle: nothing the model expects may still be pending.
  void check_quiescent() {
    for (std::size_t c = 0; c < m.callers.size(); ++c) {
      const m_caller& mc = m.callers[c];
      CHECK(mc.state != m_state::spawned, "idle, but caller %zu never ran", c);
      CHECK(mc.state != m_state::determined, "idle, but caller %zu was never completed (%s due)", c,
            name(mc.expect.kind));
    }
    for (const auto& [id, f] : m.flights) {
      CHECK(f.started, "idle, but the loader of flight %d never started", id);
      if (f.abandoned) CHECK(f.done, "idle, but the cancelled loader of flight %d never ended", id);
    }
  }

  bool poll_one(shutdown_context& ctx) {
    ctx.restart();
    return ctx.poll_one() > 0;
  }

  void run_idle() {
    for (;;) {
      bool ran = false;
      for (auto* ctx : {&*group_ctx, &*caller_ctx}) {
        ctx->restart();
        while (ctx->poll() > 0) ran = true;
      }
      replay_events();
      if (!ran) break;
    }
  }

  // -------------------------------------------------------- the run

  void run(const std::uint8_t* data, std::size_t size) {
    std::size_t pos = 0;
    auto next = [&]() -> unsigned { return pos < size ? data[pos++] : 0u; };
    const unsigned opts_byte = next();
    m.keep = (opts_byte & 1u) != 0;
    const unsigned limit = (opts_byte >> 1) & 3u;
    m.max_in_flight = limit == 0 ? SIZE_MAX : limit;
    const bool end_with_shutdown = (opts_byte & 8u) != 0;
    const bool shut_callers_first = (opts_byte & 16u) != 0;
    sf::Options opts;
    opts.keep_abandoned_loaders = m.keep;
    opts.max_in_flight = m.max_in_flight;
    trace("options: keep=%d max_in_flight=%u end=%s", m.keep, limit, end_with_shutdown ? "shutdown" : "drain");

    group_ctx.emplace();
    caller_ctx.emplace();
    group = std::make_unique<Group>(group_ctx->get_executor(), opts);

    for (std::size_t op = 0; op < kMaxOps && pos < size; ++op) {
      const unsigned code = next() % 16;
      switch (code) {
        case 0: case 1: case 2: case 3: {  // start a caller
          if (callers.size() >= kMaxCallers) break;
          const unsigned a = next(), b = next();
          auto r = std::make_unique<caller_rec>();
          r->id = static_cast<int>(callers.size());
          r->key = static_cast<int>(a % kKeys);
          r->f = static_cast<form>(((a >> 2) & 3u) % 3);
          r->on_caller_ctx = ((a >> 4) & 1u) != 0;
          r->reset_filter = ((a >> 5) & 1u) != 0;
          static constexpr loader_mode modes[8] = {loader_mode::gated,     loader_mode::gated,
                                                   loader_mode::gated,     loader_mode::gated,
                                                   loader_mode::gated,     loader_mode::value_now,
                                                   loader_mode::throw_now, loader_mode::throw_early};
          r->lmode = modes[b % 8];
          r->gen = gen;
          trace("op %zu: start caller %d key %d form %d on %s reset=%d loader %d", op, r->id, r->key,
                static_cast<int>(r->f), r->on_caller_ctx ? "callers' ctx" : "group's ctx", r->reset_filter,
                static_cast<int>(r->lmode));
          callers.push_back(std::move(r));
          start(callers.back().get());
          break;
        }
        case 4: case 5: {  // cancel a caller
          if (callers.empty()) break;
          const unsigned a = next(), b = next();
          const int c = static_cast<int>(a % callers.size());
          static constexpr cancellation_type_t types[8] = {
              cancellation_type::terminal, cancellation_type::partial, cancellation_type::total,
              cancellation_type::none,     cancellation_type::terminal | cancellation_type::partial,
              cancellation_type::all,      cancellation_type::partial | cancellation_type::total,
              cancellation_type::terminal};
          const cancellation_type_t t = types[b % 8];
          caller_rec& r = *callers[static_cast<std::size_t>(c)];
          trace("op %zu: cancel caller %d type %d", op, c, static_cast<int>(t));
          if (r.f == form::callback) {
            // The waiter's canceller runs at once, here.
            m.cancel(c, r, t);
            r.signal->emit(t);
          } else {
            // co_spawn dispatches a cancellation to the coroutine's executor:
            // emit from there, so that it lands now, as one logged event.
            auto& ctx = r.on_caller_ctx ? *caller_ctx : *group_ctx;
            asio::post(ctx, [this, c, t] {
              caller_rec& rc = *callers[static_cast<std::size_t>(c)];
              log(ev::cancel, c, static_cast<int>(t));
              rc.signal->emit(t);
            });
          }
          break;
        }
        case 6: case 7: {  // finish a gated loader
          const unsigned a = next(), b = next();
          std::vector<std::shared_ptr<gate>> waiting;
          for (auto& g : gates)
            if (g->waiting) waiting.push_back(g);
          if (waiting.empty()) break;
          auto& g = waiting[a % waiting.size()];
          trace("op %zu: finish loader of flight %d with %s", op, g->flight, (b & 1u) ? "an exception" : "a value");
          g->waiting = false;
          g->fail = (b & 1u) != 0;
          auto complete = std::move(g->complete);
          complete(boost::system::error_code{});
          break;
        }
        case 8: {  // forget
          const unsigned a = next();
          const int k = static_cast<int>(a % kKeys);
          const std::string key = key_name(k);
          const bool want = m.forget(k);
          const bool got = (a & 4u) ? group->forget(std::string_view(key)) : group->forget(key);
          trace("op %zu: forget key %d -> %d", op, k, got);
          CHECK(got == want, "forget(key %d) returned %d, model says %d", k, got, want);
          break;
        }
        case 9: case 10: {  // run one ready handler
          const unsigned a = next();
          auto& ctx = (a & 1u) ? *caller_ctx : *group_ctx;
          trace("op %zu: run one handler of the %s", op, (a & 1u) ? "callers' ctx" : "group's ctx");
          poll_one(ctx);
          break;
        }
        case 11: case 12: {  // run all ready handlers of one context
          const unsigned a = next();
          auto& ctx = (a & 1u) ? *caller_ctx : *group_ctx;
          trace("op %zu: run the %s", op, (a & 1u) ? "callers' ctx" : "group's ctx");
          ctx.restart();
          ctx.poll();
          break;
        }
        case 13: {  // run both until idle
          trace("op %zu: run until idle", op);
          run_idle();
          check_quiescent();
          break;
        }
        case 14: {  // destroy the group
          if ((next() & 3u) != 0) break;  // rarer than the rest
          trace("op %zu: destroy the group (generation %d)", op, gen);
          check_stats();
          group.reset();
          m.close();
          ++gen;
          group = std::make_unique<Group>(group_ctx->get_executor(), opts);
          break;
        }
        default:  // 15: nothing
          break;
      }
      replay_events();
      check_stats();
    }

    if (end_with_shutdown)
      end_by_shutdown(shut_callers_first);
    else
      end_by_draining();
  }

  void end_by_draining() {
    trace("end: finish every loader and drain");
    for (;;) {
      run_idle();
      bool finished = false;
      for (auto& g : gates)
        if (g->waiting) {
          g->waiting = false;
          auto complete = std::move(g->complete);
          complete(boost::system::error_code{});
          finished = true;
        }
      if (!finished) break;
    }
    run_idle();
    check_quiescent();
    check_stats();
    CHECK(group->in_flight() == 0u, "in_flight() %zu after draining", group->in_flight());
    group.reset();
    m.close();
    run_idle();
    check_quiescent();
    teardown();
    for (const auto& r : callers) {
      CHECK(r->handler_calls == 1 && r->handler_destroyed == 0, "caller %d: %d completions, %d handlers destroyed",
            r->id, r->handler_calls, r->handler_destroyed);
      CHECK(r->frames == r->frames_destroyed, "caller %d: %d frames, %d destroyed", r->id, r->frames,
            r->frames_destroyed);
    }
  }

  // Shut the contexts down with callers parked: those not completed by then
  // are destroyed without ever being resumed.
  void end_by_shutdown(bool callers_first) {
    trace("end: shut the contexts down");
    if (callers_first) {
      caller_ctx->shut_down();
      group_ctx->shut_down();
    } else {
      group_ctx->shut_down();
      caller_ctx->shut_down();
    }
    events.clear();  // nothing runs after a shutdown; destructors log nothing
    teardown();
    for (std::size_t c = 0; c < callers.size(); ++c) {
      const caller_rec& r = *callers[c];
      const bool delivered = m.callers[c].state == m_state::delivered;
      CHECK(r.handler_calls == (delivered ? 1 : 0), "caller %zu: %d completions after shutdown (delivered before: %d)",
            c, r.handler_calls, delivered);
      CHECK(r.handler_calls + r.handler_destroyed == 1, "caller %zu: %d completions, %d handlers destroyed", c,
            r.handler_calls, r.handler_destroyed);
      CHECK(r.frames == r.frames_destroyed, "caller %zu: %d frames, %d destroyed", c, r.frames, r.frames_destroyed);
    }
  }

  void teardown() {
    // Gated loaders the input never finished: drop their handlers (their
    // coroutines are destroyed through their executors).
    for (auto& g : gates) g->complete = nullptr;
    gates.clear();
    group.reset();
    // co_spawn keeps the coroutine's executor in what it installs in a
    // caller's signal: the signals go before the contexts.
    for (auto& r : callers) r->signal.reset();
    group_ctx.reset();
    caller_ctx.reset();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  harness h;
  h.run(data, size);
  return 0;
}
