// The writer thread: group commit of mutations, and the Batch they run against.
#include <rocksdb/file_system.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <stdexcept>

#include "common/log.hpp"
#include "store/audit_chain.hpp"
#include "store/codec.hpp"
#include "store/store_impl.hpp"

namespace smppguard::store::detail {
namespace {

std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

void require_component(std::string_view s, const char* what) {
  if (!valid_component(s)) throw std::invalid_argument(std::string("store: NUL in ") + what);
}

/// The idmap entries of one route: the `p` key, and the `u` key when upstream_key is set.
/// created_at 0 means now; expires_at 0 means created_at + ttl. Shared by put_message_route and
/// put_route_now, so both write the same bytes.
template <typename Put>
void encode_route_entries(const MessageRoute& route, std::int64_t now_ms, std::int64_t ttl_ms,
                          Put&& put) {
  std::int64_t created = route.created_at_ms != 0 ? route.created_at_ms : now_ms;
  std::int64_t expires = route.expires_at_ms != 0 ? route.expires_at_ms : created + ttl_ms;
  std::string value;
  if (created == route.created_at_ms && expires == route.expires_at_ms) {
    encode(route, value);
  } else {
    MessageRoute r = route;
    r.created_at_ms = created;
    r.expires_at_ms = expires;
    encode(r, value);
  }
  put(route_proxy_key(route.proxy_id), std::move(value));
  if (!route.upstream_key.empty()) {
    std::string ref;
    encode_route_ref(expires, route.proxy_id, ref);
    put(route_upstream_key(route.upstream, route.upstream_key), std::move(ref));
  }
}

/// Flow: created for one mutation; reads look in its own staging, then in what earlier
/// mutations of the group staged, then in the DB; writes go to its staging only. The writer
/// merges the staging into the group when the mutation returns, and drops it when it throws.
/// Writer thread only.
class BatchImpl final : public Batch {
 public:
  /// `local`: a mutation's batch (in cluster mode its consent and audit accesses go through the
  /// cluster); false for the batch that applies replicated versions.
  BatchImpl(StoreImpl& store, const Overlay& group, ChainState& chain, bool local = true)
      : store_(store), group_(group), chain_(chain), now_ms_(store.now_ms()), local_(local) {}

  Overlay& staged() { return staged_; }

  /// After the mutation: the consent records it wrote, sealed, each with audit_seq = the last
  /// audit entry about its subscriber (from this mutation, else the one it had).
  void seal() {
    std::string value;
    for (auto& [key, write] : consent_writes_) {
      if (auto it = last_audit_.find(write.msisdn); it != last_audit_.end()) {
        write.record.audit_seq = it->second;
      }
      encode_consent(key, write.record, value);
      put(Cf::consent, key, value);
      written_.consents.push_back(
          {write.tenant, std::move(write.owner), std::move(write.msisdn), write.record});
    }
    consent_writes_.clear();
  }
  /// After seal(): the consent records and audit entries this mutation wrote (cluster mode
  /// commits them in PostgreSQL), moved onto `change`.
  void take_written(ReplicatedChange& change) {
    for (auto& c : written_.consents) change.consents.push_back(std::move(c));
    for (auto& a : written_.audit) change.audit.push_back(std::move(a));
    written_ = {};
  }

  /// Applies one replicated version (not a local batch): its audit entries must continue this
  /// replica's chain, or it throws `diverged`.
  void apply(const ReplicatedChange& change) {
    for (const auto& entry : change.audit) {
      if (entry.seq != chain_.audit_seq + 1 || entry.prev_hash != chain_.audit_hash ||
          audit_hash(entry) != entry.hash) {
        throw std::system_error(make_error_code(StoreErrc::diverged),
                                "replicated audit entry " + std::to_string(entry.seq) +
                                    " does not follow seq " + std::to_string(chain_.audit_seq));
      }
      put_audit(entry);
    }
    std::string key, value;
    for (const auto& c : change.consents) {
      require_component(c.owner, "program");
      require_component(c.msisdn, "msisdn");
      consent_key(key, c.tenant ? kConsentTenantTag : kConsentProgramTag, c.owner, c.msisdn);
      encode_consent(key, c.record, value);
      put(Cf::consent, key, value);
    }
    set_cluster_version(change.version);
  }
  /// The version a local group committed in the cluster.
  void set_cluster_version(std::uint64_t version) {
    chain_.cluster_version = version;
    put_counter(kMetaClusterVersion, version);
  }
  const CounterDelta& delta() const { return delta_; }

