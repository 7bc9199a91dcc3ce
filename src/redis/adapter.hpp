// SPDX-License-Identifier: BSL-1.0
// Drives one hiredis async context from Asio: readiness through a
// posix::stream_descriptor on the context's strand; hiredis keeps the fd.
//
// Invariants: at most one wait per direction is armed (hiredis calls
// addRead/addWrite repeatedly); after cleanup (hiredis freeing the context)
// no handler touches the context, and the descriptor has been cancelled and
// released, so hiredis alone closes the fd.
#ifndef SINGLEFLIGHT_SRC_REDIS_ADAPTER_HPP
#define SINGLEFLIGHT_SRC_REDIS_ADAPTER_HPP

#include <hiredis/async.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/any_io_executor.hpp>

#include <memory>

namespace singleflight::redis::detail {

using strand_type = boost::asio::strand<boost::asio::any_io_executor>;

class adapter : public std::enable_shared_from_this<adapter> {
 public:
  /// Installs the hooks on `ac` (whose fd is open); the adapter lives until
  /// hiredis calls cleanup and its last wait has ended.
  static void attach(redisAsyncContext* ac, const strand_type& strand);

  explicit adapter(const strand_type& strand) : sd_(strand) {}

 private:
  static void add_read(void* p);
  static void del_read(void* p);
  static void add_write(void* p);
  static void del_write(void* p);
  static void cleanup(void* p);

  void arm_read();
  void arm_write();

  redisAsyncContext* ac_ = nullptr;
  boost::asio::posix::stream_descriptor sd_;
  bool want_read_ = false, want_write_ = false;
  bool read_armed_ = false, write_armed_ = false;
  std::shared_ptr<adapter> self_;  // ownership held for hiredis until cleanup
};

}  // namespace singleflight::redis::detail

#endif
