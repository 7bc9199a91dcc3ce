// SPDX-License-Identifier: BSL-1.0
// The Redis tier against a real redis-server: one load per key for a fleet
// of instances, and never worse than local coalescing when Redis fails.
#define BOOST_TEST_MODULE redis_tier
#include <singleflight/redis.hpp>

#include "redis_server.hpp"

#include <singleflight/cache.hpp>

#include "support/fixture.hpp"
#include "support/manual_clock.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace redis = singleflight::redis;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using cache_type = singleflight::Cache<std::string, std::string, singleflight::DefaultHash<std::string>,
                                       singleflight::DefaultKeyEqual<std::string>, clock_type>;
// A cache whose clock the test moves (Redis keeps its own, real time).
using manual_cache = singleflight::Cache<std::string, std::string, singleflight::DefaultHash<std::string>,
                                         singleflight::DefaultKeyEqual<std::string>, sftest::manual_clock>;

namespace {

// A loader that counts its calls and answers `value` after `delay`, or
// throws `error` when it is not empty.
struct counted_loader {
  std::atomic<int>* loads;
  std::string value;
  std::chrono::milliseconds delay;
  std::string error;

  asio::awaitable<std::string> operator()() const { return run(loads, value, delay, error); }

  static asio::awaitable<std::string> run(std::atomic<int>* loads, std::string value, std::chrono::milliseconds delay,
                                          std::string error) {
    ++*loads;
    asio::steady_timer t(co_await asio::this_coro::executor, delay);
    co_await t.async_wait(asio::use_awaitable);
    if (!error.empty()) throw std::runtime_error(error);
    co_return value;
  }
};

// A loader that counts its calls and answers `value` once the test opens
// `gate` (cancels it).
struct gated_loader {
  std::atomic<int>* loads;
  asio::steady_timer* gate;
  asio::awaitable<std::string> operator()() const { return run(loads, gate); }
  static asio::awaitable<std::string> run(std::atomic<int>* loads, asio::steady_timer* gate) {
    ++*loads;
    co_await gate->async_wait(asio::as_tuple(asio::use_awaitable));
    co_return std::string("v");
  }
};

// One member of the fleet: a cache with its own tier (two connections).
struct instance {
  std::shared_ptr<redis::tier> tier;
  std::unique_ptr<cache_type> cache;

  instance(asio::any_io_executor ex, const redis::config& cfg, singleflight::CacheOptions opts = {}) {
    tier = redis::tier::make(ex, cfg);
    opts.remote = tier;
    cache = std::make_unique<cache_type>(ex, opts);
  }
};

struct fleet : sftest::io_fixture {
  sftest::redis_server server;

  redis::config cfg(const std::string& name = "") const {
    redis::config c;
    c.port = server.port();
    c.lease = 300ms;
    c.command_timeout = 200ms;
    c.breaker_backoff = 300ms;
    c.client_name = name;
    c.prefix = "t:";
    return c;
  }

  template <class Results>
  bool all_done(const Results& rs, std::chrono::milliseconds limit = 10s) {
    return run_until(
        [&] {
          for (auto& r : rs)
            if (!r->done) return false;
          return true;
        },
        limit);
  }

  // A tier connected with `c` (connect's errors fail the test).
  std::shared_ptr<redis::tier> connected_tier(const redis::config& c) {
    auto connected = sftest::spawn(ioc.get_executor(), redis::tier::connect(ioc.get_executor(), c));
    BOOST_REQUIRE(run_until([&] { return connected->done.load(); }));
    BOOST_REQUIRE(!connected->error);
    return *connected->value;
  }

