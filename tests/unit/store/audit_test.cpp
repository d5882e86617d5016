// The audit chain: seq and hash assignment, verification, tampering, queries.
#include <doctest/doctest.h>
#include <rocksdb/db.h>

#include "store/audit_chain.hpp"
#include "store/testing.hpp"
#include "store_fixture.hpp"

using namespace smppguard;
using namespace smppguard::store;
using smppguard::store::test::Fixture;
using smppguard::store::test::sample_audit;

namespace {

/// Appends `n` entries, alternating subscribers and programs, one second apart.
void append_entries(Fixture& f, int n) {
  for (int i = 0; i < n; ++i) {
    const std::string msisdn = i % 2 == 0 ? "+15550000001" : "+15550000002";
    const std::string program = i % 3 == 0 ? "globex" : "acme";
    auto entry = sample_audit(program, msisdn, f.clock.ms() + i * 1000);
    entry.detail = "entry " + std::to_string(i);
    REQUIRE_FALSE(f.commit([&](Batch& b) { b.append_audit(entry); }, i % 2 == 0));
  }
}

std::vector<AuditEntry> all_entries(Store& store) {
  auto r = store.audit(AuditQuery{});
  REQUIRE(r);
  return std::move(*r);
}

}  // namespace

TEST_CASE_FIXTURE(Fixture, "audit entries get consecutive seqs and a linked hash chain") {
  std::vector<std::uint64_t> seqs;
  REQUIRE_FALSE(commit([&](Batch& b) {
    seqs.push_back(b.append_audit(sample_audit("acme", "+1555", 0)));  // time filled by store
    seqs.push_back(b.append_audit(sample_audit("acme", "+1555", clock.ms() + 1)));
  }));
  REQUIRE_FALSE(commit(
      [&](Batch& b) { seqs.push_back(b.append_audit(sample_audit("acme", "", clock.ms() + 2))); }));
  CHECK(seqs == std::vector<std::uint64_t>{1, 2, 3});

  const auto entries = all_entries(*store);
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].time_ms == clock.ms());
  CHECK(entries[0].prev_hash == std::string(64, '0'));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    CHECK(entries[i].seq == i + 1);
    CHECK(entries[i].hash == detail::audit_hash(entries[i]));
    CHECK(entries[i].hash.size() == 64);
    if (i > 0) CHECK(entries[i].prev_hash == entries[i - 1].hash);
  }
  // Every caller-set field is stored as given.
  auto expected = sample_audit("acme", "+1555", clock.ms() + 1);
  expected.seq = 2;
  expected.prev_hash = entries[0].hash;
  expected.hash = entries[1].hash;
  CHECK(entries[1] == expected);

  const auto report = store->verify_audit();
  CHECK(report.whole);
  CHECK(report.entries == 3);
  CHECK(report.first_bad_seq == 0);
}

TEST_CASE_FIXTURE(Fixture, "the chain continues across reopen") {
  append_entries(*this, 5);
  const auto last = all_entries(*store).back();
  reopen();
  std::uint64_t seq = 0;
  REQUIRE_FALSE(commit([&](Batch& b) { seq = b.append_audit(sample_audit("acme", "+1", 1)); }));
  CHECK(seq == 6);
  const auto entries = all_entries(*store);
  REQUIRE(entries.size() == 6);
  CHECK(entries[5].prev_hash == last.hash);
  CHECK(store->verify_audit().whole);
  CHECK(store->verify_audit().entries == 6);
}

TEST_CASE_FIXTURE(Fixture, "verify reports a tampered field as a hash mismatch at its seq") {
  append_entries(*this, 10);
  store->close();
  REQUIRE_FALSE(testing::tamper_audit_entry(dir.db(), 4, "new_state", "opted_in"));
  CHECK(testing::tamper_audit_entry(dir.db(), 4, "no_such_field", "x") ==
        make_error_code(StoreErrc::invalid_argument));
  CHECK(testing::tamper_audit_entry(dir.db(), 99, "detail", "x") ==
        make_error_code(StoreErrc::not_found));
  open();
  auto report = store->verify_audit();
  CHECK_FALSE(report.whole);
  CHECK(report.first_bad_seq == 4);
  CHECK(report.reason == "hash mismatch");
  CHECK(report.entries == 3);
  // The tampered value is what a reader now sees.
  AuditQuery q;
  q.after_seq = 3;
  q.limit = 1;
  auto e = store->audit(q);
  REQUIRE(e);
  CHECK((*e)[0].new_state == "opted_in");
}

TEST_CASE_FIXTURE(Fixture, "verify detects evidence edits, rewritten hashes and relinked entries") {
  append_entries(*this, 6);
  store->close();
  SUBCASE("evidence") {
    REQUIRE_FALSE(testing::tamper_audit_entry(dir.db(), 2, "evidence.mo_id", "mo-99"));
    open();
    auto r = store->verify_audit();
    CHECK(r.first_bad_seq == 2);
    CHECK(r.reason == "hash mismatch");
  }
  SUBCASE("an entry rewritten with a self-consistent hash breaks the next link") {
    store::AuditEntry forged;
    open();
    forged = all_entries(*store)[2];  // seq 3
    store->close();
    forged.detail = "forged";
    const auto hash = detail::audit_hash(forged);
    REQUIRE_FALSE(testing::tamper_audit_entry(dir.db(), 3, "detail", "forged"));
    REQUIRE_FALSE(testing::tamper_audit_entry(dir.db(), 3, "hash", hash));
    open();
    auto r = store->verify_audit();
    CHECK(r.first_bad_seq == 4);
    CHECK(r.reason == "prev_hash does not match");
  }
  SUBCASE("time") {
    REQUIRE_FALSE(testing::tamper_audit_entry(dir.db(), 6, "time_ms", "1"));
    open();
    auto r = store->verify_audit();
    CHECK(r.first_bad_seq == 6);
    CHECK(r.reason == "hash mismatch");
  }
}

