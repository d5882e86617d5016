#include "cluster/link.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>

#include "cluster/consent_log.hpp"
#include "cluster/schema.hpp"
#include "common/async.hpp"
#include "common/log.hpp"

namespace smppguard::cluster {

namespace {

using namespace std::chrono_literals;

constexpr auto kConnectTimeout = 10s;  // at start: a clear error, not a hang
constexpr auto kReconnectTimeout = 2s;
constexpr auto kStatementTimeout = 5s;
constexpr auto kRetryEvery =
    250ms;  // reconnects: short, so that a replica is back soon after an outage
constexpr auto kHeartbeatEvery = 1s;
constexpr std::size_t kPage = 500;  // versions per tail read
// A writer further behind than this (or than kPageBytes of log) does not write: its replica is
// catching up (the tail).
constexpr std::size_t kMaxInlineCatchUp = 1000;
// A node not seen for this long is down and its lag unknown (SPEC section 9).
constexpr std::int64_t kDownAfterMs = 10000;

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

// Every connection of the link: a transaction left open by a client that went away (or gave up)
// ends on the server by itself, giving back the write lock.
asio::awaitable<std::error_code> prepare_session(PgConnection& pg) {
  std::vector<PgValue> none;
  auto r = co_await pg.query("SET idle_in_transaction_session_timeout = '15s'", std::move(none),
                             kStatementTimeout);
  co_return r ? std::error_code{} : r.error();
}

std::string describe(const PgConnection& pg, std::error_code ec) {
  const auto& e = pg.last_error();
  if (e.message.empty()) return ec.message();
  return e.sqlstate.empty() ? e.message : e.message + " (SQLSTATE " + e.sqlstate + ")";
}

}  // namespace

Link::Link(const config::ClusterConfig& config, std::string node_id, metrics::Metrics& metrics)
    : config_(config),
      node_id_(std::move(node_id)),
      metrics_(metrics),
      work_(asio::make_work_guard(io_)) {
  thread_ = std::thread([this] { io_.run(); });
}

Link::~Link() { stop(); }

template <typename T>
T Link::run_here(asio::awaitable<T> op) {
  // (co_spawn of an awaitable<T> needs a default-constructible T: wrap it in one of void.)
  std::promise<void> done;
  std::optional<T> out;
  asio::co_spawn(
      io_, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(op)); },
      [&done](std::exception_ptr e) {
        if (e) {
          done.set_exception(e);
        } else {
          done.set_value();
        }
      });
  done.get_future().get();
  return std::move(*out);
}

std::shared_ptr<Link> Link::open(const config::ClusterConfig& config, std::string node_id,
                                 metrics::Metrics& metrics) {
  std::shared_ptr<Link> link(new Link(config, std::move(node_id), metrics));
  link->connect_at_start();
  return link;
}

void Link::connect_at_start() {
  metrics_.enable_cluster();
  auto start = [this]() -> asio::awaitable<std::pair<int, std::string>> {
    const auto ex = co_await asio::this_coro::executor;
    PgError error;
    auto writer = co_await PgConnection::connect(ex, config_.postgres, kConnectTimeout, &error);
    if (!writer) {
      co_return std::pair{1,
                          "cluster: cannot connect to PostgreSQL: " +
                              (error.message.empty() ? writer.error().message() : error.message)};
    }
    if (const auto ec = co_await prepare_session(**writer)) {
      co_return std::pair{1, "cluster: cannot set up the session: " + describe(**writer, ec)};
    }
    auto migrated = co_await migrate(**writer, config_.schema, kStatementTimeout);
    if (!migrated) {
      co_return std::pair{1, "cluster: cannot create or migrate schema " + config_.schema + ": " +
                                 describe(**writer, migrated.error())};
    }
    if (auto tail = co_await open_tail(kConnectTimeout); tail.code != TailOpen::ok) {
      co_return std::pair{tail.code == TailOpen::claim_held ? 2 : 1, "cluster: " + tail.why};
    }
    SG_LOG(info, "cluster_connected")
        .kv("node_id", node_id_)
        .kv("primary", (*writer)->server())
        .kv("schema", config_.schema)
        .kv("schema_version_from", migrated->from)
        .kv("schema_version", migrated->to);
    writer_ = std::move(*writer);
    co_return std::pair{0, std::string()};
  };
  auto [code, message] = run_here(start());
  if (code != 0) throw StartError(code, message);
  publish_metrics();
}

void Link::start(store::Store& store, std::function<NodeBinds()> binds, AppliedHandler applied) {
  store_ = &store;
  binds_ = std::move(binds);
  applied_ = std::move(applied);
  tail_done_.store(false, std::memory_order_release);
  asio::co_spawn(io_, tail(), asio::detached);
}

