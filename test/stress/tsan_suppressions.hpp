// SPDX-License-Identifier: BSL-1.0
// Include in exactly one TU of an executable.
//
// clang 16's ThreadSanitizer does not model std::atomic_thread_fence, and
// Boost.Asio 1.81 drops the last reference of a type-erased executor
// (any_io_executor holding a strand, boost/asio/detail/atomic_count.hpp:
// fetch_sub(release) + atomic_thread_fence(acquire)) with exactly that idiom.
// When the reference before the last is dropped on another thread, TSan
// reports the `delete` in ~shared_target_executor as racing with that
// fetch_sub: a false positive (the acquire fence orders them). The
// suppression names only that destructor, so a race anywhere else, in the
// library or in these tests, is still reported.
#ifndef SINGLEFLIGHT_TEST_STRESS_TSAN_SUPPRESSIONS_HPP
#define SINGLEFLIGHT_TEST_STRESS_TSAN_SUPPRESSIONS_HPP

extern "C" __attribute__((used, visibility("default"))) const char* __tsan_default_suppressions() {
  return "race:boost::asio::execution::detail::shared_target_executor::~shared_target_executor\n";
}

#endif
