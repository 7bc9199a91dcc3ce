// SPDX-License-Identifier: BSL-1.0
// Database::load_item as an Asio asynchronous operation: the blocking query
// runs on a thread pool, and cancelling the operation interrupts it.
#ifndef CACHE_SERVER_ASYNC_LOAD_ITEM_HPP
#define CACHE_SERVER_ASYNC_LOAD_ITEM_HPP

#include "database.hpp"
#include "item.hpp"
#include "query_control.hpp"

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <memory>
#include <utility>

namespace cache_server {

/// Loads item `id` on a thread of `pool`; completes on the caller's
/// executor with `void(error_code, Item)`.
///
/// Per-operation cancellation (terminal, partial, total): the query stops at
/// once (sqlite3_interrupt) or, if still queued, never starts; the operation
/// then completes with operation_aborted.
template <class CompletionToken>
auto async_load_item(boost::asio::thread_pool& pool, Database& db, std::int64_t id, CompletionToken&& token) {
  using Signature = void(boost::system::error_code, Item);
  auto initiation = [&pool, &db, id](auto handler) {
    auto control = std::make_shared<QueryControl>();
    // The slot is only touched on the caller's executor: here, by the
    // emitter of the cancellation, and when completing below.
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected()) slot.assign([control](boost::asio::cancellation_type_t) { control->cancel(); });
    auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler, pool.get_executor()));
    boost::asio::post(pool, [&db, id, control, work = std::move(work), handler = std::move(handler)]() mutable {
      Item item;
      const boost::system::error_code ec = db.load_item(id, *control, item);
      auto done = [handler = std::move(handler), ec, item = std::move(item)]() mutable {
        boost::asio::get_associated_cancellation_slot(handler).clear();
        std::move(handler)(ec, std::move(item));
      };
      boost::asio::dispatch(work.get_executor(), std::move(done));
    });
  };
  return boost::asio::async_initiate<CompletionToken, Signature>(std::move(initiation), token);
}

}  // namespace cache_server

#endif
