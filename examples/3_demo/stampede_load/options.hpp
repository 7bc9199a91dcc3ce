// SPDX-License-Identifier: BSL-1.0
// Command-line options of stampede_load.
#ifndef STAMPEDE_LOAD_OPTIONS_HPP
#define STAMPEDE_LOAD_OPTIONS_HPP

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace stampede_load {

struct Options {
  std::string host = "127.0.0.1";                 // --host ADDRESS (an IPv4 or IPv6 literal)
  std::vector<std::uint16_t> ports;               // --port N[,N...] (required): the servers
  int connections = 300;                          // --connections N
  std::chrono::milliseconds duration{6000};       // --duration-ms N
  int hot_ids = 8;                                // --ids N: request items 1..N
  std::chrono::milliseconds timeout{5000};        // --timeout-ms N: per request
  std::uint32_t rate = 0;                         // --rate R: requests/s in all, open loop; 0: closed loop
  std::string summary_file;                       // --summary-file PATH
};

/// Parses argv; prints usage and exits on --help (0) or a bad option (2).
Options parse_options(int argc, char** argv);

}  // namespace stampede_load

#endif
