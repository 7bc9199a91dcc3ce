// SPDX-License-Identifier: BSL-1.0
// Thin RAII over the SQLite C API, and SQLite result codes as error codes.
#ifndef CACHE_SERVER_SQLITE_HPP
#define CACHE_SERVER_SQLITE_HPP

#include <sqlite3.h>

#include <boost/system/error_code.hpp>

#include <memory>
#include <string>

namespace cache_server {

/// Errors with a SQLite primary result code as value (SQLITE_BUSY,
/// SQLITE_CANTOPEN, ...); the message is sqlite3_errstr's.
const boost::system::error_category& sqlite_category() noexcept;

inline boost::system::error_code sqlite_error(int rc) noexcept { return {rc & 0xff, sqlite_category()}; }

struct ConnectionClose {
  void operator()(sqlite3* db) const noexcept { sqlite3_close(db); }
};
using Connection = std::unique_ptr<sqlite3, ConnectionClose>;

struct StatementFinalize {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementFinalize>;

/// Opens `path` with `flags`; on failure returns null and sets `ec`.
Connection open_connection(const std::string& path, int flags, boost::system::error_code& ec);

/// Prepares `sql`; on failure returns null and sets `ec`.
Statement prepare(sqlite3* db, const char* sql, boost::system::error_code& ec);

}  // namespace cache_server

#endif
