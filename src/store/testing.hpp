#pragma once
// TEST-ONLY hooks into the store. Nothing in the daemon may call these: they bypass the writer,
// break the audit chain on purpose, or inject I/O faults. They exist so that unit and end-to-end
// tests can prove that `audit verify` detects tampering and that write errors are handled.
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "store/store.hpp"

namespace smppguard::store::testing {

/// Engage to make every RocksDB file write of a store opened with StoreOptions::faults fail, with
/// EIO ("I/O error") or ENOSPC ("No space left on device", on which RocksDB recovers by itself
/// once writes work again); disengage to let the store recover. Thread-safe.
class FaultSwitch {
 public:
  enum class Kind : int { io_error, no_space };
  void fail_writes(bool on, Kind kind = Kind::io_error) {
    kind_.store(kind, std::memory_order_relaxed);
    fail_writes_.store(on, std::memory_order_relaxed);
  }
  bool failing_writes() const { return fail_writes_.load(std::memory_order_relaxed); }
  Kind kind() const { return kind_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> fail_writes_{false};
  std::atomic<Kind> kind_{Kind::io_error};
};

/// TEST-ONLY. Opens the store at `path` (which no process may hold open), rewrites one field of
/// the audit entry `seq` to `new_value` and writes the value back WITHOUT fixing any hash, as an
/// attacker editing the database would. Fields: the canonical names of docs/store.md (program,
/// msisdn, event, old_state, new_state, source, actor, mo_text, mo_normalized, keyword, rule,
/// detail, prev_hash, hash, time_ms as decimal digits) or "evidence.<key>".
/// Errors: not_found (no such entry), invalid_argument (unknown field), io_error.
std::error_code tamper_audit_entry(const std::string& path, std::uint64_t seq,
                                   std::string_view field, std::string_view new_value);

/// TEST-ONLY. Sets the state of the program-scope consent record (program, msisdn) in the closed
/// store at `path`: with `reseal` false by flipping the state byte in place, as the fault campaign
/// did (the seal then no longer matches); with `reseal` true by re-encoding the record with a new
/// seal, as a forger who knows the scheme would (only the audit replay of `audit verify` sees it).
/// Errors: not_found, corruption, io_error.
std::error_code tamper_consent_state(const std::string& path, std::string_view program,
                                     std::string_view msisdn, ConsentState state, bool reseal);

/// TEST-ONLY. Turns the closed store at `path` back into what schema 1 wrote: the record of
/// (program, msisdn) as an unsealed v1 value, and schema_version 1 (to test the sealing at open).
std::error_code write_v1_consent(const std::string& path, std::string_view program,
                                 std::string_view msisdn, const ConsentRecord& record);

/// TEST-ONLY. Deletes the audit entry `seq` (and nothing else) from the closed store at `path`.
std::error_code delete_audit_entry(const std::string& path, std::uint64_t seq);

/// TEST-ONLY. Number of raw keys in a column family ("idmap", "queue", ...) of an open store,
/// expired or not; SIZE_MAX when the family is unknown or the store is closed.
std::size_t raw_key_count(Store& store, std::string_view family);

/// TEST-ONLY. Flushes and fully compacts every column family (runs the compaction filters).
std::error_code compact_all(Store& store);

}  // namespace smppguard::store::testing
