#pragma once
// The store: the only code that touches RocksDB. A domain API over column families listed in one
// schema table (store.cpp). Thread-safe unless a method says otherwise.
//
// Flow:
//   reads   — any thread, directly (point lookups; bloom filters and a block cache keep them
//   cheap). writes  — a Mutation runs on the single writer thread, sees the store plus every write
//   made by
//             earlier mutations of the same group (read-modify-write is atomic per mutation), and
//             stages changes into a Batch. The writer commits a whole group as one WriteBatch with
//             one fsync when any mutation asked for sync (group commit), then calls each completion
//             on the writer thread. Callers post back to their own executor.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"
#include "store/types.hpp"

namespace smppguard::store {

namespace testing {
class FaultSwitch;  // store/testing.hpp
}

/// Store error codes (category "smppguard.store").
enum class StoreErrc {
  ok = 0,
  io_error = 1,  // RocksDB I/O error (full disk, read-only fs, ...)
  corruption = 2,
  closed = 3,  // the store is shutting down
  busy = 4,    // the writer queue is full
  not_found = 5,
  invalid_argument = 6,
  mutation_failed = 7,  // the mutation threw; nothing it staged was written
  read_only = 8,        // a write submitted to a store opened with read_only
  no_space = 9,         // the filesystem is below StoreOptions::min_free_bytes: nothing written
  /// Cluster mode: the consent change could not be committed in PostgreSQL (unreachable, or this
  /// replica too far behind to write): nothing written. Temporary.
  cluster_unavailable = 10,
  diverged = 11,  // cluster mode: a replicated change does not follow this replica's history
};
const std::error_category& store_category();
std::error_code make_error_code(StoreErrc e);

struct StoreOptions {
  std::string path;             // RocksDB directory; created when missing
  std::string node_id = "gw1";  // prefix of message ids (config node_id)
  bool sync = true;             // honour sync requests with an fsync of the WAL
  Millis message_map_ttl{72LL * 3600 * 1000};
  std::size_t block_cache_bytes = 64u << 20;
  std::size_t max_pending_mutations = 100000;  // writer queue bound; beyond it submit() fails busy
  bool read_only = false;  // `audit verify` opens without locking out the daemon
  /// Writes stop (no_space) while the store's filesystem has less free space than this, so
  /// that RocksDB never meets a full disk (Debian's build asserts there). 0 = no floor.
  std::uint64_t min_free_bytes = 0;
  /// Tests only (store/testing.hpp): makes RocksDB file writes fail while engaged. Null otherwise.
  std::shared_ptr<testing::FaultSwitch> faults;
};

/// Writer statistics since open (metrics, tests). Plain snapshot; any thread.
struct StoreStats {
  std::uint64_t groups_written = 0;       // rocksdb::WriteBatch writes (one per group commit)
  std::uint64_t synced_writes = 0;        // of which with WriteOptions.sync (one fsync each)
  std::uint64_t mutations_committed = 0;  // mutations whose changes were written
  std::uint64_t mutations_failed = 0;     // mutations that threw (mutation_failed)
  std::uint64_t write_errors = 0;         // groups that failed with io_error
  std::uint64_t direct_route_writes = 0;  // routes written by put_route_now (not in the above)
  // RocksDB memory, for the RSS budget (docs/store.md): the block cache's usage includes the
  // memtables charged to it; table readers are what index/filter blocks outside the cache take.
  std::uint64_t block_cache_bytes = 0;
  std::uint64_t memtable_bytes = 0;
  std::uint64_t table_reader_bytes = 0;
};

/// Consent of one subscriber as the MT path needs it: the program record and the tenant-wide one.
struct ConsentPair {
  std::optional<ConsentRecord> program;  // (program, msisdn)
  std::optional<ConsentRecord> tenant;   // (tenant, msisdn): tenant-wide opt-out (STOPALL)
};

/// Changes staged by a mutation on the writer thread. Reads see the store plus what this group
/// already staged. Only valid inside the mutation that received it; writer thread only.
/// Key components (program, tenant, msisdn, target, upstream) must not contain NUL: a write with
/// one throws std::invalid_argument, a read returns invalid_argument. A void method that has to
/// read first (remove_*, update_delivery, record_sent) throws std::system_error when that read
/// fails. Either way the mutation fails alone with mutation_failed.
class Batch {
 public:
  virtual ~Batch() = default;
  virtual std::int64_t now_ms() const = 0;

