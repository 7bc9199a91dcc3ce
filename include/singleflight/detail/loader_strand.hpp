// SPDX-License-Identifier: BSL-1.0
// A strand that loaders run on.
#ifndef SINGLEFLIGHT_DETAIL_LOADER_STRAND_HPP
#define SINGLEFLIGHT_DETAIL_LOADER_STRAND_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/relationship.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <utility>
#include <variant>

namespace singleflight::detail {

/// A strand of the group's executor, kept as its concrete type when that is
/// an io_context's executor: a strand of `any_io_executor` does not fit
/// `any_io_executor`'s small buffer, so every copy of it would allocate; a
/// strand of `io_context::executor_type` does, and copies cost a reference
/// count. Dispatching through the concrete type also skips the type-erased
/// executor's wrapping of the function.
class loader_strand {
 public:
  explicit loader_strand(const boost::asio::any_io_executor& ex);

  /// The strand, type-erased.
  boost::asio::any_io_executor executor() const {
    return std::visit([](const auto& s) { return boost::asio::any_io_executor(s); }, strand_);
  }

  bool running_in_this_thread() const noexcept;

  /// Runs `f` on the strand: at once if this thread may enter it now.
  template <class F>
  void dispatch(F&& f) const {
    std::visit([&](const auto& s) { boost::asio::dispatch(s, std::forward<F>(f)); }, strand_);
  }

  /// As dispatch, but what the strand then schedules for itself while this
  /// thread runs it (a loader's yield) is a continuation of the current
  /// handler: queued on this thread, run when the handler returns.
  template <class F>
  void dispatch_as_continuation(F&& f) const {
    std::visit(
        [&](const auto& s) {
          boost::asio::dispatch(boost::asio::prefer(s, boost::asio::execution::relationship.continuation),
                                std::forward<F>(f));
        },
        strand_);
  }

 private:
  using io_strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  using any_strand = boost::asio::strand<boost::asio::any_io_executor>;

  std::variant<io_strand, any_strand> strand_;
};

}  // namespace singleflight::detail

#endif
