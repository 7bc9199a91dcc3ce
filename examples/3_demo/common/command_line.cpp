// SPDX-License-Identifier: BSL-1.0
#include "command_line.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace demo {

command_line::command_line(std::string program, std::string usage)
    : program_(std::move(program)), usage_(std::move(usage)) {}

void command_line::milliseconds(std::string flag, std::chrono::milliseconds& out, std::int64_t min,
                                std::int64_t max) {
  add(std::move(flag), [this, &out, min, max](std::string_view f, std::string_view v) {
    out = std::chrono::milliseconds(number(f, v, min, max));
  });
}

void command_line::text(std::string flag, std::string& out) {
  add(std::move(flag), [&out](std::string_view, std::string_view v) { out = std::string(v); });
}

void command_line::toggle(std::string flag, bool& out, bool value) {
  add(std::move(flag), [&out, value](std::string_view, std::string_view) { out = value; }, false);
}

void command_line::add(std::string flag, setter set, bool takes_value) {
  options_.push_back({std::move(flag), takes_value, std::move(set)});
}

void command_line::parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      fmt::print("{}", usage_);
      std::exit(0);
    }
    const auto o = std::find_if(options_.begin(), options_.end(), [&](const option& o) { return o.flag == flag; });
    if (o == options_.end()) fail(fmt::format("unknown option: {}", flag));
    if (!o->takes_value) {
      o->set(flag, {});
      continue;
    }
    if (i + 1 >= argc) fail(fmt::format("{} wants a value", flag));
    o->set(flag, argv[++i]);
  }
}

void command_line::fail(std::string_view message) const {
  fmt::print(stderr, "{}: {}\n{}", program_, message, usage_);
  std::exit(2);
}

std::int64_t command_line::number(std::string_view flag, std::string_view text, std::int64_t min,
                                  std::int64_t max) const {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < min || v > max)
    fail(fmt::format("{} wants an integer in {}..{}, not '{}'", flag, min, max, text));
  return v;
}

std::vector<std::string_view> command_line::split(std::string_view list) {
  std::vector<std::string_view> items;
  for (;;) {
    const auto comma = list.find(',');
    items.push_back(list.substr(0, comma));
    if (comma == std::string_view::npos) return items;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace demo
