// SPDX-License-Identifier: BSL-1.0
// The lock of the flight table and the cache's shards: it excludes, a
// thread that had to sleep is woken by unlock(), and a lock taken while the
// process had one thread (no atomic read-modify-write) holds once a second
// thread exists.
#define BOOST_TEST_MODULE spin_mutex
#include <singleflight/detail/spin_mutex.hpp>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__GLIBC__) && __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#endif

using singleflight::detail::spin_mutex;
using namespace std::chrono_literals;

namespace {
// Whether `done` becomes ready within `limit` (a lost wake-up would hang).
bool finishes_within(std::future<void>& done, std::chrono::seconds limit) {
  return done.wait_for(limit) == std::future_status::ready;
}
}  // namespace

// First, while Boost.Test has started no thread: the lock is taken in the
// single-threaded mode; a thread created then must find it held.
BOOST_AUTO_TEST_CASE(a_lock_taken_with_one_thread_holds_against_a_second) {
#ifdef SINGLEFLIGHT_DETAIL_HAS_SINGLE_THREADED
  if (!__libc_single_threaded) BOOST_TEST_MESSAGE("the process has threads already: the one-thread mode is not used");
#endif
  spin_mutex m;
  m.lock();
  std::atomic<bool> got{false};
  std::atomic<bool> second_owner{false};
  std::promise<void> done;
  std::future<void> finished = done.get_future();
  std::thread other([&] {
    second_owner = m.try_lock();  // held: must fail
    m.lock();
    got = true;
    m.unlock();
    done.set_value();
  });
  std::this_thread::sleep_for(20ms);
  BOOST_TEST(!got.load());
  m.unlock();
  BOOST_REQUIRE(finishes_within(finished, std::chrono::seconds(10)));  // else: a lost wake-up
  other.join();
  BOOST_TEST(!second_owner.load());
  BOOST_TEST(got.load());
}

BOOST_AUTO_TEST_CASE(try_lock_fails_while_held_and_succeeds_after) {
  spin_mutex m;
  BOOST_TEST(m.try_lock());
  BOOST_TEST(!m.try_lock());
  m.unlock();
  BOOST_TEST(m.try_lock());
  m.unlock();
}

BOOST_AUTO_TEST_CASE(threads_that_hammer_it_never_overlap) {
  spin_mutex m;
  long counter = 0;  // not atomic: the lock alone protects it
  int inside = 0;
  bool overlapped = false;
  constexpr int threads = 4;
  constexpr int rounds = 200'000;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i = 0; i < rounds; ++i) {
        std::lock_guard lock(m);
        if (++inside != 1) overlapped = true;
        ++counter;
        --inside;
      }
    });
  for (auto& t : pool) t.join();
  BOOST_TEST(!overlapped);
  BOOST_TEST(counter == long{threads} * rounds);
}

// A holder that stays long makes the others stop spinning and sleep; each
// unlock must wake one, or they sleep for ever.
BOOST_AUTO_TEST_CASE(sleepers_are_woken_one_by_one) {
  spin_mutex m;
  constexpr int sleepers = 3;
  std::atomic<int> acquired{0};
  m.lock();
  std::vector<std::thread> pool;
  std::vector<std::future<void>> finished;
  std::vector<std::promise<void>> done(sleepers);
  for (int t = 0; t < sleepers; ++t) {
    finished.push_back(done[t].get_future());
    pool.emplace_back([&, t] {
      m.lock();
      ++acquired;
      std::this_thread::sleep_for(5ms);  // long enough that the next one sleeps too
      m.unlock();
      done[t].set_value();
    });
  }
  std::this_thread::sleep_for(50ms);  // far past the spin: all three sleep
  BOOST_TEST(acquired.load() == 0);
  m.unlock();
  for (auto& f : finished) BOOST_REQUIRE(finishes_within(f, std::chrono::seconds(10)));  // else: a lost wake-up
  for (auto& t : pool) t.join();
  BOOST_TEST(acquired.load() == sleepers);
  BOOST_TEST(m.try_lock());  // left unlocked
  m.unlock();
}
