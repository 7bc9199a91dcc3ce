// SPDX-License-Identifier: BSL-1.0
// A Redis reply copied out of hiredis: hiredis frees its own reply as soon as
// the callback returns, and coroutines resume later.
#ifndef SINGLEFLIGHT_SRC_REDIS_REPLY_HPP
#define SINGLEFLIGHT_SRC_REDIS_REPLY_HPP

#include <hiredis/hiredis.h>

#include <string>
#include <vector>

namespace singleflight::redis::detail {

struct reply {
  enum class kind { nil, status, error, integer, string, array };
  kind type = kind::nil;
  std::string str;
  long long integer = 0;
  std::vector<reply> elements;

  static reply copy(const redisReply& r) {
    reply out;
    switch (r.type) {
      case REDIS_REPLY_STATUS: out.type = kind::status; break;
      case REDIS_REPLY_ERROR: out.type = kind::error; break;
      case REDIS_REPLY_INTEGER: out.type = kind::integer; break;
      case REDIS_REPLY_STRING: out.type = kind::string; break;
      case REDIS_REPLY_ARRAY: out.type = kind::array; break;
      default: out.type = kind::nil; break;
    }
    out.integer = r.integer;
    if (r.str) out.str.assign(r.str, r.len);
    for (size_t i = 0; i < r.elements; ++i) out.elements.push_back(copy(*r.element[i]));
    return out;
  }

  bool is_error() const { return type == kind::error; }
};

}  // namespace singleflight::redis::detail

#endif