  virtual Result<std::optional<ConsentRecord>> get_consent(std::string_view program,
                                                           std::string_view msisdn) = 0;
  virtual Result<std::optional<ConsentRecord>> get_tenant_consent(std::string_view tenant,
                                                                  std::string_view msisdn) = 0;
  virtual void put_consent(std::string_view program, std::string_view msisdn,
                           const ConsentRecord& record) = 0;
  virtual void put_tenant_consent(std::string_view tenant, std::string_view msisdn,
                                  const ConsentRecord& record) = 0;

  /// False in cluster mode while this group cannot commit in PostgreSQL: then put_consent,
  /// put_tenant_consent and append_audit throw cluster_unavailable (the mutation fails alone).
  /// For writes that may be skipped, such as an implied-consent refresh. Always true alone.
  virtual bool consent_writable() = 0;

  /// Appends to the audit chain; fills seq, prev_hash and hash (and time_ms when 0: now) and
  /// returns the seq.
  virtual std::uint64_t append_audit(AuditEntry entry) = 0;

  /// Durable delivery queue towards ESMEs; fills and returns the item's seq (and created_at_ms
  /// when 0). Removing an unknown item does nothing; updating one that is no longer queued does
  /// not bring it back.
  virtual std::uint64_t enqueue_delivery(DeliveryItem item) = 0;
  virtual void remove_delivery(std::string_view target, std::uint64_t seq) = 0;
  virtual void update_delivery(const DeliveryItem& item) = 0;  // attempts / next_attempt_at

  /// Held MTs; fills and returns the message's seq (and held_at_ms when 0). remove_held needs
  /// program, msisdn and seq of the message; held_for lists a pair in seq order.
  virtual std::uint64_t hold_message(HeldMessage message) = 0;
  virtual Result<std::vector<HeldMessage>> held_for(std::string_view program,
                                                    std::string_view msisdn) = 0;
  virtual void remove_held(const HeldMessage& message) = 0;

  /// Stores the route under its proxy_id, and under (upstream, upstream_key) when upstream_key is
  /// set. created_at_ms 0 means now; expires_at_ms 0 means created_at + message_map_ttl. The
  /// parts of a multipart MT share a proxy_id: one call per part maps each part's upstream key.
  virtual void put_message_route(const MessageRoute& route) = 0;

  /// Frequency cap: records one MT sent at `at_ms`, keeping at most the last `keep_last` times.
  virtual void record_sent(std::string_view program, std::string_view msisdn, std::int64_t at_ms,
                           std::size_t keep_last) = 0;

