// The cluster's PostgreSQL layer against a real PostgreSQL 15 (tests/e2e/pg_server.hpp):
//   pg          — the Asio libpq connection: pipelined batches, errors that name the statement,
//                 a failed batch rolled back, NOTIFY at commit only, a bad string, a closed port,
//                 a multi-host string, a terminated session and a deadline.
//   pg_schema   — migrate creates, is idempotent, and is safe when nodes start together; a
//                 newer schema is refused; a node id is claimed by one live connection.
//   change_log  — the gap-safe order: a transaction that commits after a later one is not
//                 skipped, and concurrent writers are read exactly once each.
#include <doctest/doctest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "cluster/change_log.hpp"
#include "cluster/pg.hpp"
#include "cluster/schema.hpp"
#include "pg_server.hpp"

namespace {

using namespace smppguard::cluster;
using smppguard::Result;
using namespace std::chrono_literals;
namespace asio = boost::asio;

// One connection driven synchronously: each call runs the coroutine on a private io_context
// until it completes, so that tests read as a sequence (and concurrency comes from threads and
// from the server).
class SyncPg {
 public:
  explicit SyncPg(const std::string& conninfo, std::chrono::milliseconds timeout = 10s) {
    PgError why;
    auto c = block(PgConnection::connect(io_.get_executor(), conninfo, timeout, &why));
    error_ = why;
    if (c) conn_ = std::move(*c);
  }
  bool connected() const { return conn_ != nullptr; }
  const PgError& connect_error() const { return error_; }
  PgConnection& conn() { return *conn_; }

  Result<std::vector<PgRows>> run(std::vector<PgStatement> batch,
                                  std::chrono::milliseconds timeout = 5s) {
    return block(conn_->run(std::move(batch), timeout));
  }
  Result<PgRows> query(std::string sql, std::vector<PgValue> params = {},
                       std::chrono::milliseconds timeout = 5s) {
    return block(conn_->query(std::move(sql), std::move(params), timeout));
  }
  template <typename T>
  T block(asio::awaitable<T> op) {
    std::optional<T> out;
    std::exception_ptr failed;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(op)); },
        [&](std::exception_ptr e) { failed = e; });
    io_.restart();
    io_.run();
    if (failed) std::rethrow_exception(failed);
    return std::move(*out);
  }
  asio::any_io_executor executor() { return io_.get_executor(); }

 private:
  asio::io_context io_;
  std::unique_ptr<PgConnection> conn_;
  PgError error_;
};

// A connection REQUIREd to succeed.
std::unique_ptr<SyncPg> connect(const e2e::PgServer& pg) {
  auto c = std::make_unique<SyncPg>(pg.conninfo());
  REQUIRE_MESSAGE(c->connected(), c->connect_error().message);
  return c;
}

}  // namespace

