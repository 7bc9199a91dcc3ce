// SPDX-License-Identifier: BSL-1.0
// A joining caller performs no heap allocation of the group's own: its waiter
// lives in the caller's operation state (the do_ frame, or memory from the
// handler's associated allocator). Counted with a global operator new.
//
// Asio's frame recycling is turned off in this file so that every coroutine
// frame is one counted allocation, whatever the order of frees.
#define BOOST_ASIO_DISABLE_AWAITABLE_FRAME_RECYCLING
#define BOOST_TEST_MODULE allocations
#include <singleflight/async_group.hpp>

#include "support/counting_new.hpp"
#include "support/fixture.hpp"

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include <cstddef>
#include <new>
#include <string>
#include <vector>

using namespace sftest;
using singleflight::AsyncGroup;

namespace {
// The cheapest way for a coroutine to wait: an asynchronous operation that
// keeps the caller's handler in place, in the awaiting frame, on a list.
struct parking_lot {
  struct node {
    node* next = nullptr;
    void (*resume)(node*, int) = nullptr;
    alignas(std::max_align_t) unsigned char handler[64];
  };
  node* head = nullptr;
  std::size_t parked = 0;

  class wait_op {
   public:
    explicit wait_op(parking_lot& lot) : lot_(lot) {}
    template <class Token>
      requires(!std::is_pointer_v<std::decay_t<Token>>)
    auto operator()(Token&& token) {
      return asio::async_initiate<Token, void(int)>(
          [this](auto handler) {
            using H = decltype(handler);
            static_assert(sizeof(H) <= sizeof node_.handler);
            ::new (node_.handler) H(std::move(handler));
            node_.resume = [](node* n, int v) {
              H& stored = *std::launder(reinterpret_cast<H*>(n->handler));
              H local(std::move(stored));
              stored.~H();
              std::move(local)(v);
            };
            node_.next = lot_.head;
            lot_.head = &node_;
            ++lot_.parked;
          },
          token);
    }

   private:
    parking_lot& lot_;
    node node_;
  };

  void release_all(asio::io_context& ioc, int v) {
    for (node* n = std::exchange(head, nullptr); n != nullptr;) {
      node* next = n->next;
      asio::post(ioc, [n, v] { n->resume(n, v); });
      n = next;
    }
  }
};

asio::awaitable<int> park(parking_lot& lot) {
  parking_lot::wait_op op(lot);
  int v = co_await std::move(op);
  co_return v;
}

// Counts allocations made through it, from a fixed arena.
struct arena {
  alignas(std::max_align_t) unsigned char bytes[1 << 20];
  std::size_t used = 0;
  std::size_t allocations = 0;
};

template <class T>
struct arena_allocator {
  using value_type = T;
  arena* a;
  explicit arena_allocator(arena* ar) : a(ar) {}
  template <class U>
  arena_allocator(const arena_allocator<U>& o) : a(o.a) {}
  T* allocate(std::size_t n) {
    const std::size_t size = (n * sizeof(T) + alignof(std::max_align_t) - 1) & ~(alignof(std::max_align_t) - 1);
    if (a->used + size > sizeof a->bytes) throw std::bad_alloc();
    ++a->allocations;
    void* p = a->bytes + a->used;
    a->used += size;
    return static_cast<T*>(p);
  }
  void deallocate(T*, std::size_t) {}
  template <class U>
  bool operator==(const arena_allocator<U>& o) const {
    return a == o.a;
  }
};

constexpr int joiners = 1000;
}  // namespace

BOOST_FIXTURE_TEST_SUITE(allocations_suite, io_fixture)

BOOST_AUTO_TEST_CASE(coroutine_joins_cost_what_parking_costs) {
  // Baseline: `joiners` coroutines that wait on the cheapest operation.
  parking_lot lot;
  for (int i = 0; i < joiners; ++i)
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> { co_await park(lot); }, asio::detached);
  const std::size_t baseline_before = allocations.load();
  BOOST_REQUIRE(run_until([&] { return lot.parked == joiners; }));
  const std::size_t baseline = allocations.load() - baseline_before;

  // The same coroutines, joining a running flight instead.
  AsyncGroup<std::string, int> group(ioc.get_executor());
  released_loader<int> loader(ioc.get_executor());
  auto first = spawn(ioc.get_executor(), group.do_("hot", loader_of(loader)));
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 1; }));
  int sum = 0;
  for (int i = 0; i < joiners; ++i)
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          auto load = loader_of(loader);
          sum += co_await group.do_("hot", load);
        },
        asio::detached);
  const std::size_t joins_before = allocations.load();
  BOOST_REQUIRE(run_until([&] { return group.stats().joins == joiners; }));
  const std::size_t joins = allocations.load() - joins_before;

  BOOST_TEST_MESSAGE("allocations for " << joiners << " parked coroutines: " << baseline << ", joining: " << joins);
  BOOST_TEST(joins == baseline);

  loader.release(1);
  lot.release_all(ioc, 0);
  BOOST_REQUIRE(run_until([&] { return sum == joiners && first->done; }));
  BOOST_TEST(drain());
}

BOOST_AUTO_TEST_CASE(callback_joins_use_only_the_callers_allocator) {
  AsyncGroup<std::string, int> group(ioc.get_executor());
  released_loader<int> loader(ioc.get_executor());
  auto first = spawn(ioc.get_executor(), group.do_("hot", loader_of(loader)));
  BOOST_REQUIRE(run_until([&] { return loader.calls() == 1; }));

  auto memory = std::make_unique<arena>();
  int completions = 0;
  auto load = loader_of(loader);
  const std::size_t before = allocations.load();
  for (int i = 0; i < joiners; ++i)
    group.async_do(std::string_view("hot"), load,
                   asio::bind_allocator(arena_allocator<void>(memory.get()),
                                        [&](std::exception_ptr, int v) { completions += v; }));
  const std::size_t global = allocations.load() - before;
  BOOST_TEST(global == 0u);
  BOOST_TEST(memory->allocations == static_cast<std::size_t>(joiners));  // one waiter each
  loader.release(1);
  BOOST_REQUIRE(run_until([&] { return completions == joiners && first->done; }));
}

BOOST_AUTO_TEST_SUITE_END()
