// SPDX-License-Identifier: BSL-1.0
#include "sqlite.hpp"

namespace cache_server {

namespace {
class SqliteCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "sqlite"; }
  std::string message(int rc) const override { return sqlite3_errstr(rc); }
};
}  // namespace

const boost::system::error_category& sqlite_category() noexcept {
  static const SqliteCategory category;
  return category;
}

Connection open_connection(const std::string& path, int flags, boost::system::error_code& ec) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Connection db(raw);  // closed even when the open failed, as SQLite requires
  if (rc != SQLITE_OK) {
    ec = sqlite_error(rc);
    db.reset();
  }
  return db;
}

Statement prepare(sqlite3* db, const char* sql, boost::system::error_code& ec) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  if (rc != SQLITE_OK) ec = sqlite_error(rc);
  return Statement(raw);
}

}  // namespace cache_server