TEST_SUITE("pg") {
  TEST_CASE("a pipelined batch answers each statement in order, in one transaction") {
    e2e::PgServer pg;
    auto c = connect(pg);
    CHECK(c->conn().server() == "127.0.0.1:" + std::to_string(pg.port()));
    auto r = c->run({
        {"CREATE TABLE t (k text PRIMARY KEY, v bytea)"},
        {"INSERT INTO t VALUES ($1, $2::bytea), ($3, NULL)",
         {"a", bytea_hex(std::string("\x00\xff z", 4)), "b"}},
        {"SELECT k, v FROM t ORDER BY k"},
    });
    REQUIRE(r.has_value());
    REQUIRE(r->size() == 3);
    CHECK((*r)[1].affected == 2);
    const auto& rows = (*r)[2];
    REQUIRE(rows.size() == 2);
    CHECK(rows.columns == std::vector<std::string>{"k", "v"});
    CHECK(rows.text(0, 0) == "a");
    CHECK(bytea_bytes(rows.text(0, 1)) == std::string("\x00\xff z", 4));
    CHECK(rows.is_null(1, 1));

    // A failing statement: the ones after it are skipped, the whole batch is rolled back, and
    // the error names it.
    auto bad = c->run({
        {"INSERT INTO t VALUES ('c', NULL)"},
        {"INSERT INTO t VALUES ('a', NULL)"},  // duplicate key
        {"INSERT INTO t VALUES ('d', NULL)"},
    });
    CHECK(bad.error() == PgErrc::query_failed);
    CHECK(c->conn().last_error().sqlstate == "23505");
    CHECK(c->conn().last_error().statement == 1);
    CHECK(c->conn().last_error().message.find("duplicate key") != std::string::npos);
    auto count = c->query("SELECT count(*) FROM t");
    REQUIRE(count.has_value());
    CHECK(count->int64(0, 0) == 2);

    // An explicit transaction that fails is rolled back too: the connection stays usable.
    auto tx = c->run({{"BEGIN"}, {"INSERT INTO t VALUES ('e', NULL)"}, {"SELEC 1"}});
    CHECK(tx.error() == PgErrc::query_failed);
    CHECK(c->conn().last_error().sqlstate == "42601");
    auto after = c->query("SELECT count(*) FROM t WHERE k = 'e'");
    REQUIRE(after.has_value());
    CHECK(after->int64(0, 0) == 0);
    CHECK_FALSE(c->conn().broken());
  }

  TEST_CASE("notifications arrive at commit, and not for a rolled-back transaction") {
    e2e::PgServer pg;
    auto listener = connect(pg);
    auto writer = connect(pg);
    REQUIRE(listener->query("LISTEN wake").has_value());
    REQUIRE(writer->run({{"BEGIN"}, {"SELECT pg_notify('wake', 'one')"}}).has_value());
    auto none = listener->block(listener->conn().wait_notifications(300ms));
    REQUIRE(none.has_value());
    CHECK(none->empty());  // not before the commit
    REQUIRE(writer->query("COMMIT").has_value());
    auto one = listener->block(listener->conn().wait_notifications(5s));
    REQUIRE(one.has_value());
    REQUIRE(one->size() == 1);
    CHECK((*one)[0].channel == "wake");
    CHECK((*one)[0].payload == "one");
    REQUIRE(writer->run({{"BEGIN"}, {"SELECT pg_notify('wake', 'two')"}}).has_value());
    REQUIRE(writer->query("ROLLBACK").has_value());
    auto rolled_back = listener->block(listener->conn().wait_notifications(300ms));
    REQUIRE(rolled_back.has_value());
    CHECK(rolled_back->empty());
  }

  TEST_CASE("a bad string, a closed port and a lost session fail at once and say why") {
    e2e::PgServer pg;
    SyncPg bad("host=127.0.0.1 bogus_key=1");
    CHECK_FALSE(bad.connected());
    CHECK(bad.connect_error().message.find("bad connection string") != std::string::npos);
    CHECK(bad.connect_error().message.find("bogus_key") != std::string::npos);

    // A closed port: refused, not a hang.
    const auto t0 = std::chrono::steady_clock::now();
    SyncPg refused("host=127.0.0.1 port=1 user=smppguard dbname=postgres");
    CHECK_FALSE(refused.connected());
    CHECK(refused.connect_error().message.find("refused") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);

    // A multi-host string with the dead host first reaches the live one.
    SyncPg multi("host=127.0.0.1,127.0.0.1 port=1," + std::to_string(pg.port()) +
                 " user=smppguard dbname=postgres target_session_attrs=read-write");
    REQUIRE_MESSAGE(multi.connected(), multi.connect_error().message);
    CHECK(multi.conn().server() == "127.0.0.1:" + std::to_string(pg.port()));

    // The server ends the session: the next batch fails connection_lost, then broken.
    auto victim = connect(pg);
    auto killer = connect(pg);
    REQUIRE(killer
                ->query("SELECT pg_terminate_backend($1::int)",
                        {std::to_string(victim->conn().backend_pid())})
                .has_value());
    std::this_thread::sleep_for(100ms);
    CHECK(victim->query("SELECT 1").error() == PgErrc::connection_lost);
    CHECK(victim->conn().broken());
    CHECK(victim->query("SELECT 1").error() == PgErrc::broken);

    // A statement that outlives its deadline: timeout, and the connection is dropped.
    auto slow = connect(pg);
    CHECK(slow->query("SELECT pg_sleep(5)", {}, 200ms).error() == PgErrc::timeout);
    CHECK(slow->conn().broken());
  }
}  // TEST_SUITE

TEST_SUITE("pg_schema") {
  TEST_CASE("migrate creates the schema once, even when nodes start together") {
    e2e::PgServer pg;
    {
      // Four nodes at once: their transactions meet at the server's advisory lock.
      std::vector<std::thread> nodes;
      std::vector<std::error_code> outcomes(4);
      for (auto& outcome : outcomes) {
        nodes.emplace_back([&] {
          SyncPg c(pg.conninfo());
          outcome = c.connected() ? c.block(migrate(c.conn(), "smppguard", 10s)).error()
                                  : make_error_code(PgErrc::connect_failed);
        });
      }
      for (auto& t : nodes) t.join();
      for (const auto& e : outcomes) CHECK_MESSAGE(!e, e.message());
    }
    CHECK(pg.psql("SELECT version FROM smppguard.schema_version") == "1\n");
    CHECK(pg.psql("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM "
                  "information_schema.tables WHERE table_schema = 'smppguard'") ==
          "changes,nodes,schema_version\n");
    auto c = connect(pg);
    auto again = c->block(migrate(c->conn(), "smppguard", 10s));
    REQUIRE(again.has_value());
    CHECK(again->from == 1);
    CHECK(again->to == 1);
    auto other = c->block(migrate(c->conn(), "sg_other", 10s));
    REQUIRE(other.has_value());
    CHECK(other->from == 0);
    CHECK(c->block(migrate(c->conn(), "Bad; DROP", 10s)).error() == PgErrc::bad_name);

    // A newer build migrated: this one refuses to run on it.
    pg.psql("UPDATE smppguard.schema_version SET version = 99");
    CHECK(c->block(migrate(c->conn(), "smppguard", 10s)).error() == PgErrc::newer_schema);
    CHECK(pg.psql("SELECT version FROM smppguard.schema_version") == "99\n");
  }

  TEST_CASE("a node id is claimed by one live connection, and free again once it is gone") {
    e2e::PgServer pg;
    auto setup = connect(pg);
    REQUIRE(setup->block(migrate(setup->conn(), "smppguard", 10s)).has_value());
    auto first = connect(pg);
    auto second = connect(pg);
    auto claim = [](SyncPg& c, const std::string& id) {
      auto r = c.block(claim_node(c.conn(), "smppguard", id, 5s));
      REQUIRE(r.has_value());
      return *r;
    };
    CHECK(claim(*first, "gw1"));
    CHECK_FALSE(claim(*second, "gw1"));  // taken
    CHECK(claim(*second, "gw2"));
    first.reset();  // the process holding gw1 is gone
    bool free_again = false;
    for (int i = 0; i < 50 && !free_again; ++i) {
      auto third = connect(pg);
      free_again = claim(*third, "gw1");
      if (!free_again) std::this_thread::sleep_for(20ms);
    }
    CHECK(free_again);
    CHECK(pg.psql("SELECT node_id FROM smppguard.nodes ORDER BY node_id") == "gw1\ngw2\n");
  }
}  // TEST_SUITE