  std::int64_t now_ms() const override { return now_ms_; }

  Result<std::optional<ConsentRecord>> get_consent(std::string_view program,
                                                   std::string_view msisdn) override {
    return read_consent(kConsentProgramTag, program, msisdn);
  }
  Result<std::optional<ConsentRecord>> get_tenant_consent(std::string_view tenant,
                                                          std::string_view msisdn) override {
    return read_consent(kConsentTenantTag, tenant, msisdn);
  }
  void put_consent(std::string_view program, std::string_view msisdn,
                   const ConsentRecord& record) override {
    write_consent(kConsentProgramTag, program, msisdn, record);
  }
  void put_tenant_consent(std::string_view tenant, std::string_view msisdn,
                          const ConsentRecord& record) override {
    write_consent(kConsentTenantTag, tenant, msisdn, record);
  }

  bool consent_writable() override {
    enter_cluster(false);
    return !local_ || !store_.cluster_refuses_writes();
  }

  std::uint64_t append_audit(AuditEntry entry) override {
    require_component(entry.msisdn, "audit msisdn");
    enter_cluster(true);
    entry.seq = chain_.audit_seq + 1;
    entry.prev_hash = chain_.audit_hash;
    if (entry.time_ms == 0) entry.time_ms = now_ms_;
    entry.hash = audit_hash(entry);
    put_audit(entry);
    if (local_) written_.audit.push_back(entry);
    return entry.seq;
  }

  /// Stores an entry whose seq and hashes are set, as the chain's new head.
  void put_audit(const AuditEntry& entry) {
    std::string value;
    encode(entry, value);
    put(Cf::audit, audit_key(entry.seq), std::move(value));
    if (!entry.msisdn.empty())
      put(Cf::audit_by_msisdn, audit_msisdn_key(entry.msisdn, entry.seq), "");
    std::string head;
    encode_audit_head(entry.seq, entry.hash, head);
    put(Cf::meta, std::string(kMetaAuditHead), std::move(head));
    chain_.audit_seq = entry.seq;
    chain_.audit_hash = entry.hash;
    if (!entry.msisdn.empty()) last_audit_[entry.msisdn] = entry.seq;
  }

  std::uint64_t enqueue_delivery(DeliveryItem item) override {
    require_component(item.target, "delivery target");
    check_kind(item.kind);
    item.seq = ++chain_.queue_seq;
    if (item.created_at_ms == 0) item.created_at_ms = now_ms_;
    std::string value;
    encode(item, value);
    put(Cf::queue, queue_key(item.target, item.seq), std::move(value));
    put_counter(kMetaQueueSeq, chain_.queue_seq);
    count(item.kind, +1);
    return item.seq;
  }

  void remove_delivery(std::string_view target, std::uint64_t seq) override {
    require_component(target, "delivery target");
    auto key = queue_key(target, seq);
    auto old = must_read(Cf::queue, key);
    if (!old) return;
    DeliveryItem item;
    if (decode(*old, item)) count(item.kind, -1);
    del(Cf::queue, std::move(key));
  }

  void update_delivery(const DeliveryItem& item) override {
    require_component(item.target, "delivery target");
    check_kind(item.kind);
    auto key = queue_key(item.target, item.seq);
    auto old = must_read(Cf::queue, key);
    if (!old) return;  // delivered and removed meanwhile: do not resurrect it
    DeliveryItem previous;
    if (decode(*old, previous)) count(previous.kind, -1);
    count(item.kind, +1);
    std::string value;
    encode(item, value);
    put(Cf::queue, std::move(key), std::move(value));
  }

