// Store reads and writes through the public API: consent, routes, queues, held MTs, frequency,
// export, message ids, open/close.
#include <doctest/doctest.h>

#include <set>
#include <stdexcept>
#include <thread>

#include "store/testing.hpp"
#include "store_fixture.hpp"

using namespace smppguard;
using namespace smppguard::store;
using smppguard::store::test::Fixture;
using smppguard::store::test::sample_record;

TEST_CASE_FIXTURE(Fixture, "a consent record reads back with every field") {
  const auto record = sample_record(clock.ms());
  REQUIRE_FALSE(commit([&](Batch& b) { b.put_consent("acme", "+15551234567", record); }));

  auto got = store->get_consent("acme", "+15551234567");
  REQUIRE(got);
  REQUIRE(got->has_value());
  CHECK(**got == record);

  auto other = store->get_consent("acme", "+15550000000");
  REQUIRE(other);
  CHECK_FALSE(other->has_value());
  auto other_program = store->get_consent("globex", "+15551234567");
  REQUIRE(other_program);
  CHECK_FALSE(other_program->has_value());

  reopen();
  got = store->get_consent("acme", "+15551234567");
  REQUIRE(got);
  REQUIRE(got->has_value());
  CHECK(**got == record);
}

TEST_CASE_FIXTURE(Fixture, "get_consent_pair returns the program and the tenant-wide record") {
  auto program_record = sample_record(clock.ms());
  ConsentRecord tenant_record;
  tenant_record.state = ConsentState::opted_out;
  tenant_record.source = ConsentSource::keyword;
  tenant_record.evidence = {{"keyword", "STOPALL"}};
  tenant_record.created_at_ms = tenant_record.updated_at_ms = clock.ms();
  REQUIRE_FALSE(commit([&](Batch& b) {
    b.put_consent("acme", "+15551234567", program_record);
    b.put_tenant_consent("acme-tenant", "+15551234567", tenant_record);
  }));

  ConsentPair pair;
  REQUIRE_FALSE(store->get_consent_pair("acme", "acme-tenant", "+15551234567", pair));
  REQUIRE(pair.program);
  REQUIRE(pair.tenant);
  CHECK(*pair.program == program_record);
  CHECK(*pair.tenant == tenant_record);

  REQUIRE_FALSE(store->get_consent_pair("acme", "other-tenant", "+15551234567", pair));
  CHECK(pair.program);
  CHECK_FALSE(pair.tenant);
  REQUIRE_FALSE(store->get_consent_pair("globex", "acme-tenant", "+15551234567", pair));
  CHECK_FALSE(pair.program);
  CHECK(pair.tenant);
  // A tenant name equal to a program name does not confuse the two records.
  REQUIRE_FALSE(store->get_consent_pair("acme", "acme", "+15551234567", pair));
  CHECK(pair.program);
  CHECK_FALSE(pair.tenant);

  CHECK(store->get_consent_pair(std::string("a\0b", 3), "t", "+1", pair) ==
        make_error_code(StoreErrc::invalid_argument));
}

TEST_CASE_FIXTURE(Fixture, "put_route_now writes the same route as a mutation, at once") {
  MessageRoute route;
  route.proxy_id = store->next_message_id();
  route.account = "app1";
  route.upstream = "carrierA";
  route.upstream_id = "00CD34";
  route.upstream_key = "cd34";
  route.program = "acme";
  route.msisdn = "+15551234567";
  REQUIRE_FALSE(store->put_route_now(route));
  CHECK(store->stats().direct_route_writes == 1);

  MessageRoute expected = route;
  expected.created_at_ms = clock.ms();
  expected.expires_at_ms = clock.ms() + 72LL * 3600 * 1000;
  auto by_proxy = store->find_route_by_proxy_id(route.proxy_id);
  REQUIRE(by_proxy);
  REQUIRE(by_proxy->has_value());
  CHECK(**by_proxy == expected);
  auto by_upstream = store->find_route_by_upstream_id("carrierA", "cd34");
  REQUIRE(by_upstream);
  REQUIRE(by_upstream->has_value());
  CHECK(**by_upstream == expected);

  // The same bytes as Batch::put_message_route.
  MessageRoute twin = route;
  twin.proxy_id = store->next_message_id();
  twin.upstream_key = "cd35";
  REQUIRE_FALSE(commit([&](Batch& b) { b.put_message_route(twin); }, false));
  auto twin_read = store->find_route_by_proxy_id(twin.proxy_id);
  REQUIRE(twin_read);
  REQUIRE(twin_read->has_value());
  MessageRoute same = **twin_read;
  same.proxy_id = route.proxy_id;
  same.upstream_key = route.upstream_key;
  CHECK(same == expected);

  MessageRoute bad = route;
  bad.upstream = std::string("a\0b", 3);
  CHECK(store->put_route_now(bad) == make_error_code(StoreErrc::invalid_argument));
  store->close();
  CHECK(store->put_route_now(route) == make_error_code(StoreErrc::closed));
}

