// SPDX-License-Identifier: BSL-1.0
// The flight table's state machine, driven by hand with no io_context: each
// transition's answer and the state it leaves behind.
#define BOOST_TEST_MODULE flight_table
#include <singleflight/detail/flight_table.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <vector>

using namespace singleflight;
using namespace singleflight::detail;
using admit = flight_table::admit_result;

namespace {

struct test_flight final : flight_node {
  test_flight(int k, bool* freed) : flight_node(static_cast<std::size_t>(k) * 0x9e3779b97f4a7c15ULL, 0), key(k), freed(freed) {}
  int key;
  bool* freed;

 private:
  void destroy() noexcept override {
    *freed = true;
    delete this;
  }
};

struct test_waiter : waiter_base {
  test_waiter() : waiter_base(&on_resume, &on_destroy) {}
  static void on_resume(waiter_base*, bool) {}
  static void on_destroy(waiter_base*) {}
};

bool key_equals(const void* k, const flight_node& f) { return *static_cast<const int*>(k) == static_cast<const test_flight&>(f).key; }

key_probe probe(const int& k) { return {static_cast<std::size_t>(k) * 0x9e3779b97f4a7c15ULL, &k, &key_equals}; }

std::vector<waiter_base*> items(waiter_list l) {
  std::vector<waiter_base*> v;
  for (waiter_base* w = l.head; w != nullptr; w = w->next) v.push_back(w);
  BOOST_TEST(v.size() == l.count);
  return v;
}

// Records the loaders the table hands over to cancel, and their references.
struct recording_canceller {
  std::vector<flight_node*> cancelled;
  static void cancel(void* self, flight_node& f) noexcept { static_cast<recording_canceller*>(self)->cancelled.push_back(&f); }
  void release_all() {
    for (flight_node* f : cancelled) f->release();
    cancelled.clear();
  }
};

// A table with one flight started for `key` by `first`.
struct fixture {
  explicit fixture(Options opts = {}) : table(opts, loader_canceller{&recording_canceller::cancel, &canceller}) {}
  recording_canceller canceller;
  flight_table table;
  bool freed = false;
  test_flight* start(int key, test_waiter& first) {
    const int k = key;
    BOOST_REQUIRE(table.admit(probe(k), first, nullptr) == admit::need_flight);
    auto* f = new test_flight(key, &freed);
    BOOST_REQUIRE(table.admit(probe(k), first, f) == admit::started);
    return f;
  }
};
}  // namespace

BOOST_AUTO_TEST_CASE(first_caller_starts_later_callers_join) {
  fixture fx;
  test_waiter a, b, c;
  test_flight* f = fx.start(1, a);
  const int k = 1;
  BOOST_TEST((fx.table.admit(probe(k), b, nullptr) == admit::joined));
  bool spare_freed = false;
  auto* spare = new test_flight(1, &spare_freed);
  // A flight built by a caller that lost the race stays that caller's.
  BOOST_TEST((fx.table.admit(probe(k), c, spare) == admit::joined));
  spare->release();
  BOOST_TEST(spare_freed);
  BOOST_TEST((a.flight == f && b.flight == f && c.flight == f));
  const Stats s = fx.table.stats();
  BOOST_TEST(s.calls == 3u);
  BOOST_TEST(s.flights_started == 1u);
  BOOST_TEST(s.joins == 2u);
  BOOST_TEST(s.in_flight == 1u);
  const waiter_list list = fx.table.finish(*f, false);
  BOOST_TEST((items(list) == std::vector<waiter_base*>{&a, &b, &c}));
  BOOST_TEST(!list.cancellable);
  BOOST_TEST(fx.table.in_flight() == 0u);
  BOOST_TEST((f->state == flight_state::finished));
  f->release();
  BOOST_TEST(fx.freed);
}

BOOST_AUTO_TEST_CASE(max_in_flight_rejects_new_keys_not_joins) {
  Options opts;
  opts.max_in_flight = 1;
  fixture fx(opts);
  test_waiter a, b, c;
  test_flight* f = fx.start(1, a);
  const int one = 1, two = 2;
  BOOST_TEST((fx.table.admit(probe(two), b, nullptr) == admit::rejected));
  BOOST_TEST((fx.table.admit(probe(one), c, nullptr) == admit::joined));
  BOOST_TEST(fx.table.stats().rejected == 1u);
  (void)fx.table.finish(*f, false);
  f->release();
}

