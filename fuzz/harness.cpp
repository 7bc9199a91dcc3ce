// SPDX-License-Identifier: BSL-1.0
#include "harness.hpp"

#include "check.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <string_view>
#include <utility>

namespace sffuzz {

namespace asio = boost::asio;
namespace sf = singleflight;
using asio::awaitable;

// ------------------------------------------------------------ loaders

awaitable<void> harness::wait_gate(std::shared_ptr<gate> g) {
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

awaitable<int> harness::run_loader(int flight, loader_mode mode) {
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

// ------------------------------------------------------------ callers

observed harness::observe(std::exception_ptr e) {
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

awaitable<void> harness::coro_caller(caller_rec* r) {
  if (r->reset_filter) co_await asio::this_coro::reset_cancellation_state(sftest::pass_all{});
  sftest::frame_canary canary(*r);
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
  SFFUZZ_CHECK(canary.alive(), "caller %d resumed in a destroyed frame", r->id);
}

struct harness::coro_done {
  harness* h;
  caller_rec* r;
  sftest::handler_guard guard;
  void operator()(std::exception_ptr e) {
    guard.fire();
    if (e) r->obs = observe(e);  // cancelled before its coroutine ran
    h->log(ev::done, r->id);
  }
};

struct harness::callback_done {
  harness* h;
  caller_rec* r;
  sftest::handler_guard guard;
  void operator()(std::exception_ptr e, int v) {
    guard.fire();
    r->obs = e ? observe(e) : observed{outcome::value, v, false, nullptr};
    h->log(ev::done, r->id);
  }
};

void harness::start(caller_rec* r) {
  r->signal = std::make_unique<asio::cancellation_signal>();
  m.callers.emplace_back();
  if (r->f == form::callback) {
    const std::string key = key_name(r->key);
    auto loader = make_loader(r);
    auto slot = r->signal->slot();
    if (r->on_caller_ctx)
      group->async_do(std::string_view(key), loader,
                      asio::bind_cancellation_slot(
                          slot, asio::bind_executor(*caller_ctx, callback_done{this, r, sftest::handler_guard(*r)})));
    else
      group->async_do(key, loader,
                      asio::bind_cancellation_slot(slot, callback_done{this, r, sftest::handler_guard(*r)}));
    m.join(r->id, *r);
  } else {
    auto& ctx = r->on_caller_ctx ? *caller_ctx : *group_ctx;
    asio::co_spawn(ctx, coro_caller(r),
                   asio::bind_cancellation_slot(r->signal->slot(), coro_done{this, r, sftest::handler_guard(*r)}));
  }
}

// ------------------------------------------------------------ the operations

void harness::run(const std::uint8_t* data, std::size_t size) {
  decoder in(data, size);
  const run_options ro = in.options();
  m.keep = ro.keep;
  m.max_in_flight = ro.max_in_flight;
  sf::Options opts;
  opts.keep_abandoned_loaders = m.keep;
  opts.max_in_flight = m.max_in_flight;
  trace("options: keep=%d max_in_flight=%zu end=%s", m.keep, ro.max_in_flight == SIZE_MAX ? 0 : ro.max_in_flight,
        ro.end_with_shutdown ? "shutdown" : "drain");

  group_ctx.emplace();
  caller_ctx.emplace();
  group = std::make_unique<Group>(group_ctx->get_executor(), opts);

  for (std::size_t index = 0; index < kMaxOps && in.more(); ++index) {
    apply(in.next(callers.size()), index, opts);
    replay_events();
    check_stats();
  }

  if (ro.end_with_shutdown)
    end_by_shutdown(ro.shut_callers_first);
  else
    end_by_draining();
}

void harness::apply(const op& o, std::size_t index, const sf::Options& opts) {
  switch (o.kind) {
    case op_kind::start_caller: start_caller(o.caller, index); break;
    case op_kind::cancel: cancel(o.target, o.type, index); break;
    case op_kind::finish_loader: finish_loader(o.choice, o.fail, index); break;
    case op_kind::forget: forget(o.key, o.by_view, index); break;
    case op_kind::run_one: {
      trace("op %zu: run one handler of the %s", index, o.callers_ctx ? "callers' ctx" : "group's ctx");
      auto& ctx = context(o.callers_ctx);
      ctx.restart();
      ctx.poll_one();
      break;
    }
    case op_kind::run_all: {
      trace("op %zu: run the %s", index, o.callers_ctx ? "callers' ctx" : "group's ctx");
      auto& ctx = context(o.callers_ctx);
      ctx.restart();
      ctx.poll();
      break;
    }
    case op_kind::run_idle:
      trace("op %zu: run until idle", index);
      run_idle();
      check_quiescent();
      break;
    case op_kind::destroy_group:
      trace("op %zu: destroy the group (generation %d)", index, gen);
      check_stats();
      group.reset();
      m.close();
      ++gen;
      group = std::make_unique<Group>(group_ctx->get_executor(), opts);
      break;
    case op_kind::nothing:
      break;
  }
}

void harness::start_caller(const caller_spec& spec, std::size_t index) {
  auto r = std::make_unique<caller_rec>();
  r->id = static_cast<int>(callers.size());
  r->key = spec.key;
  r->f = spec.f;
  r->on_caller_ctx = spec.on_caller_ctx;
  r->reset_filter = spec.reset_filter;
  r->lmode = spec.lmode;
  r->gen = gen;
  trace("op %zu: start caller %d key %d form %d on %s reset=%d loader %d", index, r->id, r->key,
        static_cast<int>(r->f), r->on_caller_ctx ? "callers' ctx" : "group's ctx", r->reset_filter,
        static_cast<int>(r->lmode));
  callers.push_back(std::move(r));
  start(callers.back().get());
}

void harness::cancel(int c, cancellation_type_t t, std::size_t index) {
  caller_rec& r = *callers[static_cast<std::size_t>(c)];
  trace("op %zu: cancel caller %d type %d", index, c, static_cast<int>(t));
  if (r.f == form::callback) {
    // The waiter's canceller runs at once, here.
    m.cancel(c, r, t);
    r.signal->emit(t);
  } else {
    // co_spawn dispatches a cancellation to the coroutine's executor: emit
    // from there, so that it lands now, as one logged event.
    asio::post(context(r.on_caller_ctx), [this, c, t] {
      caller_rec& rc = *callers[static_cast<std::size_t>(c)];
      log(ev::cancel, c, static_cast<int>(t));
      rc.signal->emit(t);
    });
  }
}

void harness::finish_loader(unsigned choice, bool fail, std::size_t index) {
  std::vector<std::shared_ptr<gate>> waiting;
  for (auto& g : gates)
    if (g->waiting) waiting.push_back(g);
  if (waiting.empty()) return;
  auto& g = waiting[choice % waiting.size()];
  trace("op %zu: finish loader of flight %d with %s", index, g->flight, fail ? "an exception" : "a value");
  g->waiting = false;
  g->fail = fail;
  auto complete = std::move(g->complete);
  complete(boost::system::error_code{});
}

void harness::forget(int k, bool by_view, std::size_t index) {
  const std::string key = key_name(k);
  const bool want = m.forget(k);
  const bool got = by_view ? group->forget(std::string_view(key)) : group->forget(key);
  trace("op %zu: forget key %d -> %d", index, k, got);
  SFFUZZ_CHECK(got == want, "forget(key %d) returned %d, model says %d", k, got, want);
}

// ------------------------------------------------------------ events

void harness::replay_events() {
  for (std::size_t i = 0; i < events.size(); ++i) apply_event(events[i]);
  events.clear();
}

void harness::apply_event(const event& e) {
  switch (e.type) {
    case ev::attempt: {
      caller_rec& r = *callers[static_cast<std::size_t>(e.caller)];
      m_caller& mc = m.callers[static_cast<std::size_t>(e.caller)];
      trace("  event: caller %d reaches the group", e.caller);
      SFFUZZ_CHECK(mc.state == m_state::spawned, "caller %d attempted twice", e.caller);
      SFFUZZ_CHECK(mc.pending == cancellation_type::none, "caller %d ran although cancelled before it started",
                   e.caller);
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
      SFFUZZ_CHECK(it != m.flights.end(), "a loader started for flight %d, which the model never created", e.caller);
      SFFUZZ_CHECK(!it->second.started, "the loader of flight %d started twice", e.caller);
      it->second.started = true;
      break;
    }
    case ev::loader_cancel: {
      trace("  event: loader of flight %d cancelled (type %d)", e.caller, e.arg);
      m_flight& f = m.flights[e.caller];
      SFFUZZ_CHECK(f.abandoned, "the loader of flight %d was cancelled but its flight was not abandoned or closed",
                   e.caller);
      SFFUZZ_CHECK(!f.done && !f.cancel_seen, "the loader of flight %d was cancelled after it ended, or twice",
                   e.caller);
      SFFUZZ_CHECK(static_cast<cancellation_type_t>(e.arg) == cancellation_type::terminal,
                   "the loader of flight %d got cancellation type %d, not terminal", e.caller, e.arg);
      f.cancel_seen = true;
      break;
    }
    case ev::loader_end:
      trace("  event: loader of flight %d ends (%d)", e.caller, e.arg);
      m.finish(e.caller, static_cast<end_kind>(e.arg));
      break;
    case ev::done:
      caller_completed(e.caller);
      break;
  }
}

// Caller c's handler ran: what it observed must be what the model expects.
void harness::caller_completed(int c) {
  caller_rec& r = *callers[static_cast<std::size_t>(c)];
  m_caller& mc = m.callers[static_cast<std::size_t>(c)];
  trace("  event: caller %d completes: %s %d shared=%d", c, name(r.obs.kind), r.obs.value, r.obs.shared);
  SFFUZZ_CHECK(r.handler_calls == 1, "caller %d completed %d times", c, r.handler_calls.load());
  if (mc.state == m_state::spawned) {
    // A coroutine cancelled before it ran never reaches the group.
    SFFUZZ_CHECK(mc.pending != cancellation_type::none, "caller %d completed without running", c);
    m.determine(c, {outcome::aborted}, -1);
  }
  SFFUZZ_CHECK(mc.state == m_state::determined, "caller %d completed while the model has it %s", c,
               mc.state == m_state::parked ? "parked" : "delivered");
  const observed& want = mc.expect;
  SFFUZZ_CHECK(r.obs.kind == want.kind, "caller %d: got %s, model says %s", c, name(r.obs.kind), name(want.kind));
  if (want.kind == outcome::value) {
    SFFUZZ_CHECK(r.obs.value == want.value, "caller %d: value %d, model says %d", c, r.obs.value, want.value);
    if (r.f == form::do_shared)
      SFFUZZ_CHECK(r.obs.shared == want.shared, "caller %d: shared=%d, model says %d", c, r.obs.shared,
                   want.shared);
  }
  if (want.kind == outcome::loader_error) {
    SFFUZZ_CHECK(r.obs.value == want.value, "caller %d: exception of flight %d, model says %d", c, r.obs.value,
                 want.value);
    auto [it, fresh] = m.exception_of.emplace(want.value, r.obs.exception);
    SFFUZZ_CHECK(fresh || it->second == r.obs.exception, "callers of flight %d got different exception objects",
                 want.value);
  }
  mc.state = m_state::delivered;
}

// ------------------------------------------------------------ checks

void harness::check_stats() {
  const sf::Stats s = group->stats();
  sf::Stats want = m.stats;
  want.in_flight = m.linked_in_current();
  if (!(s == want))
    mismatch("stats\n  library: %s\n  model:   %s", sf::to_string(s).c_str(), sf::to_string(want).c_str());
  SFFUZZ_CHECK(group->in_flight() == want.in_flight, "in_flight() %zu, model %zu", group->in_flight(),
               static_cast<std::size_t>(want.in_flight));
}

// Both contexts idle: nothing the model expects may still be pending.
void harness::check_quiescent() {
  for (std::size_t c = 0; c < m.callers.size(); ++c) {
    const m_caller& mc = m.callers[c];
    SFFUZZ_CHECK(mc.state != m_state::spawned, "idle, but caller %zu never ran", c);
    SFFUZZ_CHECK(mc.state != m_state::determined, "idle, but caller %zu was never completed (%s due)", c,
                 name(mc.expect.kind));
  }
  for (const auto& [id, f] : m.flights) {
    SFFUZZ_CHECK(f.started, "idle, but the loader of flight %d never started", id);
    if (f.abandoned) SFFUZZ_CHECK(f.done, "idle, but the cancelled loader of flight %d never ended", id);
  }
}

// ------------------------------------------------------------ running and ending

void harness::run_idle() {
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

void harness::end_by_draining() {
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
  SFFUZZ_CHECK(group->in_flight() == 0u, "in_flight() %zu after draining", group->in_flight());
  group.reset();
  m.close();
  run_idle();
  check_quiescent();
  teardown();
  for (const auto& r : callers) {
    SFFUZZ_CHECK(r->handler_calls == 1 && r->handler_destroyed == 0,
                 "caller %d: %d completions, %d handlers destroyed", r->id, r->handler_calls.load(),
                 r->handler_destroyed.load());
    SFFUZZ_CHECK(r->frames_created == r->frames_destroyed, "caller %d: %d frames, %d destroyed", r->id,
                 r->frames_created.load(), r->frames_destroyed.load());
  }
}

// Shut the contexts down with callers parked: those not completed by then
// are destroyed without ever being resumed.
void harness::end_by_shutdown(bool callers_first) {
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
    SFFUZZ_CHECK(r.handler_calls == (delivered ? 1 : 0),
                 "caller %zu: %d completions after shutdown (delivered before: %d)", c, r.handler_calls.load(),
                 delivered);
    SFFUZZ_CHECK(r.handler_calls + r.handler_destroyed == 1, "caller %zu: %d completions, %d handlers destroyed", c,
                 r.handler_calls.load(), r.handler_destroyed.load());
    SFFUZZ_CHECK(r.frames_created == r.frames_destroyed, "caller %zu: %d frames, %d destroyed", c,
                 r.frames_created.load(), r.frames_destroyed.load());
  }
}

void harness::teardown() {
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

}  // namespace sffuzz
