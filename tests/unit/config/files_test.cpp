// The shipped files load: conf/smppguard.yaml, conf/demo.yaml, and the shared reference.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "unit/config/config_test_support.hpp"

using namespace smppguard::config;
using namespace smppguard::config::test;
using namespace std::chrono_literals;

namespace {
const std::string kSourceDir = SMPPGUARD_SOURCE_DIR;
const std::string kDataDir = SMPPGUARD_CONFIG_TEST_DATA;

// The secrets the example files read from the environment.
void set_example_env() {
  for (const char* name : {"SMPPGUARD_CRM_TOKEN", "SMPPGUARD_OPS_TOKEN", "APP1_PASSWORD",
                           "CRM_PASSWORD", "CARRIER_A_PASSWORD", "CARRIER_B_PASSWORD"}) {
    ::setenv(name, (std::string("t") + std::to_string(std::string(name).size())).c_str(), 1);
  }
  ::setenv("SMPPGUARD_CRM_TOKEN", "crm-token-0123456789", 1);
  ::setenv("SMPPGUARD_OPS_TOKEN", "ops-token-0123456789", 1);
}
}  // namespace

TEST_CASE("the shared reference loads, and its default-bearing values are our defaults") {
  set_example_env();
  const auto check = check_config_file(kDataDir + "/config-reference.yaml");
  EXPECT_OK(check);
  CHECK(check.warnings.empty());
  const Config ref = load_config_file(kDataDir + "/config-reference.yaml");
  const Config dflt = Doc().load();

  CHECK(ref.node_id == "gw1");
  CHECK(ref.store.path == "/var/lib/smppguard");
  CHECK(ref.store.sync == dflt.store.sync);
  CHECK(ref.store.message_map_ttl == dflt.store.message_map_ttl);
  CHECK(ref.listen.smpp == ListenConfig{}.smpp);
  CHECK(ref.listen.http == ListenConfig{}.http);
  CHECK(ref.listen.bind_timeout == dflt.listen.bind_timeout);
  CHECK(ref.listen.max_pdu_size == dflt.listen.max_pdu_size);
  REQUIRE(ref.admin.tokens.size() == 1);
  CHECK(ref.admin.tokens[0] == AdminToken{"crm", "crm-token-0123456789"});

  REQUIRE(ref.accounts.size() == 1);
  const Account& ra = ref.accounts[0];
  const Account& da = dflt.accounts[0];
  CHECK(ra.password == std::string("t") + std::to_string(std::string("APP1_PASSWORD").size()));
  CHECK(ra.allowed_ips.size() == 1);
  CHECK(ra.max_binds == da.max_binds);
  CHECK(ra.throughput == da.throughput);
  CHECK(ra.default_category == da.default_category);
  CHECK(ra.window == da.window);
  CHECK(ra.refuse_with == da.refuse_with);

  REQUIRE(ref.upstreams.size() == 1);
  Upstream ru = ref.upstreams[0];
  const Upstream& du = dflt.upstreams[0];
  CHECK(ru.system_type == du.system_type);
  CHECK(ru.bind == du.bind);
  CHECK(ru.sessions == du.sessions);
  CHECK(ru.window == du.window);
  CHECK(ru.throughput == du.throughput);
  CHECK(ru.enquire_link == du.enquire_link);
  CHECK(ru.response_timeout == du.response_timeout);
  CHECK(ru.reconnect == du.reconnect);
  CHECK(ru.message_id_format == du.message_id_format);

  REQUIRE(ref.routes.size() == 2);
  CHECK(ref.routes[0] == Route{"+1", "carrier-a"});
  CHECK(ref.routes[1] == Route{"", "carrier-a"});

  CHECK(ref.defaults == Defaults{});

  REQUIRE(ref.programs.size() == 1);
  const Program& rp = ref.programs[0];
  const Program& dp = dflt.programs[0];
  CHECK(rp.numbers == std::vector<std::string>{"+18005550100", "12345"});
  CHECK(rp.opt_in_mode == dp.opt_in_mode);
  CHECK(rp.hold == dp.hold);
  CHECK(rp.hold_ttl == dp.hold_ttl);
  CHECK(rp.request_interval == dp.request_interval);
  CHECK(rp.implied_ttl == dp.implied_ttl);
  CHECK(rp.reminder_interval == dp.reminder_interval);
  CHECK(rp.stop_scope == dp.stop_scope);
  CHECK(rp.phrase_opt_out == dp.phrase_opt_out);
  CHECK(rp.mo_requires_consent == dp.mo_requires_consent);
  CHECK(rp.forward_keywords == dp.forward_keywords);
  CHECK(rp.timezone == dp.timezone);
  CHECK(rp.quiet_hours == dp.quiet_hours);
  CHECK(rp.frequency_cap == dp.frequency_cap);
  CHECK(rp.messages == dp.messages);
  CHECK(rp.keywords.opt_out == std::vector<std::string>{"ARRET"});
  CHECK(rp.keywords.join == std::vector<std::string>{"SUPPORT"});

  CHECK(ref.program_for_number("12345")->id == "acme-support");
  CHECK(ref.upstream_for("+15551234567")->name == "carrier-a");
}

