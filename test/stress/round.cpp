// SPDX-License-Identifier: BSL-1.0
#include "round.hpp"

#include "callers.hpp"
#include "chaos.hpp"
#include "loaders.hpp"
#include "round_state.hpp"
#include "support/wait.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <thread>
#include <typeinfo>
#include <vector>

namespace sfstress {

namespace {

using namespace std::chrono_literals;
using sftest::wait_until;

int cancel_type_index(cancellation_type_t t) {
  if (t == cancellation_type::terminal) return 0;
  if (t == cancellation_type::partial) return 1;
  if (t == cancellation_type::total) return 2;
  if (t == cancellation_type::none) return 3;
  return 4;  // a combination
}

/// What the callers of a round got, counted by check_callers.
struct tally {
  long values = 0, loader_errors = 0, aborted = 0, aborted_reached = 0, too_many = 0, reached = 0, destroyed = 0;
  std::map<std::uint64_t, int> recipients;  // flight serial -> callers that got its value
  std::map<std::uint64_t, const void*> exception_of;
};

class round_runner {
 public:
  round_runner(const config& cfg, int round)
      : cfg_(cfg),
        round_(round),
        rng_(cfg.seed ^ (0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(round + 1))),
        p_(make_params(rng_, round, cfg.scale, cfg.off_strand)),
        where_(fmt::format("seed={} round={} ({})", cfg.seed, round, describe(p_))),
        s_(std::make_unique<round_state>(p_, cfg.seed, round)) {}

