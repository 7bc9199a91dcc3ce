// SPDX-License-Identifier: BSL-1.0
// The input format of fuzz_group. Byte 0 chooses the options
// (keep_abandoned_loaders, max_in_flight) and how the run ends (drain, or
// shut the contexts down with callers parked). Then operations, each an
// opcode byte (mod 16) and argument bytes:
//   0-3   start a caller: key, form (callback / do_ / do_shared), on which
//         context, whether its coroutine passes partial and total
//         cancellation; then its loader (gated 5/8, else returns, throws, or
//         throws before its awaitable);
//   4-5   cancel caller i (terminal, partial, total, none, combinations);
//   6-7   finish one of the waiting gated loaders (value or exception);
//   8     forget key k (through std::string or std::string_view);
//   9-10  run one ready handler of one context;  11-12  all of one context;
//   13    run both contexts until idle;
//   14    destroy the group (one time in four; a new one takes its place);
//   15    nothing.
// Bytes past the end read as 0. The seed corpus (make_corpus.py) and the
// regressions are written in this format: change it and they mean other runs.
#ifndef SINGLEFLIGHT_FUZZ_DECODER_HPP
#define SINGLEFLIGHT_FUZZ_DECODER_HPP

#include "records.hpp"

#include <boost/asio/cancellation_type.hpp>

#include <cstddef>
#include <cstdint>

namespace sffuzz {

struct run_options {
  bool keep = false;
  std::size_t max_in_flight = SIZE_MAX;
  bool end_with_shutdown = false;
  bool shut_callers_first = false;
};

enum class op_kind { start_caller, cancel, finish_loader, forget, run_one, run_all, run_idle, destroy_group, nothing };

struct caller_spec {
  int key = 0;
  form f = form::callback;
  bool on_caller_ctx = false;
  bool reset_filter = false;
  loader_mode lmode = loader_mode::gated;
};

struct op {
  op_kind kind = op_kind::nothing;
  caller_spec caller;  // start_caller
  int target = 0;      // cancel: the caller
  boost::asio::cancellation_type_t type = boost::asio::cancellation_type::none;  // cancel
  unsigned choice = 0;  // finish_loader: picks among the waiting gates, mod their number
  bool fail = false;    // finish_loader: with an exception
  int key = 0;          // forget
  bool by_view = false;       // forget through a std::string_view
  bool callers_ctx = false;   // run_one, run_all: the callers' context, else the group's
};

class decoder {
 public:
  decoder(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  /// Byte 0.
  run_options options();
  /// Whether bytes are left for another operation.
  bool more() const { return pos_ < size_; }
  /// The next operation. `callers` is how many have been started: a start
  /// past kMaxCallers, or a cancel with none, reads no argument bytes.
  op next(std::size_t callers);

 private:
  unsigned byte() { return pos_ < size_ ? data_[pos_++] : 0u; }

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace sffuzz

#endif
