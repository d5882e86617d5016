#pragma once
// Shared by the engine tests: a config with two tenants and four programs, fixed instants, and a
// store fixture that runs engine mutations synchronously and reads back records and audit.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "policy/engine.hpp"
#include "unit/store/store_fixture.hpp"

namespace smppguard::policy::test {

using namespace std::chrono;
using config::Category;
using config::OptInMode;
using store::ConsentLevel;
using store::ConsentRecord;
using store::ConsentSource;
using store::ConsentState;

inline TimePoint utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return TimePoint{sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s}};
}
inline std::int64_t ms(TimePoint t) { return to_unix_ms(t); }
inline constexpr std::int64_t kHour = 3'600'000;

/// 2026-01-15T15:00Z: 10:00 in New York, outside quiet hours everywhere in the US.
inline const TimePoint kDay = utc(2026, 1, 15, 15);
/// 2026-01-15T03:00Z: 22:00 in New York (quiet), 19:00 in Los Angeles (not quiet).
inline const TimePoint kNight = utc(2026, 1, 15, 3);

inline const std::string kSub = "+12125550123";  // area code 212: New York

/// Programs alpha, beta, gamma of tenant acme (alpha owns +18005550100 and short code 12345),
/// and zeta-one of tenant zeta; accounts app1 (acme) and app2 (zeta).
inline config::Config make_config() {
  config::Config c;
  c.node_id = "gw1";
  config::Account a1;
  a1.system_id = "app1";
  a1.password = "pw";
  a1.tenant = "acme";
  config::Account a2 = a1;
  a2.system_id = "app2";
  a2.tenant = "zeta";
  a2.default_category = Category::promotional;
  c.accounts = {a1, a2};
  auto program = [](std::string id, std::string tenant, std::vector<std::string> numbers) {
    config::Program p;
    p.id = id;
    p.tenant = std::move(tenant);
    p.name = "Prog " + id;
    p.numbers = std::move(numbers);
    p.help_contact = "help@" + id + ".example";
    return p;
  };
  auto alpha = program("alpha", "acme", {"+18005550100", "12345"});
  alpha.name = "Alpha";
  alpha.keywords.opt_out = {"ARRET"};
  alpha.keywords.join = {"SUPPORT"};
  c.programs = {alpha, program("beta", "acme", {"+18005550101"}),
                program("gamma", "acme", {"+18005550102"}),
                program("zeta-one", "zeta", {"+18005550199"})};
  c.build_index();
  return c;
}

inline ConsentRecord record(ConsentState state, ConsentLevel level = ConsentLevel::none,
                            std::int64_t last_mo_ms = 0) {
  ConsentRecord r;
  r.state = state;
  r.level = level;
  r.source = ConsentSource::api;
  r.created_at_ms = ms(kDay) - 100 * kHour;
  r.updated_at_ms = r.created_at_ms;
  r.last_mo_at_ms = last_mo_ms;
  return r;
}

/// A store in a temp directory plus the config; engine mutations run synchronously.
struct EngineFixture : store::test::Fixture {
  config::Config config = make_config();
  Programs programs{config};

  config::Program& program(std::string_view id) {
    for (auto& p : config.programs) {
      if (p.id == id) return p;
    }
    FAIL("no program " << id);
    return config.programs.front();
  }

  /// Runs `f(batch)` as one synced mutation and returns what it returned.
  template <typename F>
  auto run(F f) {
    decltype(f(std::declval<store::Batch&>())) out{};
    const auto ec = commit([&](store::Batch& b) { out = f(b); });
    REQUIRE_MESSAGE(!ec, ec.message());
    return out;
  }

  void put(std::string_view program_id, const std::string& msisdn, const ConsentRecord& r) {
    REQUIRE(!commit([&](store::Batch& b) { b.put_consent(program_id, msisdn, r); }));
  }
  void put_tenant(std::string_view tenant, const std::string& msisdn, const ConsentRecord& r) {
    REQUIRE(!commit([&](store::Batch& b) { b.put_tenant_consent(tenant, msisdn, r); }));
  }
  std::optional<ConsentRecord> get(std::string_view program_id, const std::string& msisdn) {
    auto r = store->get_consent(program_id, msisdn);
    REQUIRE(r.has_value());
    return *r;
  }
  /// The record, which must exist.
  ConsentRecord at(std::string_view program_id, const std::string& msisdn) {
    auto r = get(program_id, msisdn);
    REQUIRE_MESSAGE(r.has_value(), "no record for " << program_id);
    return *r;
  }
  ConsentRecord tenant_at(std::string_view tenant, const std::string& msisdn) {
    auto r = get_tenant(tenant, msisdn);
    REQUIRE_MESSAGE(r.has_value(), "no tenant record for " << tenant);
    return *r;
  }
  std::optional<ConsentRecord> get_tenant(std::string_view tenant, const std::string& msisdn) {
    store::ConsentPair pair;
    REQUIRE(!store->get_consent_pair("-", tenant, msisdn, pair));
    return pair.tenant;
  }
  store::ConsentPair pair(std::string_view program_id, const std::string& msisdn) {
    store::ConsentPair p;
    const auto* prog = config.find_program(program_id);
    REQUIRE(prog != nullptr);
    REQUIRE(!store->get_consent_pair(program_id, prog->tenant, msisdn, p));
    return p;
  }
  std::vector<store::AuditEntry> audit() {
    store::AuditQuery q;
    q.limit = 100000;
    auto r = store->audit(q);
    REQUIRE(r.has_value());
    return *r;
  }
  std::vector<store::HeldMessage> held(std::string_view program_id, const std::string& msisdn) {
    auto r = store->held_for(program_id, msisdn);
    REQUIRE(r.has_value());
    return *r;
  }
  void require_chain_whole() {
    const auto report = store->verify_audit();
    CHECK_MESSAGE(report.whole, report.reason);
  }
};

/// A held MT as the session would build it (the engine fills program, msisdn, times, reason).
inline store::HeldMessage held_mt(std::string proxy_id, std::string pdu = "pdu") {
  store::HeldMessage h;
  h.account = "app1";
  h.proxy_id = std::move(proxy_id);
  h.pdu = std::move(pdu);
  h.wants_receipt = true;
  return h;
}

}  // namespace smppguard::policy::test
