#include "cluster/pg.hpp"

#include <libpq-fe.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <cstdlib>
#include <stdexcept>
#include <utility>

#include "common/log.hpp"

namespace smppguard::cluster {

using namespace asio::experimental::awaitable_operators;

namespace {

class PgCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "smppguard.postgres"; }
  std::string message(int ev) const override {
    switch (static_cast<PgErrc>(ev)) {
      case PgErrc::ok:
        return "ok";
      case PgErrc::connect_failed:
        return "cannot connect to PostgreSQL";
      case PgErrc::connection_lost:
        return "the PostgreSQL connection was lost";
      case PgErrc::query_failed:
        return "PostgreSQL refused a statement";
      case PgErrc::timeout:
        return "PostgreSQL did not answer in time";
      case PgErrc::broken:
        return "the PostgreSQL connection is broken";
      case PgErrc::newer_schema:
        return "the cluster schema is newer than this build";
      case PgErrc::bad_name:
        return "not a plain lower-case SQL identifier";
    }
    return "unknown postgres error";
  }
};

// libpq's messages end with a newline and may span lines: one line for logs.
std::string one_line(const char* text) {
  std::string out = text ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (auto& c : out) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return out;
}

// An Asio view of a socket it does not own: released before it is destroyed, because libpq
// closes the socket itself.
class BorrowedSocket {
 public:
  BorrowedSocket(const asio::any_io_executor& ex, int fd) : d_(ex, fd) {}
  ~BorrowedSocket() { d_.release(); }
  asio::posix::stream_descriptor& get() { return d_; }

 private:
  asio::posix::stream_descriptor d_;
};

// Waits until `d` is ready or `deadline` passes.
asio::awaitable<std::error_code> ready(asio::posix::stream_descriptor& d,
                                       asio::posix::descriptor_base::wait_type type,
                                       PgConnection::Clock::time_point deadline) {
  asio::steady_timer timer(d.get_executor(), deadline);
  auto r = co_await (d.async_wait(type, asio::as_tuple(asio::use_awaitable)) ||
                     timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (r.index() == 1) co_return make_error_code(PgErrc::timeout);
  co_return std::get<0>(std::get<0>(r));
}

}  // namespace

const std::error_category& pg_category() {
  static const PgCategory c;
  return c;
}
std::error_code make_error_code(PgErrc e) { return {static_cast<int>(e), pg_category()}; }

const std::string& PgRows::text(std::size_t row, std::size_t col) const {
  static const std::string kEmpty;
  const auto& v = rows.at(row).at(col);
  return v ? *v : kEmpty;
}

std::int64_t PgRows::int64(std::size_t row, std::size_t col) const {
  const auto& t = text(row, col);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size() || t.empty()) {
    throw std::invalid_argument("not an integer: \"" + t + "\" in column " + columns.at(col));
  }
  return v;
}

