#pragma once
// The schema: every column family of the store and its RocksDB options, in one table
// (docs/store.md reproduces it with the key layouts). Internal to src/store.
#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_manager.h>
#include <rocksdb/write_buffer_manager.h>

#include <array>
#include <cstddef>
#include <memory>
#include <string_view>

#include "common/time.hpp"
#include "store/store.hpp"

namespace smppguard::store::detail {

/// Column families, in schema order; the value indexes StoreImpl's handle array.
enum class Cf : std::size_t {
  meta,
  consent,
  audit,
  audit_by_msisdn,
  held,
  held_by_time,
  queue,
  idmap,
  freq,
  mo_parts,
};
inline constexpr std::size_t kCfCount = 10;

/// How a family is read, which decides its table options.
enum class Access : std::uint8_t {
  point,  // Get/MultiGet of whole keys: bloom filter, small blocks
  scan,   // prefix and range scans: no bloom (Seek cannot use a whole-key filter)
  log,    // append-only, very large, scanned in order: bigger blocks, partitioned index
};

struct CfSpec {
  Cf cf;
  std::string_view name;
  Access access;
  std::size_t write_buffer_bytes;  // one memtable; two may exist while one flushes
  bool compact_on_deletions;       // queue-like: many deletes, so tombstone-heavy files compact
  bool expiry_filter;              // values start with version + BE expires_at (idmap, mo_parts)
};

inline constexpr std::size_t kMiB = std::size_t{1} << 20;

// clang-format off
inline constexpr std::array<CfSpec, kCfCount> kSchema{{
  // cf                    name               access          memtable    deletes  expiry
  {Cf::meta,            "meta",            Access::point,  1 * kMiB,   false,   false},
  {Cf::consent,         "consent",         Access::point,  8 * kMiB,   false,   false},
  {Cf::audit,           "audit",           Access::log,    4 * kMiB,   false,   false},
  {Cf::audit_by_msisdn, "audit_by_msisdn", Access::log,    2 * kMiB,   false,   false},
  {Cf::held,            "held",            Access::scan,   2 * kMiB,   true,    false},
  {Cf::held_by_time,    "held_by_time",    Access::scan,   1 * kMiB,   true,    false},
  {Cf::queue,           "queue",           Access::scan,   4 * kMiB,   true,    false},
  {Cf::idmap,           "idmap",           Access::point,  8 * kMiB,   false,   true},
  {Cf::freq,            "freq",            Access::point,  4 * kMiB,   false,   false},
  {Cf::mo_parts,        "mo_parts",        Access::scan,   1 * kMiB,   true,    true},
}};
// clang-format on

/// Drops idmap and mo_parts values whose expires_at is in the past (undecodable values are kept).
class ExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  explicit ExpiryFilter(const Clock& clock) : clock_(clock) {}
  bool Filter(int level, const rocksdb::Slice& key, const rocksdb::Slice& value,
              std::string* new_value, bool* value_changed) const override;
  const char* Name() const override { return "smppguard.ExpiryFilter"; }

 private:
  const Clock& clock_;
};

/// Objects shared by every family's options; they must outlive the DB.
struct SharedResources {
  std::shared_ptr<rocksdb::Cache> block_cache;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers;
  std::shared_ptr<const rocksdb::FilterPolicy> bloom;
  std::unique_ptr<ExpiryFilter> expiry_filter;
  std::unique_ptr<rocksdb::Env> env;  // only with StoreOptions::faults (tests)
  std::shared_ptr<rocksdb::SstFileManager> sst_files;  // its cap is kept by DiskSpace
};

SharedResources make_shared_resources(const StoreOptions& options, const Clock& clock);
rocksdb::DBOptions make_db_options(const SharedResources& shared);
rocksdb::ColumnFamilyOptions make_cf_options(const CfSpec& spec, const SharedResources& shared);
/// Options for families this version does not know (a newer schema, or RocksDB's "default").
rocksdb::ColumnFamilyOptions make_unknown_cf_options(const SharedResources& shared);

}  // namespace smppguard::store::detail