void Link::stop() {
  closed_.store(true, std::memory_order_release);
  if (!thread_.joinable()) return;
  asio::post(io_, [this] { stopping_ = true; });
  // The tail notices within its 1 s wait; a store apply in flight completes first.
  for (int i = 0; i < 500 && !tail_done_.load(std::memory_order_acquire); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  work_.reset();
  io_.stop();
  thread_.join();
  writer_.reset();
  tail_.reset();
}

// ---- the tail -----------------------------------------------------------------------------------

asio::awaitable<void> Link::tail() {
  while (!stopping_) {
    if (!tail_ || tail_->broken()) {
      if (up_.exchange(false)) {
        SG_LOG(warn, "cluster_link_down").kv("node_id", node_id_);
      }
      publish_metrics();
      tail_.reset();  // its session (and node claim) ends before the new one claims the id
      if (!co_await tail_connect()) {
        co_await sleep_for(kRetryEvery);
        continue;
      }
    }
    const bool more = co_await tail_once();
    co_await heartbeat_if_due();
    publish_metrics();
    if (!more && tail_ && !tail_->broken() && !stopping_) {
      (void)co_await tail_->wait_notifications(kHeartbeatEvery);
    }
  }
  tail_done_.store(true, std::memory_order_release);
}

asio::awaitable<Link::TailOpen> Link::open_tail(std::chrono::milliseconds connect_timeout) {
  const auto ex = co_await asio::this_coro::executor;
  PgError error;
  auto pg = co_await PgConnection::connect(ex, config_.postgres, connect_timeout, &error);
  if (!pg) {
    co_return TailOpen{TailOpen::failed,
                       "cannot connect to PostgreSQL: " +
                           (error.message.empty() ? pg.error().message() : error.message)};
  }
  if (const auto ec = co_await prepare_session(**pg)) {
    co_return TailOpen{TailOpen::failed, "cannot set up the session: " + describe(**pg, ec)};
  }
  auto claimed = co_await claim_node(**pg, config_.schema, node_id_, kStatementTimeout);
  if (!claimed) {
    co_return TailOpen{TailOpen::claim_failed,
                       "cannot claim node_id " + node_id_ + ": " + describe(**pg, claimed.error())};
  }
  if (!*claimed) {
    co_return TailOpen{TailOpen::claim_held,
                       "node_id " + node_id_ +
                           " is held by another live smppguard process (each node needs its "
                           "own node_id)"};
  }
  std::vector<PgValue> none;
  auto listening =
      co_await (*pg)->query(listen_log(config_.schema).sql, std::move(none), kStatementTimeout);
  if (!listening) {
    co_return TailOpen{TailOpen::failed, "LISTEN failed: " + describe(**pg, listening.error())};
  }
  {
    std::lock_guard lock(primary_mu_);
    primary_ = (*pg)->server();
  }
  tail_ = std::move(*pg);
  up_.store(true, std::memory_order_release);
  co_return TailOpen{TailOpen::ok, ""};
}

asio::awaitable<bool> Link::tail_connect() {
  const auto opened = co_await open_tail(kReconnectTimeout);
  if (opened.code == TailOpen::claim_held || opened.code == TailOpen::claim_failed) {
    SG_LOG(error, "cluster_claim_failed").kv("node_id", node_id_).kv("reason", opened.why);
  }
  if (opened.code != TailOpen::ok) co_return false;
  SG_LOG(info, "cluster_link_up").kv("node_id", node_id_).kv("primary", tail_->server());
  co_return true;
}

asio::awaitable<bool> Link::tail_once() {
  const std::uint64_t applied = store_->cluster_version();
  Result<std::vector<LogEntry>> page = make_error_code(PgErrc::broken);
  bool unreadable = false;
  try {
    page = co_await read_log(*tail_, config_.schema, applied, kPage, kStatementTimeout);
  } catch (const std::exception& e) {
    SG_LOG(error, "cluster_log_unreadable").kv("after", applied).kv("reason", e.what());
    unreadable = true;
  }
  if (unreadable) {
    co_await sleep_for(kRetryEvery);
    co_return false;
  }
  if (!page) co_return false;  // a lost connection: the loop reconnects
  if (page->empty()) {
    pending_age_ms_.store(-1, std::memory_order_release);
    if (!caught_up_.exchange(true)) {
      SG_LOG(info, "cluster_caught_up").kv("node_id", node_id_).kv("version", applied);
    }
    co_return false;
  }
  pending_read_at_ms_.store(steady_ms(), std::memory_order_release);
  pending_age_ms_.store(page->front().age_ms, std::memory_order_release);
  std::vector<store::ReplicatedChange> changes;
  changes.reserve(page->size());
  std::vector<std::pair<std::string, std::string>> theirs;  // changed by other nodes
  for (auto& e : *page) {
    if (e.node_id != node_id_) {
      for (const auto& c : e.change.consents) {
        if (!c.tenant) theirs.emplace_back(c.owner, c.msisdn);
      }
    }
    changes.push_back(std::move(e.change));
  }
  const auto ec = co_await async_callback<std::error_code>(
      [&](auto done) { store_->apply_replicated(std::move(changes), std::move(done)); });
  if (ec) {
    SG_LOG(error, "cluster_apply_failed")
        .kv("node_id", node_id_)
        .kv("after", applied)
        .kv("error", ec.message());
    co_await sleep_for(kRetryEvery);
    co_return false;
  }
  if (applied_ && !theirs.empty()) applied_(std::move(theirs));
  co_return true;  // there may be more
}

asio::awaitable<void> Link::heartbeat_if_due() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_heartbeat_ || !tail_ || tail_->broken()) co_return;
  next_heartbeat_ = now + kHeartbeatEvery;
  const NodeBinds b = binds_ ? binds_() : NodeBinds{};
  std::vector<PgValue> params = {node_id_, std::to_string(lag_ms()),
                                 std::string(caught_up_ ? "up" : "catching_up"),
                                 std::to_string(b.esme), std::to_string(b.upstream)};
  (void)co_await tail_->query(
      with_schema("UPDATE {s}.nodes SET last_seen = now(), lag_ms = $2, state = $3, "
                  "esme_binds = $4, upstream_binds = $5 WHERE node_id = $1",
                  config_.schema),
      std::move(params), kStatementTimeout);
}

