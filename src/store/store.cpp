// Store: opening, reads, message ids, audit verification and close.
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "common/log.hpp"
#include "store/audit_chain.hpp"
#include "store/codec.hpp"
#include "store/store_impl.hpp"

namespace smppguard::store {

std::unique_ptr<Store> Store::open(const StoreOptions& options, const Clock& clock) {
  return std::make_unique<detail::StoreImpl>(options, clock);
}

namespace detail {
namespace {

std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

[[noreturn]] void fail_open(const std::string& path, const std::string& reason) {
  throw std::runtime_error("store: cannot open " + path + ": " + reason);
}

std::string describe(const rocksdb::Status& s) {
  const std::string text = s.ToString();
  if (s.IsIOError() && text.find("lock") != std::string::npos) {
    return "lock held by another process (" + text + ")";
  }
  return text;
}

std::string base36(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  do {
    out.push_back(kDigits[v % 36]);
    v /= 36;
  } while (v != 0);
  std::reverse(out.begin(), out.end());
  return out;
}

/// node_id restricted to [A-Za-z0-9-] and 32 characters, so ids stay within 64.
std::string id_node_part(std::string_view node_id) {
  std::string out;
  for (char c : node_id.substr(0, 32)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out.push_back(ok ? c : '-');
  }
  if (out.empty()) out = "node";
  return out;
}

bool is_expired(std::int64_t expires_at_ms, std::int64_t now_ms) {
  return expires_at_ms != 0 && expires_at_ms <= now_ms;
}

/// Iterates [prefix, prefix_end(prefix)) of one family.
struct PrefixIterator {
  PrefixIterator(const PrefixIterator&) = delete;
  PrefixIterator& operator=(const PrefixIterator&) = delete;
  PrefixIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string prefix,
                 bool fill_cache = true)
      : end(prefix_end(prefix)), upper(end) {
    rocksdb::ReadOptions ro;
    ro.fill_cache = fill_cache;
    if (!end.empty()) ro.iterate_upper_bound = &upper;
    it.reset(db->NewIterator(ro, cf));
  }
  std::string end;
  rocksdb::Slice upper;
  std::unique_ptr<rocksdb::Iterator> it;
};

}  // namespace

StoreImpl::StoreImpl(const StoreOptions& options, const Clock& clock)
    : options_(options),
      clock_(clock),
      space_(options.path, options.read_only ? 0 : options.min_free_bytes) {
  const auto& path = options_.path;
  if (path.empty()) fail_open("\"\"", "store.path is empty");
  std::error_code fec;
  if (options_.read_only) {
    if (!std::filesystem::exists(std::filesystem::path(path) / "CURRENT", fec)) {
      fail_open(path, "no store there");
    }
  } else {
    std::filesystem::create_directories(path, fec);
    if (fec) fail_open(path, fec.message());
  }
  shared_ = make_shared_resources(options_, clock_);
  space_.attach(shared_.sst_files);
  if (space_.prepare() == DiskSpace::OpenMode::read_only) read_only_until_space_ = true;
  if (const auto s = open_rocksdb(); !s.ok()) fail_open(path, describe(s));
  try {
    load_boot();
    if (const auto s = load_chain(); !s.ok()) fail_open(path, describe(s));
  } catch (...) {
    close_rocksdb();
    throw;
  }
  if (!options_.read_only) {
    writer_ = std::thread([this] { writer_loop(); });
    writer_id_ = writer_.get_id();
  }
  SG_LOG(info, "store_open")
      .kv("path", options_.path)
      .kv("read_only", options_.read_only)
      .kv("audit_head", chain_.audit_seq)
      .kv("queued_mo", static_cast<std::int64_t>(queued_mo_.load()))
      .kv("queued_receipt", static_cast<std::int64_t>(queued_receipt_.load()))
      .kv("held", static_cast<std::int64_t>(held_count_.load()));
}

StoreImpl::~StoreImpl() { close(); }

rocksdb::Status StoreImpl::open_rocksdb() {
  const auto& path = options_.path;
  const bool read_only = options_.read_only || read_only_until_space_;
  rocksdb::DBOptions db_options = make_db_options(shared_);
  if (read_only) db_options.create_if_missing = false;
  // Below the floor: replay the WAL into memory instead of flushing it into new tables.
  if (!read_only && !space_.check()) db_options.avoid_flush_during_recovery = true;

  std::vector<std::string> existing;
  if (!rocksdb::DB::ListColumnFamilies(db_options, path, &existing).ok()) existing.clear();

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& spec : kSchema) {
    descriptors.emplace_back(std::string(spec.name), make_cf_options(spec, shared_));
  }
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, make_unknown_cf_options(shared_));
  for (const auto& name : existing) {
    const bool known = name == rocksdb::kDefaultColumnFamilyName ||
                       std::any_of(kSchema.begin(), kSchema.end(),
                                   [&](const CfSpec& spec) { return spec.name == name; });
    if (!known) descriptors.emplace_back(name, make_unknown_cf_options(shared_));
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (read_only) {
    // The daemon may delete a WAL or table file between our listing and reading it: retry.
    for (int attempt = 0; attempt < 5; ++attempt) {
      s = rocksdb::DB::OpenForReadOnly(db_options, path, descriptors, &handles, &raw);
      if (s.ok() || !(s.IsIOError() || s.IsPathNotFound() || s.IsNotFound())) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50 << attempt));
    }
  } else {
    s = rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw);
  }
  if (!s.ok()) return s;
  db_.reset(raw);
  for (std::size_t i = 0; i < handles.size(); ++i) {
    if (i < kCfCount) {
      handles_[i] = handles[i];
    } else {
      other_handles_.push_back(handles[i]);
    }
  }
  return s;
}

