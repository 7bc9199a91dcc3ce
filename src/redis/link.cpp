// SPDX-License-Identifier: BSL-1.0
#include "link.hpp"

#include <singleflight/redis/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <optional>

#include <sys/socket.h>

namespace singleflight::redis::detail {

namespace asio = boost::asio;
using boost::system::system_error;

namespace {

// Waits on `t` until it expires or is cancelled, deaf to the caller's
// cancellation: what it guards (a sent command, a connect) must end first.
asio::awaitable<void> wait_deaf(asio::steady_timer& t) {
  asio::cancellation_slot none;
  co_await t.async_wait(asio::bind_cancellation_slot(none, asio::as_tuple(asio::use_awaitable)));
}

// A command's state, shared by its hiredis callback and its waiter.
struct command_state {
  explicit command_state(const strand_type& s) : timer(s) {}
  asio::steady_timer timer;
  bool done = false;
  std::optional<reply> r;  // empty: lost with the connection
};

void on_command_reply(redisAsyncContext*, void* r, void* privdata) {
  auto* p = static_cast<std::shared_ptr<command_state>*>(privdata);
  std::shared_ptr<command_state> st = std::move(*p);
  delete p;
  if (st->done) return;  // timed out: nobody waits any more
  st->done = true;
  if (r) st->r = reply::copy(*static_cast<redisReply*>(r));
  st->timer.cancel();  // resumes the waiter by a post, never from here
}

}  // namespace

struct link::attempt {
  explicit attempt(const strand_type& s) : timer(s) {}
  asio::steady_timer timer;  // cancelled when the attempt ends
  bool finished = false;
  boost::system::error_code result;
};

link::link(const strand_type& strand, const config& cfg) : strand_(strand), cfg_(cfg) {}

link::~link() { close(); }

void link::close() {
  closed_ = true;
  if (auto* ac = ac_) {
    ac_ = nullptr;
    ready_ = false;
    ac->data = nullptr;  // the callbacks that free() runs see a closed link
    redisAsyncFree(ac);
  }
}

bool link::send(std::vector<std::string> const& args, redisCallbackFn* fn, void* privdata) {
  if (!ac_) return false;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  ++sent;
  return redisAsyncCommandArgv(ac_, fn, privdata, static_cast<int>(args.size()), argv.data(), lens.data()) ==
         REDIS_OK;
}

asio::awaitable<void> link::ensure() {
  if (closed_) throw system_error(errc::closed);
  if (connected()) co_return;
  std::shared_ptr<attempt> a = attempt_;
  if (!a) {
    a = attempt_ = std::make_shared<attempt>(strand_);
    asio::awaitable<void> c = connect(a);  // named: see the g++ 12 note in link.hpp
    try {
      co_await std::move(c);
    } catch (const system_error& e) {
      a->result = e.code();
    }
    a->finished = true;
    if (attempt_ == a) attempt_.reset();
    a->timer.cancel();
  } else {
    a->timer.expires_at(asio::steady_timer::time_point::max());
    while (!a->finished) co_await wait_deaf(a->timer);
  }
  if (a->result) throw system_error(a->result);
}

asio::awaitable<void> link::connect(std::shared_ptr<attempt> a) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(cfg_.host, ec);
  if (ec) {
    asio::ip::tcp::resolver resolver(strand_);
    auto [rec, results] = co_await resolver.async_resolve(cfg_.host, "", asio::as_tuple(asio::use_awaitable));
    if (rec || results.empty()) throw system_error(errc::bad_address);
    address = results.begin()->endpoint().address();
  }
  const std::string ip = address.to_string();
  redisAsyncContext* ac = redisAsyncConnect(ip.c_str(), cfg_.port);
  if (!ac) throw system_error(errc::disconnected);
  if (ac->err) {
    const bool refused = ac->c.err == REDIS_ERR_IO;
    redisAsyncFree(ac);  // no hooks attached yet: frees and closes
    throw system_error(refused ? errc::connect_refused : errc::bad_address);
  }
  ac->data = this;
  redisAsyncSetConnectCallback(ac, &link::on_connected);
  redisAsyncSetDisconnectCallback(ac, &link::on_disconnected);
  ac_ = ac;
  adapter::attach(ac, strand_);
  // Woken by on_connected (which cancels the attempt's timer) or the deadline.
  a->timer.expires_after(cfg_.connect_timeout);
  co_await wait_deaf(a->timer);
  if (closed_) throw system_error(errc::closed);
  if (!ac_) throw system_error(errc::connect_refused);  // hiredis freed it
  if (!(ac_->c.flags & REDIS_CONNECTED)) {
    close();
    closed_ = false;
    throw system_error(errc::timeout);
  }
  {
    // Dead peers are noticed by the kernel too (the subscriber cannot PING).
    int on = 1;
    ::setsockopt(ac_->c.fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  }
  try {
    if (!cfg_.password.empty()) {
      std::vector<std::string> args{"AUTH", cfg_.password};
      auto sending = exec_now(std::move(args));
      reply r = co_await std::move(sending);
      if (r.is_error()) throw system_error(errc::auth_refused);
    }
    if (cfg_.database != 0) {
      std::vector<std::string> args{"SELECT", std::to_string(cfg_.database)};
      auto sending = exec_now(std::move(args));
      reply r = co_await std::move(sending);
      if (r.is_error()) throw system_error(errc::protocol_error);
    }
    if (!cfg_.client_name.empty()) {
      std::vector<std::string> args{"CLIENT", "SETNAME", cfg_.client_name};
      auto sending = exec_now(std::move(args));
      reply r = co_await std::move(sending);
      if (r.is_error()) throw system_error(errc::protocol_error);
    }
    if (on_connect) {
      auto hook = on_connect();
      co_await std::move(hook);
    }
  } catch (...) {
    const bool was_closed = closed_;
    close();
    closed_ = was_closed;
    throw;
  }
  ready_ = true;
}

void link::on_connected(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<link*>(ac->data);
  if (!self) return;
  if (status != REDIS_OK) self->ac_ = nullptr;  // hiredis frees it after this call
  if (self->attempt_) self->attempt_->timer.cancel();
}

void link::on_disconnected(const redisAsyncContext* ac, int) {
  auto* self = static_cast<link*>(ac->data);
  if (!self) return;
  const bool was_ready = self->ready_;
  self->ac_ = nullptr;
  self->ready_ = false;
  if (self->attempt_) self->attempt_->timer.cancel();
  if (was_ready && self->on_lost) self->on_lost();
}

asio::awaitable<reply> link::exec(std::vector<std::string> args) {
  auto connecting = ensure();
  co_await std::move(connecting);
  auto sending = exec_now(std::move(args));
  reply r = co_await std::move(sending);
  co_return r;
}

asio::awaitable<reply> link::exec_now(std::vector<std::string> args) {
  if (!ac_) throw system_error(errc::disconnected);
  auto st = std::make_shared<command_state>(strand_);
  auto* priv = new std::shared_ptr<command_state>(st);
  if (!send(args, &on_command_reply, priv)) {
    delete priv;
    throw system_error(errc::disconnected);
  }
  st->timer.expires_after(cfg_.command_timeout);
  co_await wait_deaf(st->timer);
  if (!st->done) {
    st->done = true;  // the late reply, if any, is dropped by its callback
    throw system_error(errc::timeout);
  }
  if (!st->r) throw system_error(errc::disconnected);
  co_return std::move(*st->r);
}

}  // namespace singleflight::redis::detail
