// The writer: group commit, per-mutation isolation, completions, back-pressure, I/O errors.
#include <doctest/doctest.h>

#include <deque>
#include <future>
#include <stdexcept>
#include <thread>

#include "store/testing.hpp"
#include "store_fixture.hpp"

using namespace smppguard;
using namespace smppguard::store;
using smppguard::store::test::Fixture;
using smppguard::store::test::sample_audit;
using smppguard::store::test::sample_record;

namespace {

/// Holds the writer thread inside a mutation until released, so that what is submitted
/// meanwhile forms one group.
class WriterGate {
 public:
  explicit WriterGate(Store& store) {
    auto release = release_.get_future().share();
    store.submit(
        [this, release](Batch&) {
          entered_.set_value();
          release.wait();
        },
        false, {});
    entered_.get_future().wait();
  }
  void open() { release_.set_value(); }

 private:
  std::promise<void> entered_;
  std::promise<void> release_;
};

/// Increments last_mo_at_ms of (program, msisdn): a read-modify-write.
Mutation increment(std::string msisdn) {
  return [msisdn = std::move(msisdn)](Batch& b) {
    auto got = b.get_consent("acme", msisdn);
    if (!got) throw std::system_error(got.error());
    ConsentRecord r = got->value_or(ConsentRecord{});
    r.last_mo_at_ms += 1;
    b.put_consent("acme", msisdn, r);
  };
}

std::int64_t counter_of(Store& store, std::string_view msisdn) {
  auto got = store.get_consent("acme", msisdn);
  REQUIRE(got);
  return got->has_value() ? (*got)->last_mo_at_ms : 0;
}

}  // namespace

TEST_CASE_FIXTURE(Fixture, "mutations of one group see each other's writes") {
  const auto before = store->stats();
  WriterGate gate(*store);
  std::vector<std::future<std::error_code>> results;
  auto submit = [&](Mutation m) {
    auto p = std::make_shared<std::promise<std::error_code>>();
    results.push_back(p->get_future());
    store->submit(std::move(m), true, [p](std::error_code ec) { p->set_value(ec); });
  };
  submit(increment("+1555"));
  submit(increment("+1555"));
  std::int64_t seen_third = -1;
  submit([&](Batch& b) {
    auto got = b.get_consent("acme", "+1555");
    if (!got || !got->has_value()) throw std::runtime_error("not visible");
    seen_third = (*got)->last_mo_at_ms;
  });
  gate.open();
  for (auto& f : results) CHECK_FALSE(f.get());
  CHECK(seen_third == 2);
  CHECK(counter_of(*store, "+1555") == 2);
  const auto after = store->stats();
  // The three mutations shared one WriteBatch and one fsync (the gate's group wrote nothing).
  CHECK(after.groups_written - before.groups_written == 1);
  CHECK(after.synced_writes - before.synced_writes == 1);
  CHECK(after.mutations_committed - before.mutations_committed == 3 + 1);
}

TEST_CASE_FIXTURE(Fixture, "a throwing mutation is discarded alone") {
  WriterGate gate(*store);
  std::promise<std::error_code> a, b, c;
  store->submit(increment("+1555"), true, [&](std::error_code ec) { a.set_value(ec); });
  store->submit(
      [](Batch& batch) {
        batch.put_consent("acme", "+1666", sample_record(1));
        batch.append_audit(sample_audit("acme", "+1666", 1));
        batch.enqueue_delivery(DeliveryItem{0, "tenant:acme", DeliveryKind::mo, "x", 0, 0, 0, 0});
        throw std::runtime_error("policy bug");
      },
      true, [&](std::error_code ec) { b.set_value(ec); });
  store->submit(
      [](Batch& batch) {
        // Sees the first mutation's write, not the discarded one's.
        auto discarded = batch.get_consent("acme", "+1666");
        if (!discarded || discarded->has_value()) throw std::runtime_error("saw discarded write");
        batch.append_audit(sample_audit("acme", "+1555", 2));
      },
      true, [&](std::error_code ec) { c.set_value(ec); });
  gate.open();
  CHECK_FALSE(a.get_future().get());
  CHECK(b.get_future().get() == make_error_code(StoreErrc::mutation_failed));
  CHECK_FALSE(c.get_future().get());

  CHECK(counter_of(*store, "+1555") == 1);
  auto discarded = store->get_consent("acme", "+1666");
  REQUIRE(discarded);
  CHECK_FALSE(discarded->has_value());
  CHECK(store->queued_deliveries(DeliveryKind::mo) == 0);
  CHECK(store->stats().mutations_failed == 1);
  // The thrower's audit entry took no seq: the chain stays whole.
  auto entries = store->audit(AuditQuery{});
  REQUIRE(entries);
  REQUIRE(entries->size() == 1);
  CHECK((*entries)[0].seq == 1);
  CHECK((*entries)[0].msisdn == "+1555");
  CHECK(store->verify_audit().whole);
}

TEST_CASE_FIXTURE(Fixture, "close drains the queue; later submits fail closed, completion called") {
  WriterGate gate(*store);
  std::atomic<int> ok{0};
  for (int i = 0; i < 50; ++i) {
    store->submit(increment("+1555"), i % 2 == 0, [&](std::error_code ec) {
      if (!ec) ++ok;
    });
  }
  std::thread closer([&] { store->close(); });
  // Release the writer only after close() has begun: the queued work must still commit.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  gate.open();
  closer.join();
  CHECK(ok == 50);

  std::error_code late;
  bool called = false;
  store->submit(increment("+1555"), true, [&](std::error_code ec) {
    called = true;
    late = ec;
  });
  CHECK(called);  // promptly, before submit returned
  CHECK(late == make_error_code(StoreErrc::closed));

  open();
  CHECK(counter_of(*store, "+1555") == 50);
}

