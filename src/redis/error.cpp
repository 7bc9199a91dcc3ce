// SPDX-License-Identifier: BSL-1.0
#include <singleflight/redis/error.hpp>

#include <string>

namespace singleflight::redis {

namespace {
class category final : public boost::system::error_category {
 public:
  constexpr category() noexcept : error_category(0x5f1e6d2c7a9b4e13ULL) {}

  const char* name() const noexcept override { return "singleflight.redis"; }

  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::bad_address: return "the Redis host does not resolve to an address";
      case errc::connect_refused: return "Redis refused the connection";
      case errc::auth_refused: return "Redis refused AUTH";
      case errc::timeout: return "no reply from Redis within the timeout";
      case errc::disconnected: return "the connection to Redis was lost";
      case errc::protocol_error: return "Redis answered with an error or an unexpected reply";
      case errc::breaker_open: return "the Redis breaker is open";
      case errc::closed: return "the Redis tier is closed";
    }
    return "unknown singleflight.redis error";
  }
};
}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace singleflight::redis