void StoreImpl::close_rocksdb() {
  if (!db_) return;
  for (auto*& h : handles_) {
    if (h) db_->DestroyColumnFamilyHandle(h);
    h = nullptr;
  }
  for (auto* h : other_handles_) db_->DestroyColumnFamilyHandle(h);
  other_handles_.clear();
  const auto s = db_->Close();
  if (!s.ok()) {
    SG_LOG(warn, "store_close").kv("path", options_.path).kv("reason", s.ToString());
  }
  db_.reset();
}

rocksdb::Status StoreImpl::reopen() {
  std::unique_lock lock(db_mutex_);
  close_rocksdb();
  auto s = open_rocksdb();
  if (s.ok()) s = load_chain();
  if (!s.ok()) close_rocksdb();
  return s;
}

void StoreImpl::load_boot() {
  const auto& path = options_.path;
  std::string v;
  if (read_meta(kMetaSchemaVersion, v).ok()) {
    if (v.size() != 8) fail_open(path, "corrupt schema version");
    const auto version = read_be64(v);
    if (version > kSchemaVersion) {
      fail_open(path, "schema version " + std::to_string(version) + " is newer than this build (" +
                          std::to_string(kSchemaVersion) + ")");
    }
  }
  std::uint64_t boot_counter = 0;
  if (const auto s = read_meta(kMetaBootCounter, v); s.ok() && v.size() == 8) {
    boot_counter = read_be64(v);
  } else if (!s.IsNotFound()) {
    fail_open(path, "cannot read the boot counter: " + describe(s));
  }
  if (!options_.read_only) ++boot_counter;
  boot_counter_ = boot_counter;
  // Read-only on a full disk: the schema and boot counter are written once it opens read-write.
  if (!options_.read_only && !read_only_until_space_) {
    if (const auto s = write_boot_counter(); !s.ok()) {
      fail_open(path, "cannot write the boot counter: " + describe(s));
    }
  }
  id_prefix_ = id_node_part(options_.node_id) + "-" + base36(boot_counter) + "-";
}

rocksdb::Status StoreImpl::write_boot_counter() {
  // At open, or after a read-only start on a full disk: no id was handed to a carrier meanwhile
  // (every MT was refused before forwarding), so the counter read at open is still this boot's.
  // An older schema is migrated first (schema 1: consent records sealed).
  rocksdb::WriteBatch boot;
  std::string value;
  append_be64(value, kSchemaVersion);
  std::string current;
  const bool have_version = read_meta(kMetaSchemaVersion, current).ok() && current.size() == 8;
  if (!have_version || read_be64(current) < kSchemaVersion) {
    if (have_version) seal_v1_consents();
    boot.Put(handle(Cf::meta), kMetaSchemaVersion, value);
  }
  value.clear();
  append_be64(value, boot_counter_);
  boot.Put(handle(Cf::meta), kMetaBootCounter, value);
  rocksdb::WriteOptions wo;
  wo.sync = true;  // ids of this boot must never be reissued after a crash
  return db_->Write(wo, &boot);
}