  // Runs the io_context for `d` (timers and I/O only progress while it runs).
  void run_for(std::chrono::milliseconds d) {
    const auto until = clock_type::now() + d;
    run_until([&] { return clock_type::now() >= until; }, d + 1s);
  }
};

using results = std::vector<std::shared_ptr<sftest::result<std::string>>>;

std::chrono::milliseconds since(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(redis_tier, fleet)

BOOST_AUTO_TEST_CASE(bad_port_and_refused_auth_are_clear_errors) {
  auto bad = cfg();
  bad.port = 1;  // nothing listens there
  auto r1 = sftest::spawn(ioc.get_executor(), redis::tier::connect(ioc.get_executor(), bad));
  BOOST_REQUIRE(run_until([&] { return r1->done.load(); }, 5s));
  BOOST_TEST(r1->code() == redis::errc::connect_refused);
  BOOST_TEST(std::string(r1->code().category().name()) == "singleflight.redis");

  auto wrong = cfg();
  wrong.password = "not-the-password";
  auto r2 = sftest::spawn(ioc.get_executor(), redis::tier::connect(ioc.get_executor(), wrong));
  BOOST_REQUIRE(run_until([&] { return r2->done.load(); }, 5s));
  BOOST_TEST(r2->code() == redis::errc::auth_refused);

  auto name = cfg();
  name.host = "no-such-host.invalid";
  auto r3 = sftest::spawn(ioc.get_executor(), redis::tier::connect(ioc.get_executor(), name));
  BOOST_REQUIRE(run_until([&] { return r3->done.load(); }, 10s));
  BOOST_TEST(r3->code() == redis::errc::bad_address);
}

// 1, 2, 4 and 8 instances (groups + connections) × 200 callers: one load on
// a cold key, and one more when the key has expired everywhere.
BOOST_AUTO_TEST_CASE(herd_in_one_process_loads_once_per_expiry) {
  for (int n : {1, 2, 4, 8}) {
    BOOST_TEST_CONTEXT("instances " << n) {
      auto c = cfg();
      c.prefix = "herd" + std::to_string(n) + ":";
      singleflight::CacheOptions opts;
      opts.ttl = 300ms;
      std::vector<std::unique_ptr<instance>> fleet_;
      for (int i = 0; i < n; ++i) fleet_.push_back(std::make_unique<instance>(ioc.get_executor(), c, opts));
      std::atomic<int> loads{0};
      for (int round = 1; round <= 2; ++round) {
        results rs;
        for (int i = 0; i < 200; ++i)
          rs.push_back(sftest::spawn(ioc.get_executor(),
                                     fleet_[i % n]->cache->get("hot", counted_loader{&loads, "v", 50ms, ""})));
        BOOST_REQUIRE(all_done(rs));
        BOOST_TEST(loads.load() == round);
        for (auto& r : rs) BOOST_TEST((r->value && *r->value == "v"));
        run_for(500ms);  // past the ttl, locally and in Redis
      }
      std::uint64_t local = 0;
      for (auto& f : fleet_) local += f->tier->stats().local;
      BOOST_TEST(local == 0u);
    }
  }
}

// Separate processes: each a child with its own io_context and instance.
BOOST_AUTO_TEST_CASE(herd_across_processes_loads_once) {
  for (int n : {1, 2, 4, 8}) {
    BOOST_TEST_CONTEXT("processes " << n) {
      const std::string prefix = "proc" + std::to_string(n) + ":";
      std::vector<pid_t> children;
      for (int p = 0; p < n; ++p) {
        const pid_t pid = ::fork();
        if (pid == 0) {
          int status = 100;
          try {
            asio::io_context child;
            auto c = cfg();
            c.prefix = prefix;
            instance me(child.get_executor(), c);
            while (!server.exists("go:" + prefix)) std::this_thread::sleep_for(1ms);
            std::atomic<int> loads{0};
            results rs;
            for (int i = 0; i < 200 / n; ++i)
              rs.push_back(sftest::spawn(child.get_executor(), me.cache->get("k", counted_loader{&loads, "v", 200ms, ""})));
            const auto until = clock_type::now() + 10s;
            auto all = [&] {
              for (auto& r : rs)
                if (!r->done) return false;
              return true;
            };
            while (!all() && clock_type::now() < until) child.run_one_for(10ms);
            bool ok = true;
            for (auto& r : rs) ok = ok && r->done && r->value && *r->value == "v";
            status = ok ? loads.load() : 101;
          } catch (...) {
            status = 102;
          }
          ::_exit(status);
        }
        children.push_back(pid);
      }
      server.admin({"SET", "go:" + prefix, "1"});
      int loads = 0;
      for (pid_t pid : children) {
        int st = 0;
        ::waitpid(pid, &st, 0);
        BOOST_REQUIRE(WIFEXITED(st));
        BOOST_TEST(WEXITSTATUS(st) < 100);
        loads += WEXITSTATUS(st);
      }
      BOOST_TEST(loads == 1);
    }
  }
}

// The leader commits between a follower's failed claim and its subscription:
// the re-check after the SUBSCRIBE ack finds the value at once; the poll
// (3 s here) would be far too late.
BOOST_AUTO_TEST_CASE(no_lost_wakeup_between_claim_and_subscribe) {
  auto ca = cfg();
  ca.lease = 5s;
  auto cb = ca;
  cb.test_delay_before_subscribe = 150ms;
  cb.poll_min = cb.poll_max = 3s;
  instance a(ioc.get_executor(), ca), b(ioc.get_executor(), cb);
  std::atomic<int> loads{0};
  auto ra = sftest::spawn(ioc.get_executor(), a.cache->get("k", counted_loader{&loads, "v", 30ms, ""}));
  BOOST_REQUIRE(run_until([&] { return a.tier->stats().leads == 1; }));
  const auto start = clock_type::now();
  auto rb = sftest::spawn(ioc.get_executor(), b.cache->get("k", counted_loader{&loads, "mine", 30ms, ""}));
  BOOST_REQUIRE(run_until([&] { return rb->done.load(); }));
  const auto took = since(start);
  BOOST_TEST((rb->value && *rb->value == "v"));
  BOOST_TEST(loads.load() == 1);
  BOOST_TEST(took < 150ms + 600ms, "follower took " << took.count() << " ms");
  BOOST_TEST(b.tier->stats().hits == 1u);  // found by the re-check
  BOOST_REQUIRE(run_until([&] { return ra->done.load(); }));
}

// The leader process is SIGKILLed mid-load: its lease expires, one follower
// takes over, one more load, every caller completes.
BOOST_AUTO_TEST_CASE(leader_killed_mid_load_is_taken_over) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    asio::io_context child;
    instance me(child.get_executor(), cfg());
    std::atomic<int> loads{0};
    auto r = sftest::spawn(child.get_executor(), me.cache->get("k", counted_loader{&loads, "never", 60s, ""}));
    child.run_for(30s);
    ::_exit(0);
  }
  while (!server.exists("t:l:{k}")) std::this_thread::sleep_for(1ms);
  instance b(ioc.get_executor(), cfg()), c(ioc.get_executor(), cfg());
  std::atomic<int> loads{0};
  results rs;
  for (int i = 0; i < 100; ++i)
    rs.push_back(sftest::spawn(ioc.get_executor(), (i % 2 ? b : c).cache->get("k", counted_loader{&loads, "v", 50ms, ""})));
  run_for(100ms);
  BOOST_TEST(loads.load() == 0);  // the child holds the lease (renewed)
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  const auto killed = clock_type::now();
  BOOST_REQUIRE(all_done(rs));
  const auto took = since(killed);
  BOOST_TEST(loads.load() == 1);
  for (auto& r : rs) BOOST_TEST((r->value && *r->value == "v"));
  // lease (300) + a poll (≤ 100) + the load (50), with room for a busy machine
  BOOST_TEST(took < 2000ms, "takeover took " << took.count() << " ms");
}

