// SPDX-License-Identifier: BSL-1.0
// Opt-in: codec<T> as JSON for every T that Boost.JSON converts both ways
// (value_from and value_to find a conversion: tag_invoke overloads,
// BOOST_DESCRIBE_STRUCT, standard containers and arithmetic types), so that
// such values (and keys) cross processes through a remote tier with no codec
// of their own. Boost.JSON is a compiled library: link Boost::json (or
// include <boost/json/src.hpp> in one source file); the core library does
// not depend on it.
//
// A full specialization of codec<T> still wins over this one (codec's own
// for std::string, or a user's for a type of theirs); a partial one with an
// enable_if of its own would be ambiguous with it for types it converts.
#ifndef SINGLEFLIGHT_JSON_CODEC_HPP
#define SINGLEFLIGHT_JSON_CODEC_HPP

#include <singleflight/remote_tier.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <string>
#include <string_view>
#include <type_traits>

namespace singleflight {

/// Whether Boost.JSON converts T to and from a json::value.
template <class T>
inline constexpr bool json_convertible =
    boost::json::has_value_from<T>::value && boost::json::has_value_to<T>::value;

template <class T>
struct codec<T, std::enable_if_t<json_convertible<T>>> {
  static std::string encode(const T& v) { return boost::json::serialize(boost::json::value_from(v)); }
  /// Throws boost::system::system_error when `b` is not JSON, or not a T.
  static T decode(std::string_view b) {
    return boost::json::value_to<T>(boost::json::parse(boost::json::string_view(b.data(), b.size())));
  }
};

}  // namespace singleflight

#endif