void Link::publish_metrics() {
  metrics_.cluster_up().Set(up() ? 1 : 0);
  metrics_.cluster_lag_seconds().Set(static_cast<double>(lag_ms()) / 1000.0);
}

std::int64_t Link::lag_ms() const {
  const auto age = pending_age_ms_.load(std::memory_order_acquire);
  if (age < 0) return 0;
  return age + (steady_ms() - pending_read_at_ms_.load(std::memory_order_acquire));
}

bool Link::ready() const {
  if (!caught_up_.load(std::memory_order_acquire)) return false;
  return !up() || lag_ms() <= config_.max_lag.count();
}

// ---- ClusterGate: the store's writer ------------------------------------------------------------

asio::awaitable<std::error_code> Link::writer_connect() {
  writer_.reset();
  // While the tail cannot reach PostgreSQL, or shortly after a failed attempt, refuse at once:
  // the store's writer thread must not wait out a connect timeout for every group.
  if (!up() || std::chrono::steady_clock::now() < writer_retry_at_) {
    co_return make_error_code(PgErrc::connect_failed);
  }
  PgError error;
  auto pg = co_await PgConnection::connect(co_await asio::this_coro::executor, config_.postgres,
                                           kReconnectTimeout, &error);
  std::error_code ec = pg.error();
  if (pg) ec = co_await prepare_session(**pg);
  if (ec) {
    writer_retry_at_ = std::chrono::steady_clock::now() + kRetryEvery;
    co_return ec;
  }
  writer_ = std::move(*pg);
  co_return std::error_code{};
}

