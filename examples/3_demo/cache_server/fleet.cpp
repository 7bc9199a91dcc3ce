// SPDX-License-Identifier: BSL-1.0
#include "fleet.hpp"

#if defined(CACHE_SERVER_HAS_REDIS)
#include <singleflight/redis.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#endif

#include <chrono>
#include <future>
#include <stdexcept>

namespace cache_server {

std::shared_ptr<singleflight::remote_tier> make_fleet_tier(boost::asio::io_context& ioc, const std::string& host,
                                                           std::uint16_t port, const std::string& prefix) {
#if defined(CACHE_SERVER_HAS_REDIS)
  singleflight::redis::config cfg;
  cfg.host = host;
  cfg.port = port;
  cfg.prefix = prefix;
  cfg.client_name = "cache_server";
  auto connecting = boost::asio::co_spawn(
      ioc, singleflight::redis::tier::connect(ioc.get_executor(), std::move(cfg)), boost::asio::use_future);
  // The tier keeps work on ioc (its connections' reads): run only until the
  // connection is up, one handler at a time.
  while (connecting.wait_for(std::chrono::seconds(0)) != std::future_status::ready) ioc.run_one();
  return connecting.get();
#else
  (void)ioc;
  (void)host;
  (void)port;
  (void)prefix;
  throw std::invalid_argument("--redis: this cache_server was built without hiredis");
#endif
}

boost::json::object fleet_stats(const singleflight::remote_tier* tier) {
  boost::json::object o;
#if defined(CACHE_SERVER_HAS_REDIS)
  if (const auto* t = dynamic_cast<const singleflight::redis::tier*>(tier)) {
    const singleflight::redis::tier_stats s = t->stats();
    o = {{"claims", s.claims},   {"hits", s.hits},         {"leads", s.leads},
         {"woken", s.woken},     {"local", s.local},       {"commits", s.commits},
         {"refused", s.refused}, {"failures", s.failures}, {"round_trips", s.round_trips},
         {"breaker_open", t->breaker_open()}};
  }
#else
  (void)tier;
#endif
  return o;
}

}  // namespace cache_server
