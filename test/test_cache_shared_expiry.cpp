// SPDX-License-Identifier: BSL-1.0
// The store, with no io_context: a load's result stored with a shared
// expiry (a copy of a value that another process loaded, read from a remote
// tier) is fresh until the earlier of that expiry and the ttl, and its stale
// window runs from there.
#define BOOST_TEST_MODULE cache_shared_expiry
#include <singleflight/detail/cache_store.hpp>

#include "support/manual_clock.hpp"

#include <boost/test/unit_test.hpp>

#include <functional>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
using sftest::manual_clock;
using shard = singleflight::detail::cache_shard<std::string, std::string, std::equal_to<>, manual_clock>;
using singleflight::detail::cache_action;
using singleflight::detail::load_end;

namespace {

const std::string key = "k";
auto hashed() { return singleflight::detail::hashed_ref(std::hash<std::string>{}(key), key); }

singleflight::CacheOptions options() {
  singleflight::CacheOptions o;
  o.ttl = 600ms;
  o.stale_ttl = 1s;
  o.error_ttl = 2s;
  return o;
}

// Stores `v` (or a failure) as the result of one load at `now`.
void store(shard& s, manual_clock::time_point now, std::optional<manual_clock::time_point> expires,
           bool failed = false) {
  auto d = s.lookup(hashed(), now);
  BOOST_REQUIRE(d.action == cache_action::load);
  const std::string v = "v";
  s.load_done(hashed(), d.lease, failed ? load_end::failure : load_end::value, failed ? nullptr : &v,
              failed ? std::make_exception_ptr(std::runtime_error("db down")) : nullptr, 0ms, now, expires);
}

cache_action at(shard& s, manual_clock::time_point t) { return s.lookup(hashed(), t).action; }

}  // namespace

BOOST_AUTO_TEST_CASE(a_shared_expiry_before_the_ttl_ends_freshness_and_starts_the_stale_window) {
  shard s(options(), 100, false);
  const auto t0 = manual_clock::now();
  store(s, t0, t0 + 100ms);
  BOOST_TEST((at(s, t0 + 50ms) == cache_action::hit));
  BOOST_TEST((at(s, t0 + 150ms) == cache_action::hit_refresh));  // stale: past the shared expiry
}

BOOST_AUTO_TEST_CASE(the_stale_window_ends_a_stale_ttl_after_the_shared_expiry) {
  shard s(options(), 100, false);
  const auto t0 = manual_clock::now();
  store(s, t0, t0 + 100ms);
  BOOST_TEST((at(s, t0 + 1150ms) == cache_action::load));  // 100 + 1000 ms, not 600 + 1000
}

BOOST_AUTO_TEST_CASE(a_shared_expiry_after_the_ttl_does_not_extend_it) {
  shard s(options(), 100, false);
  const auto t0 = manual_clock::now();
  store(s, t0, t0 + 5s);
  BOOST_TEST((at(s, t0 + 700ms) == cache_action::hit_refresh));
}

BOOST_AUTO_TEST_CASE(a_kept_failure_ends_with_its_shared_expiry) {
  shard s(options(), 100, false);
  const auto t0 = manual_clock::now();
  store(s, t0, t0 + 100ms, true);
  BOOST_TEST((at(s, t0 + 50ms) == cache_action::hit));  // the kept failure
  BOOST_TEST((at(s, t0 + 150ms) == cache_action::load));  // not error_ttl (2 s)
}

BOOST_AUTO_TEST_CASE(no_shared_expiry_keeps_the_ttl) {
  shard s(options(), 100, false);
  const auto t0 = manual_clock::now();
  store(s, t0, std::nullopt);
  BOOST_TEST((at(s, t0 + 550ms) == cache_action::hit));
  BOOST_TEST((at(s, t0 + 650ms) == cache_action::hit_refresh));
}
