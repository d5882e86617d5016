#pragma once
// Test-only fault injection (store/testing.hpp): a RocksDB Env whose writable files fail with
// "No space left on device" while a FaultSwitch is engaged. Internal to src/store.
#include <rocksdb/env.h>

#include <memory>

#include "store/testing.hpp"

namespace smppguard::store::detail {

std::unique_ptr<rocksdb::Env> make_fault_env(std::shared_ptr<testing::FaultSwitch> faults);

}  // namespace smppguard::store::detail
