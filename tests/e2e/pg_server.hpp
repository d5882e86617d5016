#pragma once
// A PostgreSQL 15 server of the test's own, for the cluster tests: initdb in a temp dir, then
// `postgres` on a free loopback port (TCP only, no Unix socket), run as the `postgres` user
// when the test runs as root (PostgreSQL refuses to run as root). Stopped by its process id.
//
// Flow: PgServer() -> initdb (superuser `smppguard`, trust auth on loopback) -> start() waits
// for "ready to accept connections" in its log -> the test connects with conninfo() -> stop()
// (fast shutdown) / start() again on the same port and data, or kill9() -> ~PgServer stops it.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "process.hpp"

namespace e2e {

class PgServer {
 public:
  /// initdb and start; throws std::runtime_error with the server's log when either fails.
  /// The binaries come from SMPPGUARD_PG_BINDIR, else /usr/lib/postgresql/15/bin.
  PgServer();
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  std::uint16_t port() const { return port_; }
  /// A libpq connection string for `dbname` as the superuser.
  std::string conninfo(const std::string& dbname = "postgres") const;
  /// Fast shutdown (SIGINT), then SIGKILL after 15 s.
  void stop();
  /// Starts the stopped server again, on the same port and data.
  void start();
  /// kill -9 of the postmaster; its backends end when they notice.
  void kill9();
  bool running() const { return process_ != nullptr; }
  /// The server's log so far.
  std::string log() const;
  /// Runs SQL with psql (ON_ERROR_STOP); throws with psql's output when it fails. Returns the
  /// output of -At (unaligned, tuples only).
  std::string psql(const std::string& sql, const std::string& dbname = "postgres") const;

 private:
  std::string bin(const std::string& name) const;
  std::vector<std::string> as_owner(std::vector<std::string> argv) const;

  TempDir dir_;
  std::filesystem::path data_;
  std::filesystem::path log_file_;
  std::uint16_t port_ = 0;
  bool started_once_ = false;
  std::unique_ptr<Process> process_;
};

}  // namespace e2e