TEST_CASE_FIXTURE(Fixture, "message routes are found by both ids and expire") {
  MessageRoute route;
  route.proxy_id = store->next_message_id();
  route.account = "app1";
  route.upstream = "carrierA";
  route.upstream_id = "00AB12";
  route.upstream_key = "ab12";
  route.program = "acme";
  route.msisdn = "+15551234567";
  route.template_name = "";
  REQUIRE_FALSE(commit([&](Batch& b) { b.put_message_route(route); }, false));

  // The store fills created_at and expires_at (message_map_ttl, 72 h by default).
  MessageRoute expected = route;
  expected.created_at_ms = clock.ms();
  expected.expires_at_ms = clock.ms() + 72LL * 3600 * 1000;

  auto by_proxy = store->find_route_by_proxy_id(route.proxy_id);
  REQUIRE(by_proxy);
  REQUIRE(by_proxy->has_value());
  CHECK(**by_proxy == expected);
  auto by_upstream = store->find_route_by_upstream_id("carrierA", "ab12");
  REQUIRE(by_upstream);
  REQUIRE(by_upstream->has_value());
  CHECK(**by_upstream == expected);
  auto wrong_upstream = store->find_route_by_upstream_id("carrierB", "ab12");
  REQUIRE(wrong_upstream);
  CHECK_FALSE(wrong_upstream->has_value());

  // A route with an explicit short lifetime, and one that lives on.
  MessageRoute short_lived = route;
  short_lived.proxy_id = store->next_message_id();
  short_lived.upstream_key = "ff01";
  short_lived.created_at_ms = clock.ms();
  short_lived.expires_at_ms = clock.ms() + 1000;
  REQUIRE_FALSE(commit([&](Batch& b) { b.put_message_route(short_lived); }, false));
  CHECK(testing::raw_key_count(*store, "idmap") == 4);

  clock.advance(2000);
  auto gone = store->find_route_by_proxy_id(short_lived.proxy_id);
  REQUIRE(gone);
  CHECK_FALSE(gone->has_value());
  auto gone_upstream = store->find_route_by_upstream_id("carrierA", "ff01");
  REQUIRE(gone_upstream);
  CHECK_FALSE(gone_upstream->has_value());
  CHECK(testing::raw_key_count(*store, "idmap") == 4);  // expired, but still stored

  REQUIRE_FALSE(testing::compact_all(*store));
  CHECK(testing::raw_key_count(*store, "idmap") == 2);  // the compaction filter dropped both keys
  by_upstream = store->find_route_by_upstream_id("carrierA", "ab12");
  REQUIRE(by_upstream);
  CHECK(by_upstream->has_value());

  clock.advance(72LL * 3600 * 1000);
  REQUIRE_FALSE(testing::compact_all(*store));
  CHECK(testing::raw_key_count(*store, "idmap") == 0);
}