std::string bytea_hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (const unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::optional<std::string> bytea_bytes(std::string_view text) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) {
    return std::nullopt;
  }
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve((text.size() - 2) / 2);
  for (std::size_t i = 2; i < text.size(); i += 2) {
    const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

// ---- connect ------------------------------------------------------------------------------------

asio::awaitable<Result<std::unique_ptr<PgConnection>>> PgConnection::connect(
    asio::any_io_executor ex, std::string conninfo, std::chrono::milliseconds timeout,
    PgError* error) {
  const auto deadline = Clock::now() + timeout;
  const auto failed = [&](PGconn* c, PgErrc e, std::string why) {
    if (error) *error = PgError{.message = std::move(why)};
    if (c) PQfinish(c);
    return make_error_code(e);
  };
  // Parse first: a bad string is named as such, not as a failed connection attempt.
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (!options) {
    const auto why = "bad connection string: " + one_line(parse_error);
    PQfreemem(parse_error);
    co_return failed(nullptr, PgErrc::connect_failed, why);
  }
  PQconninfoFree(options);

  PGconn* c = PQconnectStart(conninfo.c_str());
  if (!c) co_return failed(nullptr, PgErrc::connect_failed, "out of memory");
  if (PQstatus(c) == CONNECTION_BAD) {
    co_return failed(c, PgErrc::connect_failed, one_line(PQerrorMessage(c)));
  }
  // PGRES_POLLING_WRITING is the state before the first poll.
  PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
  while (poll != PGRES_POLLING_OK) {
    if (poll == PGRES_POLLING_FAILED) {
      co_return failed(c, PgErrc::connect_failed, one_line(PQerrorMessage(c)));
    }
    const int fd = PQsocket(c);
    if (fd < 0) co_return failed(c, PgErrc::connect_failed, one_line(PQerrorMessage(c)));
    std::error_code ec;
    {
      BorrowedSocket s(ex, fd);
      ec = co_await ready(s.get(),
                          poll == PGRES_POLLING_READING ? asio::posix::descriptor_base::wait_read
                                                        : asio::posix::descriptor_base::wait_write,
                          deadline);
    }
    if (ec == PgErrc::timeout) {
      co_return failed(c, PgErrc::timeout,
                       "no connection within " + std::to_string(timeout.count()) + " ms");
    }
    if (ec) co_return failed(c, PgErrc::connect_failed, ec.message());
    poll = PQconnectPoll(c);
  }
  // Server notices ("already exists, skipping") go to the debug log, not to stderr.
  PQsetNoticeProcessor(
      c, [](void*, const char* text) { SG_LOG(debug, "pg_notice").kv("text", one_line(text)); },
      nullptr);
  if (PQsetnonblocking(c, 1) != 0 || PQenterPipelineMode(c) != 1) {
    co_return failed(c, PgErrc::connect_failed, one_line(PQerrorMessage(c)));
  }
  co_return std::unique_ptr<PgConnection>(new PgConnection(ex, c));
}

PgConnection::PgConnection(asio::any_io_executor ex, PGconn* conn)
    : ex_(std::move(ex)), conn_(conn), socket_(ex_, PQsocket(conn)) {
  const char* host = PQhost(conn_);
  const char* port = PQport(conn_);
  server_ = std::string(host ? host : "") + ":" + (port ? port : "");
  backend_pid_ = PQbackendPID(conn_);
}

PgConnection::~PgConnection() {
  if (socket_.is_open()) socket_.release();  // libpq closes it
  if (conn_ != nullptr) PQfinish(conn_);
}

std::string PgConnection::server() const { return server_; }

int PgConnection::backend_pid() const { return backend_pid_; }

std::error_code PgConnection::fail(PgErrc e, std::string message) {
  if ((e == PgErrc::connection_lost || e == PgErrc::timeout) && !broken_) {
    broken_ = true;
    // Out of the event loop now: libpq has closed (or will close) the descriptor, and the next
    // connection is likely to get its number; unregistering it later, from the destructor, would
    // unregister that connection instead and leave it waiting for its deadline.
    socket_.release();
    // And closed now, also after a timeout: the server then ends the session (rolling back an
    // open transaction, giving up its locks and the node claim) as soon as it reads the end,
    // instead of keeping it until this object goes away.
    PQfinish(conn_);
    conn_ = nullptr;
  }
  last_error_ = PgError{.message = std::move(message)};
  return make_error_code(e);
}

// ---- I/O ----------------------------------------------------------------------------------------

asio::awaitable<std::error_code> PgConnection::wait(Wait what, Clock::time_point deadline) {
  const auto ec = co_await ready(socket_,
                                 what == Wait::read ? asio::posix::descriptor_base::wait_read
                                                    : asio::posix::descriptor_base::wait_write,
                                 deadline);
  if (ec == PgErrc::timeout) co_return fail(PgErrc::timeout, "no answer in time");
  if (ec) co_return fail(PgErrc::connection_lost, ec.message());
  co_return std::error_code{};
}

asio::awaitable<std::error_code> PgConnection::flush(Clock::time_point deadline) {
  while (true) {
    const int r = PQflush(conn_);
    if (r == 0) co_return std::error_code{};
    if (r < 0) co_return fail(PgErrc::connection_lost, one_line(PQerrorMessage(conn_)));
    // The server may be waiting for us to read before it reads more: read while we wait.
    if (auto ec = co_await wait(Wait::write, deadline)) co_return ec;
    if (PQconsumeInput(conn_) != 1) {
      co_return fail(PgErrc::connection_lost, one_line(PQerrorMessage(conn_)));
    }
  }
}

void PgConnection::take_notifications() {
  while (PGnotify* n = PQnotifies(conn_)) {
    notifications_.push_back({n->relname ? n->relname : "", n->extra ? n->extra : ""});
    PQfreemem(n);
  }
}

asio::awaitable<Result<PGresult*>> PgConnection::next_result(Clock::time_point deadline) {
  while (PQisBusy(conn_)) {
    if (auto ec = co_await wait(Wait::read, deadline)) co_return ec;
    if (PQconsumeInput(conn_) != 1) {
      co_return fail(PgErrc::connection_lost, one_line(PQerrorMessage(conn_)));
    }
    take_notifications();
  }
  co_return PQgetResult(conn_);
}

asio::awaitable<std::error_code> PgConnection::send(const std::vector<PgStatement>& batch) {
  std::vector<const char*> values;
  for (const auto& st : batch) {
    values.clear();
    for (const auto& p : st.params) values.push_back(p ? p->c_str() : nullptr);
    if (PQsendQueryParams(conn_, st.sql.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0) != 1) {
      co_return fail(PgErrc::connection_lost, one_line(PQerrorMessage(conn_)));
    }
  }
  if (PQpipelineSync(conn_) != 1) {
    co_return fail(PgErrc::connection_lost, one_line(PQerrorMessage(conn_)));
  }
  co_return std::error_code{};
}

asio::awaitable<Result<std::vector<PgRows>>> PgConnection::run(std::vector<PgStatement> batch,
                                                               std::chrono::milliseconds timeout) {
  if (broken_) co_return make_error_code(PgErrc::broken);
  const auto deadline = Clock::now() + timeout;
  if (auto ec = co_await send(batch)) co_return ec;
  if (auto ec = co_await flush(deadline)) co_return ec;

  std::vector<PgRows> out(batch.size());
  std::optional<PgError> failure;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    // Each statement's results end with a null result.
    while (true) {
      auto r = co_await next_result(deadline);
      if (!r) co_return r.error();
      PGresult* res = *r;
      if (!res) break;
      const auto status = PQresultStatus(res);
      if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        auto& rows = out[i];
        const int ncols = PQnfields(res), nrows = PQntuples(res);
        for (int c = 0; c < ncols; ++c) rows.columns.emplace_back(PQfname(res, c));
        rows.rows.resize(static_cast<std::size_t>(nrows));
        for (int row = 0; row < nrows; ++row) {
          auto& values = rows.rows[static_cast<std::size_t>(row)];
          values.reserve(static_cast<std::size_t>(ncols));
          for (int c = 0; c < ncols; ++c) {
            if (PQgetisnull(res, row, c)) {
              values.emplace_back(std::nullopt);
            } else {
              values.emplace_back(std::string(PQgetvalue(res, row, c),
                                              static_cast<std::size_t>(PQgetlength(res, row, c))));
            }
          }
        }
        const char* affected = PQcmdTuples(res);
        if (affected && *affected) rows.affected = std::strtoull(affected, nullptr, 10);
      } else if (status != PGRES_PIPELINE_ABORTED && !failure) {
        const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        failure = PgError{.sqlstate = state ? state : "",
                          .message = one_line(PQresultErrorMessage(res)),
                          .statement = i};
      }
      PQclear(res);
    }
  }
  // The sync point closes the pipeline.
  {
    auto r = co_await next_result(deadline);
    if (!r) co_return r.error();
    const bool synced = *r && PQresultStatus(*r) == PGRES_PIPELINE_SYNC;
    if (*r) PQclear(*r);
    if (!synced) co_return fail(PgErrc::connection_lost, "pipeline out of step");
  }
  if (failure) {
    if (auto ec = co_await roll_back_if_open(deadline)) co_return ec;
    last_error_ = *failure;
    co_return make_error_code(PgErrc::query_failed);
  }
  co_return out;
}