BOOST_AUTO_TEST_CASE(last_caller_leaving_abandons_and_unlinks_the_flight) {
  fixture fx;
  test_waiter a, b, later;
  a.core = reinterpret_cast<group_state*>(&a);  // a canceller is connected
  test_flight* f = fx.start(1, a);
  const int k = 1;
  BOOST_REQUIRE(fx.table.admit(probe(k), b, nullptr) == admit::joined);
  BOOST_TEST(fx.table.detach(b));
  BOOST_TEST(fx.canceller.cancelled.empty());
  BOOST_TEST(fx.table.detach(a));
  BOOST_TEST((fx.canceller.cancelled == std::vector<flight_node*>{f}));  // the loader is to be cancelled
  BOOST_TEST(f->cancel_requested.load());
  BOOST_TEST((f->state == flight_state::abandoned));
  BOOST_TEST(fx.table.in_flight() == 0u);
  BOOST_TEST((fx.table.admit(probe(k), later, nullptr) == admit::need_flight));  // starts afresh
  fx.canceller.release_all();  // the cancellation's reference
  const waiter_list list = fx.table.finish(*f, true);
  BOOST_TEST(list.count == 0u);
  BOOST_TEST(list.cancellable);
  const Stats s = fx.table.stats();
  BOOST_TEST(s.callers_cancelled == 2u);
  BOOST_TEST(s.loaders_cancelled == 1u);
  BOOST_TEST(s.loader_failures == 0u);  // an abandoned loader's failure reaches no one
  BOOST_TEST(!fx.freed);
  f->release();
  BOOST_TEST(fx.freed);
}

BOOST_AUTO_TEST_CASE(keep_abandoned_loaders_keeps_the_flight_joinable) {
  Options opts;
  opts.keep_abandoned_loaders = true;
  fixture fx(opts);
  test_waiter a, b;
  test_flight* f = fx.start(1, a);
  BOOST_TEST(fx.table.detach(a));
  BOOST_TEST(fx.canceller.cancelled.empty());
  const int k = 1;
  BOOST_TEST((fx.table.admit(probe(k), b, nullptr) == admit::joined));
  BOOST_TEST(fx.table.stats().loaders_kept == 1u);
  BOOST_TEST(items(fx.table.finish(*f, false)).size() == 1u);
  f->release();
}

BOOST_AUTO_TEST_CASE(a_waiter_being_completed_cannot_be_detached) {
  fixture fx;
  test_waiter a, b;
  test_flight* f = fx.start(1, a);
  const int k = 1;
  BOOST_REQUIRE(fx.table.admit(probe(k), b, nullptr) == admit::joined);
  b.state = waiter_state::completing;
  BOOST_TEST(!fx.table.detach(b));
  const waiter_list list = fx.table.finish(*f, false);
  // A finished flight's waiters belong to its deliverer.
  BOOST_TEST(!fx.table.detach(a));
  BOOST_TEST(items(list).size() == 2u);
  f->release();
}

BOOST_AUTO_TEST_CASE(forget_unlinks_so_the_next_caller_starts_a_new_flight) {
  fixture fx;
  test_waiter a, b;
  test_flight* f = fx.start(1, a);
  const int k = 1;
  BOOST_TEST(fx.table.forget(probe(k)));
  BOOST_TEST(!fx.table.forget(probe(k)));
  BOOST_TEST((f->state == flight_state::forgotten));
  test_flight* g = fx.start(1, b);
  BOOST_TEST((items(fx.table.finish(*f, false)) == std::vector<waiter_base*>{&a}));
  BOOST_TEST(fx.table.in_flight() == 1u);  // f's end leaves g linked
  BOOST_TEST(fx.table.stats().forgotten == 1u);
  (void)fx.table.finish(*g, false);
  f->release();
  g->release();
}

BOOST_AUTO_TEST_CASE(close_hands_over_every_waiter_and_the_loaders_to_cancel) {
  fixture fx;
  test_waiter a, b, c, late;
  test_flight* f = fx.start(1, a);
  test_flight* g = fx.start(2, b);
  const int one = 1;
  BOOST_REQUIRE(fx.table.admit(probe(one), c, nullptr) == admit::joined);
  const waiter_list aborted = fx.table.close();
  BOOST_TEST(items(aborted).size() == 3u);
  BOOST_TEST((a.flight == nullptr && b.flight == nullptr && c.flight == nullptr));
  BOOST_TEST(fx.canceller.cancelled.size() == 2u);
  for (flight_node* n : fx.canceller.cancelled) BOOST_TEST((n == f || n == g));
  fx.canceller.release_all();
  BOOST_TEST((fx.table.admit(probe(one), late, nullptr) == admit::closed));
  BOOST_TEST(fx.table.in_flight() == 0u);
  BOOST_TEST(fx.table.finish(*f, false).count == 0u);
  BOOST_TEST(fx.table.finish(*g, false).count == 0u);
  f->release();
  g->release();
}

BOOST_AUTO_TEST_CASE(shut_down_hands_over_the_waiters_to_destroy) {
  fixture fx;
  test_waiter a, b, late;
  test_flight* f = fx.start(1, a);
  const int k = 1;
  BOOST_REQUIRE(fx.table.admit(probe(k), b, nullptr) == admit::joined);
  BOOST_TEST((items(fx.table.shut_down()) == std::vector<waiter_base*>{&a, &b}));
  BOOST_TEST(fx.table.shut_down().count == 0u);
  BOOST_TEST((fx.table.admit(probe(k), late, nullptr) == admit::closed));
  BOOST_TEST(fx.table.close().count == 0u);
  (void)fx.table.finish(*f, false);
  f->release();
}

