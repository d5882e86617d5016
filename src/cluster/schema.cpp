#include "cluster/schema.hpp"

#include <vector>

#include "config/config.hpp"

namespace smppguard::cluster {

namespace {

// Each migration, by the version it brings the schema to. "{s}" is the schema name.
// Only ever append; never edit a migration that has shipped.
const std::vector<std::vector<std::string>>& migrations() {
  static const std::vector<std::vector<std::string>> all = {
      // 1: nodes (the id claim, heartbeats, binds), the consent log, consents and audit.
      {
          R"(CREATE TABLE {s}.nodes (
               node_id text PRIMARY KEY,
               lock_key integer GENERATED ALWAYS AS IDENTITY UNIQUE,
               started_at timestamptz,
               last_seen timestamptz,
               lag_ms bigint,
               state text,
               esme_binds integer NOT NULL DEFAULT 0,
               upstream_binds integer NOT NULL DEFAULT 0))",
          // The consent log: one row per committed version, written under the cluster's write
          // lock, so versions commit in their order (docs/cluster.md, "The consent log").
          R"(CREATE TABLE {s}.consent_log (
               version bigint PRIMARY KEY,
               at timestamptz NOT NULL DEFAULT clock_timestamp(),
               node_id text NOT NULL,
               body bytea NOT NULL))",
          "CREATE INDEX consent_log_at ON {s}.consent_log (at)",
          // The current record of each subscriber, for operators' SQL and for a new replica.
          R"(CREATE TABLE {s}.consents (
               owner text NOT NULL,
               msisdn text NOT NULL,
               state text NOT NULL,
               updated_at timestamptz,
               audit_seq bigint NOT NULL,
               version bigint NOT NULL,
               record bytea NOT NULL,
               PRIMARY KEY (owner, msisdn)))",
          // The one audit chain of the cluster (smppguard audit verify --cluster walks it).
          R"(CREATE TABLE {s}.audit (
               seq bigint PRIMARY KEY,
               at timestamptz NOT NULL,
               program text NOT NULL,
               msisdn text NOT NULL,
               event text NOT NULL,
               prev_hash text NOT NULL,
               hash text NOT NULL,
               version bigint NOT NULL,
               entry bytea NOT NULL))",
          "CREATE INDEX audit_msisdn ON {s}.audit (msisdn, seq)",
      },
  };
  return all;
}

}  // namespace

std::string with_schema(std::string sql, const std::string& schema) {
  for (auto at = sql.find("{s}"); at != std::string::npos; at = sql.find("{s}", at)) {
    sql.replace(at, 3, schema);
    at += schema.size();
  }
  return sql;
}

asio::awaitable<Result<MigrateReport>> migrate(PgConnection& pg, const std::string& schema,
                                               std::chrono::milliseconds timeout) {
  if (!config::is_plain_identifier(schema)) co_return make_error_code(PgErrc::bad_name);
  // (GCC 12 miscompiles braced lists inside a co_await expression: batches are named first.)
  std::vector<PgStatement> look = {
      {"BEGIN"},
      {std::string("SELECT pg_advisory_xact_lock(") + kLockClass + ", 0)", {schema}},
      {with_schema("CREATE SCHEMA IF NOT EXISTS {s}", schema)},
      {with_schema("CREATE TABLE IF NOT EXISTS {s}.schema_version (version integer NOT NULL)",
                   schema)},
      {with_schema("SELECT coalesce(max(version), 0) FROM {s}.schema_version", schema)},
  };
  auto found = co_await pg.run(std::move(look), timeout);
  if (!found) co_return found.error();
  MigrateReport report;
  report.from = static_cast<int>(found->back().int64(0, 0));
  const int known = static_cast<int>(migrations().size());
  if (report.from > known) {
    std::vector<PgStatement> rollback = {{"ROLLBACK"}};
    (void)co_await pg.run(std::move(rollback), timeout);
    co_return make_error_code(PgErrc::newer_schema);
  }
  std::vector<PgStatement> steps;
  for (int v = report.from; v < known; ++v) {
    for (const auto& sql : migrations()[static_cast<std::size_t>(v)]) {
      steps.push_back({with_schema(sql, schema)});
    }
  }
  steps.push_back({with_schema("DELETE FROM {s}.schema_version", schema)});
  steps.push_back(
      {with_schema("INSERT INTO {s}.schema_version VALUES ($1)", schema), {std::to_string(known)}});
  steps.push_back({"COMMIT"});
  if (auto done = co_await pg.run(std::move(steps), timeout); !done) co_return done.error();
  report.to = known;
  co_return report;
}

asio::awaitable<Result<bool>> claim_node(PgConnection& pg, const std::string& schema,
                                         const std::string& node_id,
                                         std::chrono::milliseconds timeout) {
  if (!config::is_plain_identifier(schema)) co_return make_error_code(PgErrc::bad_name);
  std::vector<PgStatement> claim = {
      {with_schema("INSERT INTO {s}.nodes (node_id) VALUES ($1) ON CONFLICT DO NOTHING", schema),
       {node_id}},
      {with_schema(std::string("SELECT pg_try_advisory_lock(") + kLockClass +
                       ", lock_key) FROM {s}.nodes WHERE node_id = $2",
                   schema),
       {schema, node_id}},
  };
  auto r = co_await pg.run(std::move(claim), timeout);
  if (!r) co_return r.error();
  const bool claimed = r->back().size() == 1 && r->back().text(0, 0) == "t";
  if (claimed) {
    std::vector<PgValue> id = {node_id};
    auto seen = co_await pg.query(
        with_schema("UPDATE {s}.nodes SET started_at = now(), last_seen = now() WHERE node_id = $1",
                    schema),
        std::move(id), timeout);
    if (!seen) co_return seen.error();
  }
  co_return claimed;
}

}  // namespace smppguard::cluster
