// The strand that a group's loaders run on.
#ifndef SINGLEFLIGHT_DETAIL_LOADER_STRAND_HPP
#define SINGLEFLIGHT_DETAIL_LOADER_STRAND_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <variant>

namespace singleflight::detail {

/// A strand of the group's executor, kept as its concrete type when that is
/// an io_context's executor: a strand of `any_io_executor` does not fit
/// `any_io_executor`'s small buffer, so every copy of it (co_spawn, work
/// guards, posts) would allocate; a strand of `io_context::executor_type`
/// does, and copies cost a reference count.
class loader_strand {
 public:
  explicit loader_strand(const boost::asio::any_io_executor& ex);

  /// The strand, type-erased.
  const boost::asio::any_io_executor& executor() const noexcept { return erased_; }

  bool running_in_this_thread() const noexcept;

 private:
  using io_strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  using any_strand = boost::asio::strand<boost::asio::any_io_executor>;

  std::variant<io_strand, any_strand> strand_;
  boost::asio::any_io_executor erased_;
};

}  // namespace singleflight::detail

#endif
