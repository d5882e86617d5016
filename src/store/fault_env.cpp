#include "store/fault_env.hpp"

#include <rocksdb/file_system.h>

namespace smppguard::store::detail {
namespace {

rocksdb::IOStatus injected(const testing::FaultSwitch& faults) {
  if (faults.kind() == testing::FaultSwitch::Kind::no_space) {
    return rocksdb::IOStatus::NoSpace("injected by testing::FaultSwitch");
  }
  return rocksdb::IOStatus::IOError("injected by testing::FaultSwitch");
}

class FaultyWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWritableFile(std::unique_ptr<rocksdb::FSWritableFile>&& file,
                     std::shared_ptr<testing::FaultSwitch> faults)
      : FSWritableFileOwnerWrapper(std::move(file)), faults_(std::move(faults)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (faults_->failing_writes()) return injected(*faults_);
    return FSWritableFileOwnerWrapper::Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (faults_->failing_writes()) return injected(*faults_);
    return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (faults_->failing_writes()) return injected(*faults_);
    return FSWritableFileOwnerWrapper::Flush(options, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (faults_->failing_writes()) return injected(*faults_);
    return FSWritableFileOwnerWrapper::Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (faults_->failing_writes()) return injected(*faults_);
    return FSWritableFileOwnerWrapper::Fsync(options, dbg);
  }

 private:
  std::shared_ptr<testing::FaultSwitch> faults_;
};

class FaultyFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultyFileSystem(std::shared_ptr<testing::FaultSwitch> faults)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), faults_(std::move(faults)) {}

  const char* Name() const override { return "smppguard.FaultyFileSystem"; }

  // A full disk also reports no free space, so RocksDB's own recovery waits for space.
  rocksdb::IOStatus GetFreeSpace(const std::string& path, const rocksdb::IOOptions& options,
                                 std::uint64_t* free, rocksdb::IODebugContext* dbg) override {
    if (faults_->failing_writes() && faults_->kind() == testing::FaultSwitch::Kind::no_space) {
      *free = 0;
      return rocksdb::IOStatus::OK();
    }
    return FileSystemWrapper::GetFreeSpace(path, options, free, dbg);
  }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    if (faults_->failing_writes()) return injected(*faults_);
    auto s = FileSystemWrapper::NewWritableFile(name, options, result, dbg);
    if (s.ok()) *result = std::make_unique<FaultyWritableFile>(std::move(*result), faults_);
    return s;
  }

 private:
  std::shared_ptr<testing::FaultSwitch> faults_;
};

}  // namespace

std::unique_ptr<rocksdb::Env> make_fault_env(std::shared_ptr<testing::FaultSwitch> faults) {
  return rocksdb::NewCompositeEnv(std::make_shared<FaultyFileSystem>(std::move(faults)));
}

}  // namespace smppguard::store::detail
