// SPDX-License-Identifier: BSL-1.0
// Error codes of the Redis tier, with a category of their own.
#ifndef SINGLEFLIGHT_REDIS_ERROR_HPP
#define SINGLEFLIGHT_REDIS_ERROR_HPP

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace singleflight::redis {

enum class errc {
  /// The host is not an address and does not resolve to one.
  bad_address = 1,
  /// Nothing accepts connections at host:port.
  connect_refused,
  /// AUTH was refused (wrong password, or none set on the server).
  auth_refused,
  /// No reply within config::connect_timeout or config::command_timeout.
  timeout,
  /// The connection was lost (or closed) before the reply.
  disconnected,
  /// Redis answered with an error reply, or a reply of an unexpected shape.
  protocol_error,
  /// A recent failure opened the breaker: Redis is not asked until it closes.
  breaker_open,
  /// The tier has been destroyed.
  closed,
};

/// The category of `errc`; its name is "singleflight.redis".
const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace singleflight::redis

template <>
struct boost::system::is_error_code_enum<singleflight::redis::errc> : std::true_type {};

template <>
struct std::is_error_code_enum<singleflight::redis::errc> : std::true_type {};

#endif