  std::uint64_t hold_message(HeldMessage m) override {
    require_component(m.program, "program");
    require_component(m.msisdn, "msisdn");
    if (m.reason != HoldReason::pending_consent && m.reason != HoldReason::quiet_hours) {
      throw std::invalid_argument("store: bad hold reason");
    }
    m.seq = ++chain_.held_seq;
    if (m.held_at_ms == 0) m.held_at_ms = now_ms_;
    auto key = held_key(m.program, m.msisdn, m.seq);
    put(Cf::held_by_time, held_time_key(held_due_ms(m), m.seq), key);
    std::string value;
    encode(m, value);
    put(Cf::held, std::move(key), std::move(value));
    put_counter(kMetaHeldSeq, chain_.held_seq);
    delta_.held += 1;
    return m.seq;
  }

  Result<std::vector<HeldMessage>> held_for(std::string_view program,
                                            std::string_view msisdn) override {
    if (!valid_component(program) || !valid_component(msisdn)) return StoreErrc::invalid_argument;
    std::map<std::string, std::string, std::less<>> rows;
    if (auto ec = scan(Cf::held, held_prefix(program, msisdn), rows)) return ec;
    std::vector<HeldMessage> out;
    out.reserve(rows.size());
    for (const auto& [key, value] : rows) {
      HeldMessage m;
      if (!decode(value, m)) return StoreErrc::corruption;
      out.push_back(std::move(m));
    }
    return out;
  }

  void remove_held(const HeldMessage& message) override {
    require_component(message.program, "program");
    require_component(message.msisdn, "msisdn");
    auto key = held_key(message.program, message.msisdn, message.seq);
    auto old = must_read(Cf::held, key);
    if (!old) return;
    HeldMessage stored;
    const HeldMessage& indexed = decode(*old, stored) ? stored : message;
    del(Cf::held_by_time, held_time_key(held_due_ms(indexed), message.seq));
    del(Cf::held, std::move(key));
    delta_.held -= 1;
  }

  void put_message_route(const MessageRoute& route) override {
    require_component(route.upstream, "upstream");
    encode_route_entries(route, now_ms_, store_.options().message_map_ttl.count(),
                         [&](std::string key, std::string value) {
                           put(Cf::idmap, std::move(key), std::move(value));
                         });
  }

  void put_mo_part(std::string_view message, std::uint16_t ref, std::uint8_t total,
                   const MoPart& part) override {
    require_component(message, "mo part key");
    if (part.seq == 0 || part.seq > total) throw std::invalid_argument("store: bad mo part seq");
    std::string key = mo_parts_prefix(message, ref, total);
    key.push_back(static_cast<char>(part.seq));
    std::string value;
    encode(part, value);
    put(Cf::mo_parts, std::move(key), std::move(value));
  }

  Result<std::vector<MoPart>> mo_parts(std::string_view message, std::uint16_t ref,
                                       std::uint8_t total) override {
    if (!valid_component(message)) return StoreErrc::invalid_argument;
    std::map<std::string, std::string, std::less<>> rows;
    if (auto ec = scan(Cf::mo_parts, mo_parts_prefix(message, ref, total), rows)) return ec;
    std::vector<MoPart> out;
    out.reserve(rows.size());
    for (const auto& [key, value] : rows) {
      MoPart p;
      if (!decode(value, p)) return StoreErrc::corruption;
      if (p.expires_at_ms > now_ms_) out.push_back(std::move(p));
    }
    return out;
  }

  void remove_mo_parts(std::string_view message, std::uint16_t ref, std::uint8_t total) override {
    require_component(message, "mo part key");
    std::map<std::string, std::string, std::less<>> rows;
    if (scan(Cf::mo_parts, mo_parts_prefix(message, ref, total), rows)) {
      throw std::runtime_error("store: cannot read mo parts");
    }
    for (auto& [key, value] : rows) del(Cf::mo_parts, std::string(key));
  }

  void record_sent(std::string_view program, std::string_view msisdn, std::int64_t at_ms,
                   std::size_t keep_last) override {
    require_component(program, "program");
    auto key = freq_key(program, msisdn);
    std::vector<std::int64_t> times;
    if (auto old = must_read(Cf::freq, key); old && !decode_sent_times(*old, times)) {
      times.clear();  // a corrupt history only loosens the cap; it must not block sending
    }
    times.insert(std::upper_bound(times.begin(), times.end(), at_ms), at_ms);
    if (times.size() > keep_last) {
      times.erase(times.begin(), times.end() - static_cast<std::ptrdiff_t>(keep_last));
    }
    if (times.empty()) {
      del(Cf::freq, std::move(key));
      return;
    }
    std::string value;
    encode_sent_times(times, value);
    put(Cf::freq, std::move(key), std::move(value));
  }

