// SPDX-License-Identifier: BSL-1.0
// stampede_load: a cache stampede on demand. Many keep-alive connections ask
// cache_server for a few hot items, long enough for their cache entries to
// expire several times, back to back or at a fixed rate; the summary says
// how many database queries that cost, and the latency.
#include "load_run.hpp"
#include "options.hpp"
#include "server_stats.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_future.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <fstream>
#include <string>

namespace asio = boost::asio;
using namespace stampede_load;

namespace {
// Nearest-rank percentile, in milliseconds.
double percentile_ms(std::vector<std::uint32_t>& sorted_us, double p) {
  if (sorted_us.empty()) return 0;
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted_us.size() - 1) + 0.5);
  return sorted_us[rank] / 1000.0;
}

// The database queries of every server, summed.
asio::awaitable<std::uint64_t> fleet_origin_loads(const std::vector<asio::ip::tcp::endpoint>& servers) {
  std::uint64_t sum = 0;
  for (const auto& server : servers) sum += co_await fetch_origin_loads(server);
  co_return sum;
}

asio::awaitable<std::string> measure(const Options& options) {
  std::vector<asio::ip::tcp::endpoint> servers;
  for (std::uint16_t port : options.ports) servers.emplace_back(asio::ip::make_address(options.host), port);
  const std::uint64_t loads_before = co_await fleet_origin_loads(servers);
  LoadResult r = co_await run_load(options, servers);
  const std::uint64_t loads_after = co_await fleet_origin_loads(servers);
  std::sort(r.latencies_us.begin(), r.latencies_us.end());
  std::string line = fmt::format("requests={} origin_loads={} errors={} p50_ms={:.2f} p99_ms={:.2f}", r.requests,
                                 loads_after - loads_before, r.errors, percentile_ms(r.latencies_us, 50),
                                 percentile_ms(r.latencies_us, 99));
  if (options.rate > 0) line += fmt::format(" rate={} late={}", options.rate, r.late);
  co_return line;
}
}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  try {
    // One thread: hundreds of connections are cheap, and the counters need no
    // lock. It leaves the cores to the server under test.
    asio::io_context ioc(1);
    auto summary = asio::co_spawn(ioc, measure(options), asio::use_future);
    ioc.run();
    const std::string line = summary.get();
    fmt::print("{}\n", line);
    if (!options.summary_file.empty()) std::ofstream(options.summary_file) << line << '\n';
    return 0;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "stampede_load: {}\n", e.what());
    return 1;
  }
}
