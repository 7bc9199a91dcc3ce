// SPDX-License-Identifier: BSL-1.0
// The stress test's callers, in four forms (plain do_, do_shared, do_ raced
// against a timer, async_do with a callback), each recording what it got,
// and their planned cancellations.
#ifndef SINGLEFLIGHT_TEST_STRESS_CALLERS_HPP
#define SINGLEFLIGHT_TEST_STRESS_CALLERS_HPP

#include "round_state.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <exception>

namespace sfstress {

using caller_strand = asio::strand<asio::io_context::executor_type>;

/// Starts caller r on `strand`, and its planned cancellation.
void start_caller(round_state& s, caller_rec* r, const caller_strand& strand);

/// What a caller got: recorded in r, checked against its key.
void record_exception(round_state* s, caller_rec* r, std::exception_ptr e);
void record_value(round_state* s, caller_rec* r, const Value& v);

}  // namespace sfstress

#endif