  bool run(totals& tot) {
    BOOST_TEST_MESSAGE("stress round: " << where_);
    sf::Options opts;
    opts.keep_abandoned_loaders = p_.keep;
    opts.max_in_flight = p_.max_in_flight;
    s_->group = std::make_unique<Group>(s_->ioc->get_executor(), opts);

    plan_callers();
    start_threads();
    start_pin();
    start_chaos();
    spawn();
    if (p_.kind == round_kind::shutdown)
      end_by_shutdown();
    else
      end_by_completion();
    teardown();

    tally t;
    check_callers(t, tot);
    check_shared_flags(t);
    check_stats(t, tot);
    add_to(tot, t);
    return report();
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  // ---------------------------------------------------------- callers

  // Every caller's plan, decided up front from the seed.
  void plan_callers() {
    std::discrete_distribution<int> loader_pick(std::begin(p_.loader_weights), std::end(p_.loader_weights));
    const cancellation_type_t cancel_types[] = {cancellation_type::terminal, cancellation_type::partial,
                                                cancellation_type::total, cancellation_type::none,
                                                cancellation_type::terminal | cancellation_type::partial};
    for (int i = 0; i < p_.callers; ++i) {
      auto r = std::make_unique<caller_rec>();
      r->id = i;
      r->key = pick(0, p_.keys - 1);
      const int m = pick(0, 99);
      r->mode = m < p_.pct_timeout ? caller_mode::timeout
                : m < p_.pct_timeout + (100 - p_.pct_timeout) / 3 ? caller_mode::plain
                : m < p_.pct_timeout + 2 * (100 - p_.pct_timeout) / 3 ? caller_mode::shared
                                                                     : caller_mode::callback;
      r->lmode = static_cast<loader_mode>(loader_pick(rng_));
      switch (r->lmode) {
        case loader_mode::value_later: r->lparam = pick(0, 2000); break;
        case loader_mode::throw_deep: r->lparam = pick(1, 8); break;
        case loader_mode::hop: r->lparam = pick(1, 3); break;
        case loader_mode::stubborn: r->lparam = pick(200, 3000); break;
        default: break;
      }
      r->reset_filter = pick(0, 1) == 1;
      r->timeout = std::chrono::microseconds(pick(50, 5000));
      if (r->mode == caller_mode::timeout) max_timeout_ = std::max(max_timeout_, r->timeout);
      r->cancel_planned = pick(0, 99) < p_.pct_cancel;
      r->cancel_type = cancel_types[pick(0, 4)];
      r->cancel_after = std::chrono::microseconds(pick(0, 3000));
      s_->callers.push_back(std::move(r));
    }
  }

  // ---------------------------------------------------------- threads

  void start_threads() {
    work_.emplace(asio::make_work_guard(*s_->ioc));
    for (int i = 0; i < p_.threads; ++i)
      threads_.emplace_back([s = s_.get()] {
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
    for (int i = 0; i < p_.strands; ++i) strands_.push_back(asio::make_strand(*s_->ioc));
  }

  void join_threads() {
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  // A flight whose loader outlives the group, so that destroy rounds keep
  // the group's core alive while its callers can still be cancelled (unless
  // SF_STRESS_UNPINNED).
  void start_pin() {
    pinned_ = p_.kind == round_kind::destroy && !cfg_.unpinned;
    if (!pinned_) return;
    pin_rec_.emplace();
    pin_rec_->key = p_.keys;
    s_->group->async_do(s_->key_name(p_.keys), make_loader(s_.get(), p_.keys, loader_mode::pin, 0, -1),
                        [g = sftest::handler_guard(*pin_rec_)](std::exception_ptr, Value) mutable { g.fire(); });
  }

  void start_chaos() {
    chaos_thread_ = std::thread([this, chaos_seed = rng_()] { chaos(*s_, chaos_seed, stop_chaos_); });
  }

  void stop_chaos() {
    stop_chaos_ = true;
    if (chaos_thread_.joinable()) chaos_thread_.join();
  }

  // ---------------------------------------------------------- spawn

  // Shutdown rounds stop spawning at a random point, so that callers are
  // parked when the context goes.
  void spawn() {
    const int stop_at = p_.kind == round_kind::shutdown ? pick(p_.callers / 3, p_.callers) : p_.callers;
    for (; spawned_ < stop_at; ++spawned_) {
      caller_rec* r = s_->callers[static_cast<std::size_t>(spawned_)].get();
      start_caller(*s_, r, strands_[static_cast<std::size_t>(pick(0, p_.strands - 1))]);
      if (pick(0, 99) < p_.pct_forget) s_->forget_key(r->key);
      if (pick(0, 9) == 0) std::this_thread::sleep_for(std::chrono::microseconds(pick(0, 300)));
    }
  }

  // A hang: nothing sensible can be unwound with callers parked.
  [[noreturn]] void report_stuck(const char* what) {
    std::string stuck;
    int n = 0;
    for (int i = 0; i < spawned_ && n < 10; ++i) {
      const caller_rec& r = *s_->callers[static_cast<std::size_t>(i)];
      if (r.handler_calls.load() == 0) {
        stuck += fmt::format(" [caller {} key {} mode {} loader {} initiated {} cancel {}]", r.id, r.key,
                             static_cast<int>(r.mode), static_cast<int>(r.lmode), r.initiated.load(),
                             r.cancel_emitted.load());
        ++n;
      }
    }
    std::fprintf(stderr, "stress: %s; %s\n  completed %d/%d, loaders started %llu ended %llu, stats %s\n  stuck:%s\n",
                 what, where_.c_str(), s_->completed.load(), spawned_,
                 static_cast<unsigned long long>(s_->loaders_started.load()),
                 static_cast<unsigned long long>(s_->loaders_ended.load()),
                 s_->group ? sf::to_string(s_->group->stats()).c_str() : "(group destroyed)", stuck.c_str());
    std::fflush(stderr);
    std::abort();
  }

  // ---------------------------------------------------------- teardown

  // Shutdown rounds: stop the threads with callers parked, then shut the
  // context down, which destroys parked callers and every pending handler.
  void end_by_shutdown() {
    std::this_thread::sleep_for(std::chrono::microseconds(pick(0, 3000)));
    stop_chaos();
    s_->ioc->stop();
    join_threads();
    s_->pool.join();  // the pool's work posts back to the stopped context, not run
    final_stats_ = s_->group->stats();
    s_->ioc->shut_down();
    s_->group.reset();
  }

  // Normal and destroy rounds: every caller completes; hang loaders are
  // killed once the timeouts had their chance.
  void end_by_completion() {
    if (p_.kind == round_kind::destroy) destroy_group_with_callers_parked();
    const auto grace = 2 * max_timeout_ + 3000us + 20ms;
    wait_until([&] { return s_->completed.load() == spawned_; }, grace);
    s_->kill = true;  // hang loaders give up: their callers get the loader's exception
    if (!wait_until([&] { return s_->completed.load() == spawned_; }, 30s)) report_stuck("callers never completed");
    stop_chaos();
    s_->pin_release = true;
    if (s_->group && !wait_until([&] { return s_->loaders_ended.load() == s_->group->stats().flights_started; }, 30s))
      report_stuck("loaders never ended");
    // A loader's body ends just before the group finishes its flight: the
    // counters are final once the threads have run out of work.
    work_.reset();
    join_threads();
    s_->pool.join();
    if (s_->group) {
      final_stats_ = s_->group->stats();
      if (final_stats_->in_flight != 0 || s_->group->in_flight() != 0)
        s_->fail("in_flight not back to 0: {}", sf::to_string(*final_stats_));
    }
    s_->group.reset();
  }

  // No caller may be inside a call on the group when it goes: every attempt
  // has begun, and each caller strand has then run one more handler (a call
  // into the group is part of one handler on its strand).
  void destroy_group_with_callers_parked() {
    if (!wait_until([&] { return s_->initiated.load() == spawned_; }, 30s))
      report_stuck("callers never reached the group");
    std::atomic<int> drained{0};
    for (auto& st : strands_) asio::post(st, [&drained] { ++drained; });
    if (!wait_until([&] { return drained.load() == static_cast<int>(strands_.size()); }, 30s))
      report_stuck("caller strands never drained");
    std::this_thread::sleep_for(std::chrono::microseconds(pick(0, 2000)));
    stop_chaos();
    final_stats_ = s_->group->stats();
    s_->group.reset();  // parked callers complete with operation_aborted
  }

  // The context goes before anything its leftover handlers refer to (frames
  // that shutdown() posted for destruction are destroyed only here), and
  // after every object that refers to it (group, strands, work guard).
  void teardown() {
    stop_chaos();
    work_.reset();
    strands_.clear();
    s_->ioc->shut_down();  // no-op unless a shutdown round left handlers
    // co_spawn keeps the coroutine's executor (a strand) in the handler it
    // installs in the caller's signal: the signals go before the context.
    for (auto& r : s_->callers) r->signal.reset();
    s_->ioc.reset();
  }

  // ---------------------------------------------------------- checks

  // Each caller completed once (or, in shutdown rounds, was destroyed
  // unresumed), with an outcome its plan allows, from a loader of its key.
  void check_callers(tally& t, totals& tot) {
    round_state& s = *s_;
    for (int i = 0; i < spawned_; ++i) {
      caller_rec& r = *s.callers[static_cast<std::size_t>(i)];
      const bool coroutine = r.mode != caller_mode::callback;
      tot.cancels_emitted += r.cancel_emitted.load() ? 1 : 0;
      if (r.cancel_emitted.load()) ++tot.cancels_by_type[cancel_type_index(r.cancel_type)];
      tot.timeouts += r.timed_out ? 1 : 0;
      if (r.handler_calls.load() > 1) s.fail("caller {} completed {} times", r.id, r.handler_calls.load());
      if (r.handler_calls.load() + r.handler_destroyed.load() != 1)
        s.fail("caller {} (mode {}, initiated {}, frames {}/{}, resumes {}, result {}): {} completions, {} handlers "
               "destroyed unrun",
               r.id, static_cast<int>(r.mode), r.initiated.load(), r.frames_created.load(), r.frames_destroyed.load(),
               r.resumes.load(), static_cast<int>(r.result), r.handler_calls.load(), r.handler_destroyed.load());
      if (coroutine && r.frames_created.load() != r.frames_destroyed.load())
        s.fail("caller {}: frame created {} times, destroyed {} times", r.id, r.frames_created.load(),
               r.frames_destroyed.load());
      if (r.resumes.load() > 1) s.fail("caller {} resumed {} times", r.id, r.resumes.load());
      t.reached += r.reached ? 1 : 0;
      if (p_.kind != round_kind::shutdown) {
        if (r.handler_calls.load() != 1) continue;
        if (coroutine && r.resumes.load() != 1) s.fail("caller {} completed without its do_ returning", r.id);
      } else if (r.handler_calls.load() == 0) {
        ++t.destroyed;
        continue;
      }
      check_outcome(r, t);
    }
  }

  void check_outcome(const caller_rec& r, tally& t) {
    round_state& s = *s_;
    switch (r.result) {
      case outcome::value:
        ++t.values;
        ++t.recipients[r.serial];
        break;
      case outcome::loader_error: {
        ++t.loader_errors;
        auto [it, fresh] = t.exception_of.emplace(r.serial, r.exception_address);
        if (!fresh && it->second != r.exception_address)
          s.fail("callers of flight {} got different exception objects", r.serial);
        break;
      }
      case outcome::aborted:
        ++t.aborted;
        t.aborted_reached += r.reached ? 1 : 0;
        if (p_.kind == round_kind::normal && !r.timed_out && !r.cancel_effective())
          s.fail("caller {} (mode {}, reset {}) got operation_aborted without being cancelled or timing out "
                 "(cancel emitted {}, type {})",
                 r.id, static_cast<int>(r.mode), r.reset_filter, r.cancel_emitted.load(),
                 static_cast<int>(r.cancel_type));
        break;
      case outcome::too_many:
        ++t.too_many;
        if (p_.max_in_flight == SIZE_MAX) s.fail("caller {} got too_many_flights without a limit", r.id);
        break;
      case outcome::none:
        s.fail("caller {} completed without an outcome", r.id);
        break;
      case outcome::unexpected:
        s.fail("caller {} got an unexpected outcome: {}", r.id, r.detail);
        break;
    }
    // A value or exception must come from a loader of this key that ended so.
    if (r.result == outcome::value || r.result == outcome::loader_error) {
      auto it = s.results.find(r.serial);
      if (it == s.results.end())
        s.fail("caller {} got the result of an unknown loader {}", r.id, r.serial);
      else if (it->second.key != r.key)
        s.fail("caller {} of key {} got loader {} of key {}", r.id, r.key, r.serial, it->second.key);
      else if (it->second.returned != (r.result == outcome::value))
        s.fail("caller {} got a {} from loader {}, which {}", r.id, r.result == outcome::value ? "value" : "exception",
               r.serial, it->second.returned ? "returned" : "threw");
    }
  }

  // do_shared's flag: true exactly when the value went to more than one caller.
  void check_shared_flags(tally& t) {
    if (p_.kind == round_kind::shutdown) return;
    for (int i = 0; i < spawned_; ++i) {
      const caller_rec& r = *s_->callers[static_cast<std::size_t>(i)];
      if (r.mode == caller_mode::shared && r.result == outcome::value && r.shared != (t.recipients[r.serial] > 1))
        s_->fail("caller {}: shared={} but flight {} went to {} caller(s)", r.id, r.shared, r.serial,
                 t.recipients[r.serial]);
    }
  }

  // The counters add up: exact identities once everything has ended (normal
  // rounds), bounds when the group went with callers parked.
  void check_stats(const tally& t, totals& tot) {
    round_state& s = *s_;
    if (final_stats_) {
      const sf::Stats& st = *final_stats_;
      const std::string sts = sf::to_string(st);
      const std::uint64_t pin_calls = pinned_ ? 1 : 0;
      if (st.calls != st.flights_started + st.joins + st.rejected)
        s.fail("calls != flights_started + joins + rejected: {}", sts);
      if (p_.keep ? st.loaders_cancelled != 0 : st.loaders_kept != 0)
        s.fail("keep_abandoned_loaders={} but {}", p_.keep, sts);
      if (st.forgotten != s.forgets_true.load())
        s.fail("forgotten={} but forget() returned true {} times", st.forgotten, s.forgets_true.load());
      if (p_.kind == round_kind::normal) {
        if (st.calls != static_cast<std::uint64_t>(t.reached))
          s.fail("calls={} but {} callers reached the group", st.calls, t.reached);
        if (st.flights_started != s.loaders_started.load())
          s.fail("flights_started={} but {} loaders ran", st.flights_started, s.loaders_started.load());
        // Failures of abandoned (cancelled) loaders are not counted. A loader
        // that saw its cancellation was abandoned; one abandoned may also end
        // before its cancellation lands, at most loaders_cancelled - seen.
        const std::uint64_t threw_uncancelled = s.loaders_threw.load() - s.loaders_threw_cancelled.load();
        const std::uint64_t unseen = st.loaders_cancelled - std::min(st.loaders_cancelled, s.loaders_saw_cancel.load());
        if (st.loader_failures > threw_uncancelled || st.loader_failures + unseen < threw_uncancelled)
          s.fail("loader_failures={}, but {} loaders threw without seeing a cancellation and {} cancellations were "
                 "not seen",
                 st.loader_failures, threw_uncancelled, unseen);
        if (st.rejected != static_cast<std::uint64_t>(t.too_many))
          s.fail("rejected={} but {} callers got too_many_flights", st.rejected, t.too_many);
        if (st.callers_cancelled != static_cast<std::uint64_t>(t.aborted_reached))
          s.fail("callers_cancelled={} but {} callers that reached the group were aborted", st.callers_cancelled,
                 t.aborted_reached);
        if (st.flights_started + st.joins - st.callers_cancelled !=
            static_cast<std::uint64_t>(t.values + t.loader_errors))
          s.fail("{} callers got a result, expected flights_started + joins - callers_cancelled: {}",
                 t.values + t.loader_errors, sts);
        if (s.loaders_saw_cancel.load() > st.loaders_cancelled)
          s.fail("{} loaders saw a cancellation but loaders_cancelled={}", s.loaders_saw_cancel.load(),
                 st.loaders_cancelled);
        if (st.in_flight != 0) s.fail("in_flight={} at the end", st.in_flight);
      } else {
        if (st.calls > static_cast<std::uint64_t>(t.reached) + pin_calls)
          s.fail("calls={} but only {} callers reached the group", st.calls, t.reached);
        if (st.callers_cancelled > static_cast<std::uint64_t>(t.aborted_reached) + pin_calls &&
            p_.kind == round_kind::destroy)
          s.fail("callers_cancelled={} but {} callers were aborted", st.callers_cancelled, t.aborted_reached);
      }
      tot.loaders_cancelled += static_cast<long>(st.loaders_cancelled);
    }
    if (s.loaders_ended.load() != s.loaders_started.load() && p_.kind != round_kind::normal)
      s.fail("{} loaders started but {} ended or were destroyed", s.loaders_started.load(), s.loaders_ended.load());
  }

  void add_to(totals& tot, const tally& t) const {
    tot.rounds += 1;
    tot.rounds_by_kind[static_cast<int>(p_.kind)] += 1;
    tot.callers += spawned_;
    tot.values += t.values;
    tot.loader_errors += t.loader_errors;
    tot.aborted += t.aborted;
    tot.too_many += t.too_many;
    tot.destroyed_unresumed += t.destroyed;
    tot.forgets += static_cast<long>(s_->forgets.load());
    tot.forgets_true += static_cast<long>(s_->forgets_true.load());
    tot.loaders += static_cast<long>(s_->loaders_started.load());
    tot.loaders_threw += static_cast<long>(s_->loaders_threw.load());
  }

  bool report() {
    std::lock_guard lock(s_->fail_mu);
    for (const auto& f : s_->failures)
      BOOST_ERROR(f << "\n  reproduce with SF_STRESS_SEED=" << cfg_.seed << " SF_STRESS_ROUND=" << round_ << "; "
                    << where_);
    return s_->failures.empty();
  }

  const config& cfg_;
  const int round_;
  std::mt19937_64 rng_;
  const round_params p_;
  const std::string where_;
  std::unique_ptr<round_state> s_;
  std::chrono::microseconds max_timeout_{0};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::vector<caller_strand> strands_;
  bool pinned_ = false;
  std::optional<caller_rec> pin_rec_;
  std::atomic<bool> stop_chaos_{false};
  std::thread chaos_thread_;
  int spawned_ = 0;
  std::optional<sf::Stats> final_stats_;
};

}  // namespace

bool run_round(const config& cfg, int round, totals& tot) {
  round_runner r(cfg, round);
  return r.run(tot);
}

}  // namespace sfstress