TEST_CASE_FIXTURE(Fixture, "the delivery queue is FIFO per target, with counters") {
  auto item = [&](std::string target, DeliveryKind kind, std::string pdu) {
    DeliveryItem d;
    d.target = std::move(target);
    d.kind = kind;
    d.pdu = std::move(pdu);
    d.expires_at_ms = clock.ms() + 3600 * 1000;
    return d;
  };
  std::vector<std::uint64_t> seqs;
  REQUIRE_FALSE(commit([&](Batch& b) {
    seqs.push_back(b.enqueue_delivery(item("tenant:acme", DeliveryKind::mo, "mo-1")));
    seqs.push_back(b.enqueue_delivery(item("account:app1", DeliveryKind::receipt, "dlr-1")));
    seqs.push_back(b.enqueue_delivery(item("tenant:acme", DeliveryKind::mo, "mo-2")));
  }));
  REQUIRE_FALSE(commit([&](Batch& b) {
    seqs.push_back(b.enqueue_delivery(item("tenant:acme", DeliveryKind::mo, "mo-3")));
  }));
  CHECK(seqs[0] < seqs[1]);
  CHECK(seqs[2] < seqs[3]);
  CHECK(store->queued_deliveries(DeliveryKind::mo) == 3);
  CHECK(store->queued_deliveries(DeliveryKind::receipt) == 1);

  auto acme = store->deliveries("tenant:acme", 0, 10);
  REQUIRE(acme);
  REQUIRE(acme->size() == 3);
  CHECK((*acme)[0].pdu == "mo-1");
  CHECK((*acme)[1].pdu == "mo-2");
  CHECK((*acme)[2].pdu == "mo-3");
  CHECK((*acme)[0].seq == seqs[0]);
  CHECK((*acme)[0].created_at_ms == clock.ms());
  CHECK((*acme)[0].target == "tenant:acme");

  auto page = store->deliveries("tenant:acme", (*acme)[0].seq, 1);
  REQUIRE(page);
  REQUIRE(page->size() == 1);
  CHECK((*page)[0].pdu == "mo-2");

  auto targets = store->delivery_targets();
  REQUIRE(targets);
  CHECK(*targets == std::vector<std::string>{"account:app1", "tenant:acme"});

  DeliveryItem retry = (*acme)[1];
  retry.attempts = 3;
  retry.next_attempt_at_ms = clock.ms() + 30'000;
  REQUIRE_FALSE(commit([&](Batch& b) {
    b.update_delivery(retry);
    b.remove_delivery("tenant:acme", seqs[0]);
    b.remove_delivery("tenant:acme", 999999);  // unknown: ignored
  }));
  acme = store->deliveries("tenant:acme", 0, 10);
  REQUIRE(acme);
  REQUIRE(acme->size() == 2);
  CHECK((*acme)[0] == retry);
  CHECK(store->queued_deliveries(DeliveryKind::mo) == 2);

  // An update after removal does not bring the item back.
  REQUIRE_FALSE(commit([&](Batch& b) {
    b.remove_delivery("account:app1", seqs[1]);
    DeliveryItem stale = item("account:app1", DeliveryKind::receipt, "dlr-1");
    stale.seq = seqs[1];
    b.update_delivery(stale);
  }));
  CHECK(store->queued_deliveries(DeliveryKind::receipt) == 0);
  targets = store->delivery_targets();
  REQUIRE(targets);
  CHECK(*targets == std::vector<std::string>{"tenant:acme"});

  // Counters and seqs survive a restart (scan at open).
  reopen();
  CHECK(store->queued_deliveries(DeliveryKind::mo) == 2);
  CHECK(store->queued_deliveries(DeliveryKind::receipt) == 0);
  std::uint64_t next = 0;
  REQUIRE_FALSE(commit(
      [&](Batch& b) { next = b.enqueue_delivery(item("tenant:acme", DeliveryKind::mo, "mo-4")); }));
  CHECK(next > seqs[3]);
  acme = store->deliveries("tenant:acme", 0, 10);
  REQUIRE(acme);
  REQUIRE(acme->size() == 3);
  CHECK(acme->back().pdu == "mo-4");
}