// The loader throws: followers get its message at once (not after the
// lease), no lease is left, and with error_ttl the failure is kept.
BOOST_AUTO_TEST_CASE(loader_failure_wakes_followers_and_leaves_no_lease) {
  auto c = cfg();
  c.lease = 5s;
  c.poll_min = c.poll_max = 3s;
  singleflight::CacheOptions opts;
  opts.error_ttl = 2s;
  instance a(ioc.get_executor(), c, opts), b(ioc.get_executor(), c, opts), late(ioc.get_executor(), c, opts);
  std::atomic<int> loads{0};
  auto ra = sftest::spawn(ioc.get_executor(), a.cache->get("k", counted_loader{&loads, "", 50ms, "db down"}));
  BOOST_REQUIRE(run_until([&] { return a.tier->stats().leads == 1; }));
  const auto start = clock_type::now();
  auto rb = sftest::spawn(ioc.get_executor(), b.cache->get("k", counted_loader{&loads, "v", 50ms, ""}));
  BOOST_REQUIRE(run_until([&] { return rb->done.load() && ra->done.load(); }));
  BOOST_TEST(since(start) < 1500ms);
  BOOST_TEST(loads.load() == 1);
  BOOST_TEST(!server.exists("t:l:{k}"));
  try {
    std::rethrow_exception(rb->error);
  } catch (const singleflight::remote_error& e) {
    BOOST_TEST(std::string(e.what()) == "db down");
  } catch (...) {
    BOOST_ERROR("the follower should get the leader's failure as a remote_error");
  }
  auto rl = sftest::spawn(ioc.get_executor(), late.cache->get("k", counted_loader{&loads, "v", 50ms, ""}));
  BOOST_REQUIRE(run_until([&] { return rl->done.load(); }));
  BOOST_TEST(loads.load() == 1);  // the kept failure, not a new load
  BOOST_TEST(static_cast<bool>(rl->error));
}

