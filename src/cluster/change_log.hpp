#pragma once
// The cluster's change log (<schema>.changes): every node appends what it commits and tails
// what all nodes committed, in a gap-safe order (docs/cluster.md, "The change log").
//
// The trap: an identity or sequence is assigned when a row is inserted, not when its
// transaction commits, so a reader that remembers "the highest pos seen" skips a transaction
// that inserted pos 10 and committed after pos 11 was read. Here each row carries the xid of
// its transaction, and a read takes only rows whose xid is below the xmin of its own snapshot:
// every transaction below that xmin has ended, so all of its rows are visible to the read and
// none can appear later. A read's cursor is (xid, pos); the next read starts after it.
// A long-open writing transaction holds the xmin back: rows committed after it wait (the lag,
// measured from them, shows it) but none is skipped.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cluster/pg.hpp"
#include "common/result.hpp"

namespace smppguard::cluster {

/// A position in the log: after (xid, pos). The start is {0, 0}.
struct LogCursor {
  std::uint64_t xid = 0;
  std::int64_t pos = 0;
  bool operator==(const LogCursor&) const = default;
};

/// One change as read from the log.
struct Change {
  LogCursor at;
  std::int64_t committed_ms = 0;  // the row's time (clock_timestamp() at insert), Unix ms
  std::string node_id;            // the node that wrote it
  std::string kind;               // what body holds ("heartbeat", ...)
  std::string body;               // bytes
};

struct LogPage {
  std::vector<Change> changes;  // in log order
  LogCursor next;               // where the next read starts
  bool more = false;            // the page was full: read again at once
  /// The time of the oldest change already committed but not yet safe to read (behind a
  /// transaction still open): the lag's measure. nullopt when there is none.
  std::optional<std::int64_t> oldest_waiting_ms;
};

/// The statement that appends a change (and wakes the tailing nodes, on the channel
/// <schema>_changes, when its transaction commits). Put it into the writing transaction's batch.
PgStatement append_change(const std::string& schema, const std::string& node_id,
                          const std::string& kind, const std::string& body);

/// The statement that makes `pg` hear the wake-ups of append_change.
PgStatement listen_changes(const std::string& schema);

/// Reads up to `limit` changes after `after` that are safe to read.
asio::awaitable<Result<LogPage>> read_changes(PgConnection& pg, const std::string& schema,
                                              LogCursor after, std::size_t limit,
                                              std::chrono::milliseconds timeout);

}  // namespace smppguard::cluster
