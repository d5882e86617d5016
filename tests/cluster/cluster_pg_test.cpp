// The cluster's PostgreSQL layer against a real PostgreSQL 15 (tests/e2e/pg_server.hpp):
//   pg          — the Asio libpq connection: pipelined batches, errors that name the statement,
//                 a failed batch rolled back, NOTIFY at commit only, a bad string, a closed port,
//                 a multi-host string, a terminated session and a deadline.
//   pg_schema   — migrate creates, is idempotent, and is safe when nodes start together; a
//                 newer schema is refused; a node id is claimed by one live connection.
//   consent_log — versions commit in their order under the write lock: a writer that began
//                 first and commits last gets the later version, a second writer waits at the
//                 lock, and a reader tailing concurrent writers sees each version once, no gap.
#include <doctest/doctest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "cluster/consent_log.hpp"
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
  TEST_CASE("a connection on the descriptor number of a lost one is not disturbed by its end") {
    // libpq closes the socket of a lost connection at once; the next connection usually gets the
    // same number. The lost one's end must not unregister the new one from the event loop (it
    // then waited for its deadline: a reconnected tail stalled for 5 s).
    e2e::PgServer pg;
    asio::io_context io;
    const auto block = [&io](auto op) {
      std::optional<typename decltype(op)::value_type> out;
      asio::co_spawn(
          io, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(op)); },
          asio::detached);
      io.restart();
      io.run();
      return std::move(*out);
    };
    auto lost = block(PgConnection::connect(io.get_executor(), pg.conninfo(), 10s));
    REQUIRE(lost.has_value());
    pg.psql("SELECT pg_terminate_backend(" + std::to_string((*lost)->backend_pid()) + ")");
    auto r = block((*lost)->query("SELECT 1", {}, 5s));
    CHECK_FALSE(r.has_value());
    CHECK((*lost)->broken());
    auto next = block(PgConnection::connect(io.get_executor(), pg.conninfo(), 10s));
    REQUIRE(next.has_value());
    lost->reset();
    for (int i = 0; i < 3; ++i) {
      auto q = block((*next)->query("SELECT 42", {}, 5s));
      REQUIRE_MESSAGE(q.has_value(), (*next)->last_error().message);
      CHECK(q->text(0, 0) == "42");
    }
  }

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

    // ... closed at once, not when the object goes: its transaction ends on the server and the
    // locks it held are free (a writer that timed out must not keep the cluster's write lock).
    auto holder = connect(pg);
    REQUIRE(holder->run({{"BEGIN"}, {"SELECT pg_advisory_xact_lock(42)"}}).has_value());
    CHECK(holder->query("SELECT pg_sleep(0.5)", {}, 100ms).error() == PgErrc::timeout);
    auto other = connect(pg);
    CHECK(e2e::eventually(
        [&] {
          auto r = other->query("SELECT pg_try_advisory_lock(42)");
          return r && r->text(0, 0) == "t";
        },
        5s));
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
          "audit,consent_log,consents,nodes,schema_version\n");
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