// The only caller leaves while its SET NX is in flight (Redis frozen so the
// command is surely on the wire): the lease it gets is given back.
BOOST_AUTO_TEST_CASE(caller_cancelled_during_acquire_leaves_no_lease) {
  auto c = cfg();
  c.lease = 5s;
  c.command_timeout = 2s;
  auto t = connected_tier(c);
  singleflight::CacheOptions opts;
  opts.remote = t;
  cache_type cache(ioc.get_executor(), opts);
  std::atomic<int> loads{0};
  server.freeze();
  asio::cancellation_signal sig;
  std::atomic<bool> done{false};
  boost::system::error_code got;
  cache.async_get("k", counted_loader{&loads, "v", 50ms, ""},
                  asio::bind_cancellation_slot(sig.slot(), [&](std::exception_ptr e, std::string) {
                    try {
                      if (e) std::rethrow_exception(e);
                    } catch (const boost::system::system_error& x) {
                      got = x.code();
                    }
                    done = true;
                  }));
  BOOST_REQUIRE(run_until([&] { return t->stats().claims == 1; }));
  run_for(50ms);
  sig.emit(asio::cancellation_type::terminal);
  BOOST_REQUIRE(run_until([&] { return done.load(); }));
  BOOST_TEST(got == asio::error::operation_aborted);
  server.thaw();
  BOOST_TEST(run_until([&] { return !server.exists("t:l:{k}"); }, 2s), "orphan lease left");
  BOOST_TEST(loads.load() == 0);
}

// An invalidation during a load: the late commit is refused and the newer
// value stays.
BOOST_AUTO_TEST_CASE(invalidation_during_load_refuses_late_commit) {
  auto c = cfg();
  c.lease = 2s;
  instance a(ioc.get_executor(), c), b(ioc.get_executor(), c);
  std::atomic<int> loads{0};
  auto ra = sftest::spawn(ioc.get_executor(), a.cache->get("k", counted_loader{&loads, "old", 400ms, ""}));
  BOOST_REQUIRE(run_until([&] { return a.tier->stats().leads == 1; }));
  b.cache->erase("k");
  BOOST_REQUIRE(run_until([&] { return !server.exists("t:l:{k}"); }, 2s));
  auto rb = sftest::spawn(ioc.get_executor(), b.cache->get("k", counted_loader{&loads, "new", 10ms, ""}));
  BOOST_REQUIRE(run_until([&] { return ra->done.load() && rb->done.load(); }));
  BOOST_TEST((rb->value && *rb->value == "new"));
  BOOST_TEST((ra->value && *ra->value == "old"));  // its callers still get their load
  BOOST_TEST(a.tier->stats().refused == 1u);
  BOOST_TEST(server.admin({"GET", "t:{k}"}) == "vnew");
}

// Redis frozen, killed, restarted (and its scripts flushed): callers complete
// through local loads within the command deadline, then the fleet coalesces
// again.
BOOST_AUTO_TEST_CASE(redis_outages_fall_back_to_local_and_recover) {
  instance a(ioc.get_executor(), cfg()), b(ioc.get_executor(), cfg());
  std::atomic<int> loads{0};
  auto herd = [&](const std::string& key) {
    results rs;
    for (int i = 0; i < 50; ++i)
      rs.push_back(sftest::spawn(ioc.get_executor(), (i % 2 ? a : b).cache->get(key, counted_loader{&loads, "v", 30ms, ""})));
    return rs;
  };
  auto warm = herd("warm");
  BOOST_REQUIRE(all_done(warm));
  BOOST_TEST(loads.load() == 1);

  server.freeze();  // a silent hang
  auto start = clock_type::now();
  auto frozen = herd("frozen");
  BOOST_REQUIRE(all_done(frozen));
  BOOST_TEST(since(start) < 1500ms);  // command deadline (200) + load (30)
  BOOST_TEST(loads.load() == 3);     // one local load per instance
  for (auto& r : frozen) BOOST_TEST((r->value && *r->value == "v"));
  BOOST_TEST(a.tier->breaker_open());
  server.thaw();

  run_for(400ms);  // the breaker's backoff
  server.kill();
  start = clock_type::now();
  auto killed = herd("killed");
  BOOST_REQUIRE(all_done(killed));
  BOOST_TEST(since(start) < 1500ms);
  BOOST_TEST(loads.load() == 5);

  server.restart();
  run_for(400ms);
  auto back = herd("back");
  BOOST_REQUIRE(all_done(back));
  BOOST_TEST(loads.load() == 6);  // one load for the fleet again

  server.admin({"SCRIPT", "FLUSH"});
  const auto failures = a.tier->stats().failures + b.tier->stats().failures;
  auto flushed = herd("flushed");
  BOOST_REQUIRE(all_done(flushed));
  BOOST_TEST(loads.load() == 7);  // NOSCRIPT answered by EVAL, still coalesced
  BOOST_TEST(a.tier->stats().failures + b.tier->stats().failures == failures);
}

