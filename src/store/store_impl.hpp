#pragma once
// The RocksDB implementation of Store. Internal to src/store (testing.cpp reaches into it).
//
// Flow:
//   open     — create the directory, open every family of the schema (read-only: OpenForReadOnly,
//              no lock, the WAL replayed in memory), check the schema version, bump and sync the
//              boot counter, load the audit head and seq counters from meta, count queued and
//              held items, start the writer thread.
//   reads    — any thread, under a shared lock that only close() takes exclusively.
//   submit   — pushes (mutation, sync, completion) on a bounded queue.
//   writer   — takes up to kMaxGroup queued items, runs each mutation against a BatchImpl (its own
//              staging over the group's overlay over the DB), keeps the staging of those that
//              returned and drops that of those that threw, writes the group's overlay as one
//              WriteBatch (sync when asked), then runs the completions. A failed write rolls the
//              chain back, fails the group with io_error and marks the store unhealthy; the next
//              group first calls DB::Resume(), or reopens the DB when RocksDB calls the error
//              fatal (recover()).
//   full disk — DiskSpace keeps the free-space floor: below it every group fails no_space
//              before RocksDB sees it. A start with too little room even after the reserve is
//              given back opens RocksDB read-only (read_only_until_space_): reads work, writes
//              fail no_space, and the writer, waking every 200 ms, opens read-write once the
//              floor and the reserve fit again (the boot counter is written then).
//   close    — stop accepting, let the writer drain the queue, join it, close RocksDB.
#include <rocksdb/db.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "store/disk_space.hpp"
#include "store/schema.hpp"
#include "store/store.hpp"

namespace smppguard::store::detail {

/// Changes staged over the DB, per family: a value to put, or nullopt for a delete.
using Overlay =
    std::array<std::map<std::string, std::optional<std::string>, std::less<>>, kCfCount>;

/// Writer-thread counters that mutations advance; saved before each mutation and each group so
/// a failure can roll them back.
struct ChainState {
  std::uint64_t audit_seq = 0;
  std::string audit_hash;
  std::uint64_t queue_seq = 0;
  std::uint64_t held_seq = 0;
  std::uint64_t cluster_version = 0;  // cluster mode: the consent log's last version applied
};

/// Changes to the in-memory item counters made by a mutation or a group.
struct CounterDelta {
  std::int64_t mo = 0;
  std::int64_t receipt = 0;
  std::int64_t outbox = 0;
  std::int64_t held = 0;
  void add(const CounterDelta& o) {
    mo += o.mo;
    receipt += o.receipt;
    outbox += o.outbox;
    held += o.held;
  }
};

class StoreImpl final : public Store {
 public:
  /// Opens the DB; throws std::runtime_error with "store: cannot open <path>: <reason>".
  StoreImpl(const StoreOptions& options, const Clock& clock);
  ~StoreImpl() override;

  std::error_code get_consent_pair(std::string_view program, std::string_view tenant,
                                   std::string_view msisdn, ConsentPair& out) const override;
  Result<std::optional<ConsentRecord>> get_consent(std::string_view program,
                                                   std::string_view msisdn) const override;
  Result<std::optional<MessageRoute>> find_route_by_proxy_id(
      std::string_view proxy_id) const override;
  Result<std::optional<MessageRoute>> find_route_by_upstream_id(
      std::string_view upstream, std::string_view upstream_key) const override;
  Result<std::vector<DeliveryItem>> deliveries(std::string_view target, std::uint64_t after_seq,
                                               std::size_t limit) const override;
  Result<std::vector<std::string>> delivery_targets() const override;
  Result<std::vector<HeldMessage>> held_due(std::int64_t now_ms, std::size_t limit) const override;
  Result<std::vector<HeldMessage>> held_for(std::string_view program,
                                            std::string_view msisdn) const override;
  Result<std::size_t> sent_since(std::string_view program, std::string_view msisdn,
                                 std::int64_t since_ms) const override;
  Result<std::vector<AuditEntry>> audit(const AuditQuery& query) const override;
  Result<std::vector<ConsentRow>> consents(std::string_view program,
                                           std::optional<ConsentState> state,
                                           std::string_view cursor,
                                           std::size_t limit) const override;
  AuditVerifyReport verify_audit() const override;
  ConsentVerifyReport verify_consents() const override;
  Result<AuditHead> audit_head() const override;
  Result<std::string> audit_hash_at(std::uint64_t seq) const override;

  void submit(Mutation mutation, bool sync, Completion done) override;
  std::error_code put_route_now(const MessageRoute& route) override;
  std::string next_message_id() override;
  std::uint64_t queued_deliveries(DeliveryKind kind) const override;
  std::uint64_t held_messages() const override;
  bool healthy() const override { return healthy_.load(std::memory_order_relaxed); }
  bool writable() const override { return space_ok(); }
  StoreStats stats() const override;
  void attach_cluster(std::shared_ptr<ClusterGate> gate) override;
  std::uint64_t cluster_version() const override {
    return cluster_version_.load(std::memory_order_acquire);
  }
  void apply_replicated(std::vector<ReplicatedChange> changes, Completion done) override;
  bool replica_ready() const override {
    const auto* gate = gate_ready_.load(std::memory_order_acquire);
    return gate == nullptr || gate->ready();
  }
  void close() override;