Result<std::vector<store::ReplicatedChange>> Link::begin(std::uint64_t applied) {
  if (closed_.load(std::memory_order_acquire)) {
    return make_error_code(store::StoreErrc::cluster_unavailable);
  }
  auto op = [this, applied]() -> asio::awaitable<Result<std::vector<store::ReplicatedChange>>> {
    const auto unavailable = make_error_code(store::StoreErrc::cluster_unavailable);
    if (!writer_ || writer_->broken()) {
      if (co_await writer_connect()) co_return unavailable;
    }
    auto r = co_await writer_->run(lock_and_read(config_.schema, applied, kMaxInlineCatchUp),
                                   kStatementTimeout);
    if (!r) {
      SG_LOG(warn, "cluster_write_refused").kv("reason", describe(*writer_, r.error()));
      co_return unavailable;
    }
    std::vector<PgStatement> rollback = {{"ROLLBACK"}};
    const auto head = static_cast<std::uint64_t>((*r)[r->size() - 2].int64(0, 0));
    if (head < applied) {
      // This replica has versions PostgreSQL does not (a failover lost them, or another
      // database): writing here would fork the history.
      SG_LOG(error, "cluster_replica_ahead")
          .kv("node_id", node_id_)
          .kv("applied", applied)
          .kv("postgres_head", head);
      (void)co_await writer_->run(std::move(rollback), kStatementTimeout);
      co_return make_error_code(store::StoreErrc::diverged);
    }
    const auto& missing = r->back();
    const auto reached = missing.empty()
                             ? applied
                             : static_cast<std::uint64_t>(missing.int64(missing.size() - 1, 0));
    if (reached != head) {
      (void)co_await writer_->run(std::move(rollback), kStatementTimeout);
      co_return unavailable;  // far behind (more than one page): the tail catches up first
    }
    std::vector<store::ReplicatedChange> changes;
    bool unreadable = false;
    try {
      for (auto& e : parse_log_rows(r->back())) changes.push_back(std::move(e.change));
    } catch (const std::exception& e) {
      SG_LOG(error, "cluster_log_unreadable").kv("after", applied).kv("reason", e.what());
      unreadable = true;
    }
    if (unreadable) {
      (void)co_await writer_->run(std::move(rollback), kStatementTimeout);
      co_return make_error_code(store::StoreErrc::diverged);
    }
    co_return changes;
  };
  try {
    return run_here(op());
  } catch (const std::exception& e) {
    SG_LOG(error, "cluster_write_refused").kv("reason", e.what());
    return make_error_code(store::StoreErrc::cluster_unavailable);
  }
}

std::error_code Link::commit(const store::ReplicatedChange& change) {
  if (closed_.load(std::memory_order_acquire)) {
    return make_error_code(store::StoreErrc::cluster_unavailable);
  }
  auto op = [this, &change]() -> asio::awaitable<std::error_code> {
    if (!writer_ || writer_->broken()) {
      co_return make_error_code(store::StoreErrc::cluster_unavailable);
    }
    std::vector<PgStatement> batch;
    if (change.empty()) {
      batch.push_back({"COMMIT"});
    } else {
      batch = append_and_commit(config_.schema, node_id_, change);
    }
    // A large group (an import's batches) takes longer: a second more per 1,000 rows.
    const auto rows = change.consents.size() + change.audit.size();
    const auto timeout = kStatementTimeout + std::chrono::milliseconds(rows);
    auto r = co_await writer_->run(std::move(batch), timeout);
    if (!r) {
      SG_LOG(error, "cluster_commit_failed")
          .kv("version", change.version)
          .kv("reason", describe(*writer_, r.error()));
      co_return make_error_code(store::StoreErrc::cluster_unavailable);
    }
    co_return std::error_code{};
  };
  try {
    return run_here(op());
  } catch (const std::exception& e) {
    SG_LOG(error, "cluster_commit_failed").kv("reason", e.what());
    return make_error_code(store::StoreErrc::cluster_unavailable);
  }
}

// ---- status -------------------------------------------------------------------------------------

Result<ClusterStatus> Link::status() {
  auto op = [this]() -> asio::awaitable<Result<ClusterStatus>> {
    ClusterStatus out;
    {
      std::lock_guard lock(primary_mu_);
      out.primary = primary_;
    }
    out.postgres_state = up() ? "up" : "down";
    PgError error;
    auto pg = co_await PgConnection::connect(co_await asio::this_coro::executor, config_.postgres,
                                             kReconnectTimeout, &error);
    if (!pg) co_return pg.error();
    std::vector<PgValue> none;
    auto rows = co_await (*pg)->query(
        with_schema(
            "SELECT node_id, (extract(epoch FROM now() - last_seen) * 1000)::bigint, lag_ms, "
            "state, esme_binds, upstream_binds, "
            "to_char(last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
            "FROM {s}.nodes WHERE last_seen > now() - interval '24 hours' ORDER BY node_id",
            config_.schema),
        std::move(none), kStatementTimeout);
    if (!rows) co_return rows.error();
    for (std::size_t i = 0; i < rows->size(); ++i) {
      NodeStatus n;
      n.node_id = rows->text(i, 0);
      const bool seen = !rows->is_null(i, 1) && rows->int64(i, 1) <= kDownAfterMs;
      n.state = !seen ? "down" : rows->is_null(i, 3) ? "up" : rows->text(i, 3);
      if (seen && !rows->is_null(i, 2)) n.lag_ms = rows->int64(i, 2);
      n.binds = {static_cast<int>(rows->int64(i, 4)), static_cast<int>(rows->int64(i, 5))};
      n.last_seen = rows->text(i, 6);
      out.nodes.push_back(std::move(n));
    }
    co_return out;
  };
  return run_here(op());
}

}  // namespace smppguard::cluster