// The subscriber connection is killed while a follower waits: it is woken,
// re-checks, subscribes again and gets the value without waiting a poll.
BOOST_AUTO_TEST_CASE(subscriber_killed_wakes_waiters) {
  auto c = cfg();
  c.lease = 20s;
  c.poll_min = c.poll_max = 10s;
  instance a(ioc.get_executor(), c), b(ioc.get_executor(), c);
  std::atomic<int> loads{0};
  auto ra = sftest::spawn(ioc.get_executor(), a.cache->get("k", counted_loader{&loads, "v", 500ms, ""}));
  BOOST_REQUIRE(run_until([&] { return a.tier->stats().leads == 1; }));
  const auto start = clock_type::now();
  auto rb = sftest::spawn(ioc.get_executor(), b.cache->get("k", counted_loader{&loads, "mine", 10ms, ""}));
  BOOST_REQUIRE(run_until([&] { return server.admin({"PUBSUB", "NUMSUB", "t:d:{k}"}) == "t:d:{k}\n1"; }));
  server.admin({"CLIENT", "KILL", "TYPE", "pubsub"});
  BOOST_REQUIRE(run_until([&] { return rb->done.load() && ra->done.load(); }));
  BOOST_TEST((rb->value && *rb->value == "v"));
  BOOST_TEST(loads.load() == 1);
  BOOST_TEST(since(start) < 2500ms);  // the load (500) and a re-check, not the 10 s poll
}

// The pub/sub output limit cuts the subscriber (a large inline value): no
// waiter hangs.
BOOST_AUTO_TEST_CASE(subscriber_cut_by_output_limit_does_not_hang) {
  server.admin({"CONFIG", "SET", "client-output-buffer-limit", "pubsub 1kb 1kb 1"});
  auto c = cfg();
  c.lease = 20s;
  c.poll_min = c.poll_max = 10s;
  c.inline_limit = 1 << 20;
  instance a(ioc.get_executor(), c), b(ioc.get_executor(), c);
  std::atomic<int> loads{0};
  const std::string big(64 * 1024, 'x');
  auto ra = sftest::spawn(ioc.get_executor(), a.cache->get("k", counted_loader{&loads, big, 200ms, ""}));
  BOOST_REQUIRE(run_until([&] { return a.tier->stats().leads == 1; }));
  const auto start = clock_type::now();
  auto rb = sftest::spawn(ioc.get_executor(), b.cache->get("k", counted_loader{&loads, "mine", 10ms, ""}));
  BOOST_REQUIRE(run_until([&] { return rb->done.load() && ra->done.load(); }));
  BOOST_TEST((rb->value && *rb->value == big));
  BOOST_TEST(loads.load() == 1);
  BOOST_TEST(since(start) < 2500ms);
}

// A value above inline_limit is not published: the message says "look
// again" and the follower's re-check reads it.
BOOST_AUTO_TEST_CASE(large_value_reaches_followers_through_a_recheck) {
  auto c = cfg();
  c.lease = 20s;
  c.poll_min = c.poll_max = 10s;
  instance a(ioc.get_executor(), c), b(ioc.get_executor(), c);
  std::atomic<int> loads{0};
  const std::string big(c.inline_limit + 1, 'x');
  auto ra = sftest::spawn(ioc.get_executor(), a.cache->get("k", counted_loader{&loads, big, 100ms, ""}));
  BOOST_REQUIRE(run_until([&] { return a.tier->stats().leads == 1; }));
  const auto start = clock_type::now();
  auto rb = sftest::spawn(ioc.get_executor(), b.cache->get("k", counted_loader{&loads, "mine", 10ms, ""}));
  BOOST_REQUIRE(run_until([&] { return rb->done.load() && ra->done.load(); }));
  BOOST_TEST((rb->value && *rb->value == big));
  BOOST_TEST(loads.load() == 1);
  BOOST_TEST(b.tier->stats().woken == 0u);  // not from the message
  BOOST_TEST(b.tier->stats().hits == 1u);   // from the re-check it prompted
  BOOST_TEST(since(start) < 2500ms);        // not the 10 s poll
}

