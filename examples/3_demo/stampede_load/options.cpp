// SPDX-License-Identifier: BSL-1.0
#include "options.hpp"

#include "command_line.hpp"

namespace stampede_load {

namespace {
constexpr const char* usage = R"(usage: stampede_load --port N [options]

C keep-alive connections to cache_server requesting GET /item/<id> for ids
1..N in turn for a while; then one summary line:
  requests=N origin_loads=M errors=E p50_ms=X p99_ms=Y [rate=R late=L]
requests: requests answered or failed; errors: requests that failed (I/O
error, timeout) or got another status than 200; origin_loads: database queries
the server started meanwhile (its /stats); p50/p99: latency of every request,
failed ones included.
Closed loop (the default): each connection sends its next request as soon as
the last is answered; latency counts from sending.
Open loop (--rate R): request i is due at start + i/R; a free connection
sends the earliest request not sent yet, waiting for its time if it is early;
latency counts from the time it was due, so a stall counts for every request
it holds up. late: requests sent more than 1 s after their time, or not at
all (the run stops 1 s after its end); more than 0 means the rate was more
than the server, or the C connections, could carry.
  --host ADDRESS     server address (127.0.0.1)
  --port N[,N...]    server port (required); with several, the connections
                     are spread over the servers round robin and
                     origin_loads is their sum (a fleet behind a balancer)
  --connections N    concurrent connections (300)
  --duration-ms N    how long to send requests (6000)
  --ids N            the hot set: items 1..N (8)
  --timeout-ms N     a request that takes longer fails (5000)
  --rate R           open loop at R requests per second in all (1..1000000)
  --summary-file P   also write the summary line to P
Progress goes to stdout: one line updated in place on a terminal, a line a
second otherwise.
)";

}  // namespace

Options parse_options(int argc, char** argv) {
  Options o;
  demo::command_line cl("stampede_load", usage);
  cl.text("--host", o.host);
  cl.integers("--port", o.ports, 1, 65535);
  cl.integer("--connections", o.connections, 1, 10000);
  cl.milliseconds("--duration-ms", o.duration, 1, 3'600'000);
  cl.integer("--ids", o.hot_ids, 1, 1'000'000);
  cl.milliseconds("--timeout-ms", o.timeout, 1, 3'600'000);
  cl.integer("--rate", o.rate, 1, 1'000'000);
  cl.text("--summary-file", o.summary_file);
  cl.parse(argc, argv);
  if (o.ports.empty()) cl.fail("--port is required");
  return o;
}

}  // namespace stampede_load