void StoreImpl::open_read_write_when_room() {
  if (!space_.check()) return;
  std::unique_lock lock(db_mutex_);
  if (closed_) return;
  close_rocksdb();
  read_only_until_space_.store(false, std::memory_order_release);
  auto s = open_rocksdb();
  if (s.ok()) s = load_chain();
  if (s.ok()) s = write_boot_counter();
  if (s.ok()) {
    SG_LOG(info, "store_read_write").kv("path", options_.path).kv("audit_head", chain_.audit_seq);
    return;
  }
  SG_LOG(error, "store_reopen_failed").kv("path", options_.path).kv("reason", s.ToString());
  close_rocksdb();
  read_only_until_space_.store(true, std::memory_order_release);
  if (const auto back = open_rocksdb(); back.ok()) {
    (void)load_chain();
  } else {
    SG_LOG(error, "store_reopen_failed").kv("path", options_.path).kv("reason", back.ToString());
  }
}

void StoreImpl::seal_v1_consents() {
  // Schema 1 wrote consent records without a seal: rewrite each one sealed (audit_seq 0: the
  // record predates the link), in batches, before the schema version says 2.
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handle(Cf::consent)));
  rocksdb::WriteBatch batch;
  std::uint64_t sealed = 0;
  std::string value;
  auto flush = [&] {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    const auto s = db_->Write(wo, &batch);
    if (!s.ok()) fail_open(options_.path, "cannot seal consent records: " + describe(s));
    batch.Clear();
  };
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ConsentRecord r;
    if (check_consent(view(it->key()), view(it->value()), r) != ConsentCheck::unsealed) continue;
    encode_consent(view(it->key()), r, value);
    batch.Put(handle(Cf::consent), it->key(), value);
    if (++sealed % 10000 == 0) flush();
  }
  if (!it->status().ok())
    fail_open(options_.path, "cannot read consent records: " + describe(it->status()));
  flush();
  SG_LOG(info, "store_consent_sealed").kv("path", options_.path).kv("records", sealed);
}

rocksdb::Status StoreImpl::read_meta(std::string_view key, std::string& out) const {
  rocksdb::PinnableSlice v;
  auto s = db_->Get(rocksdb::ReadOptions(), handle(Cf::meta), key, &v);
  if (s.ok()) out.assign(v.data(), v.size());
  return s;
}

rocksdb::Status StoreImpl::load_chain() {
  ChainState chain;
  chain.audit_hash = kGenesisHash;
  std::string v;
  auto s = read_meta(kMetaAuditHead, v);
  if (s.ok()) {
    if (!decode_audit_head(v, chain.audit_seq, chain.audit_hash)) {
      return rocksdb::Status::Corruption("audit head in meta");
    }
  } else if (!s.IsNotFound()) {
    return s;
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), handle(Cf::audit)));
    it->SeekToLast();
    const std::uint64_t last =
        it->Valid() && it->key().size() == 8 ? read_be64(view(it->key())) : 0;
    if (!it->status().ok()) return it->status();
    if (last != chain.audit_seq) {
      SG_LOG(warn, "store_audit_head_mismatch")
          .kv("path", options_.path)
          .kv("head", chain.audit_seq)
          .kv("last_entry", last)
          .kv("hint", "run `smppguard audit verify`");
    }
  }
  for (auto [key, slot] :
       {std::pair{kMetaQueueSeq, &chain.queue_seq}, std::pair{kMetaHeldSeq, &chain.held_seq},
        std::pair{kMetaClusterVersion, &chain.cluster_version}}) {
    s = read_meta(key, v);
    if (s.ok() && v.size() == 8) {
      *slot = read_be64(v);
    } else if (!s.ok() && !s.IsNotFound()) {
      return s;
    }
  }

  // Item counters start from a scan (and the seqs from the largest seen, should meta lag).
  rocksdb::ReadOptions scan;
  scan.fill_cache = false;
  std::int64_t mo = 0, receipt = 0, outbox = 0, held = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(scan, handle(Cf::queue)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      DeliveryItem item;
      if (!decode(view(it->value()), item)) continue;
      (item.kind == DeliveryKind::mo        ? mo
       : item.kind == DeliveryKind::receipt ? receipt
                                            : outbox) += 1;
      chain.queue_seq = std::max(chain.queue_seq, item.seq);
    }
    if (!it->status().ok()) return it->status();
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(scan, handle(Cf::held)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++held;
      const auto key = view(it->key());
      if (key.size() >= 8)
        chain.held_seq = std::max(chain.held_seq, read_be64(key.substr(key.size() - 8)));
    }
    if (!it->status().ok()) return it->status();
  }
  cluster_version_.store(chain.cluster_version, std::memory_order_release);
  chain_ = std::move(chain);
  queued_mo_ = mo;
  queued_receipt_ = receipt;
  queued_outbox_ = outbox;
  held_count_ = held;
  return rocksdb::Status::OK();
}