// 10,000 keys in flight: two connections per process all the same.
BOOST_AUTO_TEST_CASE(ten_thousand_keys_use_two_connections_per_process) {
  auto c = cfg();
  c.lease = 30s;  // held until the gate opens, whatever the machine's speed
  c.command_timeout = 5s;
  c.poll_min = 1s;
  c.poll_max = 2s;
  auto ca = c, cb = c;
  ca.client_name = "procA";
  cb.client_name = "procB";
  auto ta = sftest::spawn(ioc.get_executor(), redis::tier::connect(ioc.get_executor(), ca));
  auto tb = sftest::spawn(ioc.get_executor(), redis::tier::connect(ioc.get_executor(), cb));
  BOOST_REQUIRE(run_until([&] { return ta->done && tb->done; }));
  BOOST_REQUIRE((ta->value && tb->value));
  singleflight::CacheOptions oa, ob;
  oa.remote = *ta->value;
  ob.remote = *tb->value;
  cache_type a(ioc.get_executor(), oa), b(ioc.get_executor(), ob);
  std::atomic<int> loads{0};
  constexpr int keys = 10000;
  results rs;
  asio::steady_timer gate(ioc, asio::steady_timer::time_point::max());
  for (int i = 0; i < keys; ++i)
    rs.push_back(sftest::spawn(ioc.get_executor(), a.get("key" + std::to_string(i), gated_loader{&loads, &gate})));
  BOOST_REQUIRE(run_until([&] { return (*ta->value)->stats().leads == keys; }, 30s));
  for (int i = 0; i < keys; ++i)
    rs.push_back(sftest::spawn(ioc.get_executor(), b.get("key" + std::to_string(i), counted_loader{&loads, "v", 10ms, ""})));
  BOOST_REQUIRE(run_until([&] { return (*tb->value)->stats().claims == keys; }, 30s));
  BOOST_TEST(server.clients_named("procA") == 2);
  BOOST_TEST(server.clients_named("procB") == 2);
  BOOST_TEST(run_until([&] { return server.admin({"PUBSUB", "NUMSUB", "t:d:{key9999}"}) == "t:d:{key9999}\n1"; }, 30s));
  gate.cancel();
  BOOST_REQUIRE(all_done(rs, 60s));
  const auto sb = (*tb->value)->stats();
  BOOST_TEST_MESSAGE("follower: woken " << sb.woken << " hits " << sb.hits << " local " << sb.local << " failures "
                                        << sb.failures);
  BOOST_TEST(loads.load() == keys);
  for (auto& r : rs) BOOST_TEST((r->value && *r->value == "v"));
}

// A copy read from Redis lives locally no longer than Redis's own: B reads
// A's value halfway through its ttl, and B's copy expires with Redis's, not
// a full ttl after B read it.
BOOST_AUTO_TEST_CASE(copy_read_from_redis_expires_with_redis) {
  sftest::manual_clock::reset();
  singleflight::CacheOptions opts;
  opts.ttl = 600ms;
  instance a(ioc.get_executor(), cfg(), opts);
  auto tb = redis::tier::make(ioc.get_executor(), cfg());
  auto ob = opts;
  ob.remote = tb;
  manual_cache b(ioc.get_executor(), ob);
  std::atomic<int> loads{0};
  auto ra = sftest::spawn(ioc.get_executor(), a.cache->get("k", counted_loader{&loads, "v", 10ms, ""}));
  BOOST_REQUIRE(run_until([&] { return ra->done.load(); }));
  BOOST_REQUIRE(loads.load() == 1);
  run_for(300ms);  // half the ttl, in Redis's time
  const long long left = std::stoll(server.admin({"PTTL", "t:{k}"}));
  BOOST_REQUIRE_MESSAGE(left > 0 && left <= 300, "PTTL " << left);

  auto rb = sftest::spawn(ioc.get_executor(), b.get("k", counted_loader{&loads, "mine", 10ms, ""}));
  BOOST_REQUIRE(run_until([&] { return rb->done.load(); }));
  BOOST_TEST((rb->value && *rb->value == "v"));
  BOOST_TEST(loads.load() == 1);
  BOOST_TEST(tb->stats().hits == 1u);  // read from Redis

  // B's clock alone moves 450 ms: past what Redis had left (≤ 300 ms when B
  // read it), short of the full ttl (600 ms). B's copy has expired, so B
  // asks Redis again instead of answering from its own copy.
  sftest::manual_clock::advance(450ms);
  const auto local_hits = b.stats().hits;
  auto again = sftest::spawn(ioc.get_executor(), b.get("k", counted_loader{&loads, "v", 10ms, ""}));
  BOOST_REQUIRE(run_until([&] { return again->done.load(); }));
  BOOST_TEST((again->value && *again->value == "v"));
  BOOST_TEST(b.stats().hits == local_hits, "B answered from a copy that outlived Redis's");
  BOOST_TEST(tb->stats().claims == 2u);
}

// A follower woken by a fresh commit keeps the value for the full ttl (the
// shared copy was just written with it).
BOOST_AUTO_TEST_CASE(value_from_a_fresh_commit_keeps_the_full_ttl) {
  sftest::manual_clock::reset();
  singleflight::CacheOptions opts;
  opts.ttl = 600ms;
  auto c = cfg();
  c.lease = 5s;
  instance a(ioc.get_executor(), c, opts);
  auto tb = redis::tier::make(ioc.get_executor(), c);
  auto ob = opts;
  ob.remote = tb;
  manual_cache b(ioc.get_executor(), ob);
  std::atomic<int> loads{0};
  auto ra = sftest::spawn(ioc.get_executor(), a.cache->get("k", counted_loader{&loads, "v", 300ms, ""}));
  BOOST_REQUIRE(run_until([&] { return a.tier->stats().leads == 1; }));
  auto rb = sftest::spawn(ioc.get_executor(), b.get("k", counted_loader{&loads, "mine", 10ms, ""}));
  BOOST_REQUIRE(run_until([&] { return rb->done.load() && ra->done.load(); }));
  BOOST_TEST((rb->value && *rb->value == "v"));
  BOOST_TEST(tb->stats().woken == 1u);
  sftest::manual_clock::advance(450ms);
  const auto local_hits = b.stats().hits;
  auto again = sftest::spawn(ioc.get_executor(), b.get("k", counted_loader{&loads, "mine", 10ms, ""}));
  BOOST_REQUIRE(run_until([&] { return again->done.load(); }));
  BOOST_TEST(b.stats().hits == local_hits + 1);
  BOOST_TEST(tb->stats().claims == 1u);
}