  /// Multipart MOs: the parts of one message (`message` names the sender and number; ref and
  /// total come from the part's UDH or sar_* values) that have arrived, in seq order, expired
  /// ones left out. A part stored again replaces the earlier copy.
  virtual void put_mo_part(std::string_view message, std::uint16_t ref, std::uint8_t total,
                           const MoPart& part) = 0;
  virtual Result<std::vector<MoPart>> mo_parts(std::string_view message, std::uint16_t ref,
                                               std::uint8_t total) = 0;
  virtual void remove_mo_parts(std::string_view message, std::uint16_t ref, std::uint8_t total) = 0;
};

/// Cluster mode (docs/cluster.md, "Writes"): what the store's writer asks of the cluster's system
/// of record. cluster::Link implements it. The writer calls begin() before the first consent or
/// audit access of a group, runs the group, then commit(): the group's consent and audit writes
/// are committed in PostgreSQL before RocksDB sees them, and a group that cannot commit there
/// fails (cluster_unavailable) with nothing written.
class ClusterGate {
 public:
  virtual ~ClusterGate() = default;
  /// Writer thread. Opens a transaction that holds the cluster's write lock and returns the
  /// versions committed after `applied` (the group applies them before its own writes, so it
  /// decides on the cluster's latest state). An error means no transaction is open.
  virtual Result<std::vector<ReplicatedChange>> begin(std::uint64_t applied) = 0;
  /// Writer thread, after a successful begin(): commits `change` as the next version and ends
  /// the transaction (an empty change only ends it). An error: nothing may be acknowledged (the
  /// commit may still have happened; the replica then receives it like any other version).
  virtual std::error_code commit(const ReplicatedChange& change) = 0;
  /// Any thread: whether MTs may be decided from this replica (SPEC section 9: caught up, lag
  /// within max_lag while PostgreSQL is reachable).
  virtual bool ready() const = 0;
};

/// A unit of work for the writer thread. Throwing discards what it staged and fails its completion
/// with mutation_failed (other mutations of the group are unaffected).
using Mutation = std::function<void(Batch&)>;
/// Called on the writer thread once the group holding the mutation is durable (or failed).
using Completion = std::function<void(std::error_code)>;

/// Result of walking the audit chain (docs/store.md, "Verification").
struct AuditVerifyReport {
  bool whole = false;
  std::uint64_t entries = 0;        // entries verified, before the first bad one
  std::uint64_t first_bad_seq = 0;  // 0 when whole
  std::string reason;  // "hash mismatch", "prev_hash does not match", "seq gap" (a missing seq,
                       // also at the end), "undecodable value", "seq does not match its key"
};

/// The head of the audit chain.
struct AuditHead {
  std::uint64_t seq = 0;
  std::string hash;  // 64 hex chars
};

/// Result of checking the consent records against the audit log (docs/store.md, "Sealed consent
/// records").
struct ConsentVerifyReport {
  struct Problem {
    std::string owner;  // program id, or "tenant:<tenant>"
    std::string msisdn;
    std::string reason;
  };
  std::uint64_t records = 0;      // records read
  std::uint64_t unsealed = 0;     // written by schema 1, sealed at the daemon's next start
  std::uint64_t bad = 0;          // records that fail a check
  std::vector<Problem> problems;  // the first 100 of them
  std::string error;              // a read error: nothing could be concluded
};

/// Filters for audit queries (/v1/audit, consent history). Results come in seq order. With an
/// msisdn the index is used; without, the log is scanned from after_seq (blocking; keep it off
/// network threads).
struct AuditQuery {
  std::string msisdn;           // empty = any (uses the msisdn index when set)
  std::string program;          // empty = any
  std::int64_t since_ms = 0;    // inclusive
  std::int64_t until_ms = 0;    // exclusive; 0 = no bound
  std::uint64_t after_seq = 0;  // cursor
  std::size_t limit = 1000;
};

/// A page of the consent export.
struct ConsentRow {
  std::string program;
  std::string msisdn;
  ConsentRecord record;
};

class Store {
 public:
  /// Opens (creating when missing) the store. Throws std::runtime_error with a clear message at
  /// start-up failures ("store: cannot open <path>: <reason>": bad path, lock held by another
  /// process, corruption, newer schema). `clock` must outlive the store (expiry uses it).
  static std::unique_ptr<Store> open(const StoreOptions& options, const Clock& clock);
  virtual ~Store() = default;

  // ---- reads: any thread -------------------------------------------------------------------
  // Errors: io_error (RocksDB), corruption (a value that does not decode), invalid_argument (NUL
  // in a key component), closed. Expired routes read as absent.
  /// The MT hot path: program and tenant records in one MultiGet. On error both are empty.
  virtual std::error_code get_consent_pair(std::string_view program, std::string_view tenant,
                                           std::string_view msisdn, ConsentPair& out) const = 0;
  virtual Result<std::optional<ConsentRecord>> get_consent(std::string_view program,
                                                           std::string_view msisdn) const = 0;
  virtual Result<std::optional<MessageRoute>> find_route_by_proxy_id(
      std::string_view proxy_id) const = 0;
  virtual Result<std::optional<MessageRoute>> find_route_by_upstream_id(
      std::string_view upstream, std::string_view upstream_key) const = 0;
  /// Up to `limit` queued deliveries for `target` with seq > after_seq, in order.
  virtual Result<std::vector<DeliveryItem>> deliveries(std::string_view target,
                                                       std::uint64_t after_seq,
                                                       std::size_t limit) const = 0;
  /// Every target that has queued deliveries (start-up, to know whom to wake).
  virtual Result<std::vector<std::string>> delivery_targets() const = 0;
  /// Held MTs whose release_at or expires_at is <= now_ms, oldest first, at most `limit`.
  virtual Result<std::vector<HeldMessage>> held_due(std::int64_t now_ms,
                                                    std::size_t limit) const = 0;
  virtual Result<std::vector<HeldMessage>> held_for(std::string_view program,
                                                    std::string_view msisdn) const = 0;
  /// Sent-MT count for the frequency cap in [since_ms, now].
  virtual Result<std::size_t> sent_since(std::string_view program, std::string_view msisdn,
                                         std::int64_t since_ms) const = 0;
  virtual Result<std::vector<AuditEntry>> audit(const AuditQuery& query) const = 0;
  /// Consent export for one program, ordered by msisdn, starting after `cursor` (an msisdn).
  /// "tenant:<tenant>" as program exports that tenant's tenant-wide records.
  virtual Result<std::vector<ConsentRow>> consents(std::string_view program,
                                                   std::optional<ConsentState> state,
                                                   std::string_view cursor,
                                                   std::size_t limit) const = 0;
  /// Walks the whole audit chain (blocking; not for network threads).
  virtual AuditVerifyReport verify_audit() const = 0;
  /// The newest committed audit entry (seq 0 and the genesis hash for an empty log), from
  /// meta/audit_head: what operators anchor outside the gateway (GET /v1/audit/head).
  virtual Result<AuditHead> audit_head() const = 0;
  /// The hash of audit entry `seq` as stored (not_found when there is none).
  virtual Result<std::string> audit_hash_at(std::uint64_t seq) const = 0;
  /// Checks every consent record against its seal and the audit history that produced it
  /// (blocking; not for network threads).
  virtual ConsentVerifyReport verify_consents() const = 0;

