#include "pg_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace e2e {

namespace {

using namespace std::chrono_literals;

// The account PostgreSQL runs as when we are root; nullptr otherwise.
const passwd* owner_account() {
  if (::geteuid() != 0) return nullptr;
  const passwd* pw = ::getpwnam("postgres");
  if (!pw)
    throw std::runtime_error(
        "running as root, and there is no `postgres` user to run "
        "PostgreSQL as (scripts/setup.sh installs postgresql-15)");
  return pw;
}

}  // namespace

std::string PgServer::bin(const std::string& name) const {
  const char* dir = std::getenv("SMPPGUARD_PG_BINDIR");
  const std::filesystem::path p =
      std::filesystem::path(dir && *dir ? dir : "/usr/lib/postgresql/15/bin") / name;
  if (!std::filesystem::exists(p)) {
    throw std::runtime_error(p.string() + " not found: scripts/setup.sh installs postgresql-15");
  }
  return p.string();
}

std::vector<std::string> PgServer::as_owner(std::vector<std::string> argv) const {
  if (!owner_account()) return argv;
  std::vector<std::string> out = {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres",
                                  "--clear-groups", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

PgServer::PgServer() : data_(dir_.path() / "data"), log_file_(dir_.path() / "postgres.log") {
  std::filesystem::create_directory(data_);
  if (const passwd* pw = owner_account()) {
    if (::chown(data_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      throw std::runtime_error("cannot chown " + data_.string() + " to postgres");
    }
  }
  std::filesystem::permissions(data_, std::filesystem::perms::owner_all);
  Process initdb(as_owner({bin("initdb"), "-D", data_.string(), "-U", "smppguard", "-A", "trust",
                           "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"}),
                 log_file_);
  const auto status = initdb.wait(60s);
  if (status != 0) throw std::runtime_error("initdb failed:\n" + log());
  start();
}

PgServer::~PgServer() {
  try {
    stop();
  } catch (...) {
  }
}

void PgServer::start() {
  if (process_) return;
  if (port_ == 0) port_ = free_loopback_port();
  for (int attempt = 0; attempt < 10; ++attempt) {
    const auto offset = log().size();
    process_ = std::make_unique<Process>(
        as_owner({bin("postgres"), "-D", data_.string(), "-p", std::to_string(port_), "-c",
                  "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off",
                  "-c", "max_connections=60", "-c", "shared_buffers=16MB"}),
        log_file_);
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (log().substr(offset).find("ready to accept connections") != std::string::npos) {
        started_once_ = true;
        return;
      }
      if (!process_->running()) break;
      std::this_thread::sleep_for(20ms);
    }
    const auto text = log().substr(offset);
    process_->kill9();
    process_.reset();
    const bool port_taken = text.find("could not bind") != std::string::npos ||
                            text.find("could not create any TCP/IP sockets") != std::string::npos;
    const bool old_backends = text.find("still in use") != std::string::npos ||
                              text.find("lock file") != std::string::npos;
    if (port_taken && !started_once_) {
      port_ = free_loopback_port();  // before the first start nobody knows the port yet
    } else if (port_taken || old_backends) {
      std::this_thread::sleep_for(500ms);  // the old server's processes are still going
    } else {
      break;
    }
  }
  throw std::runtime_error("PostgreSQL did not start:\n" + log());
}

void PgServer::stop() {
  if (!process_) return;
  process_->signal(SIGINT);  // fast shutdown: abort open transactions, checkpoint, exit
  if (!process_->wait(15s)) process_->kill9();
  process_.reset();
}

void PgServer::kill9() {
  if (!process_) return;
  // Its backends notice the postmaster's death and exit; until they have, a new postmaster
  // refuses the data directory (start() waits for them).
  process_->kill9();
  process_.reset();
}

std::string PgServer::conninfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=smppguard dbname=" + dbname +
         " connect_timeout=5";
}

std::string PgServer::log() const {
  return std::filesystem::exists(log_file_) ? read_file(log_file_) : std::string();
}

std::string PgServer::psql(const std::string& sql, const std::string& dbname) const {
  const auto out = dir_.path() / "psql.out";
  std::filesystem::remove(out);
  Process p({bin("psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", conninfo(dbname), "-c", sql},
            out);
  const auto status = p.wait(60s);
  const auto text = read_file(out);
  if (status != 0) throw std::runtime_error("psql failed: " + sql + "\n" + text);
  return text;
}

}  // namespace e2e
