#pragma once
// One PostgreSQL connection on Asio: libpq's asynchronous API, its socket watched by a
// posix::stream_descriptor, statements pipelined (libpq pipeline mode), never blocking a thread.
//
// Flow: PgConnection::connect() -> PQconnectStart, then PQconnectPoll driven by readiness waits
// on the socket (which changes between the hosts of a multi-host string, so each wait uses the
// socket of the moment) until it is up, within a deadline -> non-blocking + pipeline mode ->
// run(batch): every statement of the batch and one sync are written at once, their results read
// in order (one round trip; the statements between two syncs run as one implicit transaction
// unless the batch holds its own BEGIN/COMMIT) -> ... -> a lost connection or a timeout closes
// it at once and leaves it broken() for good: the owner drops it and connects again. Notifications
// (LISTEN) are collected by every read and handed out by wait_notifications().
//
// Thread-safety: none. One owner coroutine, one run() or wait at a time, on one strand.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/result.hpp"

struct pg_conn;
struct pg_result;

namespace smppguard::cluster {

namespace asio = boost::asio;

/// PostgreSQL link errors (category "smppguard.postgres").
enum class PgErrc {
  ok = 0,
  connect_failed = 1,   // bad connection string, unreachable host, refused login, no primary
  connection_lost = 2,  // the server went away mid-conversation
  query_failed = 3,     // the server refused a statement (PgError says which and why)
  timeout = 4,          // no answer within the deadline; the connection is dropped
  broken = 5,           // a call on a connection that was lost or timed out earlier
  newer_schema = 6,     // the cluster schema was migrated by a newer build
  bad_name = 7,         // a schema name that is not a plain lower-case identifier
};
const std::error_category& pg_category();
std::error_code make_error_code(PgErrc e);

/// A text-format parameter or value; nullopt is SQL NULL.
using PgValue = std::optional<std::string>;

/// One statement of a batch: SQL with $1.. placeholders and their values as text.
struct PgStatement {
  std::string sql;
  std::vector<PgValue> params{};
};

/// The result of one statement, in text format.
struct PgRows {
  std::vector<std::string> columns;
  std::vector<std::vector<PgValue>> rows;
  std::uint64_t affected = 0;  // rows inserted/updated/deleted (PQcmdTuples)

  std::size_t size() const { return rows.size(); }
  bool empty() const { return rows.empty(); }
  /// The value at (row, col), "" for NULL.
  const std::string& text(std::size_t row, std::size_t col) const;
  bool is_null(std::size_t row, std::size_t col) const { return !rows.at(row).at(col); }
  /// The value as an integer (throws std::invalid_argument when it is not one).
  std::int64_t int64(std::size_t row, std::size_t col) const;
};

/// What went wrong, for logs and tests: the server's SQLSTATE and message, or libpq's.
struct PgError {
  std::string sqlstate;       // "23505", "40001", ...; empty for connection errors
  std::string message;        // one line
  std::size_t statement = 0;  // the failing statement's index in its batch
};

/// An asynchronous notification (NOTIFY / pg_notify).
struct PgNotification {
  std::string channel;
  std::string payload;
};

/// bytea as text: "\x" and two hex digits per byte, as PostgreSQL writes and reads it.
std::string bytea_hex(std::string_view bytes);
/// The bytes of a "\x..." bytea text; nullopt when it is not one.
std::optional<std::string> bytea_bytes(std::string_view text);

class PgConnection {
 public:
  using Clock = std::chrono::steady_clock;

  /// Connects within `timeout`. On failure the error is connect_failed or timeout and `error`
  /// (when given) holds libpq's message.
  static asio::awaitable<Result<std::unique_ptr<PgConnection>>> connect(
      asio::any_io_executor ex, std::string conninfo, std::chrono::milliseconds timeout,
      PgError* error = nullptr);

  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  /// Runs the statements in one round trip and returns one PgRows per statement. When one
  /// fails (query_failed), those after it are skipped, the implicit transaction (or one the batch
  /// opened) is rolled back, last_error() says which and why, and the connection stays usable.
  asio::awaitable<Result<std::vector<PgRows>>> run(std::vector<PgStatement> batch,
                                                   std::chrono::milliseconds timeout);
  /// One statement; its rows.
  asio::awaitable<Result<PgRows>> query(std::string sql, std::vector<PgValue> params,
                                        std::chrono::milliseconds timeout);

  /// Notifications received so far, or the first to arrive within `timeout` (an empty list when
  /// none came). Only between run()s.
  asio::awaitable<Result<std::vector<PgNotification>>> wait_notifications(
      std::chrono::milliseconds timeout);

  /// True once the connection was lost or timed out; every later call fails `broken`.
  bool broken() const { return broken_; }
  const PgError& last_error() const { return last_error_; }
  /// "host:port" of the server this connection reached (the primary, with read-write).
  std::string server() const;
  /// The server's backend process id (pg_terminate_backend in tests).
  int backend_pid() const;

 private:
  PgConnection(asio::any_io_executor ex, pg_conn* conn);

  enum class Wait { read, write };
  asio::awaitable<std::error_code> wait(Wait what, Clock::time_point deadline);
  asio::awaitable<std::error_code> flush(Clock::time_point deadline);
  asio::awaitable<Result<pg_result*>> next_result(Clock::time_point deadline);
  asio::awaitable<std::error_code> send(const std::vector<PgStatement>& batch);
  asio::awaitable<std::error_code> roll_back_if_open(Clock::time_point deadline);
  void take_notifications();
  std::error_code fail(PgErrc e, std::string message);

  asio::any_io_executor ex_;
  pg_conn* conn_;
  asio::posix::stream_descriptor socket_;
  bool broken_ = false;  // then conn_ is closed (null)
  PgError last_error_;
  std::string server_;
  int backend_pid_ = 0;
  std::vector<PgNotification> notifications_;
};

}  // namespace smppguard::cluster

namespace std {
template <>
struct is_error_code_enum<smppguard::cluster::PgErrc> : true_type {};
}  // namespace std