namespace {
// 64 keys whose flights fall in every shard of the table.
std::vector<int> keys_in_every_shard() {
  std::vector<int> keys(64);
  std::vector<bool> seen(flight_table::shard_count);
  for (int k = 0; k < 64; ++k) {
    keys[static_cast<std::size_t>(k)] = k;
    seen[flight_table::shard_index(probe(keys[static_cast<std::size_t>(k)]).hash)] = true;
  }
  for (bool s : seen) BOOST_REQUIRE(s);
  return keys;
}
}  // namespace

BOOST_AUTO_TEST_CASE(max_in_flight_bounds_the_flights_of_every_shard_together) {
  Options opts;
  opts.max_in_flight = 8;
  fixture fx(opts);
  const std::vector<int> keys = keys_in_every_shard();
  std::vector<test_waiter> callers(keys.size());
  std::vector<test_flight*> started;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const admit first = fx.table.admit(probe(keys[i]), callers[i], nullptr);
    if (first == admit::rejected) continue;
    BOOST_REQUIRE(first == admit::need_flight);
    auto* f = new test_flight(keys[i], &fx.freed);
    BOOST_REQUIRE(fx.table.admit(probe(keys[i]), callers[i], f) == admit::started);
    started.push_back(f);
  }
  BOOST_TEST(started.size() == 8u);
  BOOST_TEST(fx.table.stats().rejected == keys.size() - 8);
  BOOST_TEST(fx.table.in_flight() == 8u);
  // One flight ends, or is forgotten: its place is free for any key.
  const int k0 = started[0]->key;
  (void)fx.table.finish(*started[0], false);
  started[0]->release();
  started.erase(started.begin());
  const int k1 = started[0]->key;
  BOOST_TEST(fx.table.forget(probe(k1)));
  test_waiter again, other;
  BOOST_TEST((fx.table.admit(probe(k0), again, nullptr) == admit::need_flight));
  auto* g = new test_flight(k0, &fx.freed);
  BOOST_TEST((fx.table.admit(probe(k0), again, g) == admit::started));
  bool h_freed = false;
  auto* h = new test_flight(k1, &h_freed);
  BOOST_TEST((fx.table.admit(probe(k1), other, h) == admit::started));
  test_waiter refused;
  const int last = keys.back();
  BOOST_TEST((fx.table.admit(probe(last), refused, nullptr) == admit::rejected));
  for (test_flight* f : started) {
    (void)fx.table.finish(*f, false);
    f->release();
  }
  (void)fx.table.finish(*g, false);
  (void)fx.table.finish(*h, false);
  g->release();
  h->release();
  BOOST_TEST(fx.table.in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(stats_leaving_and_close_cover_every_shard) {
  fixture fx;
  const std::vector<int> keys = keys_in_every_shard();
  const std::size_t n = keys.size();
  std::vector<test_waiter> firsts(n), joiners(n), leavers(n);
  std::vector<test_flight*> flights;
  for (std::size_t i = 0; i < n; ++i) {
    flights.push_back(fx.start(keys[i], firsts[i]));
    BOOST_REQUIRE(fx.table.admit(probe(keys[i]), joiners[i], nullptr) == admit::joined);
    leavers[i].core = reinterpret_cast<group_state*>(&leavers[i]);  // a canceller is connected
    BOOST_REQUIRE(fx.table.admit(probe(keys[i]), leavers[i], nullptr) == admit::joined);
  }
  for (std::size_t i = 0; i < n; ++i) BOOST_TEST(fx.table.detach(leavers[i]));
  Stats s = fx.table.stats();
  BOOST_TEST(s.calls == 3 * n);
  BOOST_TEST(s.flights_started == n);
  BOOST_TEST(s.joins == 2 * n);
  BOOST_TEST(s.callers_cancelled == n);
  BOOST_TEST(s.in_flight == n);
  const waiter_list aborted = fx.table.close();
  std::vector<waiter_base*> all = items(aborted);
  BOOST_TEST(all.size() == 2 * n);  // the firsts and the joiners, from every shard
  for (std::size_t i = 0; i < n; ++i) {
    BOOST_TEST((std::count(all.begin(), all.end(), &firsts[i]) == 1));
    BOOST_TEST((std::count(all.begin(), all.end(), &joiners[i]) == 1));
  }
  BOOST_TEST(fx.canceller.cancelled.size() == n);  // every running loader
  fx.canceller.release_all();
  BOOST_TEST(fx.table.in_flight() == 0u);
  for (test_flight* f : flights) {
    (void)fx.table.finish(*f, false);
    f->release();
  }
}
