// SPDX-License-Identifier: BSL-1.0
// The result of `do_shared`: a value and Go's `shared` flag.
#ifndef SINGLEFLIGHT_SHARED_HPP
#define SINGLEFLIGHT_SHARED_HPP

namespace singleflight {

template <class Value>
struct Shared {
  Value value;
  /// True when the flight's result was delivered to more than one caller.
  bool shared = false;
};

}  // namespace singleflight

#endif
