// SPDX-License-Identifier: BSL-1.0
#include "records.hpp"

namespace sffuzz {

const char* name(outcome o) {
  switch (o) {
    case outcome::none: return "none";
    case outcome::value: return "value";
    case outcome::loader_error: return "loader_error";
    case outcome::aborted: return "aborted";
    case outcome::too_many: return "too_many";
    case outcome::no_group: return "no_group";
    case outcome::other: return "other";
  }
  return "?";
}

}  // namespace sffuzz
