#include "options.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace stampede_load {

namespace {
constexpr const char* usage = R"(usage: stampede_load --port N [options]

C keep-alive connections to cache_server, each requesting GET /item/<id> for
ids 1..N in turn, back to back, for a while; then one summary line:
  requests=N origin_loads=M errors=E p50_ms=X p99_ms=Y
requests: requests answered or failed; errors: requests that failed (I/O
error, timeout) or got another status than 200; origin_loads: database queries
the server started meanwhile (its /stats); p50/p99: latency of every request,
failed ones included.
  --host ADDRESS     server address (127.0.0.1)
  --port N           server port (required)
  --connections N    concurrent connections (300)
  --duration-ms N    how long to send requests (6000)
  --ids N            the hot set: items 1..N (8)
  --timeout-ms N     a request that takes longer fails (5000)
  --summary-file P   also write the summary line to P
Progress goes to stdout: one line updated in place on a terminal, a line a
second otherwise.
)";

[[noreturn]] void fail(const std::string& message) {
  fmt::print(stderr, "stampede_load: {}\n{}", message, usage);
  std::exit(2);
}

std::int64_t number(std::string_view flag, const char* text, std::int64_t min, std::int64_t max) {
  std::int64_t v = 0;
  const std::string_view s(text);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v < min || v > max)
    fail(fmt::format("{} wants an integer in {}..{}, not '{}'", flag, min, max, s));
  return v;
}
}  // namespace

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      fmt::print("{}", usage);
      std::exit(0);
    }
    if (i + 1 >= argc) fail(fmt::format("unknown option or missing value: {}", flag));
    const char* value = argv[++i];
    if (flag == "--host") o.host = value;
    else if (flag == "--port") o.port = static_cast<std::uint16_t>(number(flag, value, 1, 65535));
    else if (flag == "--connections") o.connections = static_cast<int>(number(flag, value, 1, 10000));
    else if (flag == "--duration-ms") o.duration = std::chrono::milliseconds(number(flag, value, 1, 3'600'000));
    else if (flag == "--ids") o.hot_ids = static_cast<int>(number(flag, value, 1, 1'000'000));
    else if (flag == "--timeout-ms") o.timeout = std::chrono::milliseconds(number(flag, value, 1, 3'600'000));
    else if (flag == "--summary-file") o.summary_file = value;
    else fail(fmt::format("unknown option: {}", flag));
  }
  if (o.port == 0) fail("--port is required");
  return o;
}

}  // namespace stampede_load