TEST_SUITE("consent_log") {
  // One version as a writer commits it: one consent record and nothing else.
  smppguard::store::ReplicatedChange change(std::uint64_t version, const std::string& msisdn) {
    smppguard::store::ReplicatedChange c;
    c.version = version;
    smppguard::store::ReplicatedConsent r;
    r.owner = "acme-alerts";
    r.msisdn = msisdn;
    r.record.state = smppguard::store::ConsentState::opted_out;
    r.record.updated_at_ms = 1700000000000 + static_cast<std::int64_t>(version);
    c.consents.push_back(r);
    return c;
  }
  // The version a writer holding the lock writes next: after the last one its read returned.
  std::uint64_t next_version(const PgRows& read, std::uint64_t applied) {
    return read.empty() ? applied + 1
                        : static_cast<std::uint64_t>(read.int64(read.size() - 1, 0)) + 1;
  }

  TEST_CASE("a writer that began first and commits last gets the later version; none is skipped") {
    e2e::PgServer pg;
    auto reader = connect(pg);
    auto early = connect(pg);
    auto late = connect(pg);
    REQUIRE(reader->block(migrate(reader->conn(), "smppguard", 10s)).has_value());
    const auto read = [&](std::uint64_t after) {
      auto page = reader->block(read_log(reader->conn(), "smppguard", after, 100, 5s));
      REQUIRE(page.has_value());
      return *page;
    };

    // `early` begins and writes first (it has the lower xid), and stays open without the lock.
    REQUIRE(early->run({{"BEGIN"}, {"INSERT INTO smppguard.nodes (node_id) VALUES ('early')"}})
                .has_value());
    // `late` takes the lock, finds nothing after 0, writes version 1 and commits.
    auto late_read = late->run(lock_and_read("smppguard", 0, 10));
    REQUIRE(late_read.has_value());
    CHECK(late_read->back().empty());
    REQUIRE(
        late->run(append_and_commit("smppguard", "gw2", change(1, "+15550000001"))).has_value());
    const auto first = read(0);
    REQUIRE(first.size() == 1);
    CHECK(first[0].version == 1);
    CHECK(first[0].node_id == "gw2");
    CHECK(first[0].change == change(1, "+15550000001"));

    // `early` now takes the lock: under it, it sees version 1, so it writes 2.
    auto early_read = early->run(lock_and_read("smppguard", 0, 10));
    REQUIRE(early_read.has_value());
    REQUIRE(early_read->back().size() == 1);
    const auto v = next_version(early_read->back(), 0);
    CHECK(v == 2);
    REQUIRE(
        early->run(append_and_commit("smppguard", "gw1", change(v, "+15550000002"))).has_value());
    const auto second = read(1);
    REQUIRE(second.size() == 1);
    CHECK(second[0].version == 2);
    CHECK(read(2).empty());  // nothing twice
    CHECK(pg.psql("SELECT owner, msisdn, state, version FROM smppguard.consents ORDER BY msisdn") ==
          "acme-alerts|+15550000001|opted_out|1\nacme-alerts|+15550000002|opted_out|2\n");
  }

  TEST_CASE("a read takes at most its byte budget of the log, and always one version") {
    e2e::PgServer pg;
    auto w = connect(pg);
    REQUIRE(w->block(migrate(w->conn(), "smppguard", 10s)).has_value());
    for (std::uint64_t v = 1; v <= 3; ++v) {
      REQUIRE(w->run(lock_and_read("smppguard", v - 1, 10)).has_value());
      REQUIRE(w->run(append_and_commit("smppguard", "gw1",
                                       change(v, "+1555000000" + std::to_string(v))))
                  .has_value());
    }
    const auto read = [&](std::uint64_t after, std::size_t max_bytes) {
      auto page = w->block(read_log(w->conn(), "smppguard", after, 100, 5s, max_bytes));
      REQUIRE(page.has_value());
      std::vector<std::uint64_t> versions;
      for (const auto& e : *page) versions.push_back(e.version);
      return versions;
    };
    CHECK(read(0, 1) == std::vector<std::uint64_t>{1});  // one version even over the budget
    CHECK(read(1, 1) == std::vector<std::uint64_t>{2});
    CHECK(read(0, 1 << 20) == std::vector<std::uint64_t>{1, 2, 3});
    const auto body = std::stoul(
        pg.psql("SELECT octet_length(body) FROM smppguard.consent_log WHERE version = 1"));
    CHECK(read(0, body + 1) == std::vector<std::uint64_t>{1, 2});
    // A writer whose missing versions exceed its budget is told it is behind, not given a part.
    auto behind = w->run(lock_and_read("smppguard", 0, 10, 1));
    REQUIRE(behind.has_value());
    CHECK(behind->back().size() == 1);
    CHECK((*behind)[behind->size() - 2].text(0, 0) == "3");
    REQUIRE(w->query("ROLLBACK").has_value());
  }

  TEST_CASE("a second writer waits at the lock while the first holds it open") {
    e2e::PgServer pg;
    auto a = connect(pg);
    REQUIRE(a->block(migrate(a->conn(), "smppguard", 10s)).has_value());
    REQUIRE(a->run(lock_and_read("smppguard", 0, 10)).has_value());
    std::atomic<bool> b_locked{false};
    std::uint64_t b_version = 0;
    std::thread b_thread([&] {
      SyncPg b(pg.conninfo());
      auto r = b.run(lock_and_read("smppguard", 0, 10), 10s);
      b_locked = true;
      if (!r) return;
      b_version = next_version(r->back(), 0);
      CHECK(b.run(append_and_commit("smppguard", "gw2", change(b_version, "+15550000009")))
                .has_value());
    });
    std::this_thread::sleep_for(300ms);
    CHECK_FALSE(b_locked.load());  // still waiting for a's lock
    REQUIRE(a->run(append_and_commit("smppguard", "gw1", change(1, "+15550000008"))).has_value());
    b_thread.join();
    CHECK(b_version == 2);
    CHECK(pg.psql("SELECT version, node_id FROM smppguard.consent_log ORDER BY version") ==
          "1|gw1\n2|gw2\n");
  }

  TEST_CASE("concurrent writers: a tailing reader sees every version once, in order, no gap") {
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
        std::uint64_t applied = 0;
        for (int i = 0; c.connected() && i < kEach; ++i) {
          auto r = c.run(lock_and_read("smppguard", applied, 1000), 20s);
          if (r && rng() % 2) {
            // Hold the lock a while: the others queue behind it.
            auto slept = c.run({{"SELECT pg_sleep($1)", {"0.00" + std::to_string(rng() % 5 + 1)}}});
            if (!slept) r = slept.error();
          }
          if (!r) {
            CHECK_MESSAGE(false, c.conn().last_error().message);
            break;
          }
          const auto v = next_version(r->back(), applied);
          auto done =
              c.run(append_and_commit("smppguard", "gw" + std::to_string(w),
                                      change(v, "+1555" + std::to_string(1000000 + w * 1000 + i))));
          CHECK_MESSAGE(done.has_value(), c.conn().last_error().message);
          if (!done) break;
          applied = v;
        }
        ++writers_done;
      });
    }
    auto reader = connect(pg);
    std::uint64_t cursor = 0;
    int out_of_order = 0;
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < give_up) {
      const bool finished = writers_done == kWriters;
      auto page = reader->block(read_log(reader->conn(), "smppguard", cursor, 7, 5s));
      REQUIRE(page.has_value());
      for (const auto& e : *page) {
        if (e.version != cursor + 1) ++out_of_order;
        cursor = e.version;
      }
      if (finished && page->empty()) break;
    }
    for (auto& t : writers) t.join();
    CHECK(cursor == static_cast<std::uint64_t>(kWriters * kEach));
    CHECK(out_of_order == 0);
    CHECK(pg.psql("SELECT count(*) FROM smppguard.consents") ==
          std::to_string(kWriters * kEach) + "\n");
  }
}  // TEST_SUITE
