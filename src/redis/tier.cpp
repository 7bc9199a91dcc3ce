// SPDX-License-Identifier: BSL-1.0
// The lease protocol over the two connections: claim (hit, lead or follow),
// renewal while the leader loads, commit or abandon, invalidation, and the
// breaker that sends every caller to a local load while Redis misbehaves.
// Every member below is used on the strand only, except the atomics.
#include "link.hpp"
#include "scripts.hpp"
#include "subscriber.hpp"

#include <singleflight/redis.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <atomic>
#include <random>

namespace singleflight::redis {

namespace asio = boost::asio;
using boost::system::system_error;
using detail::reply;
using detail::script;
using std::chrono::steady_clock;

namespace {

struct key_names {
  std::string value, lease, channel;
};

// A leader's lease while its loader runs: renewed until finished.
struct renewal {
  renewal(const detail::strand_type& s, key_names k, std::string t) : timer(s), keys(std::move(k)), token(std::move(t)) {}
  asio::steady_timer timer;
  key_names keys;
  std::string token;
  bool finished = false;  // committed, abandoned or released
  bool lost = false;      // a renewal found another token (or none)
};

std::string random_instance() {
  std::random_device rd;
  std::uint64_t v = (std::uint64_t(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

class tier_impl;

class lease_impl final : public remote_lease {
 public:
  lease_impl(std::shared_ptr<tier_impl> t, std::shared_ptr<renewal> r) : tier(std::move(t)), ren(std::move(r)) {}
  ~lease_impl() override;
  std::shared_ptr<tier_impl> tier;
  std::shared_ptr<renewal> ren;
};

class tier_impl final : public tier, public std::enable_shared_from_this<tier_impl> {
 public:
  tier_impl(asio::any_io_executor ex, config cfg)
      : cfg_(std::move(cfg)),
        strand_(asio::make_strand(ex)),
        cmd_(strand_, cfg_),
        sub_(strand_, cfg_),
        instance_(random_instance()),
        rng_(std::random_device{}()) {
    cmd_.on_connect = [this]() { return load_scripts(); };
  }

  ~tier_impl() override {
    sub_.close();
    cmd_.close();
  }

  const detail::strand_type& executor() const { return strand_; }

  asio::awaitable<void> connect_both() {
    auto first = cmd_.ensure();
    co_await std::move(first);
    auto second = sub_.connection().ensure();
    co_await std::move(second);
  }

  asio::awaitable<claim_result> claim(std::string key) override {
    auto a = asio::co_spawn(strand_, claim_here(shared_from_this(), std::move(key)), asio::use_awaitable);
    claim_result r = co_await std::move(a);
    co_return r;
  }

  asio::awaitable<bool> commit(std::shared_ptr<remote_lease> lease, std::string bytes,
                               std::chrono::milliseconds ttl) override {
    auto a = asio::co_spawn(strand_, commit_here(shared_from_this(), std::move(lease), std::move(bytes), ttl),
                            asio::use_awaitable);
    bool ok = co_await std::move(a);
    co_return ok;
  }

  asio::awaitable<void> abandon(std::shared_ptr<remote_lease> lease, std::optional<std::string> error,
                                std::chrono::milliseconds error_ttl) override {
    std::string message = error ? "e" + *error : std::string("g");
    auto a = asio::co_spawn(strand_, abandon_here(shared_from_this(), std::move(lease), std::move(message), error_ttl),
                            asio::use_awaitable);
    co_await std::move(a);
  }

  void invalidate(std::string key) override {
    asio::co_spawn(strand_, invalidate_here(shared_from_this(), std::move(key)), asio::detached);
  }

  tier_stats stats() const override {
    tier_stats s;
    s.claims = claims_;
    s.hits = hits_;
    s.leads = leads_;
    s.woken = woken_;
    s.local = local_;
    s.commits = commits_;
    s.refused = refused_;
    s.failures = failures_;
    s.round_trips = round_trips_;
    return s;
  }

  bool breaker_open() const override { return steady_clock::now().time_since_epoch().count() < open_until_; }

  // The release of a lease dropped without commit or abandon.
  void release(std::shared_ptr<renewal> ren) {
    asio::post(strand_, [self = shared_from_this(), ren] {
      if (ren->finished) return;
      asio::co_spawn(self->strand_, abandon_lease(self, ren, "g", std::chrono::milliseconds(0)), asio::detached);
    });
  }

 private:
  key_names names(const std::string& key) const {
    const std::string tag = "{" + key + "}";
    return {cfg_.prefix + tag, cfg_.prefix + "l:" + tag, cfg_.prefix + "d:" + tag};
  }

  void trip() {
    ++failures_;
    open_until_ = (steady_clock::now() + cfg_.breaker_backoff).time_since_epoch().count();
  }

  static bool ours(const system_error& e) { return e.code().category() == error_category(); }

  asio::awaitable<void> load_scripts() {
    for (int i = 0; i < static_cast<int>(script::count); ++i) {
      ++round_trips_;
      std::vector<std::string> args{"SCRIPT", "LOAD", detail::script_source[i]};
      auto loading = cmd_.exec_now(std::move(args));
      reply r = co_await std::move(loading);
      if (r.type != reply::kind::string) throw system_error(errc::protocol_error);
      sha_[i] = r.str;
    }
  }

  // EVALSHA, and EVAL when the server lost its scripts (a restart).
  asio::awaitable<reply> run(script s, const key_names& k, std::vector<std::string> args) {
    const int i = static_cast<int>(s);
    std::vector<std::string> cmd{"EVALSHA", sha_[i], "3", k.value, k.lease, k.channel};
    for (auto& a : args) cmd.push_back(std::move(a));
    ++round_trips_;
    auto sending = cmd_.exec(cmd);
    reply r = co_await std::move(sending);
    if (r.is_error() && r.str.rfind("NOSCRIPT", 0) == 0) {
      cmd[0] = "EVAL";
      cmd[1] = detail::script_source[i];
      ++round_trips_;
      auto again = cmd_.exec(std::move(cmd));
      r = co_await std::move(again);
    }
    if (r.is_error()) throw system_error(errc::protocol_error);
    co_return r;
  }

  asio::awaitable<reply> acquire(const key_names& k, const std::string& token) {
    std::vector<std::string> args{token, std::to_string(cfg_.lease.count())};
    auto running = run(script::acquire, k, std::move(args));
    reply r = co_await std::move(running);
    if (r.type != reply::kind::array || r.elements.empty()) throw system_error(errc::protocol_error);
    co_return r;
  }

  std::string next_token() { return instance_ + ":" + std::to_string(++counter_); }

  // A stored value or a kept error, as the cache wants it.
  claim_result answer(const std::string& stored) {
    claim_result c;
    c.kind = !stored.empty() && stored[0] == 'e' ? outcome::error : outcome::value;
    c.bytes = stored.empty() ? std::string() : stored.substr(1);
    return c;
  }
  // One read from Redis by acquire: {1, stored, pttl}.
  claim_result answer(const reply& r) {
    claim_result c = answer(r.elements[1].str);
    if (r.elements.size() > 2 && r.elements[2].integer >= 0)
      c.remaining_ttl = std::chrono::milliseconds(r.elements[2].integer);
    return c;
  }

  claim_result lead(const key_names& k, const std::string& token) {
    ++leads_;
    auto ren = std::make_shared<renewal>(strand_, k, token);
    asio::co_spawn(strand_, renew_loop(shared_from_this(), ren), asio::detached);
    claim_result c;
    c.kind = outcome::lead;
    c.lease = std::make_shared<lease_impl>(shared_from_this(), ren);
    return c;
  }

  claim_result local() {
    ++local_;
    return {};
  }

  static asio::awaitable<claim_result> claim_here(std::shared_ptr<tier_impl> self, std::string key) {
    // Any cancellation the caller sends is noticed where it is checked; a
    // command in flight is always waited for first (its outcome matters: a
    // lease taken must be given back).
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    co_await asio::this_coro::throw_if_cancelled(false);
    ++self->claims_;
    if (self->breaker_open()) co_return self->local();
    const key_names k = self->names(key);
    const std::string token = self->next_token();
    try {
      auto acquiring = self->acquire(k, token);
      reply r = co_await std::move(acquiring);
      const auto state = co_await asio::this_coro::cancellation_state;
      if (state.cancelled() != asio::cancellation_type::none) {
        if (r.elements[0].integer == 2) {
          auto giving = self->give_back(k, token);
          co_await std::move(giving);
        }
        throw system_error(asio::error::operation_aborted);
      }
      if (r.elements[0].integer == 1) {
        ++self->hits_;
        co_return self->answer(r);
      }
      if (r.elements[0].integer == 2) co_return self->lead(k, token);
      auto following = self->follow(k, token, r.elements[1].str);
      claim_result c = co_await std::move(following);
      co_return c;
    } catch (const system_error& e) {
      if (!ours(e)) throw;
      self->trip();
      // A timed-out acquire was written and may yet win the lease when
      // Redis wakes: give it back, in the queue behind that acquire (one
      // connection, replies in order), so the fleet does not wait out a
      // lease that nobody here will commit.
      if (e.code() == errc::timeout) self->give_back_later(k, token);
      co_return self->local();
    }
  }

  void give_back_later(const key_names& k, const std::string& token) {
    asio::co_spawn(strand_, give_back_quietly(shared_from_this(), k, token), asio::detached);
  }

  static asio::awaitable<void> give_back_quietly(std::shared_ptr<tier_impl> self, key_names k, std::string token) {
    try {
      auto giving = self->give_back(k, token);
      co_await std::move(giving);
    } catch (const system_error&) {
      // Redis still away: the lease expires on its own.
    }
  }

  asio::awaitable<void> give_back(const key_names& k, const std::string& token) {
    std::vector<std::string> args{token, "g", "0"};
    auto running = run(script::fail, k, std::move(args));
    co_await std::move(running);
  }

  // A follower: subscribed (acked) before each re-check, so a commit is
  // either seen by the re-check or published to us after it.
  asio::awaitable<claim_result> follow(const key_names& k, const std::string& token, std::string holder) {
    const auto deadline = steady_clock::now() + cfg_.follow_limit;
    if (cfg_.test_delay_before_subscribe.count() > 0) {
      asio::steady_timer t(strand_, cfg_.test_delay_before_subscribe);
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    auto subscribing = sub_.subscribe(k.channel);
    co_await std::move(subscribing);
    struct unsubscribe_at_exit {
      detail::subscriber& sub;
      const std::string& channel;
      ~unsubscribe_at_exit() { sub.unsubscribe(channel); }
    } guard{sub_, k.channel};
    int handovers = 0;
    auto poll = cfg_.poll_min;
    for (;;) {
      if (!sub_.subscribed(k.channel)) {
        auto acking = sub_.acked(k.channel);
        co_await std::move(acking);
      }
      const std::uint64_t seen = sub_.seen(k.channel);
      auto acquiring = acquire(k, token);
      reply r = co_await std::move(acquiring);
      auto state = co_await asio::this_coro::cancellation_state;
      if (state.cancelled() != asio::cancellation_type::none) {
        if (r.elements[0].integer == 2) {
          auto giving = give_back(k, token);
          co_await std::move(giving);
        }
        throw system_error(asio::error::operation_aborted);
      }
      if (r.elements[0].integer == 1) {
        ++hits_;
        co_return answer(r);
      }
      if (r.elements[0].integer == 2) co_return lead(k, token);
      if (r.elements[1].str != holder) {
        holder = r.elements[1].str;
        if (++handovers > cfg_.max_handovers) co_return local();
      }
      const auto now = steady_clock::now();
      if (now >= deadline) co_return local();
      std::uniform_int_distribution<long> jitter(poll.count() / 2, poll.count());
      auto until = std::min(now + std::chrono::milliseconds(jitter(rng_)), deadline);
      if (r.elements.size() > 2 && r.elements[2].integer > 0)
        until = std::min(until, now + std::chrono::milliseconds(r.elements[2].integer + 1));
      auto waiting = sub_.wait(k.channel, seen, until);
      co_await std::move(waiting);
      state = co_await asio::this_coro::cancellation_state;
      if (state.cancelled() != asio::cancellation_type::none) throw system_error(asio::error::operation_aborted);
      if (sub_.seen(k.channel) != seen) {
        const std::string& msg = sub_.last(k.channel);
        if (!msg.empty() && msg[0] != 'g') {
          ++woken_;
          co_return answer(msg);
        }
        poll = cfg_.poll_min;  // the leader gave up: look again at once
        continue;
      }
      poll = std::min(poll * 2, cfg_.poll_max);
    }
  }

  static asio::awaitable<void> renew_loop(std::shared_ptr<tier_impl> self, std::shared_ptr<renewal> ren) {
    for (;;) {
      ren->timer.expires_after(self->cfg_.lease / 3);
      co_await ren->timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ren->finished) co_return;
      try {
        std::vector<std::string> args{ren->token, std::to_string(self->cfg_.lease.count())};
        auto running = self->run(script::renew, ren->keys, std::move(args));
        reply r = co_await std::move(running);
        if (ren->finished) co_return;
        if (r.integer != 1) {
          ren->lost = true;
          co_return;
        }
      } catch (const system_error&) {
        self->trip();  // renewals go on: the lease may survive a short outage
      }
    }
  }

  static std::shared_ptr<renewal> take(const std::shared_ptr<remote_lease>& lease) {
    auto* l = dynamic_cast<lease_impl*>(lease.get());
    return l ? l->ren : nullptr;
  }

  static asio::awaitable<bool> commit_here(std::shared_ptr<tier_impl> self, std::shared_ptr<remote_lease> lease,
                                           std::string bytes, std::chrono::milliseconds ttl) {
    auto ren = take(lease);
    if (!ren || ren->finished) co_return false;
    ren->finished = true;
    ren->timer.cancel();
    if (!ren->lost) {
      try {
        std::vector<std::string> args{ren->token, "v" + bytes, std::to_string(std::max<long long>(ttl.count(), 1)),
                                      std::to_string(self->cfg_.inline_limit)};
        auto running = self->run(script::commit, ren->keys, std::move(args));
        reply r = co_await std::move(running);
        if (r.integer == 1) {
          ++self->commits_;
          co_return true;
        }
      } catch (const system_error&) {
        self->trip();
        co_return false;
      }
    }
    ++self->refused_;
    co_return false;
  }

  static asio::awaitable<void> abandon_here(std::shared_ptr<tier_impl> self, std::shared_ptr<remote_lease> lease,
                                            std::string message, std::chrono::milliseconds error_ttl) {
    auto ren = take(lease);
    if (!ren) co_return;
    auto abandoning = abandon_lease(self, ren, std::move(message), error_ttl);
    co_await std::move(abandoning);
  }

  static asio::awaitable<void> abandon_lease(std::shared_ptr<tier_impl> self, std::shared_ptr<renewal> ren,
                                             std::string message, std::chrono::milliseconds error_ttl) {
    if (ren->finished) co_return;
    ren->finished = true;
    ren->timer.cancel();
    try {
      std::vector<std::string> args{ren->token, std::move(message), std::to_string(error_ttl.count())};
      auto running = self->run(script::fail, ren->keys, std::move(args));
      co_await std::move(running);
    } catch (const system_error&) {
      self->trip();
    }
  }

  static asio::awaitable<void> invalidate_here(std::shared_ptr<tier_impl> self, std::string key) {
    const key_names k = self->names(key);
    try {
      ++self->round_trips_;
      std::vector<std::string> args{"DEL", k.value, k.lease};
      auto sending = self->cmd_.exec(std::move(args));
      reply r = co_await std::move(sending);
      if (r.is_error()) throw system_error(errc::protocol_error);
    } catch (const system_error&) {
      self->trip();
    }
  }

  config cfg_;
  detail::strand_type strand_;
  detail::link cmd_;
  detail::subscriber sub_;
  std::string sha_[static_cast<int>(script::count)];
  std::string instance_;
  std::uint64_t counter_ = 0;
  std::mt19937 rng_;
  std::atomic<steady_clock::rep> open_until_{0};
  std::atomic<std::uint64_t> claims_{0}, hits_{0}, leads_{0}, woken_{0}, local_{0}, commits_{0}, refused_{0},
      failures_{0}, round_trips_{0};
};

lease_impl::~lease_impl() {
  if (tier) tier->release(ren);
}

}  // namespace

std::shared_ptr<tier> tier::make(asio::any_io_executor ex, config cfg) {
  return std::make_shared<tier_impl>(std::move(ex), std::move(cfg));
}

asio::awaitable<std::shared_ptr<tier>> tier::connect(asio::any_io_executor ex, config cfg) {
  auto t = std::make_shared<tier_impl>(ex, std::move(cfg));
  // On the tier's own strand: every hiredis call is made there.
  auto c = asio::co_spawn(t->executor(), t->connect_both(), asio::use_awaitable);
  co_await std::move(c);
  co_return t;
}

}  // namespace singleflight::redis
