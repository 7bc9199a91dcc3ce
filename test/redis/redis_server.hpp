// SPDX-License-Identifier: BSL-1.0
// A redis-server of the test's own: a free loopback port, a temporary
// directory, no persistence. It can be killed, frozen (SIGSTOP), thawed and
// restarted on the same port; admin() talks to it with blocking hiredis.
#ifndef SINGLEFLIGHT_TEST_REDIS_SERVER_HPP
#define SINGLEFLIGHT_TEST_REDIS_SERVER_HPP

#include <hiredis/hiredis.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sftest {

class redis_server {
 public:
  redis_server() : port_(free_port()) {
    char tmpl[] = "/tmp/sf-redis-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
    dir_ = tmpl;
    start();
  }
  ~redis_server() {
    stop_process();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  std::uint16_t port() const { return port_; }

  void start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string log = dir_ + "/redis.log";
      std::freopen(log.c_str(), "a", stdout);
      std::freopen(log.c_str(), "a", stderr);
      const std::string port = std::to_string(port_);
      ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", dir_.c_str(), "--daemonize", "no", "--loglevel", "warning",
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      if (ping()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw std::runtime_error("redis-server did not answer PING");
  }
  void kill() { stop_process(); }
  void freeze() { ::kill(pid_, SIGSTOP); }
  void thaw() { ::kill(pid_, SIGCONT); }
  void restart() {
    stop_process();
    start();
  }

  /// One command; the reply as a string (integers in decimal, nil as "(nil)",
  /// arrays as their elements joined by '\n').
  std::string admin(const std::vector<std::string>& args) const {
    redisContext* c = connect();
    if (!c) throw std::runtime_error("admin connect");
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(redisCommandArgv(c, int(args.size()), argv.data(), lens.data()));
    std::string out = r ? text(*r) : "(error)";
    if (r) freeReplyObject(r);
    redisFree(c);
    return out;
  }

  bool exists(const std::string& key) const { return admin({"EXISTS", key}) == "1"; }

  /// Connections whose CLIENT SETNAME is `name`.
  int clients_named(const std::string& name) const {
    const std::string list = admin({"CLIENT", "LIST"});
    int n = 0;
    for (std::size_t at = 0; (at = list.find(" name=" + name + " ", at)) != std::string::npos; ++at) ++n;
    return n;
  }

 private:
  static std::uint16_t free_port() {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
  }
  static std::string text(const redisReply& r) {
    switch (r.type) {
      case REDIS_REPLY_INTEGER: return std::to_string(r.integer);
      case REDIS_REPLY_NIL: return "(nil)";
      case REDIS_REPLY_ARRAY: {
        std::string s;
        for (size_t i = 0; i < r.elements; ++i) s += (i ? "\n" : "") + text(*r.element[i]);
        return s;
      }
      default: return std::string(r.str, r.len);
    }
  }
  redisContext* connect() const {
    timeval tv{1, 0};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
    if (c && c->err) {
      redisFree(c);
      return nullptr;
    }
    return c;
  }
  bool ping() const {
    redisContext* c = connect();
    if (!c) return false;
    auto* r = static_cast<redisReply*>(redisCommand(c, "PING"));
    const bool ok = r && r->type == REDIS_REPLY_STATUS;
    if (r) freeReplyObject(r);
    redisFree(c);
    return ok;
  }
  void stop_process() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  std::uint16_t port_;
  std::string dir_;
  pid_t pid_ = -1;
};

}  // namespace sftest

#endif
