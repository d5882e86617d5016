#include "store/disk_space.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "common/log.hpp"

namespace smppguard::store::detail {
namespace {

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

DiskSpace::DiskSpace(std::string dir, std::uint64_t floor)
    : dir_(std::move(dir)),
      reserve_path_(dir_ + "/" + kReserveName),
      floor_(floor),
      reserve_bytes_(std::min<std::uint64_t>(64u << 20, floor / 2)) {}

std::optional<std::uint64_t> DiskSpace::free_bytes() const {
  struct statvfs fs {};
  if (::statvfs(dir_.c_str(), &fs) != 0) return std::nullopt;
  return std::uint64_t{fs.f_bavail} * fs.f_frsize;
}

bool DiskSpace::reserve_present() const {
  struct stat st {};
  return ::stat(reserve_path_.c_str(), &st) == 0 &&
         static_cast<std::uint64_t>(st.st_blocks) * 512 >= reserve_bytes_;
}

bool DiskSpace::make_reserve() {
  const int fd = ::open(reserve_path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const int rc = ::fallocate(fd, 0, 0, static_cast<off_t>(reserve_bytes_));
  const int err = rc == 0 ? 0 : errno;
  ::close(fd);
  if (rc == 0) return true;
  ::unlink(reserve_path_.c_str());
  if (err == EOPNOTSUPP) {
    reserve_unsupported_ = true;
    SG_LOG(warn, "store_reserve_unsupported")
        .kv("path", dir_)
        .kv("effect", "no reserve: a start on a full disk opens the store read-only");
  }
  return false;
}

DiskSpace::OpenMode DiskSpace::prepare() {
  if (floor_ == 0) return OpenMode::read_write;
  std::lock_guard lock(check_mutex_);
  auto free = free_bytes();
  if (!free) return OpenMode::read_write;  // statvfs failed: RocksDB will say what is wrong
  if (*free >= floor_) {
    if (!reserve_present() && *free >= floor_ + reserve_bytes_ && make_reserve()) {
      SG_LOG(info, "store_reserve_made").kv("path", dir_).kv("reserve_mb", reserve_bytes_ >> 20);
    }
    return OpenMode::read_write;
  }
  if (reserve_present()) {
    ::unlink(reserve_path_.c_str());
    free = free_bytes().value_or(0);
    SG_LOG(warn, "store_reserve_released")
        .kv("path", dir_)
        .kv("free_mb", *free >> 20)
        .kv("floor_mb", floor_ >> 20)
        .kv("effect", "opening on a disk below the floor");
  }
  if (*free >= kOpenRoom) return OpenMode::read_write;
  SG_LOG(error, "store_open_read_only")
      .kv("path", dir_)
      .kv("free_mb", *free >> 20)
      .kv("floor_mb", floor_ >> 20)
      .kv("effect", "refusing writes until space returns, then opening read-write");
  return OpenMode::read_only;
}

bool DiskSpace::check() {
  if (floor_ == 0) return true;
  const auto now = steady_ms();
  const auto last = checked_ms_.load(std::memory_order_relaxed);
  if (last != 0 && now - last < 100) return ok_.load(std::memory_order_relaxed);
  std::unique_lock lock(check_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return ok_.load(std::memory_order_relaxed);
  checked_ms_.store(now, std::memory_order_relaxed);
  const auto free = free_bytes();
  if (!free) return ok_.load(std::memory_order_relaxed);
  return verdict(*free);
}

bool DiskSpace::verdict(std::uint64_t free) {
  bool ok = free >= floor_;
  if (ok && !reserve_unsupported_ && !reserve_present()) {
    // The reserve comes back before writes do: it is what the next start on a full disk uses.
    ok = free >= floor_ + reserve_bytes_ && make_reserve();
    if (ok) free -= reserve_bytes_;
    if (reserve_unsupported_) ok = free >= floor_;
  }
  cap_sst_space(!ok, free);
  if (ok_.exchange(ok, std::memory_order_relaxed) != ok) {
    if (ok) {
      SG_LOG(info, "store_disk_ok").kv("path", dir_).kv("free_mb", free >> 20);
    } else {
      SG_LOG(error, "store_disk_full")
          .kv("path", dir_)
          .kv("free_mb", free >> 20)
          .kv("floor_mb", floor_ >> 20)
          .kv("effect", "writes refused until space returns");
    }
  }
  return ok;
}

void DiskSpace::cap_sst_space(bool below_floor, std::uint64_t free) {
  if (!sst_files_) return;
  if (!below_floor) {
    sst_files_->SetMaxAllowedSpaceUsage(0);  // no cap
    return;
  }
  sst_files_->SetMaxAllowedSpaceUsage(
      std::max<std::uint64_t>(1, sst_files_->GetTotalSize() + free / 2));
}

}  // namespace smppguard::store::detail
