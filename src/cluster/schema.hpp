#pragma once
// The cluster's PostgreSQL schema (docs/cluster.md, "Schema"): created and migrated by the
// daemon, and the claim of a node id.
//
// migrate() runs in one transaction under a transaction advisory lock, so nodes that start
// together migrate once, one after the other; a version it does not know (a newer build
// migrated) is refused. Migrations only add: an older build never meets a newer schema.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "cluster/pg.hpp"
#include "common/result.hpp"

namespace smppguard::cluster {

/// The advisory-lock class of a schema, with the schema name as $1: hashtext('smppguard:' ||
/// schema). Object 0 is the cluster's write lock (migrations and consent log versions); nodes
/// claim their id with their lock_key (an identity, from 1).
inline constexpr const char* kLockClass = "hashtext('smppguard:' || $1::text)";

/// `sql` with every "{s}" replaced by the schema name.
std::string with_schema(std::string sql, const std::string& schema);

/// The schema version this build creates and understands.
inline constexpr int kPgSchemaVersion = 1;

struct MigrateReport {
  int from = 0;  // version found (0: a new schema)
  int to = 0;    // version now
};

/// Creates `schema` and its tables, or brings them to kPgSchemaVersion. Idempotent. Errors:
/// bad_name, newer_schema, or the connection's (query_failed: last_error() names the statement,
/// e.g. a role without CREATE on the database).
asio::awaitable<Result<MigrateReport>> migrate(PgConnection& pg, const std::string& schema,
                                               std::chrono::milliseconds timeout);

/// Claims `node_id` for as long as `pg` stays open (a session advisory lock keyed by the node's
/// row in <schema>.nodes). False when another live connection holds it; a crashed node's claim
/// ends when PostgreSQL notices its connection is gone.
asio::awaitable<Result<bool>> claim_node(PgConnection& pg, const std::string& schema,
                                         const std::string& node_id,
                                         std::chrono::milliseconds timeout);

}  // namespace smppguard::cluster