 private:
  /// The value of `key` as the group sees it so far; nullopt when absent.
  Result<std::optional<std::string>> read(Cf cf, std::string_view key) {
    const auto i = static_cast<std::size_t>(cf);
    if (auto it = staged_[i].find(key); it != staged_[i].end()) return it->second;
    if (auto it = group_[i].find(key); it != group_[i].end()) return it->second;
    std::error_code ec;
    if (!store_.get_raw(cf, key, pinned_, ec)) {
      if (ec) return ec;
      return std::optional<std::string>{};
    }
    return std::optional<std::string>(view(pinned_));
  }

  /// For void methods, which cannot report a read error: the mutation fails instead.
  std::optional<std::string> must_read(Cf cf, std::string_view key) {
    auto r = read(cf, key);
    if (!r) throw std::system_error(r.error(), "store: read in mutation");
    return std::move(*r);
  }

  /// Every key starting with `prefix`, as the group sees it.
  std::error_code scan(Cf cf, const std::string& prefix,
                       std::map<std::string, std::string, std::less<>>& rows) {
    const auto i = static_cast<std::size_t>(cf);
    const std::string end = prefix_end(prefix);
    rocksdb::Slice upper(end);
    rocksdb::ReadOptions ro;
    if (!end.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(ro, store_.handle(cf)));
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      rows.emplace(std::string(view(it->key())), std::string(view(it->value())));
    }
    if (!it->status().ok()) return StoreErrc::io_error;
    for (const Overlay* layer : {&group_, static_cast<const Overlay*>(&staged_)}) {
      const auto& map = (*layer)[i];
      for (auto o = map.lower_bound(prefix); o != map.end() && o->first.starts_with(prefix); ++o) {
        if (o->second) {
          rows.insert_or_assign(o->first, *o->second);
        } else {
          rows.erase(o->first);
        }
      }
    }
    return {};
  }

  Result<std::optional<ConsentRecord>> read_consent(char tag, std::string_view owner,
                                                    std::string_view msisdn) {
    if (!valid_component(owner) || !valid_component(msisdn)) return StoreErrc::invalid_argument;
    enter_cluster(false);
    consent_key(key_, tag, owner, msisdn);
    if (auto it = consent_writes_.find(key_); it != consent_writes_.end()) {
      return std::optional<ConsentRecord>(it->second.record);
    }
    auto raw = read(Cf::consent, key_);
    if (!raw) return raw.error();
    if (!*raw) return std::optional<ConsentRecord>{};
    ConsentRecord record;
    if (!decode_consent(key_, **raw, record)) return StoreErrc::corruption;
    return std::optional<ConsentRecord>(std::move(record));
  }

  // Kept until the mutation returns (seal()), so that the record links to the last audit entry
  // about its subscriber whatever order the mutation wrote them in.
  void write_consent(char tag, std::string_view owner, std::string_view msisdn,
                     const ConsentRecord& record) {
    require_component(owner, "program");
    require_component(msisdn, "msisdn");
    enter_cluster(true);
    std::string key;
    consent_key(key, tag, owner, msisdn);
    consent_writes_.insert_or_assign(
        std::move(key),
        ConsentWrite{tag == kConsentTenantTag, std::string(owner), std::string(msisdn), record});
  }

  /// Cluster mode: the first consent or audit access of a group opens its cluster transaction
  /// (and brings in what other nodes committed); writes fail while that is impossible.
  void enter_cluster(bool writing) {
    if (!local_) return;
    store_.cluster_enter();
    if (writing && store_.cluster_refuses_writes()) {
      throw std::system_error(make_error_code(StoreErrc::cluster_unavailable),
                              "store: consent change");
    }
  }

  void put_counter(std::string_view name, std::uint64_t v) {
    std::string value;
    append_be64(value, v);
    put(Cf::meta, std::string(name), std::move(value));
  }