TEST_CASE_FIXTURE(Fixture, "a full writer queue refuses with busy") {
  auto o = options();
  o.max_pending_mutations = 3;
  store->close();
  open(o);
  WriterGate gate(*store);
  std::vector<std::error_code> codes(5);
  std::atomic<int> done{0};
  for (int i = 0; i < 5; ++i) {
    store->submit(increment("+1555"), false, [&, i](std::error_code ec) {
      codes[i] = ec;
      ++done;
    });
  }
  CHECK(done == 2);  // the two refused ones, inline
  CHECK(codes[3] == make_error_code(StoreErrc::busy));
  CHECK(codes[4] == make_error_code(StoreErrc::busy));
  gate.open();
  while (done < 5) std::this_thread::yield();
  CHECK_FALSE(codes[0]);
  CHECK(counter_of(*store, "+1555") == 3);
}

TEST_CASE_FIXTURE(Fixture, "concurrent read-modify-writes are atomic and group-committed") {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  const auto before = store->stats();
  std::atomic<int> completed{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      // Each submitter keeps a window of 8 outstanding writes, like a session's PDU window.
      std::deque<std::future<void>> window;
      for (int i = 0; i < kPerThread; ++i) {
        if (window.size() == 8) {
          window.front().wait();
          window.pop_front();
        }
        auto p = std::make_shared<std::promise<void>>();
        window.push_back(p->get_future());
        store->submit(increment("+1555"), true, [&, p](std::error_code ec) {
          if (ec) ++failed;
          ++completed;
          p->set_value();
        });
      }
      for (auto& f : window) f.wait();
    });
  }
  for (auto& t : threads) t.join();
  while (completed < kThreads * kPerThread) std::this_thread::yield();
  CHECK(failed == 0);
  CHECK(counter_of(*store, "+1555") == kThreads * kPerThread);
  const auto after = store->stats();
  const auto groups = after.groups_written - before.groups_written;
  const auto syncs = after.synced_writes - before.synced_writes;
  CHECK(after.mutations_committed - before.mutations_committed == kThreads * kPerThread);
  CHECK(groups < static_cast<std::uint64_t>(kThreads * kPerThread));
  CHECK(syncs == groups);
  MESSAGE("group commit: " << kThreads * kPerThread << " synced mutations in " << groups
                           << " WriteBatch writes (" << double(kThreads * kPerThread) / groups
                           << " mutations per fsync)");
}

TEST_CASE_FIXTURE(Fixture, "sync is only requested when a mutation asks and the store allows") {
  auto before = store->stats();
  REQUIRE_FALSE(commit(increment("+1"), false));
  REQUIRE_FALSE(commit(increment("+1"), true));
  auto after = store->stats();
  CHECK(after.groups_written - before.groups_written == 2);
  CHECK(after.synced_writes - before.synced_writes == 1);

  auto o = options();
  o.sync = false;
  store->close();
  open(o);
  before = store->stats();
  REQUIRE_FALSE(commit(increment("+1"), true));
  after = store->stats();
  CHECK(after.synced_writes - before.synced_writes == 0);
}

TEST_CASE_FIXTURE(Fixture, "a write error fails the group with io_error, then the store recovers") {
  auto faults = std::make_shared<testing::FaultSwitch>();
  auto o = options();
  o.faults = faults;
  store->close();
  open(o);
  REQUIRE_FALSE(commit([](Batch& b) { b.append_audit(sample_audit("acme", "+1555", 1)); }));
  CHECK(store->healthy());

  auto kind = testing::FaultSwitch::Kind::io_error;
  SUBCASE("EIO") { kind = testing::FaultSwitch::Kind::io_error; }
  SUBCASE("ENOSPC") { kind = testing::FaultSwitch::Kind::no_space; }
  faults->fail_writes(true, kind);
  CHECK(commit([](Batch& b) { b.append_audit(sample_audit("acme", "+1555", 2)); }) ==
        make_error_code(StoreErrc::io_error));
  CHECK_FALSE(store->healthy());
  CHECK(commit(increment("+1555")) == make_error_code(StoreErrc::io_error));
  CHECK_FALSE(store->healthy());
  CHECK(store->stats().write_errors >= 2);
  // Reads still answer while writes fail.
  auto read = store->get_consent("acme", "+1555");
  REQUIRE(read);
  CHECK_FALSE(read->has_value());

  faults->fail_writes(false);
  // Each group first calls DB::Resume(); after ENOSPC RocksDB also recovers by itself, and
  // answers "busy" while it does, so allow it a few seconds.
  std::uint64_t seq = 0;
  std::error_code ec;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    ec = commit([&](Batch& b) { seq = b.append_audit(sample_audit("acme", "+1555", 3)); });
    if (ec) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (ec && std::chrono::steady_clock::now() < deadline);
  REQUIRE_FALSE(ec);
  MESSAGE("recovered after " << 30 - std::chrono::duration_cast<std::chrono::milliseconds>(
                                         deadline - std::chrono::steady_clock::now())
                                             .count() /
                                         1000.0
                             << " s");
  CHECK(store->healthy());
  // The failed audit appends left no hole in the chain.
  CHECK(seq == 2);
  auto v = store->verify_audit();
  CHECK(v.whole);
  CHECK(v.entries == 2);

  store->close();
  open(o);
  v = store->verify_audit();
  CHECK(v.whole);
  CHECK(v.entries == 2);
}
