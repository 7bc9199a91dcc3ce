// SPDX-License-Identifier: BSL-1.0
// The --create-db mode: builds the demo's database file.
#ifndef CACHE_SERVER_CREATE_DATABASE_HPP
#define CACHE_SERVER_CREATE_DATABASE_HPP

#include <cstdint>
#include <string>

namespace cache_server {

/// Writes a fresh database to `path` (replacing any file there): `items`
/// items with ids 1..items, and `sales` rows spread over them at random
/// (fixed seed, so every run builds the same data). Throws on failure.
void create_database(const std::string& path, std::int64_t items, std::int64_t sales);

}  // namespace cache_server

#endif
