// SPDX-License-Identifier: BSL-1.0
// Error codes of singleflight, with an error category of their own.
#ifndef SINGLEFLIGHT_ERROR_HPP
#define SINGLEFLIGHT_ERROR_HPP

#include <boost/system/error_code.hpp>

#include <exception>
#include <type_traits>

namespace singleflight {

/// Errors that the group itself reports (a loader's own exceptions are
/// passed through unchanged).
enum class errc {
  /// Starting one more flight would exceed `Options::max_in_flight`.
  too_many_flights = 1,
};

/// The category of `errc`; its name is "singleflight".
const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// The error code that the exception in `e` carries: the code of a
/// `boost::system::system_error` (such as `asio::error::operation_aborted`
/// for a caller that was cancelled, or `errc::too_many_flights`) or of a
/// `std::system_error`; an empty code if `e` is null or holds any other
/// exception. Lets a completion handler or a `catch (...)` tell the group's
/// own errors from a loader's exceptions:
///
///     if (singleflight::error_code_of(e) == asio::error::operation_aborted) ...
boost::system::error_code error_code_of(const std::exception_ptr& e) noexcept;

}  // namespace singleflight

template <>
struct boost::system::is_error_code_enum<singleflight::errc> : std::true_type {};

template <>
struct std::is_error_code_enum<singleflight::errc> : std::true_type {};

#endif
