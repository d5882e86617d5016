// TEST-ONLY hooks (store/testing.hpp).
#include "store/testing.hpp"

#include <rocksdb/db.h>

#include <charconv>
#include <memory>

#include "store/codec.hpp"
#include "store/store_impl.hpp"

namespace smppguard::store::testing {
namespace {

using detail::Cf;

/// The raw DB at `path` with every family open; closes it when destroyed.
class RawDb {
 public:
  std::error_code open(const std::string& path) {
    rocksdb::DBOptions options;
    std::vector<std::string> names;
    if (!rocksdb::DB::ListColumnFamilies(options, path, &names).ok()) return StoreErrc::io_error;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(options, path, descriptors, &handles_, &raw).ok()) {
      return StoreErrc::io_error;
    }
    db_.reset(raw);
    names_ = std::move(names);
    return {};
  }
  ~RawDb() {
    if (!db_) return;
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close().PermitUncheckedError();
  }
  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* family(std::string_view name) {
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return handles_[i];
    }
    return nullptr;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<std::string> names_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

bool set_field(AuditEntry& e, std::string_view field, std::string_view value) {
  if (field.starts_with("evidence.")) {
    e.evidence[std::string(field.substr(9))] = std::string(value);
    return true;
  }
  if (field == "time_ms") {
    return std::from_chars(value.data(), value.data() + value.size(), e.time_ms).ec == std::errc{};
  }
  std::pair<std::string_view, std::string*> fields[] = {
      {"program", &e.program},     {"msisdn", &e.msisdn},       {"event", &e.event},
      {"old_state", &e.old_state}, {"new_state", &e.new_state}, {"source", &e.source},
      {"actor", &e.actor},         {"mo_text", &e.mo_text},     {"mo_normalized", &e.mo_normalized},
      {"keyword", &e.keyword},     {"rule", &e.rule},           {"detail", &e.detail},
      {"prev_hash", &e.prev_hash}, {"hash", &e.hash},
  };
  for (auto& [name, slot] : fields) {
    if (name == field) {
      slot->assign(value);
      return true;
    }
  }
  return false;
}

}  // namespace

std::error_code tamper_audit_entry(const std::string& path, std::uint64_t seq,
                                   std::string_view field, std::string_view new_value) {
  RawDb raw;
  if (auto ec = raw.open(path)) return ec;
  auto* audit = raw.family("audit");
  if (!audit) return StoreErrc::not_found;
  const auto key = detail::audit_key(seq);
  std::string value;
  const auto s = raw.db()->Get(rocksdb::ReadOptions(), audit, key, &value);
  if (s.IsNotFound()) return StoreErrc::not_found;
  if (!s.ok()) return StoreErrc::io_error;
  AuditEntry entry;
  if (!detail::decode(value, entry)) return StoreErrc::corruption;
  if (!set_field(entry, field, new_value)) return StoreErrc::invalid_argument;
  detail::encode(entry, value);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (!raw.db()->Put(wo, audit, key, value).ok()) return StoreErrc::io_error;
  return {};
}

std::error_code tamper_consent_state(const std::string& path, std::string_view program,
                                     std::string_view msisdn, ConsentState state, bool reseal) {
  RawDb raw;
  if (auto ec = raw.open(path)) return ec;
  auto* consent = raw.family("consent");
  if (!consent) return StoreErrc::not_found;
  std::string key;
  detail::consent_key(key, detail::kConsentProgramTag, program, msisdn);
  std::string value;
  const auto s = raw.db()->Get(rocksdb::ReadOptions(), consent, key, &value);
  if (s.IsNotFound()) return StoreErrc::not_found;
  if (!s.ok()) return StoreErrc::io_error;
  if (value.size() < 2) return StoreErrc::corruption;
  if (reseal) {
    ConsentRecord r;
    if (detail::check_consent(key, value, r) == detail::ConsentCheck::undecodable) {
      return StoreErrc::corruption;
    }
    r.state = state;
    detail::encode_consent(key, r, value);
  } else {
    value[1] = static_cast<char>(state);  // the byte after the version
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (!raw.db()->Put(wo, consent, key, value).ok()) return StoreErrc::io_error;
  return {};
}

std::error_code write_v1_consent(const std::string& path, std::string_view program,
                                 std::string_view msisdn, const ConsentRecord& record) {
  RawDb raw;
  if (auto ec = raw.open(path)) return ec;
  auto* consent = raw.family("consent");
  auto* meta = raw.family("meta");
  if (!consent || !meta) return StoreErrc::not_found;
  std::string key, value, version;
  detail::consent_key(key, detail::kConsentProgramTag, program, msisdn);
  detail::encode(record, value);
  detail::append_be64(version, 1);
  rocksdb::WriteBatch batch;
  batch.Put(consent, key, value);
  batch.Put(meta, detail::kMetaSchemaVersion, version);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (!raw.db()->Write(wo, &batch).ok()) return StoreErrc::io_error;
  return {};
}

std::error_code delete_audit_entry(const std::string& path, std::uint64_t seq) {
  RawDb raw;
  if (auto ec = raw.open(path)) return ec;
  auto* audit = raw.family("audit");
  if (!audit) return StoreErrc::not_found;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (!raw.db()->Delete(wo, audit, detail::audit_key(seq)).ok()) return StoreErrc::io_error;
  return {};
}

std::size_t raw_key_count(Store& store, std::string_view family) {
  auto* impl = dynamic_cast<detail::StoreImpl*>(&store);
  if (!impl) return SIZE_MAX;
  for (const auto& spec : detail::kSchema) {
    if (spec.name != family) continue;
    std::shared_lock lock(impl->db_mutex());
    if (!impl->db()) return SIZE_MAX;
    std::unique_ptr<rocksdb::Iterator> it(
        impl->db()->NewIterator(rocksdb::ReadOptions(), impl->handle(spec.cf)));
    std::size_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    return it->status().ok() ? n : SIZE_MAX;
  }
  return SIZE_MAX;
}

std::error_code compact_all(Store& store) {
  auto* impl = dynamic_cast<detail::StoreImpl*>(&store);
  if (!impl) return StoreErrc::invalid_argument;
  std::shared_lock lock(impl->db_mutex());
  if (!impl->db()) return StoreErrc::closed;
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (const auto& spec : detail::kSchema) {
    auto* cf = impl->handle(spec.cf);
    if (!impl->db()->Flush(rocksdb::FlushOptions(), cf).ok()) return StoreErrc::io_error;
    if (!impl->db()->CompactRange(options, cf, nullptr, nullptr).ok()) return StoreErrc::io_error;
  }
  return {};
}

}  // namespace smppguard::store::testing
