#include "cluster/consent_log.hpp"

#include <stdexcept>

#include "cluster/schema.hpp"

namespace smppguard::cluster {

namespace {

std::string select_after(const std::string& schema) {
  return with_schema(
      "SELECT version, (extract(epoch FROM clock_timestamp() - at) * 1000)::bigint, node_id, "
      "body FROM {s}.consent_log WHERE version > $1 ORDER BY version LIMIT $2",
      schema);
}

std::string ms_to_timestamp(std::int64_t ms) {
  return "to_timestamp(" + std::to_string(ms) + " / 1000.0)";
}

}  // namespace

std::vector<PgStatement> lock_and_read(const std::string& schema, std::uint64_t applied,
                                       std::size_t limit) {
  return {
      {"BEGIN"},
      {std::string("SELECT pg_advisory_xact_lock(") + kLockClass + ", 0)", {schema}},
      {select_after(schema), {std::to_string(applied), std::to_string(limit + 1)}},
  };
}

std::vector<PgStatement> append_and_commit(const std::string& schema, const std::string& node_id,
                                           const store::ReplicatedChange& change) {
  std::vector<PgStatement> out;
  const std::string version = std::to_string(change.version);
  out.push_back(
      {with_schema("INSERT INTO {s}.consent_log (version, node_id, body) VALUES ($1, $2, $3)",
                   schema),
       {version, node_id, bytea_hex(store::encode_change(change))}});
  for (const auto& c : change.consents) {
    store::ReplicatedChange one{change.version, {c}, {}};
    out.push_back(
        {with_schema("INSERT INTO {s}.consents AS c (owner, msisdn, state, updated_at, audit_seq, "
                     "version, record) VALUES ($1, $2, $3, " +
                         ms_to_timestamp(c.record.updated_at_ms) +
                         ", $4, $5, $6) ON CONFLICT (owner, msisdn) DO UPDATE SET "
                         "state = excluded.state, updated_at = excluded.updated_at, "
                         "audit_seq = excluded.audit_seq, version = excluded.version, "
                         "record = excluded.record",
                     schema),
         {(c.tenant ? "tenant:" : "") + c.owner, c.msisdn, std::string(to_string(c.record.state)),
          std::to_string(c.record.audit_seq), version, bytea_hex(store::encode_change(one))}});
  }
  for (const auto& a : change.audit) {
    store::ReplicatedChange one{change.version, {}, {a}};
    out.push_back({with_schema("INSERT INTO {s}.audit (seq, at, program, msisdn, event, "
                               "prev_hash, hash, version, entry) VALUES ($1, " +
                                   ms_to_timestamp(a.time_ms) + ", $2, $3, $4, $5, $6, $7, $8)",
                               schema),
                   {std::to_string(a.seq), a.program, a.msisdn, a.event, a.prev_hash, a.hash,
                    version, bytea_hex(store::encode_change(one))}});
  }
  // Delivered at commit, dropped on rollback.
  out.push_back({"SELECT pg_notify($1, $2)", {schema + "_log", version}});
  out.push_back({"COMMIT"});
  return out;
}

PgStatement listen_log(const std::string& schema) { return {"LISTEN " + schema + "_log"}; }

std::vector<LogEntry> parse_log_rows(const PgRows& rows) {
  std::vector<LogEntry> out;
  out.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    LogEntry e;
    e.version = static_cast<std::uint64_t>(rows.int64(i, 0));
    e.age_ms = rows.int64(i, 1);
    e.node_id = rows.text(i, 2);
    auto body = bytea_bytes(rows.text(i, 3));
    if (!body || !store::decode_change(*body, e.change) || e.change.version != e.version) {
      throw std::invalid_argument("consent_log version " + std::to_string(e.version) +
                                  ": the body does not decode");
    }
    out.push_back(std::move(e));
  }
  return out;
}

asio::awaitable<Result<std::vector<LogEntry>>> read_log(PgConnection& pg, const std::string& schema,
                                                        std::uint64_t after, std::size_t limit,
                                                        std::chrono::milliseconds timeout) {
  std::vector<PgValue> params = {std::to_string(after), std::to_string(limit)};
  auto rows = co_await pg.query(select_after(schema), std::move(params), timeout);
  if (!rows) co_return rows.error();
  co_return parse_log_rows(*rows);
}

asio::awaitable<Result<std::uint64_t>> log_head(PgConnection& pg, const std::string& schema,
                                                std::chrono::milliseconds timeout) {
  std::vector<PgValue> none;
  auto rows = co_await pg.query(
      with_schema("SELECT coalesce(max(version), 0) FROM {s}.consent_log", schema), std::move(none),
      timeout);
  if (!rows) co_return rows.error();
  co_return static_cast<std::uint64_t>(rows->int64(0, 0));
}

}  // namespace smppguard::cluster
