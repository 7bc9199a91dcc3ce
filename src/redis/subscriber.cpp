// SPDX-License-Identifier: BSL-1.0
#include "subscriber.hpp"

#include <singleflight/redis/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>

namespace singleflight::redis::detail {

namespace asio = boost::asio;
using boost::system::system_error;

subscriber::subscriber(const strand_type& strand, const config& cfg)
    : strand_(strand), cfg_(cfg), link_(strand, cfg) {
  link_.on_lost = [this] { lost(); };
}

void subscriber::on_reply(redisAsyncContext* ac, void* r, void* privdata) {
  // A closing link (data cleared) or a disconnect (NULL reply, handled by
  // on_lost): nothing to deliver.
  if (!ac->data || !r) return;
  static_cast<subscriber*>(privdata)->handle(reply::copy(*static_cast<redisReply*>(r)));
}

void subscriber::handle(const reply& r) {
  if (r.type != reply::kind::array || r.elements.size() < 3) return;
  const std::string& kind = r.elements[0].str;
  auto it = channels_.find(r.elements[1].str);
  if (it == channels_.end()) return;
  channel& c = it->second;
  if (kind == "message") {
    ++c.messages;
    c.last = r.elements[2].str;
    wake(c);
  } else if (kind == "subscribe") {
    c.st = state::subscribed;
    wake(c);
    if (c.refs == 0) {
      c.st = state::unsubscribing;
      link_.send({"UNSUBSCRIBE", it->first}, nullptr, nullptr);
    }
  } else if (kind == "unsubscribe") {
    if (c.refs > 0)
      send_subscribe(it->first, c);
    else
      channels_.erase(it);
  }
}

void subscriber::send_subscribe(const std::string& name, channel& c) {
  c.st = state::subscribing;
  if (!link_.send({"SUBSCRIBE", name}, &subscriber::on_reply, this)) c.st = state::lost;
}

void subscriber::wake(channel& c) {
  for (auto* t : c.waiters) t->cancel();
}

void subscriber::lost() {
  for (auto it = channels_.begin(); it != channels_.end();) {
    it->second.st = state::lost;
    wake(it->second);
    if (it->second.refs == 0)
      it = channels_.erase(it);
    else
      ++it;
  }
}

asio::awaitable<void> subscriber::subscribe(const std::string& name) {
  ++channels_[name].refs;
  try {
    auto acking = acked(name);
    co_await std::move(acking);
  } catch (...) {
    unsubscribe(name);
    throw;
  }
}

asio::awaitable<void> subscriber::acked(const std::string& name) {
  {
    auto connecting = link_.ensure();
    co_await std::move(connecting);
    channel& c = channels_[name];
    if (c.st == state::lost) send_subscribe(name, c);
    const auto until = std::chrono::steady_clock::now() + cfg_.command_timeout;
    while (channels_[name].st != state::subscribed) {
      if (channels_[name].st == state::lost) throw system_error(errc::disconnected);
      if (std::chrono::steady_clock::now() >= until) throw system_error(errc::timeout);
      auto waiting = wait(name, channels_[name].messages, until);
      co_await std::move(waiting);
    }
  }
}

void subscriber::unsubscribe(const std::string& name) {
  auto it = channels_.find(name);
  if (it == channels_.end() || --it->second.refs > 0) return;
  channel& c = it->second;
  if (c.st == state::subscribed) {
    c.st = state::unsubscribing;
    link_.send({"UNSUBSCRIBE", name}, nullptr, nullptr);
  } else if (c.st == state::lost) {
    channels_.erase(it);
  }
  // subscribing: unsubscribed when its ack comes; unsubscribing: already.
}

std::uint64_t subscriber::seen(const std::string& name) const {
  auto it = channels_.find(name);
  return it == channels_.end() ? 0 : it->second.messages;
}

bool subscriber::subscribed(const std::string& name) const {
  auto it = channels_.find(name);
  return it != channels_.end() && it->second.st == state::subscribed;
}

const std::string& subscriber::last(const std::string& name) const {
  static const std::string none;
  auto it = channels_.find(name);
  return it == channels_.end() ? none : it->second.last;
}

asio::awaitable<void> subscriber::wait(const std::string& name, std::uint64_t seen,
                                       std::chrono::steady_clock::time_point until) {
  auto it = channels_.find(name);
  if (it == channels_.end() || it->second.messages != seen || it->second.st == state::lost) co_return;
  asio::steady_timer t(strand_);
  t.expires_at(until);
  it->second.waiters.push_back(&t);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  // The channel outlives its waiters: they hold references on it.
  auto& w = channels_[name].waiters;
  w.erase(std::remove(w.begin(), w.end(), &t), w.end());
}

}  // namespace singleflight::redis::detail
