#pragma once
// Shared helpers for the store tests: a temp directory that removes itself, a settable clock,
// and a synchronous wrapper around Store::submit.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <memory>
#include <string>

#include "store/store.hpp"

namespace smppguard::store::test {

/// A fresh directory under $TMPDIR, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sgstoreXXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  /// The store directory inside (so that "created when missing" is exercised too).
  std::string db() const { return path_ + "/db"; }

 private:
  std::string path_;
};

/// A clock the test moves by hand.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t ms = 1'700'000'000'000) : ms_(ms) {}
  TimePoint now() const override { return from_unix_ms(ms_.load()); }
  std::int64_t ms() const { return ms_.load(); }
  void set(std::int64_t ms) { ms_.store(ms); }
  void advance(std::int64_t ms) { ms_.fetch_add(ms); }

 private:
  std::atomic<std::int64_t> ms_;
};

struct Fixture {
  TempDir dir;
  FakeClock clock;
  std::unique_ptr<Store> store;

  StoreOptions options() const {
    StoreOptions o;
    o.path = dir.db();
    o.node_id = "gw1";
    o.block_cache_bytes = 8u << 20;
    return o;
  }
  Fixture() { open(); }
  void open() { store = Store::open(options(), clock); }
  void open(const StoreOptions& o) { store = Store::open(o, clock); }
  void reopen() {
    store->close();
    store.reset();
    open();
  }

  /// Submits and waits for the completion; returns its error code.
  std::error_code commit(Mutation m, bool sync = true) {
    std::promise<std::error_code> done;
    auto f = done.get_future();
    store->submit(std::move(m), sync, [&](std::error_code ec) { done.set_value(ec); });
    return f.get();
  }
};

inline ConsentRecord sample_record(std::int64_t at_ms) {
  ConsentRecord r;
  r.state = ConsentState::opted_in;
  r.level = ConsentLevel::express_written;
  r.source = ConsentSource::web_form;
  r.evidence = {{"form_url", "https://example.com/join?x=1"},
                {"ip", "192.0.2.7"},
                {"text", "Reply STOP to opt out. Msg&data rates may apply."}};
  r.handset_confirmed = true;
  r.created_at_ms = at_ms - 5000;
  r.updated_at_ms = at_ms;
  r.last_mo_at_ms = at_ms - 100;
  r.opt_in_requested_at_ms = at_ms - 4000;
  r.opt_out_confirmed_at_ms = 0;
  r.last_reminder_at_ms = -1;  // negative times survive too
  r.disclaimer_sent_at_ms = at_ms - 3000;
  return r;
}

inline AuditEntry sample_audit(std::string program, std::string msisdn, std::int64_t at_ms) {
  AuditEntry e;
  e.time_ms = at_ms;
  e.program = std::move(program);
  e.msisdn = std::move(msisdn);
  e.event = "opted_out";
  e.old_state = "opted_in";
  e.new_state = "opted_out";
  e.source = "keyword";
  e.actor = "keyword:STOP:mo-17";
  e.evidence = {{"mo_id", "mo-17"}};
  e.mo_text = "Stop \"please\"\n\xc3\xa9";
  e.mo_normalized = "stop please e";
  e.keyword = "STOP";
  e.rule = "phrase";
  e.detail = "";
  return e;
}

}  // namespace smppguard::store::test