  static void check_kind(DeliveryKind kind) {
    if (kind != DeliveryKind::mo && kind != DeliveryKind::receipt && kind != DeliveryKind::outbox) {
      throw std::invalid_argument("store: bad delivery kind");
    }
  }
  void count(DeliveryKind kind, std::int64_t n) {
    (kind == DeliveryKind::mo        ? delta_.mo
     : kind == DeliveryKind::receipt ? delta_.receipt
                                     : delta_.outbox) += n;
  }

  void put(Cf cf, std::string key, std::string value) {
    staged_[static_cast<std::size_t>(cf)].insert_or_assign(std::move(key), std::move(value));
  }
  void del(Cf cf, std::string key) {
    staged_[static_cast<std::size_t>(cf)].insert_or_assign(std::move(key), std::nullopt);
  }

  StoreImpl& store_;
  const Overlay& group_;
  ChainState& chain_;
  std::int64_t now_ms_;
  Overlay staged_;
  CounterDelta delta_;
  rocksdb::PinnableSlice pinned_;
  std::string key_;
  bool local_;
  struct ConsentWrite {
    bool tenant = false;
    std::string owner;
    std::string msisdn;
    ConsentRecord record;
  };
  std::map<std::string, ConsentWrite, std::less<>> consent_writes_;
  ReplicatedChange written_;  // what seal() and append_audit() wrote (cluster mode)
  std::map<std::string, std::uint64_t, std::less<>> last_audit_;  // msisdn -> seq, this mutation
};

/// Applies replicated versions in order: those at or below the chain's version are skipped (this
/// node's own, or applied by a group's begin()); a gap throws `diverged`.
void apply_in_order(BatchImpl& batch, const ChainState& chain,
                    const std::vector<ReplicatedChange>& changes) {
  for (const auto& change : changes) {
    if (change.version <= chain.cluster_version) continue;
    if (change.version != chain.cluster_version + 1) {
      throw std::system_error(make_error_code(StoreErrc::diverged),
                              "version " + std::to_string(change.version) + " after " +
                                  std::to_string(chain.cluster_version));
    }
    batch.apply(change);
  }
}

void merge_into(Overlay& group, Overlay& staged) {
  for (std::size_t i = 0; i < kCfCount; ++i) {
    if (group[i].empty()) {
      group[i].swap(staged[i]);
      continue;
    }
    for (auto& [key, value] : staged[i]) group[i].insert_or_assign(key, std::move(value));
  }
}

}  // namespace

void StoreImpl::submit(Mutation mutation, bool sync, Completion done) {
  enqueue(Pending{std::move(mutation), sync, std::move(done)}, true);
}

void StoreImpl::enqueue(Pending pending, bool bounded) {
  std::error_code refused;
  {
    std::lock_guard lock(queue_mutex_);
    if (options_.read_only) {
      refused = StoreErrc::read_only;
    } else if (stopping_) {
      refused = StoreErrc::closed;
    } else if (bounded && queue_.size() >= options_.max_pending_mutations) {
      refused = StoreErrc::busy;
    } else {
      queue_.push_back(std::move(pending));
    }
  }
  if (refused) {
    if (pending.done) pending.done(refused);
    return;
  }
  queue_cv_.notify_one();
}

std::error_code StoreImpl::put_route_now(const MessageRoute& route) {
  if (options_.read_only) return StoreErrc::read_only;
  if (!valid_component(route.upstream)) return StoreErrc::invalid_argument;
  if (!space_ok()) return StoreErrc::no_space;
  // A direct write would queue inside RocksDB behind the writer's fsync: let the writer take it.
  std::shared_lock gate(sync_gate_, std::try_to_lock);
  if (!gate.owns_lock()) return StoreErrc::busy;
  // The handles are valid only under db_mutex_ (the writer's recovery reopens the store).
  std::shared_lock lock(db_mutex_);
  if (!db_) return unavailable();
  rocksdb::WriteBatch wb;
  std::error_code ec;
  encode_route_entries(route, now_ms(), options_.message_map_ttl.count(),
                       [&](std::string key, std::string value) {
                         if (!ec && !wb.Put(handle(Cf::idmap), key, value).ok()) {
                           ec = StoreErrc::io_error;
                         }
                       });
  if (ec) return ec;
  rocksdb::WriteOptions wo;
  wo.sync = false;
  wo.no_slowdown = true;  // a stall answers Incomplete at once instead of blocking this thread
  const auto s = db_->Write(wo, &wb);
  if (!s.ok()) return s.IsIncomplete() ? StoreErrc::busy : StoreErrc::io_error;
  direct_unsynced_.store(true, std::memory_order_relaxed);
  direct_route_writes_.fetch_add(1, std::memory_order_relaxed);
  return {};
}