  // ---- for BatchImpl (writer thread) and testing.cpp --------------------------------------
  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* handle(Cf cf) const {
    return handles_[static_cast<std::size_t>(cf)];
  }
  std::shared_mutex& db_mutex() const { return db_mutex_; }
  const StoreOptions& options() const { return options_; }
  std::int64_t now_ms() const { return to_unix_ms(clock_.now()); }
  /// Cluster mode, from a mutation's first consent or audit access (writer thread): opens the
  /// group's cluster transaction and applies what other nodes committed meanwhile. Nothing
  /// without a cluster or when the group already did it.
  void cluster_enter();
  /// True when the group could not open its cluster transaction: consent and audit writes fail.
  bool cluster_refuses_writes() const { return group_cluster_ == GroupCluster::down; }
  /// Point read into `value`; false with ec clear when absent.
  bool get_raw(Cf cf, std::string_view key, rocksdb::PinnableSlice& value,
               std::error_code& ec) const;

 private:
  struct Pending {
    Mutation mutation;
    bool sync = false;
    Completion done;
    std::vector<ReplicatedChange> replicated{};  // apply_replicated(): applied instead
    bool replication = false;
  };
  static constexpr std::size_t kMaxGroup = 1024;

  rocksdb::Status open_rocksdb();
  void close_rocksdb();
  /// After a fatal RocksDB error (Resume cannot clear it): close and open again, reload the
  /// chain state and counters. Writer thread; blocks readers meanwhile.
  rocksdb::Status reopen();
  /// Writer thread, while read_only_until_space_: opens read-write once there is room.
  void open_read_write_when_room();
  rocksdb::Status write_boot_counter();
  void seal_v1_consents();
  void load_boot();
  rocksdb::Status load_chain();
  rocksdb::Status read_meta(std::string_view key, std::string& out) const;
  /// Before a fatal error: Resume(). At fatal: reopen, once a probe write succeeds (at most once
  /// a second). True when writes may be tried again. Writer thread.
  bool recover();
  rocksdb::IOStatus probe_write() const;
  /// The error for reads while db_ is null: closed, or io_error during a failed reopen.
  std::error_code unavailable() const;
  void writer_loop();
  void run_group(std::vector<Pending>& group);
  void note_write_failure(const rocksdb::Status& s);
  void finish(std::vector<Pending>& group, const std::vector<std::error_code>& results);
  /// Queues for the writer; `bounded`: refused `busy` beyond max_pending_mutations. A refusal
  /// runs the completion at once.
  void enqueue(Pending pending, bool bounded);
  std::error_code run_replicated(const Pending& p, Overlay& overlay);
  /// Cluster mode, after the group's mutations: commits their consent and audit writes in
  /// PostgreSQL (ending the transaction). False when the group must fail with `failure`.
  bool cluster_commit(Overlay& overlay, std::error_code& failure);
  Result<std::optional<MessageRoute>> read_route(std::string_view proxy_id) const;

  StoreOptions options_;
  const Clock& clock_;
  SharedResources shared_;  // declared before db_: must outlive it
  mutable std::shared_mutex db_mutex_;
  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, kCfCount> handles_{};
  std::vector<rocksdb::ColumnFamilyHandle*> other_handles_;  // "default" and unknown families
  bool closed_ = false;                                      // guarded by db_mutex_

  std::mutex close_mutex_;
  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;  // guarded by queue_mutex_
  std::thread writer_;
  std::thread::id writer_id_;

  // Writer thread only.
  ChainState chain_;
  // Cluster mode: the gate (set once, under queue_mutex_, before traffic; the writer copies it
  // with each group) and the state of the group being run.
  std::shared_ptr<ClusterGate> gate_;
  std::atomic<ClusterGate*> gate_ready_{nullptr};
  std::shared_ptr<ClusterGate> group_gate_;
  enum class GroupCluster { none, open, down };
  GroupCluster group_cluster_ = GroupCluster::none;
  Overlay* group_overlay_ = nullptr;
  ReplicatedChange group_change_;  // the group's own consent and audit writes
  ChainState mutation_start_;      // what a failing mutation rolls the chain back to
  std::atomic<std::uint64_t> cluster_version_{0};
  bool need_resume_ = false;
  std::chrono::steady_clock::time_point next_reopen_{};
  bool unsynced_writes_ = false;

  std::string id_prefix_;  // "<node>-<boot>-", fixed after open
  std::atomic<std::uint64_t> id_counter_{0};

  std::atomic<bool> healthy_{true};
  // The free-space floor: writes only while space_ok().
  bool space_ok() const {
    return !read_only_until_space_.load(std::memory_order_acquire) && space_.check();
  }
  mutable DiskSpace space_;
  std::atomic<bool> read_only_until_space_{false};  // opened read-only on a full disk
  std::uint64_t boot_counter_ = 0;                  // this boot's (written at open)
  std::atomic<std::int64_t> queued_mo_{0};
  std::atomic<std::int64_t> queued_receipt_{0};
  std::atomic<std::int64_t> queued_outbox_{0};
  std::atomic<std::int64_t> held_count_{0};
  std::atomic<std::uint64_t> groups_written_{0};
  std::atomic<std::uint64_t> synced_writes_{0};
  std::atomic<std::uint64_t> mutations_committed_{0};
  std::atomic<std::uint64_t> mutations_failed_{0};
  std::atomic<std::uint64_t> write_errors_{0};
  std::atomic<std::uint64_t> direct_route_writes_{0};
  // put_route_now against the writer's synced groups: direct writes hold it shared (try only:
  // busy when the writer has it), the writer holds it exclusively around a synced Write or
  // SyncWAL, so a network thread never queues inside RocksDB behind an fsync.
  std::shared_mutex sync_gate_;
  // True after a direct write until the WAL is synced again.
  std::atomic<bool> direct_unsynced_{false};
};

}  // namespace smppguard::store::detail
