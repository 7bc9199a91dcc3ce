// SPDX-License-Identifier: BSL-1.0
// One item as the server returns it: a row of `items` with the aggregate of
// its sales.
#ifndef CACHE_SERVER_ITEM_HPP
#define CACHE_SERVER_ITEM_HPP

#include <cstdint>
#include <string>

namespace cache_server {

struct Item {
  std::int64_t id = 0;
  std::string name;
  std::int64_t sales = 0;      // rows of `sales` for this item
  std::int64_t revenue = 0;    // sum of their amounts
  std::int64_t customers = 0;  // distinct customers
  std::int64_t min_amount = 0;
  std::int64_t max_amount = 0;
};

}  // namespace cache_server

#endif
