// SPDX-License-Identifier: BSL-1.0
#include <singleflight/detail/loader_strand.hpp>

namespace singleflight::detail {

namespace {
std::variant<boost::asio::strand<boost::asio::io_context::executor_type>,
             boost::asio::strand<boost::asio::any_io_executor>>
make_loader_strand(const boost::asio::any_io_executor& ex) {
  if (const auto* io = ex.target<boost::asio::io_context::executor_type>()) return boost::asio::make_strand(*io);
  return boost::asio::make_strand(ex);
}
}  // namespace

loader_strand::loader_strand(const boost::asio::any_io_executor& ex)
    : strand_(make_loader_strand(ex)) {}

bool loader_strand::running_in_this_thread() const noexcept {
  return std::visit([](const auto& s) { return s.running_in_this_thread(); }, strand_);
}

}  // namespace singleflight::detail