// Followers cancelled while they wait for the leader's publish: each leaves
// at once; an instance whose last caller left drops its subscription and
// takes no lease; the leader and the other followers still get the value.
BOOST_AUTO_TEST_CASE(follower_cancelled_while_waiting_leaves_at_once) {
  auto c = cfg();
  c.lease = 20s;
  c.command_timeout = 1s;
  c.poll_min = c.poll_max = 10s;  // only the publish or the cancellation ends a wait
  instance a(ioc.get_executor(), c), b(ioc.get_executor(), c), d(ioc.get_executor(), c);
  std::atomic<int> loads{0};
  asio::steady_timer gate(ioc, asio::steady_timer::time_point::max());
  auto ra = sftest::spawn(ioc.get_executor(), a.cache->get("k", gated_loader{&loads, &gate}));
  BOOST_REQUIRE(run_until([&] { return a.tier->stats().leads == 1; }));

  // B has one caller, D two; each is cancelled alone through its own slot.
  struct caller {
    asio::cancellation_signal sig;
    std::atomic<bool> done{false};
    std::exception_ptr error;
    std::string value;
  };
  auto call = [&](cache_type& cache, caller& who) {
    cache.async_get("k", counted_loader{&loads, "mine", 10ms, ""},
                    asio::bind_cancellation_slot(who.sig.slot(), [&who](std::exception_ptr e, std::string v) {
                      who.error = e;
                      who.value = std::move(v);
                      who.done = true;
                    }));
  };
  caller b1, d1, d2;
  call(*b.cache, b1);
  call(*d.cache, d1);
  call(*d.cache, d2);
  const std::string numsub_2 = "t:d:{k}\n2", numsub_1 = "t:d:{k}\n1", numsub_0 = "t:d:{k}\n0";
  BOOST_REQUIRE(run_until([&] { return server.admin({"PUBSUB", "NUMSUB", "t:d:{k}"}) == numsub_2; }));

  for (caller* who : {&b1, &d1}) {
    const auto start = clock_type::now();
    who->sig.emit(asio::cancellation_type::terminal);
    BOOST_REQUIRE(run_until([&] { return who->done.load(); }, 5s));
    BOOST_TEST(since(start) < c.command_timeout, "a cancelled follower took " << since(start).count() << " ms");
    BOOST_TEST(singleflight::error_code_of(who->error) == asio::error::operation_aborted);
  }
  // B's last caller left: its subscription goes; D's remaining caller keeps
  // D's. The lease is still the leader's.
  BOOST_TEST(run_until([&] { return server.admin({"PUBSUB", "NUMSUB", "t:d:{k}"}) == numsub_1; }, 5s),
             "B's subscription outlived its last caller");
  BOOST_TEST(b.tier->stats().leads == 0u);
  BOOST_TEST(!d2.done.load());

  gate.cancel();
  BOOST_REQUIRE(run_until([&] { return ra->done.load() && d2.done.load(); }));
  BOOST_TEST((ra->value && *ra->value == "v"));
  BOOST_TEST(!d2.error);
  BOOST_TEST(d2.value == "v");
  BOOST_TEST(loads.load() == 1);
  BOOST_TEST(run_until([&] { return server.admin({"PUBSUB", "NUMSUB", "t:d:{k}"}) == numsub_0; }, 5s));
  BOOST_TEST(!server.exists("t:l:{k}"));
  BOOST_TEST(server.admin({"GET", "t:{k}"}) == "vv");
}