TEST_CASE_FIXTURE(Fixture, "verify reports a deleted entry as a seq gap") {
  append_entries(*this, 8);
  store->close();
  SUBCASE("in the middle") {
    REQUIRE_FALSE(testing::delete_audit_entry(dir.db(), 5));
    open();
    auto r = store->verify_audit();
    CHECK_FALSE(r.whole);
    CHECK(r.first_bad_seq == 5);
    CHECK(r.reason == "seq gap");
  }
  SUBCASE("the first") {
    REQUIRE_FALSE(testing::delete_audit_entry(dir.db(), 1));
    open();
    auto r = store->verify_audit();
    CHECK(r.first_bad_seq == 1);
    CHECK(r.reason == "seq gap");
  }
  SUBCASE("the last (truncation)") {
    REQUIRE_FALSE(testing::delete_audit_entry(dir.db(), 8));
    open();
    auto r = store->verify_audit();
    CHECK_FALSE(r.whole);
    CHECK(r.first_bad_seq == 8);
    CHECK(r.reason.starts_with("seq gap"));
  }
}

TEST_CASE_FIXTURE(Fixture, "verify reports an undecodable value") {
  append_entries(*this, 3);
  store->close();
  {
    rocksdb::DB* raw = nullptr;
    std::vector<std::string> names;
    REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.db(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), dir.db(), cfs, &handles, &raw).ok());
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "audit") {
        REQUIRE(raw->Put(rocksdb::WriteOptions(), handles[i], std::string("\0\0\0\0\0\0\0\2", 8),
                         "\x01garbage")
                    .ok());
      }
    }
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  open();
  auto r = store->verify_audit();
  CHECK(r.first_bad_seq == 2);
  CHECK(r.reason == "undecodable value");
  auto q = store->audit(AuditQuery{});
  CHECK(q.error() == make_error_code(StoreErrc::corruption));
}

TEST_CASE_FIXTURE(Fixture, "a read-only store verifies the chain while the daemon holds it") {
  append_entries(*this, 20);  // never flushed: these live only in the WAL and memtables
  auto o = options();
  o.read_only = true;
  auto reader = Store::open(o, clock);
  auto r = reader->verify_audit();
  CHECK(r.whole);
  CHECK(r.entries == 20);
  // The daemon goes on writing; a fresh read-only open sees that too.
  append_entries(*this, 3);
  reader = Store::open(o, clock);
  r = reader->verify_audit();
  CHECK(r.whole);
  CHECK(r.entries == 23);
}

TEST_CASE_FIXTURE(Fixture, "audit queries by msisdn, program, time range and cursor") {
  const auto t0 = clock.ms();
  append_entries(*this, 12);  // entry i: time t0 + i s; odd i -> +...2; i % 3 == 0 -> globex

  AuditQuery q;
  q.msisdn = "+15550000002";
  auto r = store->audit(q);
  REQUIRE(r);
  REQUIRE(r->size() == 6);
  for (const auto& e : *r) CHECK(e.msisdn == "+15550000002");
  CHECK((*r)[0].seq == 2);
  CHECK((*r)[5].seq == 12);

  q.program = "globex";  // i = 3, 9 -> seq 4, 10
  r = store->audit(q);
  REQUIRE(r);
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].seq == 4);
  CHECK((*r)[1].seq == 10);

  AuditQuery by_program;
  by_program.program = "globex";  // i = 0, 3, 6, 9
  r = store->audit(by_program);
  REQUIRE(r);
  CHECK(r->size() == 4);

  AuditQuery window;
  window.since_ms = t0 + 2000;  // i >= 2
  window.until_ms = t0 + 5000;  // i < 5
  r = store->audit(window);
  REQUIRE(r);
  REQUIRE(r->size() == 3);
  CHECK((*r)[0].seq == 3);
  CHECK((*r)[2].seq == 5);

  AuditQuery paged;
  paged.msisdn = "+15550000001";
  paged.limit = 2;
  std::vector<std::uint64_t> seqs;
  for (;;) {
    r = store->audit(paged);
    REQUIRE(r);
    for (const auto& e : *r) seqs.push_back(e.seq);
    if (r->size() < paged.limit) break;
    paged.after_seq = r->back().seq;
  }
  CHECK(seqs == std::vector<std::uint64_t>{1, 3, 5, 7, 9, 11});

  AuditQuery nobody;
  nobody.msisdn = "+1555000000";  // a prefix of real numbers matches none of them
  r = store->audit(nobody);
  REQUIRE(r);
  CHECK(r->empty());
}
