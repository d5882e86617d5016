#include "admin/audit_scan.hpp"

#include <optional>
#include <system_error>

namespace smppguard::admin {

namespace {
// The time of entry `seq` (seqs have no gaps), or nullopt past the end of the log.
std::optional<std::int64_t> time_of(const store::Store& store, std::uint64_t seq) {
  store::AuditQuery q;
  q.after_seq = seq - 1;
  q.limit = 1;
  auto r = store.audit(q);
  if (!r) throw std::system_error(r.error(), "audit");
  if (r->empty()) return std::nullopt;
  return r->front().time_ms;
}
}  // namespace

std::uint64_t audit_seq_before(const store::Store& store, std::int64_t time_ms) {
  // Invariant: lo is 0 or an entry older than time_ms; hi is past the end or not older.
  std::uint64_t lo = 0;
  std::uint64_t hi = 1;
  while (true) {
    const auto t = time_of(store, hi);
    if (!t || *t >= time_ms) break;
    lo = hi;
    if (hi >= (std::uint64_t{1} << 62)) return lo;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    const auto t = time_of(store, mid);
    if (t && *t < time_ms) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

AuditScan::AuditScan(const store::Store& store, AuditFilter filter)
    : store_(store), filter_(std::move(filter)), after_(filter_.after_seq) {}

bool AuditScan::matches(const store::AuditEntry& e) const {
  return (filter_.msisdn.empty() || e.msisdn == filter_.msisdn) &&
         (filter_.program.empty() || e.program == filter_.program) &&
         e.time_ms >= filter_.since_ms && (filter_.until_ms == 0 || e.time_ms < filter_.until_ms);
}

std::vector<store::AuditEntry> AuditScan::next(std::size_t max) {
  std::vector<store::AuditEntry> out;
  if (done_ || max == 0) return out;
  if (!filter_.msisdn.empty()) {
    // The subscriber index: the store applies every filter.
    store::AuditQuery q;
    q.msisdn = filter_.msisdn;
    q.program = filter_.program;
    q.since_ms = filter_.since_ms;
    q.until_ms = filter_.until_ms;
    q.after_seq = after_;
    q.limit = max;
    auto page = store_.audit(q);
    if (!page) throw std::system_error(page.error(), "audit");
    if (page->size() < max) done_ = true;
    if (!page->empty()) after_ = page->back().seq;
    return std::move(*page);
  }
  if (!started_) {
    started_ = true;
    if (filter_.since_ms > kClockSlackMs) {
      after_ = std::max(after_, audit_seq_before(store_, filter_.since_ms - kClockSlackMs));
    }
  }
  store::AuditQuery q;
  q.after_seq = after_;
  q.limit = kRawPage;
  auto page = store_.audit(q);
  if (!page) throw std::system_error(page.error(), "audit");
  std::size_t used = 0;
  for (auto& e : *page) {
    if (out.size() == max) break;
    ++used;
    after_ = e.seq;
    if (filter_.until_ms != 0 && e.time_ms >= filter_.until_ms + kClockSlackMs) {
      done_ = true;
      return out;
    }
    if (matches(e)) out.push_back(std::move(e));
  }
  if (used == page->size() && page->size() < q.limit) done_ = true;
  return out;
}

}  // namespace smppguard::admin