void StoreImpl::writer_loop() {
  std::vector<Pending> group;
  group.reserve(kMaxGroup);
  for (;;) {
    if (read_only_until_space_.load(std::memory_order_acquire)) open_read_write_when_room();
    {
      std::unique_lock lock(queue_mutex_);
      const auto ready = [&] { return stopping_ || !queue_.empty(); };
      if (read_only_until_space_.load(std::memory_order_acquire)) {
        // Read-only on a full disk: look at the free space again every 200 ms.
        if (!queue_cv_.wait_for(lock, std::chrono::milliseconds(200), ready)) continue;
      } else {
        queue_cv_.wait(lock, ready);
      }
      if (queue_.empty()) return;  // stopping, and everything queued is done
      group_gate_ = gate_;
      const std::size_t n = std::min(queue_.size(), kMaxGroup);
      for (std::size_t i = 0; i < n; ++i) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    run_group(group);
    group.clear();
  }
}

void StoreImpl::run_group(std::vector<Pending>& group) {
  std::vector<std::error_code> results(group.size());
  if (read_only_until_space_.load(std::memory_order_acquire)) {
    std::fill(results.begin(), results.end(), make_error_code(StoreErrc::no_space));
    finish(group, results);
    return;
  }
  if (need_resume_ && !recover()) {
    std::fill(results.begin(), results.end(), make_error_code(StoreErrc::io_error));
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    finish(group, results);
    return;
  }

  const ChainState group_start = chain_;
  Overlay overlay;
  group_overlay_ = &overlay;
  group_cluster_ = GroupCluster::none;
  group_change_ = {};
  CounterDelta group_delta;
  bool want_sync = false;
  std::uint64_t committed = 0;
  for (std::size_t i = 0; i < group.size(); ++i) {
    auto& p = group[i];
    if (p.replication) {
      results[i] = run_replicated(p, overlay);
      continue;
    }
    if (!p.mutation) {
      want_sync = want_sync || p.sync;
      continue;
    }
    mutation_start_ = chain_;
    BatchImpl batch(*this, overlay, chain_);
    try {
      p.mutation(batch);
      batch.seal();
    } catch (const std::exception& e) {
      chain_ = mutation_start_;
      const auto* se = dynamic_cast<const std::system_error*>(&e);
      results[i] = se != nullptr && se->code() == StoreErrc::cluster_unavailable
                       ? make_error_code(StoreErrc::cluster_unavailable)
                       : make_error_code(StoreErrc::mutation_failed);
      if (results[i] == StoreErrc::mutation_failed) {
        SG_LOG(warn, "store_mutation_failed").kv("reason", e.what());
      }
      continue;
    } catch (...) {
      chain_ = mutation_start_;
      results[i] = StoreErrc::mutation_failed;
      SG_LOG(warn, "store_mutation_failed").kv("reason", "non-standard exception");
      continue;
    }
    merge_into(overlay, batch.staged());
    if (group_cluster_ == GroupCluster::open) batch.take_written(group_change_);
    group_delta.add(batch.delta());
    want_sync = want_sync || p.sync;
    ++committed;
  }
  group_overlay_ = nullptr;
  const auto failed = static_cast<std::uint64_t>(
      std::count(results.begin(), results.end(), make_error_code(StoreErrc::mutation_failed)));
  mutations_failed_.fetch_add(failed, std::memory_order_relaxed);
  if (std::error_code failure; !cluster_commit(overlay, failure)) {
    chain_ = group_start;
    for (auto& r : results) {
      if (!r) r = failure;
    }
    finish(group, results);
    return;
  }

  rocksdb::WriteBatch wb;
  for (std::size_t i = 0; i < kCfCount; ++i) {
    auto* cf = handles_[i];
    for (const auto& [key, value] : overlay[i]) {
      if (value) {
        wb.Put(cf, key, *value);
      } else {
        wb.Delete(cf, key);
      }
    }
  }
  if (wb.Count() > 0 && !space_ok()) {
    // Below the free-space floor: nothing reaches RocksDB, which must never meet a full disk.
    chain_ = group_start;
    for (auto& r : results) {
      if (!r) r = StoreErrc::no_space;
    }
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    healthy_.store(false, std::memory_order_relaxed);
    finish(group, results);
    return;
  }
  const bool sync = options_.sync && want_sync;
  rocksdb::Status s;
  // Direct route writes (put_route_now) stay away while a synced group is written.
  std::unique_lock<std::shared_mutex> gate(sync_gate_, std::defer_lock);
  if (sync) gate.lock();
  if (wb.Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    s = db_->Write(wo, &wb);
    if (s.ok()) {
      groups_written_.fetch_add(1, std::memory_order_relaxed);
      if (sync) synced_writes_.fetch_add(1, std::memory_order_relaxed);
      unsynced_writes_ = !sync;
    }
  } else if (sync) {
    // Nothing new to write, but a caller relies on earlier unsynced writes being durable.
    const bool direct = direct_unsynced_.exchange(false);
    if (unsynced_writes_ || direct) {
      s = db_->SyncWAL();
      if (s.ok()) {
        unsynced_writes_ = false;
      } else if (direct) {
        direct_unsynced_.store(true);  // still not durable: the next sync must try again
      }
    }
  }
  if (gate.owns_lock()) gate.unlock();

  if (!s.ok()) {
    chain_ = group_start;
    for (auto& r : results) {
      if (!r) r = StoreErrc::io_error;
    }
    note_write_failure(s);
  } else {
    cluster_version_.store(chain_.cluster_version, std::memory_order_release);
    mutations_committed_.fetch_add(committed, std::memory_order_relaxed);
    queued_mo_.fetch_add(group_delta.mo, std::memory_order_relaxed);
    queued_receipt_.fetch_add(group_delta.receipt, std::memory_order_relaxed);
    queued_outbox_.fetch_add(group_delta.outbox, std::memory_order_relaxed);
    held_count_.fetch_add(group_delta.held, std::memory_order_relaxed);
    if (wb.Count() > 0 && !healthy_.exchange(true, std::memory_order_relaxed)) {
      SG_LOG(info, "store_recovered").kv("path", options_.path);
    }
  }
  finish(group, results);
}

// ---- cluster mode (docs/cluster.md, "Writes") ---------------------------------------------------

void StoreImpl::attach_cluster(std::shared_ptr<ClusterGate> gate) {
  std::lock_guard lock(queue_mutex_);
  gate_ready_.store(gate.get(), std::memory_order_release);
  gate_ = std::move(gate);
}

void StoreImpl::apply_replicated(std::vector<ReplicatedChange> changes, Completion done) {
  // Not bounded by max_pending_mutations: the tail sends one page at a time.
  enqueue(Pending{{}, false, std::move(done), std::move(changes), true}, false);
}

std::error_code StoreImpl::run_replicated(const Pending& p, Overlay& overlay) {
  const ChainState before = chain_;
  BatchImpl batch(*this, overlay, chain_, false);
  try {
    apply_in_order(batch, chain_, p.replicated);
  } catch (const std::exception& e) {
    chain_ = before;
    SG_LOG(error, "cluster_apply_failed").kv("reason", e.what());
    return StoreErrc::diverged;
  }
  merge_into(overlay, batch.staged());
  return {};
}

void StoreImpl::cluster_enter() {
  if (!group_gate_ || group_cluster_ != GroupCluster::none || group_overlay_ == nullptr) return;
  auto missing = group_gate_->begin(chain_.cluster_version);
  if (!missing) {
    group_cluster_ = GroupCluster::down;
    return;
  }
  group_cluster_ = GroupCluster::open;
  const ChainState before = chain_;
  BatchImpl batch(*this, *group_overlay_, chain_, false);
  try {
    apply_in_order(batch, chain_, *missing);
  } catch (const std::exception& e) {
    chain_ = before;
    SG_LOG(error, "cluster_apply_failed").kv("reason", e.what());
    (void)group_gate_->commit({});  // ends the transaction
    group_cluster_ = GroupCluster::down;
    return;
  }
  merge_into(*group_overlay_, batch.staged());
  // A mutation that fails after this keeps what was applied for it.
  mutation_start_.audit_seq = chain_.audit_seq;
  mutation_start_.audit_hash = chain_.audit_hash;
  mutation_start_.cluster_version = chain_.cluster_version;
}

bool StoreImpl::cluster_commit(Overlay& overlay, std::error_code& failure) {
  if (group_cluster_ != GroupCluster::open) return true;
  group_cluster_ = GroupCluster::none;
  if (!space_ok()) {
    // Committed in PostgreSQL but not here would be acknowledged nowhere: commit neither.
    (void)group_gate_->commit({});
    failure = StoreErrc::no_space;
    return false;
  }
  if (!group_change_.empty()) group_change_.version = chain_.cluster_version + 1;
  if (const auto ec = group_gate_->commit(group_change_)) {
    failure = StoreErrc::cluster_unavailable;
    return false;
  }
  if (!group_change_.empty()) {
    BatchImpl batch(*this, overlay, chain_, false);
    batch.set_cluster_version(group_change_.version);
    merge_into(overlay, batch.staged());
  }
  return true;
}

void StoreImpl::note_write_failure(const rocksdb::Status& s) {
  write_errors_.fetch_add(1, std::memory_order_relaxed);
  need_resume_ = true;
  if (healthy_.exchange(false, std::memory_order_relaxed)) {
    SG_LOG(error, "store_write_failed").kv("path", options_.path).kv("reason", s.ToString());
  }
}

rocksdb::IOStatus StoreImpl::probe_write() const {
  rocksdb::Env* env = shared_.env ? shared_.env.get() : rocksdb::Env::Default();
  const auto& fs = env->GetFileSystem();
  const std::string name = options_.path + "/WRITE_PROBE";
  std::unique_ptr<rocksdb::FSWritableFile> file;
  const rocksdb::IOOptions io;
  auto s = fs->NewWritableFile(name, rocksdb::FileOptions(), &file, nullptr);
  if (s.ok()) s = file->Append("probe", io, nullptr);
  if (s.ok()) s = file->Sync(io, nullptr);
  if (file) file->Close(io, nullptr).PermitUncheckedError();
  fs->DeleteFile(name, io, nullptr).PermitUncheckedError();
  return s;
}

bool StoreImpl::recover() {
  if (db_) {
    const auto s = db_->Resume();
    if (s.ok()) {
      need_resume_ = false;
      return true;
    }
    // Busy: RocksDB is recovering by itself (after ENOSPC it waits for free space). Below
    // fatal, a later Resume may still succeed; at fatal only a reopen clears the error.
    if (s.severity() < rocksdb::Status::Severity::kFatalError) return false;
  }
  // Reopening closes a DB that still serves reads: only try once a probe write gets through.
  const auto now = std::chrono::steady_clock::now();
  if (now < next_reopen_) return false;
  next_reopen_ = now + std::chrono::seconds(1);
  if (!probe_write().ok()) return false;
  const auto s = reopen();
  if (!s.ok()) {
    SG_LOG(warn, "store_reopen_failed").kv("path", options_.path).kv("reason", s.ToString());
    return false;
  }
  SG_LOG(warn, "store_reopened").kv("path", options_.path).kv("audit_head", chain_.audit_seq);
  need_resume_ = false;
  return true;
}

void StoreImpl::finish(std::vector<Pending>& group, const std::vector<std::error_code>& results) {
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (!group[i].done) continue;
    try {
      group[i].done(results[i]);
    } catch (const std::exception& e) {
      SG_LOG(error, "store_completion_threw").kv("reason", e.what());
    } catch (...) {
      SG_LOG(error, "store_completion_threw").kv("reason", "non-standard exception");
    }
  }
}

}  // namespace smppguard::store::detail