void StoreImpl::close() {
  std::lock_guard close_lock(close_mutex_);
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) {
    if (std::this_thread::get_id() == writer_id_) return;  // from a completion: cannot join here
    writer_.join();
  }
  std::unique_lock db_lock(db_mutex_);
  if (closed_) return;
  closed_ = true;
  close_rocksdb();
  SG_LOG(info, "store_closed").kv("path", options_.path);
}

std::error_code StoreImpl::unavailable() const {
  return make_error_code(closed_ ? StoreErrc::closed : StoreErrc::io_error);
}

bool StoreImpl::get_raw(Cf cf, std::string_view key, rocksdb::PinnableSlice& value,
                        std::error_code& ec) const {
  value.Reset();
  const auto s = db_->Get(rocksdb::ReadOptions(), handle(cf), key, &value);
  if (s.ok()) return true;
  if (!s.IsNotFound()) ec = StoreErrc::io_error;
  return false;
}

// ---- reads -------------------------------------------------------------------------------------

std::error_code StoreImpl::get_consent_pair(std::string_view program, std::string_view tenant,
                                            std::string_view msisdn, ConsentPair& out) const {
  out.program.reset();
  out.tenant.reset();
  if (!valid_component(program) || !valid_component(tenant) || !valid_component(msisdn)) {
    return StoreErrc::invalid_argument;
  }
  // Keys are rebuilt in per-thread buffers: no allocation once they have grown.
  thread_local std::string program_key, tenant_key;
  consent_key(program_key, kConsentProgramTag, program, msisdn);
  consent_key(tenant_key, kConsentTenantTag, tenant, msisdn);

  std::shared_lock lock(db_mutex_);
  if (!db_) return unavailable();
  // Reused per thread: a value copied out of a memtable lands in capacity kept from earlier
  // calls; values in the block cache are pinned, not copied. Pins are released on return.
  thread_local rocksdb::PinnableSlice values[2];
  struct Unpin {
    ~Unpin() {
      values[0].Reset();
      values[1].Reset();
    }
  } unpin;
  rocksdb::Slice keys[2] = {program_key, tenant_key};
  rocksdb::Status statuses[2];
  db_->MultiGet(rocksdb::ReadOptions(), handle(Cf::consent), 2, keys, values, statuses,
                /*sorted_input=*/false);
  std::optional<ConsentRecord>* slots[2] = {&out.program, &out.tenant};
  for (int i = 0; i < 2; ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) {
      out.program.reset();
      out.tenant.reset();
      return StoreErrc::io_error;
    }
    auto& slot = slots[i]->emplace();
    if (!decode_consent(view(keys[i]), view(values[i]), slot)) {
      out.program.reset();
      out.tenant.reset();
      return StoreErrc::corruption;
    }
  }
  return {};
}

Result<std::optional<ConsentRecord>> StoreImpl::get_consent(std::string_view program,
                                                            std::string_view msisdn) const {
  if (!valid_component(program) || !valid_component(msisdn)) return StoreErrc::invalid_argument;
  thread_local std::string key;
  consent_key(key, kConsentProgramTag, program, msisdn);
  std::shared_lock lock(db_mutex_);
  if (!db_) return unavailable();
  rocksdb::PinnableSlice value;
  std::error_code ec;
  if (!get_raw(Cf::consent, key, value, ec)) {
    if (ec) return ec;
    return std::optional<ConsentRecord>{};
  }
  ConsentRecord record;
  if (!decode_consent(key, view(value), record)) return StoreErrc::corruption;
  return std::optional<ConsentRecord>(std::move(record));
}

