// SPDX-License-Identifier: BSL-1.0
#include "adapter.hpp"

namespace singleflight::redis::detail {

void adapter::attach(redisAsyncContext* ac, const strand_type& strand) {
  auto a = std::make_shared<adapter>(strand);
  a->ac_ = ac;
  a->sd_.assign(ac->c.fd);
  a->self_ = a;
  ac->ev.data = a.get();
  ac->ev.addRead = &adapter::add_read;
  ac->ev.delRead = &adapter::del_read;
  ac->ev.addWrite = &adapter::add_write;
  ac->ev.delWrite = &adapter::del_write;
  ac->ev.cleanup = &adapter::cleanup;
  // hiredis 0.14 completes a non-blocking connect on the first writability.
  add_write(a.get());
}

void adapter::add_read(void* p) {
  auto* a = static_cast<adapter*>(p);
  a->want_read_ = true;
  a->arm_read();
}
void adapter::del_read(void* p) { static_cast<adapter*>(p)->want_read_ = false; }
void adapter::add_write(void* p) {
  auto* a = static_cast<adapter*>(p);
  a->want_write_ = true;
  a->arm_write();
}
void adapter::del_write(void* p) { static_cast<adapter*>(p)->want_write_ = false; }

void adapter::cleanup(void* p) {
  auto* a = static_cast<adapter*>(p);
  auto keep = std::move(a->self_);  // the adapter may go at the end of this call
  a->ac_->ev.data = nullptr;
  a->ac_ = nullptr;
  a->want_read_ = a->want_write_ = false;
  boost::system::error_code ignored;
  a->sd_.cancel(ignored);
  a->sd_.release();
}

void adapter::arm_read() {
  if (read_armed_ || !ac_) return;
  read_armed_ = true;
  sd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                 [self = shared_from_this()](boost::system::error_code ec) {
                   self->read_armed_ = false;
                   if (ec || !self->ac_ || !self->want_read_) return;
                   redisAsyncHandleRead(self->ac_);  // may free the context (cleanup)
                   if (self->ac_ && self->want_read_) self->arm_read();
                 });
}

void adapter::arm_write() {
  if (write_armed_ || !ac_) return;
  write_armed_ = true;
  sd_.async_wait(boost::asio::posix::stream_descriptor::wait_write,
                 [self = shared_from_this()](boost::system::error_code ec) {
                   self->write_armed_ = false;
                   if (ec || !self->ac_ || !self->want_write_) return;
                   redisAsyncHandleWrite(self->ac_);
                   if (self->ac_ && self->want_write_) self->arm_write();
                 });
}

}  // namespace singleflight::redis::detail
