// SPDX-License-Identifier: BSL-1.0
#include <singleflight/detail/group_state.hpp>

#include "registry.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <utility>

namespace singleflight::detail {

namespace {
boost::asio::execution_context& context_of(const boost::asio::any_io_executor& ex) {
  return boost::asio::query(ex, boost::asio::execution::context);
}

std::vector<loader_strand> make_strands(const boost::asio::any_io_executor& ex, std::size_t n) {
  std::vector<loader_strand> v;
  v.reserve(n);
  for (std::size_t i = 0; i < n; ++i) v.emplace_back(ex);
  return v;
}
}  // namespace

const std::exception_ptr& operation_aborted_error() noexcept {
  static const std::exception_ptr e =
      std::make_exception_ptr(boost::system::system_error(boost::asio::error::operation_aborted));
  return e;
}

const std::exception_ptr& group_error(errc e) noexcept {
  switch (e) {
    case errc::too_many_flights:
      break;
  }
  static const std::exception_ptr too_many =
      std::make_exception_ptr(boost::system::system_error(make_error_code(errc::too_many_flights)));
  return too_many;
}

void emit_cancellation(flight_base& f) noexcept {
  // `state` is written under the table's lock by finish(), which runs on
  // this strand too: no race with this read.
  if (!f.loader_started || f.cancellation_emitted || !f.running()) return;
  f.cancellation_emitted = true;
  f.loader_signal.emit(boost::asio::cancellation_type::terminal);
}

group_state::group_state(boost::asio::any_io_executor ex, const Options& opts)
    : options_(opts),
      table_(opts, loader_canceller{&group_state::cancel_loader, this}),
      executor_(std::move(ex)),
      strands_(make_strands(executor_, std::max<std::size_t>(opts.loader_strands, 1))),
      strand_count_(static_cast<std::uint32_t>(strands_.size())),
      registry_(boost::asio::use_service<group_service>(context_of(executor_)).registry()) {
  if (!registry_->add(this)) (void)shut_down();
}

group_state::~group_state() = default;

void group_state::cancel_loader(void* self, flight_node& f) noexcept {
  flight_ref ref(&f);  // the table's reference for this cancellation
  try {
    // The signal belongs to the loader's coroutine, which runs on its strand.
    // Posted under the key's shard lock: queued on the strand before any later
    // flight for the key can start there.
    boost::asio::post(static_cast<group_state*>(self)->strands_[f.strand_index].executor(),
                      [ref = std::move(ref)] { emit_cancellation(static_cast<flight_base&>(*ref.get())); });
  } catch (...) {
    // No memory for the post: the loader runs to its end, as if kept.
  }
}

bool group_state::detach(waiter_base& w) noexcept { return table_.detach(w); }

void group_state::close() noexcept {
  registry_->remove(this);
  const waiter_list aborted = table_.close();
  const std::exception_ptr& error = operation_aborted_error();
  for (waiter_base* w = aborted.head; w != nullptr;) {
    waiter_base* next = w->next;  // completing w may free it
    w->error = error;
    w->hand_over(true);
    w = next;
  }
}

waiter_list group_state::shut_down() noexcept {
  waiter_list parked = table_.shut_down();
  std::vector<loader_strand> strands;
  strands.swap(strands_);
  boost::asio::any_io_executor executor;
  executor.swap(executor_);
  return parked;
}

}  // namespace singleflight::detail