Result<std::optional<MessageRoute>> StoreImpl::read_route(std::string_view proxy_id) const {
  rocksdb::PinnableSlice value;
  std::error_code ec;
  if (!get_raw(Cf::idmap, route_proxy_key(proxy_id), value, ec)) {
    if (ec) return ec;
    return std::optional<MessageRoute>{};
  }
  MessageRoute route;
  if (!decode(view(value), route)) return StoreErrc::corruption;
  if (is_expired(route.expires_at_ms, now_ms())) return std::optional<MessageRoute>{};
  return std::optional<MessageRoute>(std::move(route));
}

Result<std::optional<MessageRoute>> StoreImpl::find_route_by_proxy_id(
    std::string_view proxy_id) const {
  std::shared_lock lock(db_mutex_);
  if (!db_) return unavailable();
  return read_route(proxy_id);
}

Result<std::optional<MessageRoute>> StoreImpl::find_route_by_upstream_id(
    std::string_view upstream, std::string_view upstream_key) const {
  if (!valid_component(upstream)) return StoreErrc::invalid_argument;
  std::shared_lock lock(db_mutex_);
  if (!db_) return unavailable();
  rocksdb::PinnableSlice value;
  std::error_code ec;
  if (!get_raw(Cf::idmap, route_upstream_key(upstream, upstream_key), value, ec)) {
    if (ec) return ec;
    return std::optional<MessageRoute>{};
  }
  std::int64_t expires_at = 0;
  std::string proxy_id;
  if (!decode_route_ref(view(value), expires_at, proxy_id)) return StoreErrc::corruption;
  if (is_expired(expires_at, now_ms())) return std::optional<MessageRoute>{};
  return read_route(proxy_id);
}

Result<std::vector<DeliveryItem>> StoreImpl::deliveries(std::string_view target,
                                                        std::uint64_t after_seq,
                                                        std::size_t limit) const {
  if (!valid_component(target)) return StoreErrc::invalid_argument;
  std::vector<DeliveryItem> out;
  if (limit == 0 || after_seq == UINT64_MAX) return out;
  std::shared_lock lock(db_mutex_);
  if (!db_) return unavailable();
  PrefixIterator p(db_.get(), handle(Cf::queue), queue_prefix(target));
  for (p.it->Seek(queue_key(target, after_seq + 1)); p.it->Valid() && out.size() < limit;
       p.it->Next()) {
    DeliveryItem item;
    if (!decode(view(p.it->value()), item)) return StoreErrc::corruption;
    out.push_back(std::move(item));
  }
  if (!p.it->status().ok()) return StoreErrc::io_error;
  return out;
}

Result<std::vector<std::string>> StoreImpl::delivery_targets() const {
  std::shared_lock lock(db_mutex_);
  if (!db_) return unavailable();
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handle(Cf::queue)));
  for (it->SeekToFirst(); it->Valid();) {
    const auto key = view(it->key());
    if (key.size() < 9) return StoreErrc::corruption;
    out.emplace_back(key.substr(0, key.size() - 9));
    it->Seek(prefix_end(queue_prefix(out.back())));  // skip the rest of this target
  }
  if (!it->status().ok()) return StoreErrc::io_error;
  return out;
}

Result<std::vector<HeldMessage>> StoreImpl::held_due(std::int64_t now_ms, std::size_t limit) const {
  std::shared_lock lock(db_mutex_);
  if (!db_) return unavailable();
  std::vector<HeldMessage> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handle(Cf::held_by_time)));
  rocksdb::PinnableSlice value;
  for (it->SeekToFirst(); it->Valid() && out.size() < limit; it->Next()) {
    if (it->key().size() != 16) return StoreErrc::corruption;
    if (read_time_key(view(it->key()).substr(0, 8)) > now_ms) break;
    std::error_code ec;
    if (!get_raw(Cf::held, view(it->value()), value, ec)) {
      if (ec) return ec;
      continue;  // index entry without its message: skip
    }
    HeldMessage m;
    if (!decode(view(value), m)) return StoreErrc::corruption;
    out.push_back(std::move(m));
  }
  if (!it->status().ok()) return StoreErrc::io_error;
  return out;
}