  // ---- writes ------------------------------------------------------------------------------
  /// Queues a mutation for the writer thread. `sync`: the group is fsynced before `done` runs
  /// (consent changes, MOs, receipts). Never blocks. When the queue is full (`busy`), the store
  /// is closed (`closed`) or read-only (`read_only`), `done` runs at once on the calling thread
  /// before submit returns; otherwise it runs later on the writer thread.
  virtual void submit(Mutation mutation, bool sync, Completion done) = 0;

  /// The MT hot path: writes one message route at once on the calling thread, unsynced, without
  /// the writer queue (RocksDB group-commits concurrent callers). The effect is that of
  /// Batch::put_message_route in an unsynced mutation. When it returns OK the route is written
  /// (survives kill -9) and readable. It never waits on a write stall or on a synced group being
  /// written: it then answers `busy` without writing. On any error nothing was written, and the
  /// caller goes through submit() instead, which reports the definitive result.
  virtual std::error_code put_route_now(const MessageRoute& route) = 0;

  /// A new message id, unique across restarts of this node: node_id, a boot counter persisted at
  /// open, and a per-boot counter ("<node>-<boot base36>-<counter base36>", docs/store.md). At
  /// most 64 characters of [A-Za-z0-9-]. Lock-free; any thread. A read-only store does not
  /// advance the boot counter, so its ids are not unique against the daemon's.
  virtual std::string next_message_id() = 0;

  /// Counts for metrics (kept in memory, initialised by a scan at open).
  virtual std::uint64_t queued_deliveries(DeliveryKind kind) const = 0;
  virtual std::uint64_t held_messages() const = 0;

  /// True while the last write succeeded; false after an I/O error until a write succeeds again.
  virtual bool healthy() const = 0;
  /// False while the filesystem is below StoreOptions::min_free_bytes (writes answer no_space);
  /// checked at most every 100 ms. Any thread.
  virtual bool writable() const = 0;

  virtual StoreStats stats() const = 0;

  // ---- cluster mode (docs/cluster.md) ----------------------------------------------------------
  /// Makes this store a replica of the cluster behind `gate`: from now on consent and audit writes
  /// commit there first. Once, before traffic.
  virtual void attach_cluster(std::shared_ptr<ClusterGate> gate) = 0;
  /// The last version of the cluster's consent log applied here (0 for a new replica). Any thread.
  virtual std::uint64_t cluster_version() const = 0;
  /// Applies replicated versions in order; those at or below cluster_version() are skipped (a
  /// version this node wrote itself, or one applied by a group's begin()). A gap or a change that
  /// does not link to this replica's audit chain fails with `diverged`, nothing applied.
  virtual void apply_replicated(std::vector<ReplicatedChange> changes, Completion done) = 0;
  /// True without a cluster; with one, ClusterGate::ready().
  virtual bool replica_ready() const = 0;

  /// Stops the writer after draining what is queued, then closes RocksDB; later reads fail
  /// `closed`. Idempotent; any thread but the writer (a completion must not call it).
  virtual void close() = 0;
};

}  // namespace smppguard::store

namespace std {
template <>
struct is_error_code_enum<smppguard::store::StoreErrc> : true_type {};
}  // namespace std