TEST_CASE("conf/smppguard.yaml is valid and uses every section") {
  set_example_env();
  const auto check = check_config_file(kSourceDir + "/conf/smppguard.yaml");
  EXPECT_OK(check);
  CHECK_MESSAGE(check.warnings.empty(), dump(check.warnings));
  const Config c = load_config_file(kSourceDir + "/conf/smppguard.yaml");
  CHECK(c.node_id == "gw1");
  CHECK(c.admin.tokens.size() == 2);
  CHECK(c.accounts.size() == 2);
  CHECK(c.upstreams.size() == 2);
  CHECK(c.routes.size() == 3);
  CHECK(c.programs.size() == 2);
  CHECK(c.upstream_for("+447700900123")->name == "carrier-b");
  CHECK(c.upstream_for("+33612345678")->name == "carrier-a");
  CHECK(c.programs[0].frequency_cap.has_value());
  CHECK(c.programs[1].quiet_hours->action == QuietAction::hold);
  CHECK(c.programs[1].quiet_hours->end == 7h + 30min);
  // The documented defaults are the defaults.
  CHECK(c.programs[0].messages == Messages{});
  CHECK(c.defaults == Defaults{});
}

TEST_CASE("conf/smppguard.yaml without its environment names every missing variable") {
  ::unsetenv("CARRIER_B_PASSWORD");
  ::unsetenv("SMPPGUARD_OPS_TOKEN");
  const auto r = check_config_file(kSourceDir + "/conf/smppguard.yaml");
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].message == "environment variable SMPPGUARD_OPS_TOKEN is not set");
  CHECK(r.errors[0].key == "admin.tokens[1].token");
  CHECK(r.errors[1].message == "environment variable CARRIER_B_PASSWORD is not set");
  CHECK(r.errors[1].to_string().rfind(kSourceDir + "/conf/smppguard.yaml:", 0) == 0);
  set_example_env();
}

TEST_CASE("conf/demo.yaml is what `smppguard demo` expects") {
  std::vector<Diagnostic> warnings;
  const Config c = load_config_file(kSourceDir + "/conf/demo.yaml", &warnings);
  CHECK(warnings.empty());
  CHECK(c.node_id == "demo");
  CHECK(c.store.path.rfind("/tmp/", 0) == 0);
  CHECK(c.listen.smpp == HostPort{"127.0.0.1", 2775});
  CHECK(c.listen.http == HostPort{"127.0.0.1", 9775});
  REQUIRE(c.find_token("demo-token"));
  CHECK(c.find_token("demo-token")->name == "demo");
  const Account* a = c.find_account("demo");
  REQUIRE(a);
  CHECK(a->password == "demo");
  CHECK(a->tenant == "acme");
  const Upstream* sim = c.find_upstream("sim");
  REQUIRE(sim);
  CHECK(sim->host == "127.0.0.1");
  CHECK(sim->port == 2776);
  CHECK(sim->system_id == "smppguard");
  CHECK(sim->password == "sim");
  CHECK(c.upstream_for("+15551234567") == sim);
  const Program* alerts = c.program_for_number("+18005550100");
  REQUIRE(alerts);
  CHECK(alerts->id == "acme-alerts");
  CHECK(alerts->tenant == "acme");
  CHECK(alerts->opt_in_mode == OptInMode::strict);
  CHECK_FALSE(alerts->quiet_hours);
  const Program* promo = c.program_for_number("12345");
  REQUIRE(promo);
  CHECK(promo->id == "acme-promo");
  CHECK(promo->opt_in_mode == OptInMode::confirm);
  CHECK_FALSE(promo->quiet_hours);
}

TEST_CASE("unreadable files") {
  const std::string missing = kDataDir + "/does-not-exist.yaml";
  const auto r = check_config_file(missing);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 0);
  CHECK(r.errors[0].to_string() == missing + ": cannot read the file: No such file or directory");
  CHECK_THROWS_AS(load_config_file(missing), ConfigErrors);
}

TEST_CASE("damaged documents give diagnostics, never an escaped exception") {
  set_example_env();
  std::ifstream in(kSourceDir + "/conf/smppguard.yaml");
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  REQUIRE(lines.size() > 100);
  auto join = [](const std::vector<std::string>& ls) {
    std::string out;
    for (const auto& l : ls) out += l + "\n";
    return out;
  };
  std::size_t failing = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto without = lines;
    without.erase(without.begin() + static_cast<std::ptrdiff_t>(i));
    CheckResult r;
    CHECK_NOTHROW(r = check_config_string(join(without), "cut.yaml"));
    failing += r.ok() ? 0 : 1;
    auto truncated = lines;
    truncated.resize(i);
    CHECK_NOTHROW(r = check_config_string(join(truncated), "cut.yaml"));
    for (const auto& e : r.errors) CHECK(e.line <= static_cast<int>(i) + 1);
  }
  CHECK(failing > 20);  // removing a required line is noticed

  for (const char* doc : {"hello", "- a\n- b", "[1, 2", "{}", "~", "node_id: [a]\nstore: 1",
                          "programs: {a: 1}", "accounts: [[1]]", "? [a, b]\n: c", "\t x"}) {
    CheckResult r;
    CHECK_NOTHROW(r = check_config_string(doc, "odd.yaml"));
    CHECK_FALSE(r.ok());
  }
}
