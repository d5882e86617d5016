#pragma once
// AuditScan: pages through the audit log with the filters of GET /v1/audit and the reports.
// With an msisdn it walks the subscriber index; without, it walks the log itself, starting (when
// `since` is set) at the entry a binary search over seq finds for that time, and stopping once
// entries are later than `until`. Entry times come from the clock of whoever wrote them, a little
// before the writer gave them their seq, so both ends keep kClockSlackMs of margin and every
// entry is still checked against the exact bounds.
// Blocking (RocksDB reads): run it on the blocking pool. Not thread-safe.
#include <cstdint>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace smppguard::admin {

struct AuditFilter {
  std::string msisdn;           // E.164; "" = any
  std::string program;          // exact; "" = any
  std::int64_t since_ms = 0;    // inclusive; 0 = from the start
  std::int64_t until_ms = 0;    // exclusive; 0 = no bound
  std::uint64_t after_seq = 0;  // start after this seq (a cursor)
};

class AuditScan {
 public:
  static constexpr std::int64_t kClockSlackMs = 5 * 60 * 1000;
  static constexpr std::size_t kRawPage = 1000;

  AuditScan(const store::Store& store, AuditFilter filter);
  /// The next matching entries (at most `max`; possibly none while not done()), in seq order.
  /// Throws std::system_error when the store cannot be read.
  std::vector<store::AuditEntry> next(std::size_t max);
  bool done() const { return done_; }

 private:
  bool matches(const store::AuditEntry& e) const;
  const store::Store& store_;
  AuditFilter filter_;
  std::uint64_t after_ = 0;
  bool started_ = false;
  bool done_ = false;
};

/// The largest seq whose entry is older than `time_ms` (0 when none): a binary search over seq,
/// about 2 log2(N) point reads. Assumes entry times grow with seq (up to clock slack).
std::uint64_t audit_seq_before(const store::Store& store, std::int64_t time_ms);

}  // namespace smppguard::admin