Result<std::vector<HeldMessage>> StoreImpl::held_for(std::string_view program,
                                                     std::string_view msisdn) const {
  if (!valid_component(program) || !valid_component(msisdn)) return StoreErrc::invalid_argument;
  std::shared_lock lock(db_mutex_);
  if (!db_) return unavailable();
  std::vector<HeldMessage> out;
  PrefixIterator p(db_.get(), handle(Cf::held), held_prefix(program, msisdn));
  for (p.it->Seek(held_prefix(program, msisdn)); p.it->Valid(); p.it->Next()) {
    HeldMessage m;
    if (!decode(view(p.it->value()), m)) return StoreErrc::corruption;
    out.push_back(std::move(m));
  }
  if (!p.it->status().ok()) return StoreErrc::io_error;
  return out;
}

Result<std::size_t> StoreImpl::sent_since(std::string_view program, std::string_view msisdn,
                                          std::int64_t since_ms) const {
  if (!valid_component(program)) return StoreErrc::invalid_argument;
  std::shared_lock lock(db_mutex_);
  if (!db_) return unavailable();
  rocksdb::PinnableSlice value;
  std::error_code ec;
  if (!get_raw(Cf::freq, freq_key(program, msisdn), value, ec)) {
    if (ec) return ec;
    return std::size_t{0};
  }
  std::vector<std::int64_t> times;
  if (!decode_sent_times(view(value), times)) return StoreErrc::corruption;
  return static_cast<std::size_t>(
      std::count_if(times.begin(), times.end(), [&](std::int64_t t) { return t >= since_ms; }));
}

Result<std::vector<AuditEntry>> StoreImpl::audit(const AuditQuery& q) const {
  if (!valid_component(q.msisdn)) return StoreErrc::invalid_argument;
  std::vector<AuditEntry> out;
  if (q.limit == 0 || q.after_seq == UINT64_MAX) return out;
  std::shared_lock lock(db_mutex_);
  if (!db_) return unavailable();

  auto matches = [&](const AuditEntry& e) {
    return (q.msisdn.empty() || e.msisdn == q.msisdn) &&
           (q.program.empty() || e.program == q.program) && e.time_ms >= q.since_ms &&
           (q.until_ms == 0 || e.time_ms < q.until_ms);
  };

  if (!q.msisdn.empty()) {
    PrefixIterator index(db_.get(), handle(Cf::audit_by_msisdn), audit_msisdn_prefix(q.msisdn));
    rocksdb::PinnableSlice value;
    for (index.it->Seek(audit_msisdn_key(q.msisdn, q.after_seq + 1));
         index.it->Valid() && out.size() < q.limit; index.it->Next()) {
      const auto key = view(index.it->key());
      std::error_code ec;
      if (!get_raw(Cf::audit, audit_key(read_be64(key.substr(key.size() - 8))), value, ec)) {
        if (ec) return ec;
        continue;
      }
      AuditEntry e;
      if (!decode(view(value), e)) return StoreErrc::corruption;
      if (matches(e)) out.push_back(std::move(e));
    }
    if (!index.it->status().ok()) return StoreErrc::io_error;
    return out;
  }

  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // a whole-log scan must not evict the consent working set
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handle(Cf::audit)));
  for (it->Seek(audit_key(q.after_seq + 1)); it->Valid() && out.size() < q.limit; it->Next()) {
    AuditEntry e;
    if (!decode(view(it->value()), e)) return StoreErrc::corruption;
    if (matches(e)) out.push_back(std::move(e));
  }
  if (!it->status().ok()) return StoreErrc::io_error;
  return out;
}

Result<std::vector<ConsentRow>> StoreImpl::consents(std::string_view program,
                                                    std::optional<ConsentState> state,
                                                    std::string_view cursor,
                                                    std::size_t limit) const {
  char tag = kConsentProgramTag;
  std::string_view owner = program;
  if (owner.starts_with("tenant:")) {
    tag = kConsentTenantTag;
    owner.remove_prefix(7);
  }
  if (!valid_component(owner) || !valid_component(cursor)) return StoreErrc::invalid_argument;
  std::vector<ConsentRow> out;
  if (limit == 0) return out;
  std::shared_lock lock(db_mutex_);
  if (!db_) return unavailable();
  const std::string prefix = consent_prefix(tag, owner);
  PrefixIterator p(db_.get(), handle(Cf::consent), prefix, /*fill_cache=*/false);
  std::string start = prefix;
  start.append(cursor);
  p.it->Seek(start);
  if (!cursor.empty() && p.it->Valid() && view(p.it->key()) == start) p.it->Next();
  for (; p.it->Valid() && out.size() < limit; p.it->Next()) {
    ConsentRecord record;
    if (!decode_consent(view(p.it->key()), view(p.it->value()), record)) {
      return StoreErrc::corruption;
    }
    if (state && record.state != *state) continue;
    out.push_back(ConsentRow{std::string(program),
                             std::string(view(p.it->key()).substr(prefix.size())),
                             std::move(record)});
  }
  if (!p.it->status().ok()) return StoreErrc::io_error;
  return out;
}

