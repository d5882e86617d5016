#include "store/schema.hpp"

#include <rocksdb/convenience.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/table_properties_collectors.h>

#include <algorithm>

#include "store/codec.hpp"
#include "store/fault_env.hpp"

namespace smppguard::store::detail {
namespace {

rocksdb::CompressionType best_compression() {
  const auto supported = rocksdb::GetSupportedCompressions();
  for (auto c : {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (std::find(supported.begin(), supported.end(), c) != supported.end()) return c;
  }
  return rocksdb::kNoCompression;
}

rocksdb::BlockBasedTableOptions table_options(Access access, const SharedResources& shared) {
  rocksdb::BlockBasedTableOptions t;
  t.format_version = 5;
  t.block_cache = shared.block_cache;
  // Index and filter blocks live in the block cache, so their memory is bounded by it; the
  // high-priority pool keeps them from being pushed out by data blocks.
  t.cache_index_and_filter_blocks = true;
  t.cache_index_and_filter_blocks_with_high_priority = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  switch (access) {
    case Access::point:
      t.filter_policy = shared.bloom;
      t.whole_key_filtering = true;
      t.block_size = 4 * 1024;
      // Partitioned filter and index: a lookup reads one 4 KiB partition of each, not a whole
      // file's filter (about 1 MiB per 32 MiB file). With 10 M records the full filters and
      // indexes do not stay in a 64 MiB cache (16 shards of 4 MiB), and every miss re-read
      // and re-checksummed a megabyte; only the small top levels are pinned now.
      t.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
      t.partition_filters = true;
      t.metadata_block_size = 4 * 1024;
      t.pin_top_level_index_and_filter = true;
      break;
    case Access::scan:
      t.block_size = 4 * 1024;
      break;
    case Access::log:
      // Years of audit: a two-level index keeps only its top level resident.
      t.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
      t.block_size = 16 * 1024;
      t.metadata_block_size = 4 * 1024;
      break;
  }
  return t;
}

}  // namespace

bool ExpiryFilter::Filter(int /*level*/, const rocksdb::Slice& /*key*/, const rocksdb::Slice& value,
                          std::string* /*new_value*/, bool* /*value_changed*/) const {
  std::int64_t expires_at = 0;
  if (!route_expiry(std::string_view(value.data(), value.size()), expires_at)) return false;
  return expires_at != 0 && expires_at <= to_unix_ms(clock_.now());
}

SharedResources make_shared_resources(const StoreOptions& options, const Clock& clock) {
  SharedResources r;
  rocksdb::LRUCacheOptions cache;
  cache.capacity = std::max<std::size_t>(options.block_cache_bytes, 8 * kMiB);
  cache.num_shard_bits = 4;
  cache.high_pri_pool_ratio = 0.5;
  r.block_cache = rocksdb::NewLRUCache(cache);
  // Memtables are charged to the block cache: cache + memtables together stay within
  // block_cache_bytes, and flushes start when the memtables reach half of it.
  r.write_buffers =
      std::make_shared<rocksdb::WriteBufferManager>(cache.capacity / 2, r.block_cache);
  r.bloom.reset(rocksdb::NewBloomFilterPolicy(10, /*use_block_based_builder=*/false));
  r.expiry_filter = std::make_unique<ExpiryFilter>(clock);
  if (options.faults) r.env = make_fault_env(options.faults);
  r.sst_files.reset(rocksdb::NewSstFileManager(r.env ? r.env.get() : rocksdb::Env::Default()));
  return r;
}

rocksdb::DBOptions make_db_options(const SharedResources& shared) {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.write_buffer_manager = shared.write_buffers;
  o.max_background_jobs = 2;
  o.max_open_files = 1000;
  o.bytes_per_sync = 1 * kMiB;
  o.wal_bytes_per_sync = 0;
  // Families written rarely (held, queue) would otherwise keep old WAL files alive.
  o.max_total_wal_size = 64 * kMiB;
  o.keep_log_file_num = 5;
  o.max_log_file_size = 16 * kMiB;
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  o.avoid_flush_during_shutdown = false;
  if (shared.env) o.env = shared.env.get();
  o.sst_file_manager = shared.sst_files;
  return o;
}

rocksdb::ColumnFamilyOptions make_cf_options(const CfSpec& spec, const SharedResources& shared) {
  rocksdb::ColumnFamilyOptions o;
  o.compaction_style = rocksdb::kCompactionStyleLevel;
  o.level_compaction_dynamic_level_bytes = true;
  o.write_buffer_size = spec.write_buffer_bytes;
  o.max_write_buffer_number = 2;
  o.min_write_buffer_number_to_merge = 1;
  o.target_file_size_base = std::max<std::uint64_t>(spec.write_buffer_bytes * 4, 8 * kMiB);
  o.max_bytes_for_level_base = o.target_file_size_base * 4;
  o.compression = best_compression();
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options(spec.access, shared)));
  if (spec.compact_on_deletions) {
    o.table_properties_collector_factories.push_back(
        rocksdb::NewCompactOnDeletionCollectorFactory(/*sliding_window_size=*/128,
                                                      /*deletion_trigger=*/64));
  }
  if (spec.expiry_filter) o.compaction_filter = shared.expiry_filter.get();
  return o;
}

rocksdb::ColumnFamilyOptions make_unknown_cf_options(const SharedResources& shared) {
  return make_cf_options(CfSpec{Cf::meta, "", Access::scan, 64 * 1024, false, false}, shared);
}

}  // namespace smppguard::store::detail
