// SPDX-License-Identifier: BSL-1.0
// The records of one round: each caller's plan and what it observed, the
// loaders that run, and the failures found, shared by the callers, the
// loaders, the chaos thread and the checks.
#ifndef SINGLEFLIGHT_TEST_STRESS_ROUND_STATE_HPP
#define SINGLEFLIGHT_TEST_STRESS_ROUND_STATE_HPP

#include "support/caller_probes.hpp"
#include "support/shutdown_context.hpp"
#include "workload.hpp"

#include <singleflight/async_group.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace sfstress {

namespace asio = boost::asio;
namespace sf = singleflight;
using asio::cancellation_type;
using asio::cancellation_type_t;
using Value = std::string;
using Group = sf::AsyncGroup<std::string, Value>;

/// What a loader throws; `killed` when the round ended it.
struct stress_error : std::runtime_error {
  stress_error(int k, std::uint64_t s, bool killed);
  int key;
  std::uint64_t serial;
};

enum class outcome { none, value, loader_error, aborted, too_many, unexpected };

struct caller_rec : sftest::caller_counts {
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
  std::atomic<int> resumes{0};         // do_ returned or threw (coroutine modes)
  std::atomic<bool> initiated{false};  // about to reach the group
  std::atomic<bool> cancel_emitted{false};
  bool reached = false;  // the group saw this call (not cancelled before it)
  bool timed_out = false;
  outcome result = outcome::none;
  std::uint64_t serial = 0;
  bool shared = false;
  const void* exception_address = nullptr;
  std::string detail;

  /// Whether the emitted cancellation passes the filters between the signal
  /// and the group's waiter, so that operation_aborted is due.
  bool cancel_effective() const;
};

struct loader_result {
  int key = 0;
  bool returned = false;
  bool saw_cancel = false;
};

struct round_state {
  round_state(const round_params& params, std::uint64_t seed, int round);

  const round_params p;
  const std::uint64_t seed;
  const int round;
  // Destroyed explicitly, after the group and before everything below that
  // the frames it may still destroy refer to.
  std::unique_ptr<sftest::shutdown_context> ioc;
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

  /// Key k's name; key p.keys is the pin's.
  std::string key_name(int k) const;

  /// forget() on key k, counted so that the loaders' check knows which
  /// flights may have been unlinked.
  void forget_key(int k);
};

}  // namespace sfstress

#endif
