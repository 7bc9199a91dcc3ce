// SPDX-License-Identifier: BSL-1.0
#include "decoder.hpp"

namespace sffuzz {

using boost::asio::cancellation_type;
using boost::asio::cancellation_type_t;

run_options decoder::options() {
  const unsigned b = byte();
  run_options o;
  o.keep = (b & 1u) != 0;
  const unsigned limit = (b >> 1) & 3u;
  o.max_in_flight = limit == 0 ? SIZE_MAX : limit;
  o.end_with_shutdown = (b & 8u) != 0;
  o.shut_callers_first = (b & 16u) != 0;
  return o;
}

op decoder::next(std::size_t callers) {
  op o;
  const unsigned code = byte() % 16;
  switch (code) {
    case 0: case 1: case 2: case 3: {
      if (callers >= kMaxCallers) break;
      const unsigned a = byte(), b = byte();
      static constexpr loader_mode modes[8] = {loader_mode::gated,     loader_mode::gated,
                                               loader_mode::gated,     loader_mode::gated,
                                               loader_mode::gated,     loader_mode::value_now,
                                               loader_mode::throw_now, loader_mode::throw_early};
      o.kind = op_kind::start_caller;
      o.caller.key = static_cast<int>(a % kKeys);
      o.caller.f = static_cast<form>(((a >> 2) & 3u) % 3);
      o.caller.on_caller_ctx = ((a >> 4) & 1u) != 0;
      o.caller.reset_filter = ((a >> 5) & 1u) != 0;
      o.caller.lmode = modes[b % 8];
      break;
    }
    case 4: case 5: {
      if (callers == 0) break;
      const unsigned a = byte(), b = byte();
      static constexpr cancellation_type_t types[8] = {
          cancellation_type::terminal, cancellation_type::partial, cancellation_type::total,
          cancellation_type::none,     cancellation_type::terminal | cancellation_type::partial,
          cancellation_type::all,      cancellation_type::partial | cancellation_type::total,
          cancellation_type::terminal};
      o.kind = op_kind::cancel;
      o.target = static_cast<int>(a % callers);
      o.type = types[b % 8];
      break;
    }
    case 6: case 7: {
      const unsigned a = byte(), b = byte();
      o.kind = op_kind::finish_loader;
      o.choice = a;
      o.fail = (b & 1u) != 0;
      break;
    }
    case 8: {
      const unsigned a = byte();
      o.kind = op_kind::forget;
      o.key = static_cast<int>(a % kKeys);
      o.by_view = (a & 4u) != 0;
      break;
    }
    case 9: case 10:
      o.kind = op_kind::run_one;
      o.callers_ctx = (byte() & 1u) != 0;
      break;
    case 11: case 12:
      o.kind = op_kind::run_all;
      o.callers_ctx = (byte() & 1u) != 0;
      break;
    case 13:
      o.kind = op_kind::run_idle;
      break;
    case 14:
      if ((byte() & 3u) == 0) o.kind = op_kind::destroy_group;  // rarer than the rest
      break;
    default:
      break;
  }
  return o;
}

}  // namespace sffuzz