// A command that times out after it was written (Redis frozen with the
// commands in its socket): the caller goes local within the deadline and the
// breaker opens. Later commands are written behind the timed-out ones while
// Redis is still frozen; when it thaws, every reply comes at once, and each
// must go to its own command (the connection's replies are in FIFO order, so
// a late reply dropped out of turn would shift every later one).
BOOST_AUTO_TEST_CASE(late_reply_is_never_matched_to_a_later_command) {
  auto c = cfg();
  c.command_timeout = 500ms;  // room for the later commands' replies after the thaw
  c.breaker_backoff = 300ms;
  c.lease = 5s;
  auto t = connected_tier(c);
  singleflight::CacheOptions opts;
  opts.remote = t;
  cache_type cache(ioc.get_executor(), opts);
  // Each key's value in Redis names its key: a reply given to the wrong
  // command shows as a wrong value.
  for (const char* k : {"p1", "p2", "p3", "q1", "q2", "q3"})
    server.admin({"SET", std::string("t:{") + k + "}", std::string("vfrom-redis-") + k, "PX", "60000"});
  std::atomic<int> loads{0};

  server.freeze();
  const auto frozen = clock_type::now();
  results stalled;
  for (const char* k : {"p1", "p2", "p3"})
    stalled.push_back(sftest::spawn(ioc.get_executor(), cache.get(k, counted_loader{&loads, "local", 10ms, ""})));
  BOOST_REQUIRE(all_done(stalled, 5s));
  const auto took = since(frozen);
  BOOST_TEST(took < c.command_timeout + 500ms, "the stalled claims took " << took.count() << " ms");
  for (auto& r : stalled) BOOST_TEST((r->value && *r->value == "local"));
  BOOST_TEST(t->breaker_open());
  BOOST_TEST(t->stats().failures >= 1u);
  BOOST_REQUIRE(loads.load() == 3);

  BOOST_REQUIRE(run_until([&] { return !t->breaker_open(); }, 5s));
  const auto claims = t->stats().claims, local = t->stats().local;
  std::vector<std::pair<std::string, std::shared_ptr<sftest::result<std::string>>>> later;
  for (const char* k : {"q1", "q2", "q3"})
    later.emplace_back(k, sftest::spawn(ioc.get_executor(), cache.get(k, counted_loader{&loads, "local", 10ms, ""})));
  BOOST_REQUIRE(run_until([&] { return t->stats().claims == claims + 3; }));
  run_for(20ms);  // the commands are written
  server.thaw();
  for (auto& [k, r] : later) {
    BOOST_TEST_CONTEXT("key " << k) {
      BOOST_REQUIRE(run_until([&] { return r->done.load(); }));
      BOOST_TEST(r->value.value_or("(no value)") == "from-redis-" + k);
    }
  }
  BOOST_TEST(t->stats().local == local);  // answered by Redis, not by a fallback
  BOOST_TEST(loads.load() == 3);
}

// A claim's acquire times out while Redis is frozen, then runs when it thaws
// and wins the lease: the lease is given back right after (the caller loaded
// locally and will not commit), not left for the fleet to wait out.
BOOST_AUTO_TEST_CASE(lease_won_by_a_timed_out_acquire_is_given_back) {
  auto c = cfg();
  c.command_timeout = 250ms;
  c.lease = 20s;
  auto t = connected_tier(c);
  singleflight::CacheOptions opts;
  opts.remote = t;
  cache_type cache(ioc.get_executor(), opts);
  std::atomic<int> loads{0};
  server.freeze();
  auto r = sftest::spawn(ioc.get_executor(), cache.get("cold", counted_loader{&loads, "local", 10ms, ""}));
  BOOST_REQUIRE(run_until([&] { return r->done.load(); }, 5s));
  BOOST_TEST((r->value && *r->value == "local"));
  BOOST_TEST(t->stats().local == 1u);
  run_for(50ms);  // the give-back is written behind the acquire
  server.thaw();
  // Once Redis has run the late acquire (the only EVALSHA so far, and the
  // give-back behind it in the same read), no lease is left: it would
  // last 20 s.
  auto evalsha_calls = [&] {
    const std::string info = server.admin({"INFO", "commandstats"});
    const auto at = info.find("cmdstat_evalsha:calls=");
    return at == std::string::npos ? 0 : std::stoi(info.substr(at + 22));
  };
  BOOST_REQUIRE(run_until([&] { return evalsha_calls() >= 1; }, 5s));
  BOOST_TEST(run_until([&] { return !server.exists("t:l:{cold}"); }, 2s),
             "the lease won by the timed-out acquire was left behind");
}

// A cache without a tier is untouched by all this: no Redis, plain local
// coalescing.
BOOST_AUTO_TEST_CASE(no_tier_no_redis) {
  cache_type cache(ioc.get_executor());
  std::atomic<int> loads{0};
  results rs;
  for (int i = 0; i < 10; ++i) rs.push_back(sftest::spawn(ioc.get_executor(), cache.get("k", counted_loader{&loads, "v", 10ms, ""})));
  BOOST_REQUIRE(all_done(rs));
  BOOST_TEST(loads.load() == 1);
}

BOOST_AUTO_TEST_SUITE_END()