TEST_SUITE("change_log") {
  TEST_CASE("a transaction that commits after a later one is read, not skipped") {
    e2e::PgServer pg;
    auto reader = connect(pg);
    auto early = connect(pg);
    auto late = connect(pg);
    REQUIRE(reader->block(migrate(reader->conn(), "smppguard", 10s)).has_value());
    const auto read = [&](LogCursor after) {
      auto page = reader->block(read_changes(reader->conn(), "smppguard", after, 100, 5s));
      REQUIRE(page.has_value());
      return *page;
    };

    // `early` inserts first (the lower pos) and stays open; `late` inserts and commits.
    REQUIRE(
        early->run({{"BEGIN"}, append_change("smppguard", "gw1", "test", "early")}).has_value());
    REQUIRE(late->run({append_change("smppguard", "gw2", "test", "late")}).has_value());
    CHECK(pg.psql("SELECT count(*) FROM smppguard.changes") == "1\n");  // late is committed

    const auto first = read({});
    CHECK(first.changes.empty());  // late waits behind early, which may still commit
    CHECK(first.oldest_waiting_ms.has_value());
    CHECK_FALSE(first.more);

    REQUIRE(early->query("COMMIT").has_value());
    const auto second = read(first.next);
    REQUIRE(second.changes.size() == 2);
    CHECK(second.changes[0].body == "early");
    CHECK(second.changes[0].node_id == "gw1");
    CHECK(second.changes[1].body == "late");
    CHECK(second.changes[1].kind == "test");
    CHECK_FALSE(second.oldest_waiting_ms.has_value());

    const auto third = read(second.next);
    CHECK(third.changes.empty());  // nothing twice
  }

  TEST_CASE("concurrent writers that commit in any order are each read exactly once") {
    e2e::PgServer pg;
    constexpr int kWriters = 6, kEach = 40;
    {
      auto setup = connect(pg);
      REQUIRE(setup->block(migrate(setup->conn(), "smppguard", 10s)).has_value());
    }
    std::atomic<int> writers_done{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        SyncPg c(pg.conninfo());
        CHECK(c.connected());  // CHECK, not REQUIRE: a throw would end the thread
        std::mt19937 rng(static_cast<unsigned>(w));
        for (int i = 0; c.connected() && i < kEach; ++i) {
          // Insert, then hold the transaction open a random while before committing, so that
          // commit order differs from insert order.
          const auto body = "w" + std::to_string(w) + "-" + std::to_string(i);
          auto r = c.run({{"BEGIN"}, append_change("smppguard", "gw", "t", body)});
          if (r && rng() % 2) {
            r = c.run({{"SELECT pg_sleep($1)", {"0.00" + std::to_string(rng() % 9 + 1)}}});
          }
          if (r) r = c.run({{"COMMIT"}});
          CHECK_MESSAGE(r.has_value(), c.conn().last_error().message);
          if (!r) break;
        }
        ++writers_done;
      });
    }
    auto reader = connect(pg);
    std::map<std::string, int> seen;
    LogCursor cursor;
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < give_up) {
      const bool finished = writers_done == kWriters;
      auto page = reader->block(read_changes(reader->conn(), "smppguard", cursor, 7, 5s));
      REQUIRE(page.has_value());
      for (const auto& ch : page->changes) ++seen[ch.body];
      cursor = page->next;
      if (finished && !page->more && !page->oldest_waiting_ms) break;
    }
    for (auto& t : writers) t.join();
    CHECK(seen.size() == static_cast<std::size_t>(kWriters * kEach));
    int twice = 0;
    for (const auto& [body, n] : seen) twice += n > 1;
    CHECK(twice == 0);
  }
}  // TEST_SUITE
