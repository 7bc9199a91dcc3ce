// SPDX-License-Identifier: BSL-1.0
// The stress test's loaders: each registers while it runs, so that two
// loaders of one key at once are caught, and returns a value that names its
// key and serial, so that each caller's result can be traced to its loader.
#ifndef SINGLEFLIGHT_TEST_STRESS_LOADERS_HPP
#define SINGLEFLIGHT_TEST_STRESS_LOADERS_HPP

#include "round_state.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>

namespace sfstress {

/// Registers a running loader; checks that no other loader of its key runs
/// unless that one was forgotten or cancelled since its flight began.
class loader_scope {
 public:
  loader_scope(round_state& s, int key, std::uint64_t forget_snapshot, asio::cancellation_state cs, int caller,
               loader_mode mode);
  loader_scope(const loader_scope&) = delete;
  loader_scope& operator=(const loader_scope&) = delete;
  ~loader_scope();

  void returned() { returned_ = true; }
  /// The loader's coroutine runs off the group's strand from now on: its
  /// cancellation state is not ours to read (the group emits on its strand).
  void left_the_strand() { elsewhere_ = true; }

 private:
  round_state& s_;
  int key_;
  asio::cancellation_state cs_;
  bool returned_ = false;
  bool elsewhere_ = false;

 public:
  const std::uint64_t serial;
};

/// "key|serial|...": longer than the small-string buffer, so that every
/// caller's copy allocates.
Value make_value(int key, std::uint64_t serial);
bool parse_value(const Value& v, int& key, std::uint64_t& serial);

asio::awaitable<Value> run_loader(round_state* s, int key, loader_mode mode, int param, std::uint64_t snapshot,
                                  int caller);

/// The loader of one caller's call.
inline auto make_loader(round_state* s, int key, loader_mode mode, int param, int caller) {
  // Read before the call: a forget that unlinks this call's flight ends
  // after this snapshot.
  const std::uint64_t snapshot = s->forget_done[static_cast<std::size_t>(key)].load();
  return [s, key, mode, param, snapshot, caller]() { return run_loader(s, key, mode, param, snapshot, caller); };
}

}  // namespace sfstress

#endif
