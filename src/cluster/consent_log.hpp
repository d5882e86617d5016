#pragma once
// The cluster's consent log (<schema>.consent_log, docs/cluster.md "The consent log"): every
// consent change any node commits, one row per version, and what every node tails.
//
// The trap: an identity or sequence is assigned when a row is inserted, not when its transaction
// commits, so a reader that remembers "the highest number seen" skips a transaction that took 10
// and committed after 11 was read. Here a version is written only by a transaction that holds the
// cluster's write lock (a transaction advisory lock, held until it ends) and read the last
// version under it: version N+1 cannot commit before N has, so a reader that sees N+1 sees N, and
// "everything after the last version I applied" never skips one.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "cluster/pg.hpp"
#include "common/result.hpp"
#include "store/types.hpp"

namespace smppguard::cluster {

/// One version as read from the log.
struct LogEntry {
  std::uint64_t version = 0;
  std::int64_t age_ms = 0;  // how long ago it was committed, by the server's clock
  std::string node_id;      // the node that wrote it
  store::ReplicatedChange change;
};

/// How much of the log one read takes at most (bodies; the first version always): what a
/// catching-up replica holds in memory and writes in one RocksDB batch.
inline constexpr std::size_t kPageBytes = 16u << 20;

/// The start of a writing transaction: BEGIN, the write lock (waited for at most 4 s), the log's
/// newest version (second to last result), then the versions after `applied`, at most `limit` and
/// `max_bytes` (the last result; when it does not reach the newest version, the caller is too far
/// behind to write).
std::vector<PgStatement> lock_and_read(const std::string& schema, std::uint64_t applied,
                                       std::size_t limit, std::size_t max_bytes = kPageBytes);
/// What commits `change` as its version: the log row, its consent and audit rows and the
/// wake-up of the tailing nodes, then COMMIT. Only inside a transaction begun by lock_and_read.
std::vector<PgStatement> append_and_commit(const std::string& schema, const std::string& node_id,
                                           const store::ReplicatedChange& change);

/// The statement that makes a connection hear the log's wake-ups.
PgStatement listen_log(const std::string& schema);

/// The rows of a log read (version, age_ms, node_id, body), in version order. Throws
/// std::invalid_argument on a body that does not decode.
std::vector<LogEntry> parse_log_rows(const PgRows& rows);

/// Reads up to `limit` versions after `after`, and no more than `max_bytes` of bodies (the first
/// always): no lock needed, see the top of this file.
asio::awaitable<Result<std::vector<LogEntry>>> read_log(PgConnection& pg, const std::string& schema,
                                                        std::uint64_t after, std::size_t limit,
                                                        std::chrono::milliseconds timeout,
                                                        std::size_t max_bytes = kPageBytes);

}  // namespace smppguard::cluster
