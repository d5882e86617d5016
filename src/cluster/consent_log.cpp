#include "cluster/consent_log.hpp"

#include <boost/json.hpp>
#include <map>
#include <stdexcept>

#include "cluster/schema.hpp"

namespace smppguard::cluster {

namespace json = boost::json;

namespace {

// Versions after $1: at most $2 of them, and no more than $3 bytes of bodies (the first always).
std::string select_after(const std::string& schema) {
  return with_schema(
      "SELECT version, (extract(epoch FROM clock_timestamp() - at) * 1000)::bigint, node_id, "
      "body FROM (SELECT version, at, node_id, body, "
      "sum(octet_length(body)) OVER (ORDER BY version) AS upto FROM {s}.consent_log "
      "WHERE version > $1 ORDER BY version LIMIT $2) page "
      "WHERE upto - octet_length(body) < $3 ORDER BY version",
      schema);
}

// Plain hex digits (what decode(..., 'hex') reads).
std::string hex(std::string_view bytes) { return bytea_hex(bytes).substr(2); }

}  // namespace

std::vector<PgStatement> lock_and_read(const std::string& schema, std::uint64_t applied,
                                       std::size_t limit, std::size_t max_bytes) {
  return {
      {"BEGIN"},
      // The server gives up the wait itself (before the caller's deadline), so that a writer
      // that gave up never gets the lock later and holds it for nobody.
      {"SET LOCAL lock_timeout = '4s'"},
      {std::string("SELECT pg_advisory_xact_lock(") + kLockClass + ", 0)", {schema}},
      {with_schema("SELECT coalesce(max(version), 0) FROM {s}.consent_log", schema)},
      {select_after(schema),
       {std::to_string(applied), std::to_string(limit), std::to_string(max_bytes)}},
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
  // The rows go as one JSON array per table (one statement each, whatever the group's size).
  // A subscriber written twice in one group keeps its last record.
  std::map<std::pair<std::string, std::string>, json::object> consents;
  for (const auto& c : change.consents) {
    json::object row;
    row["owner"] = (c.tenant ? "tenant:" : "") + c.owner;
    row["msisdn"] = c.msisdn;
    row["state"] = std::string(to_string(c.record.state));
    row["updated_ms"] = c.record.updated_at_ms;
    row["audit_seq"] = c.record.audit_seq;
    row["record"] = hex(store::encode_change({change.version, {c}, {}}));
    consents[{row["owner"].as_string().c_str(), c.msisdn}] = std::move(row);
  }
  if (!consents.empty()) {
    json::array rows;
    for (auto& [key, row] : consents) rows.push_back(std::move(row));
    out.push_back(
        {with_schema(
             "INSERT INTO {s}.consents AS c (owner, msisdn, state, updated_at, audit_seq, "
             "version, record) SELECT x.owner, x.msisdn, x.state, "
             "to_timestamp(x.updated_ms / 1000.0), x.audit_seq, $2, decode(x.record, 'hex') "
             "FROM jsonb_to_recordset($1::jsonb) AS x(owner text, msisdn text, state text, "
             "updated_ms bigint, audit_seq bigint, record text) "
             "ON CONFLICT (owner, msisdn) DO UPDATE SET state = excluded.state, "
             "updated_at = excluded.updated_at, audit_seq = excluded.audit_seq, "
             "version = excluded.version, record = excluded.record",
             schema),
         {json::serialize(rows), version}});
  }
  if (!change.audit.empty()) {
    json::array rows;
    for (const auto& a : change.audit) {
      json::object row;
      row["seq"] = a.seq;
      row["at_ms"] = a.time_ms;
      row["program"] = a.program;
      row["msisdn"] = a.msisdn;
      row["event"] = a.event;
      row["prev_hash"] = a.prev_hash;
      row["hash"] = a.hash;
      row["entry"] = hex(store::encode_change({change.version, {}, {a}}));
      rows.push_back(std::move(row));
    }
    out.push_back(
        {with_schema("INSERT INTO {s}.audit (seq, at, program, msisdn, event, prev_hash, hash, "
                     "version, entry) SELECT x.seq, to_timestamp(x.at_ms / 1000.0), x.program, "
                     "x.msisdn, x.event, x.prev_hash, x.hash, $2, decode(x.entry, 'hex') FROM "
                     "jsonb_to_recordset($1::jsonb) AS x(seq bigint, at_ms bigint, program text, "
                     "msisdn text, event text, prev_hash text, hash text, entry text)",
                     schema),
         {json::serialize(rows), version}});
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
                                                        std::chrono::milliseconds timeout,
                                                        std::size_t max_bytes) {
  std::vector<PgValue> params = {std::to_string(after), std::to_string(limit),
                                 std::to_string(max_bytes)};
  auto rows = co_await pg.query(select_after(schema), std::move(params), timeout);
  if (!rows) co_return rows.error();
  co_return parse_log_rows(*rows);
}

}  // namespace smppguard::cluster