Result<AuditHead> StoreImpl::audit_head() const {
  std::shared_lock lock(db_mutex_);
  if (!db_) return unavailable();
  AuditHead head;
  std::string v;
  const auto s = read_meta(kMetaAuditHead, v);
  if (s.IsNotFound()) {
    head.hash = kGenesisHash;
    return head;
  }
  if (!s.ok()) return StoreErrc::io_error;
  if (!decode_audit_head(v, head.seq, head.hash)) return StoreErrc::corruption;
  return head;
}

Result<std::string> StoreImpl::audit_hash_at(std::uint64_t seq) const {
  std::shared_lock lock(db_mutex_);
  if (!db_) return unavailable();
  rocksdb::PinnableSlice v;
  const auto s = db_->Get(rocksdb::ReadOptions(), handle(Cf::audit), audit_key(seq), &v);
  if (s.IsNotFound()) return StoreErrc::not_found;
  if (!s.ok()) return StoreErrc::io_error;
  AuditEntry e;
  if (!decode(view(v), e)) return StoreErrc::corruption;
  return e.hash;
}

ConsentVerifyReport StoreImpl::verify_consents() const {
  ConsentVerifyReport report;
  std::shared_lock lock(db_mutex_);
  if (!db_) {
    report.error = closed_ ? "store closed" : "store unavailable";
    return report;
  }
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handle(Cf::consent)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++report.records;
    const std::string_view key = view(it->key());
    const auto sep = key.find('\0');
    std::string owner =
        sep == std::string_view::npos ? std::string(key) : std::string(key.substr(1, sep - 1));
    if (!key.empty() && key[0] == kConsentTenantTag) owner = "tenant:" + owner;
    const std::string msisdn =
        sep == std::string_view::npos ? "" : std::string(key.substr(sep + 1));
    auto problem = [&](std::string reason) {
      ++report.bad;
      if (report.problems.size() < 100)
        report.problems.push_back({owner, msisdn, std::move(reason)});
    };
    ConsentRecord r;
    switch (check_consent(key, view(it->value()), r)) {
      case ConsentCheck::ok:
        break;
      case ConsentCheck::unsealed:
        ++report.unsealed;
        break;
      case ConsentCheck::bad_seal:
        problem("the record does not match its seal (edited in place)");
        continue;
      case ConsentCheck::undecodable:
        problem("undecodable value");
        continue;
    }
    // The record's audit entry, and the last state the audit history gives this pair.
    if (r.audit_seq != 0) {
      rocksdb::PinnableSlice v;
      AuditEntry e;
      const auto s = db_->Get(ro, handle(Cf::audit), audit_key(r.audit_seq), &v);
      if (!s.ok() || !decode(view(v), e) || e.msisdn != msisdn) {
        problem("its audit entry " + std::to_string(r.audit_seq) +
                " is missing or about another subscriber");
        continue;
      }
    }
    std::string last_state;
    std::uint64_t last_seq = 0;
    const std::string by_msisdn = audit_msisdn_prefix(msisdn);
    PrefixIterator index(db_.get(), handle(Cf::audit_by_msisdn), by_msisdn, /*fill_cache=*/false);
    for (index.it->Seek(by_msisdn); index.it->Valid(); index.it->Next()) {
      const auto k = view(index.it->key());
      if (k.size() < 8) continue;
      const auto seq = read_be64(k.substr(k.size() - 8));
      rocksdb::PinnableSlice v;
      AuditEntry e;
      if (!db_->Get(ro, handle(Cf::audit), audit_key(seq), &v).ok() || !decode(view(v), e))
        continue;
      if (e.program == owner && !e.new_state.empty()) {
        last_state = e.new_state;
        last_seq = seq;
      }
    }
    if (!last_state.empty() && last_state != to_string(r.state)) {
      problem("state " + std::string(to_string(r.state)) + " but the audit history says " +
              last_state + " (seq " + std::to_string(last_seq) + ")");
    }
  }
  if (!it->status().ok()) report.error = "read error: " + it->status().ToString();
  return report;
}

