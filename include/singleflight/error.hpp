// Error codes of singleflight, with an error category of their own.
#ifndef SINGLEFLIGHT_ERROR_HPP
#define SINGLEFLIGHT_ERROR_HPP

#include <boost/system/error_code.hpp>

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

}  // namespace singleflight

template <>
struct boost::system::is_error_code_enum<singleflight::errc> : std::true_type {};

template <>
struct std::is_error_code_enum<singleflight::errc> : std::true_type {};

#endif