TEST_CASE_FIXTURE(Fixture, "held messages by pair and by due time") {
  const auto t0 = clock.ms();
  auto held = [&](std::string msisdn, HoldReason reason, std::int64_t release, std::int64_t expires,
                  std::string pdu) {
    HeldMessage m;
    m.program = "acme";
    m.msisdn = std::move(msisdn);
    m.account = "app1";
    m.proxy_id = store->next_message_id();
    m.pdu = std::move(pdu);
    m.reason = reason;
    m.release_at_ms = release;
    m.expires_at_ms = expires;
    m.wants_receipt = true;
    return m;
  };
  std::vector<HeldMessage> written;
  REQUIRE_FALSE(commit([&](Batch& b) {
    for (auto m :
         {held("+1555000001", HoldReason::pending_consent, 0, t0 + 72 * 3600'000, "a1"),
          held("+1555000002", HoldReason::quiet_hours, t0 + 10'000, t0 + 72 * 3600'000, "b1"),
          held("+1555000001", HoldReason::pending_consent, 0, t0 + 5'000, "a2")}) {
      m.seq = b.hold_message(m);
      m.held_at_ms = t0;
      written.push_back(m);
    }
  }));
  CHECK(store->held_messages() == 3);

  auto pair = store->held_for("acme", "+1555000001");
  REQUIRE(pair);
  REQUIRE(pair->size() == 2);
  CHECK((*pair)[0] == written[0]);
  CHECK((*pair)[1] == written[2]);
  auto none = store->held_for("acme", "+15550000011");  // a longer number is another subscriber
  REQUIRE(none);
  CHECK(none->empty());

  auto due = store->held_due(t0, 10);
  REQUIRE(due);
  CHECK(due->empty());
  due = store->held_due(t0 + 5'000, 10);
  REQUIRE(due);
  REQUIRE(due->size() == 1);
  CHECK((*due)[0] == written[2]);  // expires first
  due = store->held_due(t0 + 10'000, 10);
  REQUIRE(due);
  REQUIRE(due->size() == 2);
  CHECK((*due)[1] == written[1]);  // quiet hours window opens
  due = store->held_due(t0 + 10'000, 1);
  REQUIRE(due);
  CHECK(due->size() == 1);

  // Inside a mutation, held_for sees what the group staged; remove_held updates both indexes.
  std::size_t seen_in_batch = 0;
  REQUIRE_FALSE(commit([&](Batch& b) {
    auto extra = held("+1555000001", HoldReason::pending_consent, 0, t0 + 1'000, "a3");
    b.hold_message(extra);
    auto all = b.held_for("acme", "+1555000001");
    if (!all) throw std::runtime_error("held_for failed");
    seen_in_batch = all->size();
    for (const auto& m : *all) b.remove_held(m);
    auto after = b.held_for("acme", "+1555000001");
    if (!after || !after->empty()) throw std::runtime_error("not removed");
  }));
  CHECK(seen_in_batch == 3);
  CHECK(store->held_messages() == 1);
  due = store->held_due(t0 + 100 * 3600'000, 10);
  REQUIRE(due);
  REQUIRE(due->size() == 1);
  CHECK((*due)[0] == written[1]);
  CHECK(testing::raw_key_count(*store, "held_by_time") == 1);

  reopen();
  CHECK(store->held_messages() == 1);
}

TEST_CASE_FIXTURE(Fixture, "sent_since counts the kept send times") {
  const auto t0 = clock.ms();
  REQUIRE_FALSE(commit([&](Batch& b) {
    for (int i = 0; i < 5; ++i) b.record_sent("acme", "+1555", t0 + i * 1000, 3);
  }));
  auto n = store->sent_since("acme", "+1555", t0);
  REQUIRE(n);
  CHECK(*n == 3);  // only the last 3 are kept
  n = store->sent_since("acme", "+1555", t0 + 3500);
  REQUIRE(n);
  CHECK(*n == 1);
  n = store->sent_since("acme", "+1666", t0);
  REQUIRE(n);
  CHECK(*n == 0);
  // Out-of-order times are kept sorted.
  REQUIRE_FALSE(commit([&](Batch& b) { b.record_sent("acme", "+1555", t0 + 10'000, 3); }));
  REQUIRE_FALSE(commit([&](Batch& b) { b.record_sent("acme", "+1555", t0 + 9'000, 3); }));
  n = store->sent_since("acme", "+1555", t0 + 9'000);
  REQUIRE(n);
  CHECK(*n == 2);
}

TEST_CASE_FIXTURE(Fixture, "consent export pages by msisdn with a state filter") {
  REQUIRE_FALSE(commit([&](Batch& b) {
    for (int i = 0; i < 25; ++i) {
      auto r = sample_record(clock.ms());
      r.state = i % 3 == 0 ? ConsentState::opted_out : ConsentState::opted_in;
      b.put_consent("acme", "+1555000" + std::to_string(1000 + i), r);
    }
    b.put_consent("acme2", "+15550001000", sample_record(clock.ms()));
    b.put_tenant_consent("acme", "+15550009999", sample_record(clock.ms()));
  }));

  std::vector<std::string> all;
  std::string cursor;
  for (;;) {
    auto page = store->consents("acme", std::nullopt, cursor, 10);
    REQUIRE(page);
    for (const auto& row : *page) {
      CHECK(row.program == "acme");
      all.push_back(row.msisdn);
    }
    if (page->size() < 10) break;
    cursor = page->back().msisdn;
  }
  REQUIRE(all.size() == 25);
  CHECK(std::is_sorted(all.begin(), all.end()));
  CHECK(all.front() == "+15550001000");
  CHECK(std::set<std::string>(all.begin(), all.end()).size() == 25);

  auto opted_out = store->consents("acme", ConsentState::opted_out, "", 100);
  REQUIRE(opted_out);
  CHECK(opted_out->size() == 9);
  for (const auto& row : *opted_out) CHECK(row.record.state == ConsentState::opted_out);
  auto page = store->consents("acme", ConsentState::opted_out, "+15550001012", 2);
  REQUIRE(page);
  REQUIRE(page->size() == 2);
  CHECK((*page)[0].msisdn == "+15550001015");
  CHECK((*page)[1].msisdn == "+15550001018");

  auto tenant = store->consents("tenant:acme", std::nullopt, "", 100);
  REQUIRE(tenant);
  REQUIRE(tenant->size() == 1);
  CHECK((*tenant)[0].msisdn == "+15550009999");
  CHECK((*tenant)[0].program == "tenant:acme");
}

TEST_CASE_FIXTURE(Fixture, "message ids are well-formed and never repeat across reopen") {
  std::set<std::string> ids;
  auto take = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto id = store->next_message_id();
      CHECK(id.size() <= 64);
      CHECK(
          id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") ==
          std::string::npos);
      CHECK(ids.insert(id).second);
    }
  };
  take(3000);
  reopen();
  take(3000);
  store.reset();  // destructor closes
  open();
  take(3000);
  CHECK(ids.size() == 9000);
  CHECK(ids.begin()->starts_with("gw1-"));

  // Concurrent callers never get the same id.
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& out : per_thread) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) out.push_back(store->next_message_id());
    });
  }
  for (auto& t : threads) t.join();
  for (auto& out : per_thread) {
    for (auto& id : out) CHECK(ids.insert(id).second);
  }

  // A hostile node_id is sanitised and the id stays within 64 characters.
  auto o = options();
  o.node_id = " /:" + std::string(100, 'x');
  store->close();
  store = Store::open(o, clock);
  const auto id = store->next_message_id();
  CHECK(id.size() <= 64);
  CHECK(id.starts_with("---xxx"));
  CHECK(id.find_first_not_of("x0123456789abcdefghijklmnopqrstuvwyz-") == std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "open fails with a clear message when another process holds the store") {
  try {
    auto second = Store::open(options(), clock);
    FAIL("second open succeeded");
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    CHECK(what.find("store: cannot open " + dir.db()) == 0);
    CHECK(what.find("lock held by another process") != std::string::npos);
  }
  StoreOptions bad;
  bad.path = "/proc/definitely/not/here";
  CHECK_THROWS_WITH_AS(Store::open(bad, clock), doctest::Contains("store: cannot open /proc/"),
                       std::runtime_error);
  StoreOptions missing;
  missing.path = dir.path() + "/nothing";
  missing.read_only = true;
  CHECK_THROWS_WITH_AS(Store::open(missing, clock), doctest::Contains("no store there"),
                       std::runtime_error);
}

TEST_CASE_FIXTURE(Fixture, "a read-only store sees the daemon's writes and refuses its own") {
  REQUIRE_FALSE(commit([&](Batch& b) { b.put_consent("acme", "+1555", sample_record(1)); }, false));
  auto o = options();
  o.read_only = true;
  auto reader = Store::open(o, clock);
  auto got = reader->get_consent("acme", "+1555");
  REQUIRE(got);
  CHECK(got->has_value());
  std::error_code result;
  reader->submit([](Batch&) {}, true, [&](std::error_code ec) { result = ec; });
  CHECK(result == make_error_code(StoreErrc::read_only));
}

TEST_CASE_FIXTURE(Fixture, "reads after close fail cleanly") {
  store->close();
  store->close();  // idempotent
  ConsentPair pair;
  CHECK(store->get_consent_pair("acme", "t", "+1555", pair) == make_error_code(StoreErrc::closed));
  CHECK(store->get_consent("acme", "+1555").error() == make_error_code(StoreErrc::closed));
  CHECK(store->deliveries("t", 0, 1).error() == make_error_code(StoreErrc::closed));
  CHECK_FALSE(store->verify_audit().whole);
}

// SPEC 3: opt-outs are kept forever, other records at least 5 years, and the audit log is never
// rewritten. Only message routes expire (the compaction filter above); consent records and the
// audit chain must survive compaction however old they are.
TEST_CASE_FIXTURE(Fixture, "consent records and audit entries survive compaction after years") {
  auto out = sample_record(clock.ms());
  out.state = ConsentState::opted_out;
  const auto in = sample_record(clock.ms());
  REQUIRE_FALSE(commit([&](Batch& b) {
    b.put_consent("acme", "+15551230001", out);
    b.put_tenant_consent("acme", "+15551230001", out);
    b.put_consent("acme", "+15551230002", in);
    b.append_audit(test::sample_audit("acme", "+15551230001", clock.ms()));
    b.append_audit(test::sample_audit("acme", "+15551230002", clock.ms()));
  }));
  const auto consents = testing::raw_key_count(*store, "consent");
  REQUIRE(consents >= 2);

  constexpr std::int64_t kYear = 366LL * 24 * 3600 * 1000;
  for (int years : {1, 5, 6, 30}) {
    CAPTURE(years);
    clock.set(1'700'000'000'000 + years * kYear);
    REQUIRE_FALSE(testing::compact_all(*store));
    reopen();
    CHECK(testing::raw_key_count(*store, "consent") == consents);
    auto got = store->get_consent("acme", "+15551230001");
    REQUIRE(got);
    REQUIRE(got->has_value());
    auto linked = out;
    linked.audit_seq = 1;  // the store links each record to the last audit entry about it
    CHECK(**got == linked);
    auto pair = ConsentPair{};
    REQUIRE_FALSE(store->get_consent_pair("acme", "acme", "+15551230001", pair));
    REQUIRE(pair.tenant.has_value());
    CHECK(pair.tenant->state == ConsentState::opted_out);
    got = store->get_consent("acme", "+15551230002");
    REQUIRE(got);
    REQUIRE(got->has_value());
    auto linked_in = in;
    linked_in.audit_seq = 2;
    CHECK(**got == linked_in);
    const auto report = store->verify_audit();
    CHECK(report.whole);
    CHECK(report.entries == 2);
  }
}

TEST_CASE_FIXTURE(Fixture, "multipart MO parts wait in the store, survive a reopen and expire") {
  const std::string key = "carrier|+15551234567|+18005550100";
  auto part = [&](std::uint8_t seq, std::string payload) {
    MoPart p;
    p.seq = seq;
    p.esm_class = 0x40;
    p.payload = std::move(payload);
    p.received_at_ms = clock.ms();
    p.expires_at_ms = clock.ms() + 600'000;
    return p;
  };
  REQUIRE_FALSE(commit([&](Batch& b) {
    b.put_mo_part(key, 0x2a, 3, part(2, "second"));
    b.put_mo_part(key, 0x2a, 3, part(1, "first"));
    b.put_mo_part(key, 0x2b, 3, part(1, "another message"));
    b.put_mo_part(key, 0x2a, 2, part(1, "same ref, other total"));
  }));
  reopen();
  std::vector<MoPart> seen;
  REQUIRE_FALSE(commit([&](Batch& b) {
    auto parts = b.mo_parts(key, 0x2a, 3);
    if (!parts) throw std::runtime_error("mo_parts failed");
    seen = *parts;
    b.put_mo_part(key, 0x2a, 3, part(3, "third"));
    auto staged = b.mo_parts(key, 0x2a, 3);  // what this mutation staged is seen
    if (!staged || staged->size() != 3) throw std::runtime_error("staged part not seen");
    b.remove_mo_parts(key, 0x2a, 3);
    auto after = b.mo_parts(key, 0x2a, 3);
    if (!after || !after->empty()) throw std::runtime_error("parts not removed");
  }));
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == part(1, "first"));  // in seq order
  CHECK(seen[1].payload == "second");
  // The other messages are untouched, until they expire.
  std::size_t others = 0, expired = 0;
  REQUIRE_FALSE(commit([&](Batch& b) {
    others = b.mo_parts(key, 0x2b, 3)->size() + b.mo_parts(key, 0x2a, 2)->size();
  }));
  clock.advance(600'001);
  REQUIRE_FALSE(commit([&](Batch& b) { expired = b.mo_parts(key, 0x2b, 3)->size(); }));
  CHECK(others == 2);
  CHECK(expired == 0);
  // A part numbered outside its message is a programming error: the mutation fails.
  CHECK(commit([&](Batch& b) { b.put_mo_part(key, 1, 2, part(3, "x")); }) ==
        StoreErrc::mutation_failed);
}

TEST_CASE_FIXTURE(Fixture, "consent records are sealed: an edited record is not trusted") {
  auto stop = sample_record(clock.ms());
  stop.state = ConsentState::opted_out;
  auto yes = sample_record(clock.ms());
  yes.state = ConsentState::opted_in;
  REQUIRE_FALSE(commit([&](Batch& b) {
    b.put_consent("acme", "+15551230001", stop);  // written before its audit entry
    auto entry = test::sample_audit("acme", "+15551230001", clock.ms());
    entry.new_state = "opted_out";
    b.append_audit(entry);
    b.put_consent("acme", "+15551230002", yes);
    auto other = test::sample_audit("acme", "+15551230002", clock.ms());
    other.new_state = "opted_in";
    b.append_audit(other);
  }));
  auto whole = store->verify_consents();
  CHECK(whole.records == 2);
  CHECK(whole.bad == 0);
  CHECK(whole.unsealed == 0);
  auto got = store->get_consent("acme", "+15551230001");
  REQUIRE(got);
  REQUIRE(got->has_value());
  CHECK((*got)->audit_seq == 1);

  // The fault campaign's edit: the state byte flipped to opted_in in place.
  store->close();
  store.reset();
  REQUIRE_FALSE(testing::tamper_consent_state(dir.db(), "acme", "+15551230001",
                                              ConsentState::opted_in, /*reseal=*/false));
  // A forger who recomputes the seal: only the audit history gives it away.
  REQUIRE_FALSE(testing::tamper_consent_state(dir.db(), "acme", "+15551230002",
                                              ConsentState::opted_out, /*reseal=*/true));
  open();
  auto flipped = store->get_consent("acme", "+15551230001");
  CHECK(flipped.error() == make_error_code(StoreErrc::corruption));  // never read as opted_in
  ConsentPair pair;
  CHECK(store->get_consent_pair("acme", "acme", "+15551230001", pair) ==
        make_error_code(StoreErrc::corruption));
  const auto report = store->verify_consents();
  CHECK(report.records == 2);
  CHECK(report.bad == 2);
  REQUIRE(report.problems.size() == 2);
  CHECK(report.problems[0].msisdn == "+15551230001");
  CHECK(report.problems[0].reason.find("seal") != std::string::npos);
  CHECK(report.problems[1].msisdn == "+15551230002");
  CHECK(report.problems[1].reason == "state opted_out but the audit history says opted_in (seq 2)");
}

TEST_CASE_FIXTURE(Fixture, "a store written by schema 1 is sealed at its first read-write open") {
  REQUIRE_FALSE(commit([&](Batch& b) { b.put_consent("acme", "+1555", sample_record(1)); }));
  store->close();
  store.reset();
  auto old = sample_record(2);
  old.state = ConsentState::opted_out;
  REQUIRE_FALSE(testing::write_v1_consent(dir.db(), "acme", "+15550009999", old));
  {
    // Read-only (audit verify next to an old daemon): the v1 record is reported, not trusted.
    auto o = options();
    o.read_only = true;
    auto reader = Store::open(o, clock);
    const auto report = reader->verify_consents();
    CHECK(report.unsealed == 1);
    CHECK(report.bad == 0);
    CHECK(reader->get_consent("acme", "+15550009999").error() ==
          make_error_code(StoreErrc::corruption));
  }
  open();
  auto got = store->get_consent("acme", "+15550009999");
  REQUIRE(got);
  REQUIRE(got->has_value());
  CHECK(**got == old);
  const auto report = store->verify_consents();
  CHECK(report.records == 2);
  CHECK(report.unsealed == 0);
  CHECK(report.bad == 0);
}
