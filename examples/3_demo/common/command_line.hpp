// SPDX-License-Identifier: BSL-1.0
// The command line of the demo's programs: flags with a value, each checked
// against its range, and one usage text printed on --help or a bad flag.
#ifndef DEMO_COMMAND_LINE_HPP
#define DEMO_COMMAND_LINE_HPP

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace demo {

class command_line {
 public:
  command_line(std::string program, std::string usage);

  /// --flag N, an integer in [min, max].
  template <class Int>
  void integer(std::string flag, Int& out, std::int64_t min, std::int64_t max) {
    add(std::move(flag), [this, &out, min, max](std::string_view f, std::string_view v) {
      out = static_cast<Int>(number(f, v, min, max));
    });
  }

  /// --flag N[,N...], integers in [min, max], at least one.
  template <class Int>
  void integers(std::string flag, std::vector<Int>& out, std::int64_t min, std::int64_t max) {
    add(std::move(flag), [this, &out, min, max](std::string_view f, std::string_view v) {
      out.clear();
      for (std::string_view item : split(v)) out.push_back(static_cast<Int>(number(f, item, min, max)));
    });
  }

  /// --flag N, a number of milliseconds in [min, max].
  void milliseconds(std::string flag, std::chrono::milliseconds& out, std::int64_t min, std::int64_t max);

  /// --flag TEXT.
  void text(std::string flag, std::string& out);

  /// --flag, with no value: sets `out` to `value`.
  void toggle(std::string flag, bool& out, bool value);

  /// Parses argv: prints the usage and exits 0 on --help, prints what is
  /// wrong and the usage and exits 2 on an unknown flag or a bad value.
  void parse(int argc, char** argv);

  /// Prints `message` and the usage to stderr and exits 2.
  [[noreturn]] void fail(std::string_view message) const;

 private:
  using setter = std::function<void(std::string_view flag, std::string_view value)>;
  struct option {
    std::string flag;
    bool takes_value;
    setter set;
  };

  void add(std::string flag, setter set, bool takes_value = true);
  std::int64_t number(std::string_view flag, std::string_view text, std::int64_t min, std::int64_t max) const;
  static std::vector<std::string_view> split(std::string_view list);

  std::string program_;
  std::string usage_;
  std::vector<option> options_;
};

}  // namespace demo

#endif
