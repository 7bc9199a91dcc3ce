// SPDX-License-Identifier: BSL-1.0
// The process's one subscriber connection: one channel per key that some
// local follower waits on, fanned out to its waiters.
//
// A channel's states: subscribing (SUBSCRIBE sent) → subscribed (acked) →
// unsubscribing (UNSUBSCRIBE sent, the last waiter left) → erased, or
// subscribing again when a waiter came back meanwhile (hiredis 0.14 drops a
// channel's callback on the unsubscribe ack, so a SUBSCRIBE is not sent
// before that ack). A lost connection sets every channel to `lost` and
// wakes every waiter: each re-checks the key, then subscribes anew.
#ifndef SINGLEFLIGHT_SRC_REDIS_SUBSCRIBER_HPP
#define SINGLEFLIGHT_SRC_REDIS_SUBSCRIBER_HPP

#include "link.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace singleflight::redis::detail {

class subscriber {
 public:
  subscriber(const strand_type& strand, const config& cfg);

  /// Takes a reference on `channel` and returns once the subscription is
  /// acknowledged; throws system_error (the reference is dropped then).
  boost::asio::awaitable<void> subscribe(const std::string& channel);
  /// For a reference holder: returns once the channel is subscribed again
  /// (after a lost connection, reconnecting first); throws system_error.
  boost::asio::awaitable<void> acked(const std::string& channel);
  /// Drops a reference taken by subscribe.
  void unsubscribe(const std::string& channel);

  /// Messages received on `channel` so far, and whether it is subscribed.
  std::uint64_t seen(const std::string& channel) const;
  bool subscribed(const std::string& channel) const;
  /// The latest message on `channel`.
  const std::string& last(const std::string& channel) const;
  /// Returns after a message on `channel` past `seen`, a lost connection,
  /// or `until`, whichever comes first; cancellable by the caller.
  boost::asio::awaitable<void> wait(const std::string& channel, std::uint64_t seen,
                                    std::chrono::steady_clock::time_point until);

  void close() { link_.close(); }
  link& connection() { return link_; }

 private:
  enum class state { subscribing, subscribed, unsubscribing, lost };
  struct channel {
    int refs = 0;
    state st = state::lost;
    std::uint64_t messages = 0;
    std::string last;
    std::vector<boost::asio::steady_timer*> waiters;  // in the waiting frames
  };

  static void on_reply(redisAsyncContext* ac, void* r, void* privdata);
  void handle(const reply& r);
  void lost();
  void wake(channel& c);
  void send_subscribe(const std::string& name, channel& c);

  strand_type strand_;
  const config& cfg_;
  link link_;
  std::unordered_map<std::string, channel> channels_;
};

}  // namespace singleflight::redis::detail

#endif
