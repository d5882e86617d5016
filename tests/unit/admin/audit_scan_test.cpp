// AuditScan and audit_seq_before against a real store.
#include "admin/audit_scan.hpp"

#include <doctest/doctest.h>

#include "unit/store/store_fixture.hpp"

using namespace smppguard;
using namespace smppguard::admin;

namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000;
constexpr std::int64_t kMin = 60'000;

// n entries, one per minute from kT0, alternating programs a/b and two subscribers.
void fill(store::test::Fixture& f, int n) {
  const auto ec = f.commit([n](store::Batch& b) {
    for (int i = 0; i < n; ++i) {
      store::AuditEntry e;
      e.time_ms = kT0 + i * kMin;
      e.program = i % 2 == 0 ? "a" : "b";
      e.msisdn = i % 3 == 0 ? "+15551230001" : "+15551230002";
      e.event = "opted_in";
      b.append_audit(std::move(e));
    }
  });
  REQUIRE_FALSE(ec);
}

std::vector<store::AuditEntry> all(AuditScan& s, std::size_t page = 7) {
  std::vector<store::AuditEntry> out;
  int guard = 0;
  while (!s.done() && ++guard < 100000) {
    for (auto& e : s.next(page)) out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

TEST_SUITE("audit_scan") {
  TEST_CASE("audit_seq_before finds the last entry older than a time") {
    store::test::Fixture f;
    CHECK(audit_seq_before(*f.store, kT0) == 0);  // empty log
    fill(f, 3000);
    CHECK(audit_seq_before(*f.store, kT0) == 0);
    CHECK(audit_seq_before(*f.store, kT0 + 1) == 1);
    CHECK(audit_seq_before(*f.store, kT0 + 1000 * kMin) == 1000);
    CHECK(audit_seq_before(*f.store, kT0 + 1000 * kMin + 1) == 1001);
    CHECK(audit_seq_before(*f.store, kT0 + 10'000 * kMin) == 3000);
  }

  TEST_CASE("filters: program, msisdn, since, until, after_seq; pages of any size") {
    store::test::Fixture f;
    fill(f, 2500);
    {
      AuditScan s(*f.store, AuditFilter{});
      const auto v = all(s, 333);
      REQUIRE(v.size() == 2500);
      for (std::size_t i = 0; i < v.size(); ++i) CHECK(v[i].seq == i + 1);
    }
    {
      AuditFilter flt;
      flt.program = "a";
      flt.since_ms = kT0 + 100 * kMin;   // seq 101
      flt.until_ms = kT0 + 2000 * kMin;  // before seq 2001
      AuditScan s(*f.store, flt);
      const auto v = all(s);
      CHECK(v.size() == 950);  // odd seqs 101..1999
      CHECK(v.front().seq == 101);
      CHECK(v.back().seq == 1999);
    }
    {
      AuditFilter flt;
      flt.msisdn = "+15551230001";
      flt.since_ms = kT0 + 30 * kMin;
      flt.until_ms = kT0 + 60 * kMin;
      AuditScan s(*f.store, flt);
      const auto v = all(s, 2);
      CHECK(v.size() == 10);  // i = 30, 33, ..., 57
      for (const auto& e : v) CHECK(e.msisdn == "+15551230001");
    }
    {
      AuditFilter flt;
      flt.after_seq = 2490;
      AuditScan s(*f.store, flt);
      CHECK(all(s).size() == 10);
    }
  }

}  // TEST_SUITE