asio::awaitable<std::error_code> PgConnection::roll_back_if_open(Clock::time_point deadline) {
  // A batch that opened a transaction and failed leaves it aborted; close it here so that the
  // next batch starts clean.
  const auto status = PQtransactionStatus(conn_);
  if (status != PQTRANS_INERROR && status != PQTRANS_INTRANS) co_return std::error_code{};
  const std::vector<PgStatement> rollback = {{"ROLLBACK"}};  // GCC 12: no braced list in co_await
  if (auto ec = co_await send(rollback)) co_return ec;
  if (auto ec = co_await flush(deadline)) co_return ec;
  bool synced = false;
  while (!synced) {
    auto r = co_await next_result(deadline);
    if (!r) co_return r.error();
    if (*r) {
      synced = PQresultStatus(*r) == PGRES_PIPELINE_SYNC;
      PQclear(*r);
    }
  }
  co_return std::error_code{};
}

asio::awaitable<Result<PgRows>> PgConnection::query(std::string sql, std::vector<PgValue> params,
                                                    std::chrono::milliseconds timeout) {
  std::vector<PgStatement> batch;
  batch.push_back({std::move(sql), std::move(params)});
  auto r = co_await run(std::move(batch), timeout);
  if (!r) co_return r.error();
  co_return std::move(r->front());
}

asio::awaitable<Result<std::vector<PgNotification>>> PgConnection::wait_notifications(
    std::chrono::milliseconds timeout) {
  if (broken_) co_return make_error_code(PgErrc::broken);
  if (notifications_.empty()) {
    const auto ec =
        co_await ready(socket_, asio::posix::descriptor_base::wait_read, Clock::now() + timeout);
    if (ec && ec != PgErrc::timeout) co_return fail(PgErrc::connection_lost, ec.message());
    if (!ec) {
      if (PQconsumeInput(conn_) != 1) {
        co_return fail(PgErrc::connection_lost, one_line(PQerrorMessage(conn_)));
      }
      take_notifications();
    }
  }
  co_return std::exchange(notifications_, {});
}

}  // namespace smppguard::cluster