AuditVerifyReport StoreImpl::verify_audit() const {
  AuditVerifyReport report;
  auto bad = [&](std::uint64_t seq, std::string reason) {
    report.whole = false;
    report.first_bad_seq = seq;
    report.reason = std::move(reason);
    return report;
  };
  std::shared_lock lock(db_mutex_);
  if (!db_) return bad(0, closed_ ? "store closed" : "store unavailable");

  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handle(Cf::audit)));
  std::uint64_t expected = 1;
  std::string prev_hash = kGenesisHash;
  AuditEntry e;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
    if (it->key().size() != 8) return bad(expected, "malformed key");
    const std::uint64_t seq = read_be64(view(it->key()));
    if (seq != expected) return bad(expected, "seq gap");
    if (!decode(view(it->value()), e)) return bad(seq, "undecodable value");
    if (e.seq != seq) return bad(seq, "seq does not match its key");
    std::string computed;
    try {
      computed = audit_hash(e);
    } catch (const std::exception& ex) {
      return bad(seq, ex.what());
    }
    if (computed != e.hash) return bad(seq, "hash mismatch");
    if (e.prev_hash != prev_hash) return bad(seq, "prev_hash does not match");
    prev_hash = e.hash;
    report.entries = seq;
  }
  if (!it->status().ok()) return bad(expected, "read error: " + it->status().ToString());

  // The head in meta is written with every append: entries removed from the end show up here.
  rocksdb::PinnableSlice head;
  const auto s = db_->Get(rocksdb::ReadOptions(), handle(Cf::meta), kMetaAuditHead, &head);
  if (s.ok()) {
    std::uint64_t head_seq = 0;
    std::string head_hash;
    if (!decode_audit_head(view(head), head_seq, head_hash)) return bad(expected, "corrupt head");
    if (head_seq > report.entries) {
      return bad(report.entries + 1, "seq gap: log ends at " + std::to_string(report.entries) +
                                         " but the head is " + std::to_string(head_seq));
    }
    if (head_seq == report.entries && head_hash != prev_hash) {
      return bad(head_seq, "hash mismatch: head hash differs from the last entry");
    }
  } else if (!s.IsNotFound()) {
    return bad(expected, "read error: " + s.ToString());
  }
  report.whole = true;
  return report;
}

// ---- ids, counters -----------------------------------------------------------------------------

std::string StoreImpl::next_message_id() {
  const auto n = id_counter_.fetch_add(1, std::memory_order_relaxed) + 1;
  return id_prefix_ + base36(n);
}

std::uint64_t StoreImpl::queued_deliveries(DeliveryKind kind) const {
  const auto v = (kind == DeliveryKind::mo        ? queued_mo_
                  : kind == DeliveryKind::receipt ? queued_receipt_
                                                  : queued_outbox_)
                     .load();
  return v < 0 ? 0 : static_cast<std::uint64_t>(v);
}

std::uint64_t StoreImpl::held_messages() const {
  const auto v = held_count_.load();
  return v < 0 ? 0 : static_cast<std::uint64_t>(v);
}

StoreStats StoreImpl::stats() const {
  StoreStats s;
  s.groups_written = groups_written_.load(std::memory_order_relaxed);
  s.synced_writes = synced_writes_.load(std::memory_order_relaxed);
  s.mutations_committed = mutations_committed_.load(std::memory_order_relaxed);
  s.mutations_failed = mutations_failed_.load(std::memory_order_relaxed);
  s.write_errors = write_errors_.load(std::memory_order_relaxed);
  s.direct_route_writes = direct_route_writes_.load(std::memory_order_relaxed);
  s.block_cache_bytes = shared_.block_cache ? shared_.block_cache->GetUsage() : 0;
  std::shared_lock lock(db_mutex_);
  if (db_) {
    std::uint64_t v = 0;
    for (auto* h : handles_) {
      if (db_->GetIntProperty(h, rocksdb::DB::Properties::kSizeAllMemTables, &v)) {
        s.memtable_bytes += v;
      }
      if (db_->GetIntProperty(h, rocksdb::DB::Properties::kEstimateTableReadersMem, &v)) {
        s.table_reader_bytes += v;
      }
    }
  }
  return s;
}

}  // namespace detail
}  // namespace smppguard::store
