#pragma once
// The free-space floor of a store's filesystem, and the reserve that lets a store open on a full
// disk (docs/store.md "Free space"). Internal to src/store.
//
// Flow:
//   prepare — before RocksDB opens. At or above the floor: the reserve file (`smppguard-reserve`
//             in the store directory, `reserve_bytes` allocated with fallocate) is made when it
//             is missing and there is room for it. Below the floor: the reserve is deleted, which
//             gives RocksDB room for what it writes while it opens (a MANIFEST, an OPTIONS file,
//             a new WAL); read_only when even then less than kOpenRoom is free.
//   check   — any thread, a statvfs at most every 100 ms (cached verdict in between). Writes are
//             allowed while the free space is at least the floor and the reserve exists; with
//             the reserve missing, once the free space is the floor plus the reserve, the
//             reserve is made again first. Below the floor RocksDB's SST space is capped
//             (SstFileManager) at what it uses now plus half of what is free, so that no
//             compaction starts that could fill the disk; at or above it the cap is lifted.
//             Transitions are logged: store_disk_full, store_disk_ok.
#include <rocksdb/sst_file_manager.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace smppguard::store::detail {

class DiskSpace {
 public:
  /// Below the floor, RocksDB opens read-write only with this much free (after the reserve).
  static constexpr std::uint64_t kOpenRoom = 4u << 20;
  static constexpr const char* kReserveName = "smppguard-reserve";

  /// `floor` 0 turns everything off (check() is always true, no reserve).
  DiskSpace(std::string dir, std::uint64_t floor);

  enum class OpenMode { read_write, read_only };
  OpenMode prepare();
  bool check();
  /// The SST file manager of the store's DB (its cap is set by check()).
  void attach(std::shared_ptr<rocksdb::SstFileManager> sst_files) {
    sst_files_ = std::move(sst_files);
  }

 private:
  std::optional<std::uint64_t> free_bytes() const;
  bool reserve_present() const;
  /// Allocates the reserve; false when the filesystem cannot (no fallocate) or has no room.
  bool make_reserve();
  bool verdict(std::uint64_t free);
  void cap_sst_space(bool below_floor, std::uint64_t free);

  const std::string dir_;
  const std::string reserve_path_;
  const std::uint64_t floor_;
  const std::uint64_t reserve_bytes_;
  std::shared_ptr<rocksdb::SstFileManager> sst_files_;
  std::mutex check_mutex_;  // one statvfs (and reserve) at a time; others use the cached verdict
  std::atomic<bool> ok_{true};
  std::atomic<std::int64_t> checked_ms_{0};
  bool reserve_unsupported_ = false;  // guarded by check_mutex_ after prepare()
};

}  // namespace smppguard::store::detail
