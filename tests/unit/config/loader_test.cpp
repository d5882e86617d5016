// The YAML loader: defaults, every error path (exact file:line: key and message), ${ENV}.
#include <doctest/doctest.h>

#include <cstdlib>

#include "unit/config/config_test_support.hpp"

using namespace smppguard::config;
using namespace smppguard::config::test;
using namespace std::chrono_literals;

namespace {
// Sets an environment variable for the life of the object.
class EnvVar {
 public:
  EnvVar(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~EnvVar() { ::unsetenv(name_); }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  const char* name_;
};
}  // namespace

TEST_CASE("the minimal config loads and everything else has the reference defaults") {
  std::vector<Diagnostic> warnings;
  const Config c = Doc().load(&warnings);
  CHECK(warnings.empty());
  CHECK(c.node_id == "t1");
  CHECK(c.store.path == "/tmp/sg-config-test");
  CHECK(c.store.sync == true);
  CHECK(c.store.message_map_ttl == 72h);
  CHECK(c.listen.smpp == HostPort{"127.0.0.1", 0});
  CHECK(c.listen.http == HostPort{"127.0.0.1", 0});
  CHECK(c.listen.bind_timeout == 10s);
  CHECK(c.listen.max_pdu_size == 65536);
  CHECK(c.admin.tokens.empty());
  CHECK(c.log.level == smppguard::log::Level::info);

  REQUIRE(c.accounts.size() == 1);
  const Account& a = c.accounts[0];
  CHECK(a.system_id == "app1");
  CHECK(a.password == "secret");
  CHECK(a.tenant == "acme");
  CHECK(a.allowed_ips.empty());
  CHECK(a.max_binds == 4);
  CHECK(a.throughput == 200);
  CHECK(a.default_category == Category::informational);
  CHECK(a.window == 64);
  CHECK(a.refuse_with == RefuseWith::response);

  REQUIRE(c.upstreams.size() == 1);
  const Upstream& u = c.upstreams[0];
  CHECK(u.name == "up1");
  CHECK(u.host == "127.0.0.1");
  CHECK(u.port == 2776);
  CHECK(u.system_id == "proxy");
  CHECK(u.password == "");
  CHECK(u.system_type == "");
  CHECK(u.bind == BindMode::transceiver);
  CHECK(u.sessions == 2);
  CHECK(u.window == 64);
  CHECK(u.throughput == 500);
  CHECK(u.enquire_link == 30s);
  CHECK(u.response_timeout == 10s);
  CHECK(u.reconnect.min == 500ms);
  CHECK(u.reconnect.max == 30s);
  CHECK(u.message_id_format == MessageIdFormat::as_is);

  REQUIRE(c.routes.size() == 1);
  CHECK(c.routes[0] == Route{"", "up1"});

  CHECK(c.defaults.default_country == "US");
  CHECK(c.defaults.category_by_service_type ==
        std::map<std::string, Category, std::less<>>{{"CONV", Category::conversational},
                                                     {"INFO", Category::informational},
                                                     {"PROMO", Category::promotional}});
  CHECK(c.defaults.statuses.opted_out == 0x400);
  CHECK(c.defaults.statuses.no_consent == 0x401);
  CHECK(c.defaults.statuses.quiet_hours == 0x402);
  CHECK(c.defaults.statuses.consent_level == 0x403);
  CHECK(c.defaults.statuses.frequency_cap == 0x404);
  CHECK(c.defaults.statuses.store_unavailable == 0x406);

  REQUIRE(c.programs.size() == 1);
  const Program& p = c.programs[0];
  CHECK(p.id == "prog1");
  CHECK(p.name == "prog1");  // defaults to the id
  CHECK(p.tenant == "acme");
  CHECK(p.numbers == std::vector<std::string>{"+18005550100"});
  CHECK(p.opt_in_mode == OptInMode::confirm);
  CHECK(p.hold == true);
  CHECK(p.hold_ttl == 72h);
  CHECK(p.request_interval == 24h);
  CHECK(p.implied_ttl == 24h);
  CHECK(p.reminder_interval == 24h);
  CHECK(p.stop_scope == StopScope::program);
  CHECK(p.phrase_opt_out == true);
  CHECK(p.mo_requires_consent == false);
  CHECK(p.forward_keywords == true);
  CHECK(p.timezone == "America/New_York");
  REQUIRE(p.quiet_hours);
  CHECK(p.quiet_hours->start == 21h);
  CHECK(p.quiet_hours->end == 8h);
  CHECK(p.quiet_hours->action == QuietAction::reject);
  CHECK_FALSE(p.frequency_cap);
  CHECK(p.keywords == Keywords{});
  CHECK(p.messages.help ==
        "{program}: help at {help_contact}. Msg&data rates may apply. Reply STOP to cancel.");
  CHECK(p.messages.still_opted_out ==
        "{program}: you are unsubscribed. Reply START to resubscribe.");
  CHECK(p.help_contact == "help@example.com");

  // lookups are ready after a load
  CHECK(c.program_for_number("+18005550100") == &c.programs[0]);
  CHECK(c.find_account("app1") == &c.accounts[0]);
  CHECK(c.upstream_for("+15551234567") == &c.upstreams[0]);
}

TEST_CASE("YAML syntax errors carry their line") {
  const auto r = Doc().set(17, "  - { prefix: \"\", upstream: up1").check();
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].key.empty());
  CHECK(r.errors[0].message.find("YAML syntax error") != std::string::npos);
  CHECK(r.errors[0].line >= 17);
  CHECK(r.errors[0].line <= 19);  // the parser notices at the next key

  const auto r2 = check_config_string("a: 1\n  b: 2\n", "test.yaml");
  EXPECT_ERROR(r2, 2, "", "YAML syntax error: illegal map value");

  const auto r3 = Doc().add({"---", "node_id: again"}).check();
  EXPECT_ERROR(r3, 24, "", "only one YAML document");
}

TEST_CASE("unknown keys anywhere are errors naming the key, with a suggestion") {
  const auto r =
      Doc()
          .set(1, "nodeid: t1")
          .set(3, "  path: /tmp/x\n  synk: true")  // lines 3-4, the rest moves down
          .add({"    opt_in_mod: strict", "    quiet_hours: { start: \"21:00\", ends: \"08:00\" }",
                "logging: { level: info }"})
          .check();
  EXPECT_ERROR(r, 1, "nodeid", "unknown key (did you mean \"node_id\"?)");
  EXPECT_ERROR(r, 1, "node_id", "missing required key");
  EXPECT_ERROR(r, 4, "store.synk", "unknown key (did you mean \"sync\"?)");
  EXPECT_ERROR(r, 24, "programs[0].opt_in_mod", "unknown key (did you mean \"opt_in_mode\"?)");
  EXPECT_ERROR(r, 25, "programs[0].quiet_hours.ends", "unknown key (did you mean \"end\"?)");
  EXPECT_ERROR(r, 26, "logging", "unknown key");
  CHECK(r.errors.size() == 6);
  // sorted by line
  for (std::size_t i = 1; i < r.errors.size(); ++i) {
    CHECK(r.errors[i - 1].line <= r.errors[i].line);
  }

  const auto far = Doc().add({"    colour: red"}).check();
  REQUIRE(far.errors.size() == 1);
  CHECK(far.errors[0].message == "unknown key");
}

TEST_CASE("duplicate keys are errors; anchors work, merge keys do not") {
  const auto r = Doc().add({"    tenant: other"}).check();
  EXPECT_ERROR(r, 23, "programs[0].tenant", "duplicate key");

  const Config c = Doc()
                       .set(22, "    help_contact: &contact help@example.com")
                       .add({"  - { id: prog2, tenant: acme, numbers: [\"55555\"], help_contact: "
                             "*contact }"})
                       .load();
  CHECK(c.programs[1].help_contact == "help@example.com");
  EXPECT_ERROR(
      Doc()
          .set(17, "  - &r { prefix: \"+1\", upstream: up1 }\n  - { <<: *r, prefix: \"\" }")
          .check(),
      18, "routes[1].<<", "YAML merge keys are not supported");
}

TEST_CASE("all errors are reported at once, and load throws them together") {
  const Doc doc = Doc()
                      .set(1, "node_id: \"\"")
                      .set(5, "  smpp: 127.0.0.1:70000")
                      .set(9, "    password: waytoolong")
                      .set(14, "    port: 0")
                      .add({"    opt_in_mode: stict"});
  const auto r = doc.check();
  CHECK(r.errors.size() == 5);
  try {
    (void)doc.load();
    FAIL("no exception");
  } catch (const ConfigErrors& e) {
    CHECK(e.errors() == r.errors);
    const std::string what = e.what();
    CHECK(what.find("test.yaml:1: node_id: must be 1 to 16 characters") == 0);
    CHECK(what.find("\ntest.yaml:5: listen.smpp: bad address \"127.0.0.1:70000\": the port must "
                    "be a number from 0 to 65535") != std::string::npos);
    CHECK(what.find("\ntest.yaml:23: programs[0].opt_in_mode: bad value \"stict\": expected "
                    "strict, confirm or disclaimer (did you mean \"strict\"?)") !=
          std::string::npos);
  }
}

TEST_CASE("required keys") {
  EXPECT_ERROR(Doc().drop(1).check(), 1, "node_id", "missing required key");
  EXPECT_ERROR(Doc().set(2, "store: {}").drop(3).check(), 2, "store.path", "missing required key");
  EXPECT_ERROR(Doc().drop(3).check(), 2, "store", "expected a map (key: value), got nothing");
  EXPECT_ERROR(Doc().drop(6).check(), 4, "listen.http", "missing required key");
  EXPECT_ERROR(Doc().set(7, "accounts: []").drop(10).drop(9).drop(8).check(), 7, "accounts",
               "at least one account is required");
  EXPECT_ERROR(Doc().set(16, "routes: []").drop(17).check(), 16, "routes",
               "at least one route is required");
  EXPECT_ERROR(Doc().set(21, "    numbers: []").check(), 21, "programs[0].numbers",
               "at least one number is required");
  EXPECT_ERROR(Doc().drop(21).check(), 19, "programs[0].numbers", "missing required key");
  EXPECT_ERROR(Doc().drop(10).check(), 8, "accounts[0].tenant", "missing required key");
  EXPECT_ERROR(Doc().drop(15).check(), 12, "upstreams[0].system_id", "missing required key");
  // The default help template uses {help_contact}.
  EXPECT_ERROR(Doc().drop(22).check(), 19, "programs[0].help_contact", "missing required key");
  EXPECT_ERROR(Doc().set(22, "    help_contact: \"\"").check(), 22, "programs[0].help_contact",
               "empty, but a template uses {help_contact}");
  // ... and is not needed once no template uses it
  EXPECT_OK(
      Doc()
          .drop(22)
          .add({"    messages:", "      help: \"{program}: call 555-0100. Reply STOP to cancel.\""})
          .check());

  const auto empty = check_config_string("", "test.yaml");
  for (const char* key :
       {"node_id", "store", "listen", "accounts", "upstreams", "routes", "programs"}) {
    EXPECT_ERROR(empty, 1, key, "missing required key");
  }
  CHECK(empty.errors.size() == 7);
}

TEST_CASE("wrong types") {
  const auto r = Doc()
                     .set(2, "store: [/tmp/x]")
                     .set(3, "# gone")
                     .set(9, "    password: { nested: map }")
                     .add({"    hold: maybe", "    numbers2: 1", "    phrase_opt_out: [true]"})
                     .check();
  EXPECT_ERROR(r, 2, "store", "expected a map (key: value), got a list");
  EXPECT_ERROR(r, 9, "accounts[0].password", "expected a string, got a map");
  EXPECT_ERROR(r, 23, "programs[0].hold", "expected true or false, got \"maybe\"");
  EXPECT_ERROR(r, 25, "programs[0].phrase_opt_out", "expected true or false, got a list");

  EXPECT_ERROR(Doc().set(21, "    numbers: \"+18005550100\"").check(), 21, "programs[0].numbers",
               "expected a list, got \"+18005550100\"");
  EXPECT_ERROR(Doc().add({"    hold:"}).check(), 23, "programs[0].hold",
               "expected true or false, got nothing");
  EXPECT_ERROR(Doc().set(10, "    tenant: acme\n    max_binds: many").check(), 11,
               "accounts[0].max_binds", "expected a whole number from 1 to 1000, got \"many\"");
  EXPECT_ERROR(Doc().set(10, "    tenant: acme\n    max_binds: 0").check(), 11,
               "accounts[0].max_binds", "must be from 1 to 1000, got 0");
  EXPECT_ERROR(Doc().set(10, "    tenant: acme\n    window: -1").check(), 11, "accounts[0].window",
               "expected a whole number");
  EXPECT_ERROR(Doc().set(17, "  - up1").check(), 17, "routes[0]", "expected a map");
  EXPECT_OK(Doc().add({"    hold: no", "    forward_keywords: FALSE"}).check());
}

TEST_CASE("durations") {
  const auto r = Doc()
                     .set(3, "  path: /tmp/x\n  message_map_ttl: 3 days")  // line 4
                     .set(6, "  http: 127.0.0.1:0\n  bind_timeout: 0s")    // line 8
                     .add({"    hold_ttl: 72", "    implied_ttl: 0s", "    request_interval: 1w",
                           "    reminder_interval: 9999999999d"})
                     .check();
  EXPECT_ERROR(r, 4, "store.message_map_ttl",
               "bad duration \"3 days\": use a number and a unit: 500ms, 30s, 5m, 24h, 7d");
  EXPECT_ERROR(r, 8, "listen.bind_timeout", "must be greater than 0");
  EXPECT_ERROR(r, 25, "programs[0].hold_ttl", "bad duration \"72\"");
  EXPECT_ERROR(r, 27, "programs[0].request_interval", "bad duration \"1w\"");
  EXPECT_ERROR(r, 28, "programs[0].reminder_interval", "bad duration");
  CHECK(r.errors.size() == 5);  // implied_ttl: 0s turns implied consent off, which is allowed

  const Config c =
      Doc()
          .set(15,
               "    system_id: proxy\n    enquire_link: 45s\n    reconnect: { min: 1s, max: 2m }")
          .add({"    hold_ttl: 7d", "    implied_ttl: 0s"})
          .load();
  CHECK(c.upstreams[0].enquire_link == 45s);
  CHECK(c.upstreams[0].reconnect.min == 1s);
  CHECK(c.upstreams[0].reconnect.max == 2min);
  CHECK(c.programs[0].hold_ttl == 168h);
  CHECK(c.programs[0].implied_ttl == 0ms);

  EXPECT_ERROR(Doc().set(15, "    system_id: proxy\n    reconnect: { min: 1m, max: 30s }").check(),
               16, "upstreams[0].reconnect.max", "must not be less than min (1m)");
}

TEST_CASE("enums") {
  const auto r =
      Doc()
          .set(10, "    tenant: acme\n    default_category: promo\n    refuse_with: receit")
          .set(15, "    system_id: proxy\n    bind: trx\n    message_id_format: HEX")
          .add({"    stop_scope: tenants", "    quiet_hours: { action: drop }"})
          .check();
  EXPECT_ERROR(r, 11, "accounts[0].default_category",
               "bad value \"promo\": expected conversational, informational or promotional");
  EXPECT_ERROR(r, 12, "accounts[0].refuse_with",
               "expected response or receipt (did you mean \"receipt\"?)");
  EXPECT_ERROR(r, 18, "upstreams[0].bind", "expected transceiver or transmitter_receiver");
  EXPECT_ERROR(r, 19, "upstreams[0].message_id_format",
               "expected as_is, hex or decimal (did you mean \"hex\"?)");
  EXPECT_ERROR(r, 27, "programs[0].stop_scope", "(did you mean \"tenant\"?)");
  EXPECT_ERROR(r, 28, "programs[0].quiet_hours.action", "expected reject or hold");

  const Config c =
      Doc()
          .set(10, "    tenant: acme\n    default_category: promotional\n    refuse_with: receipt")
          .set(15,
               "    system_id: proxy\n    bind: transmitter_receiver\n    message_id_format: "
               "decimal")
          .add({"    stop_scope: tenant", "    opt_in_mode: disclaimer"})
          .load();
  CHECK(c.accounts[0].default_category == Category::promotional);
  CHECK(c.accounts[0].refuse_with == RefuseWith::receipt);
  CHECK(c.upstreams[0].bind == BindMode::transmitter_receiver);
  CHECK(c.upstreams[0].message_id_format == MessageIdFormat::decimal);
  CHECK(c.programs[0].stop_scope == StopScope::tenant);
  CHECK(c.programs[0].opt_in_mode == OptInMode::disclaimer);

  EXPECT_ERROR(Doc().add({"log: { level: verbose }"}).check(), 23, "log.level",
               "bad value \"verbose\": expected debug, info, warn, error or off");
  CHECK(Doc().add({"log: { level: debug }"}).load().log.level == smppguard::log::Level::debug);
}

TEST_CASE("allowed_ips are CIDRs") {
  const auto r = Doc()
                     .set(10,
                          "    tenant: acme\n    allowed_ips: [10.0.0.0/33, 10.0.0.1/8, nonsense, "
                          "\"::/129\", [1]]")
                     .check();
  EXPECT_ERROR(r, 11, "accounts[0].allowed_ips[0]",
               "bad CIDR \"10.0.0.0/33\": mask /33 is longer than /32");
  EXPECT_ERROR(r, 11, "accounts[0].allowed_ips[1]",
               "bad CIDR \"10.0.0.1/8\": host bits are set; the network is 10.0.0.0/8");
  EXPECT_ERROR(r, 11, "accounts[0].allowed_ips[2]", "bad CIDR \"nonsense\": bad IP address");
  EXPECT_ERROR(r, 11, "accounts[0].allowed_ips[3]", "mask /129 is longer than /128");
  EXPECT_ERROR(r, 11, "accounts[0].allowed_ips[4]", "expected a CIDR, got a list");
  CHECK(r.errors.size() == 5);

  const Config c = Doc()
                       .set(10,
                            "    tenant: acme\n    allowed_ips:\n      - 127.0.0.1/32\n      - "
                            "\"2001:db8::/32\"\n      - 192.0.2.9")
                       .load();
  REQUIRE(c.accounts[0].allowed_ips.size() == 3);
  CHECK(c.accounts[0].ip_allowed("127.0.0.1"));
  CHECK(c.accounts[0].ip_allowed("2001:db8::1"));
  CHECK(c.accounts[0].ip_allowed("192.0.2.9"));
  CHECK_FALSE(c.accounts[0].ip_allowed("192.0.2.10"));
}

TEST_CASE("statuses accept hex and decimal; ROK and retryable codes are refused") {
  const Config c =
      Doc()
          .add({"defaults:", "  statuses:", "    opted_out: 0x00000410", "    no_consent: 1042",
                "    quiet_hours: 0X4ff", "    store_unavailable: 0x14"})
          .load();
  CHECK(c.defaults.statuses.opted_out == 0x410);
  CHECK(c.defaults.statuses.no_consent == 1042);
  CHECK(c.defaults.statuses.quiet_hours == 0x4ff);
  CHECK(c.defaults.statuses.consent_level == 0x403);     // untouched default
  CHECK(c.defaults.statuses.store_unavailable == 0x14);  // retryable on purpose is allowed here

  const auto r =
      Doc()
          .add({"defaults:", "  statuses:", "    opted_out: 0xZZ", "    no_consent: 0x100000000",
                "    quiet_hours: 4294967296", "    consent_level: 0", "    frequency_cap: 0x58",
                "    store_unavailable: -1", "    refused: 0x400"})
          .check();
  EXPECT_ERROR(r, 25, "defaults.statuses.opted_out",
               "bad status \"0xZZ\": expected hex (0x00000400) or decimal (1024)");
  EXPECT_ERROR(r, 26, "defaults.statuses.no_consent", "bad status \"0x100000000\"");
  EXPECT_ERROR(r, 27, "defaults.statuses.quiet_hours", "bad status \"4294967296\"");
  EXPECT_ERROR(r, 28, "defaults.statuses.consent_level", "0 is ESME_ROK");
  EXPECT_ERROR(r, 29, "defaults.statuses.frequency_cap",
               "0x00000058 (ESME_RTHROTTLED) is a retryable status");
  EXPECT_ERROR(r, 30, "defaults.statuses.store_unavailable", "bad status \"-1\"");
  EXPECT_ERROR(r, 31, "defaults.statuses.refused", "unknown key");
  CHECK(r.errors.size() == 7);
}

TEST_CASE("addresses and ports") {
  EXPECT_ERROR(Doc().set(5, "  smpp: 127.0.0.1:65536").check(), 5, "listen.smpp",
               "bad address \"127.0.0.1:65536\": the port must be a number from 0 to 65535");
  EXPECT_ERROR(Doc().set(5, "  smpp: 2775").check(), 5, "listen.smpp", "expected host:port");
  EXPECT_ERROR(Doc().set(5, "  smpp: \"::1:2775\"").check(), 5, "listen.smpp", "brackets");
  EXPECT_ERROR(Doc().set(5, "  smpp: 127.0.0.1:9775").set(6, "  http: 127.0.0.1:9775").check(), 6,
               "listen.http", "same address as listen.smpp");
  EXPECT_ERROR(Doc().set(14, "    port: 0").check(), 14, "upstreams[0].port",
               "must be from 1 to 65535, got 0");
  EXPECT_ERROR(Doc().set(14, "    port: 65536").check(), 14, "upstreams[0].port",
               "must be from 1 to 65535");
  EXPECT_ERROR(Doc().set(13, "    host: \"[::1]\"").check(), 13, "upstreams[0].host", "bad host");
  EXPECT_ERROR(Doc().set(6, "  http: 127.0.0.1:0\n  max_pdu_size: 100").check(), 7,
               "listen.max_pdu_size", "must be from 512 to 16777216");

  const Config c = Doc().set(5, "  smpp: \"[::]:2775\"").set(6, "  http: localhost:65535").load();
  CHECK(c.listen.smpp == HostPort{"::", 2775});
  CHECK(c.listen.http == HostPort{"localhost", 65535});
}

TEST_CASE("sender numbers: E.164 or short codes, each in one program") {
  const auto r = Doc()
                     .set(21,
                          "    numbers: [\"+0123456\", \"18005550100\", \"12\", \"123456789\", "
                          "\"+1800555\"]")
                     .check();
  EXPECT_ERROR(r, 21, "programs[0].numbers[0]",
               "\"+0123456\" is neither E.164 (+[1-9][0-9]{6,14}, with the +) nor a short code "
               "(3 to 8 digits)");
  EXPECT_ERROR(r, 21, "programs[0].numbers[1]", "\"18005550100\" is neither E.164");
  EXPECT_ERROR(r, 21, "programs[0].numbers[2]", "\"12\" is neither");
  EXPECT_ERROR(r, 21, "programs[0].numbers[3]", "\"123456789\" is neither");
  CHECK(r.errors.size() == 4);  // +1800555 (7 digits) is valid E.164

  const auto dup =
      Doc()
          .set(21, "    numbers: [\"+18005550100\", \"12345\", \"12345\"]")
          .add({"  - id: prog2", "    tenant: acme", "    numbers:", "      - \"55555\"",
                "      - \"+18005550100\"", "    help_contact: x"})
          .check();
  EXPECT_ERROR(dup, 21, "programs[0].numbers[2]", "number \"12345\" is listed twice");
  EXPECT_ERROR(dup, 27, "programs[1].numbers[1]",
               "number \"+18005550100\" already belongs to programs[0] (prog1); each number "
               "belongs to one program");
  CHECK(dup.errors.size() == 2);

  // unquoted numbers are plain YAML scalars and read as the same strings
  const Config c = Doc().set(21, "    numbers: [+18005550100, 12345, 00123]").load();
  CHECK(c.programs[0].numbers == std::vector<std::string>{"+18005550100", "12345", "00123"});
  CHECK(c.program_for_number("00123") == &c.programs[0]);
}

TEST_CASE("duplicate identities") {
  const auto r =
      Doc()
          .set(10, "    tenant: acme\n  - system_id: app1\n    password: x\n    tenant: acme")
          // accounts[1] on lines 11-13; the rest moves down by 3
          .set(15,
               "    system_id: proxy\n  - name: up1\n    host: h\n    port: 1\n    system_id: s")
          // upstreams[1] on lines 19-22; the rest moves down by 7
          .add({"  - id: prog1", "    tenant: acme", "    numbers: [\"55555\"]",
                "    help_contact: x", "admin:", "  tokens:", "    - { name: crm, token: abc }",
                "    - { name: crm, token: abc }"})
          .check();
  EXPECT_ERROR(r, 11, "accounts[1].system_id", "duplicate system_id \"app1\" (also accounts[0])");
  EXPECT_ERROR(r, 19, "upstreams[1].name", "duplicate upstream name \"up1\" (also upstreams[0])");
  EXPECT_ERROR(r, 30, "programs[1].id", "duplicate program id \"prog1\" (also programs[0])");
  EXPECT_ERROR(r, 37, "admin.tokens[1].name",
               "duplicate token name \"crm\" (also admin.tokens[0])");
  EXPECT_ERROR(r, 37, "admin.tokens[1].token", "same token as admin.tokens[0]");
  CHECK(r.errors.size() == 5);
}

TEST_CASE("routes name known upstreams and are all reachable") {
  EXPECT_ERROR(Doc().set(17, "  - { prefix: \"\", upstream: up2 }").check(), 17,
               "routes[0].upstream", "unknown upstream \"up2\" (did you mean \"up1\"?)");
  EXPECT_ERROR(Doc().set(17, "  - { prefix: \"\", upstream: carrier-z }").check(), 17,
               "routes[0].upstream", "unknown upstream \"carrier-z\" (defined: up1)");
  const auto r =
      Doc()
          .set(17,
               "  - { prefix: \"+1\", upstream: up1 }\n  - { prefix: \"\", upstream: up1 }\n"
               "  - { prefix: \"+44\", upstream: up1 }\n  - { prefix: \"1\", upstream: up1 }\n"
               "  - { prefix: \"+15\", upstream: up1 }")
          .check();
  EXPECT_ERROR(r, 19, "routes[2].prefix",
               "this route never matches: routes[1] (prefix \"\") comes first");
  EXPECT_ERROR(r, 20, "routes[3].prefix",
               "bad prefix \"1\": expected \"\" (every destination) or + and up to 15 digits");
  EXPECT_ERROR(r, 21, "routes[4].prefix", "routes[0] (prefix \"+1\")");
  CHECK(r.errors.size() == 3);

  const Config c =
      Doc()
          .set(15, "    system_id: proxy\n  - { name: up2, host: h, port: 1, system_id: s }")
          .set(17,
               "  - { prefix: \"+1555\", upstream: up2 }\n  - { prefix: \"+1\", upstream: up1 }\n"
               "  - { prefix: \"\", upstream: up2 }")
          .load();
  CHECK(c.upstream_for("+15551230000")->name == "up2");
  CHECK(c.upstream_for("+12125550100")->name == "up1");
  CHECK(c.upstream_for("+447700900000")->name == "up2");
}

TEST_CASE("SMPP field limits and node_id") {
  const auto r =
      Doc()
          .set(8, "  - system_id: abcdefghijklmnop")
          .set(9, "    password: 123456789")
          .set(15, "    system_id: proxy\n    password: \"\"\n    system_type: ABCDEFGHIJKLM")
          .check();
  EXPECT_ERROR(r, 8, "accounts[0].system_id",
               "\"abcdefghijklmnop\" is 16 characters; SMPP allows at most 15");
  EXPECT_ERROR(r, 9, "accounts[0].password", "is 9 characters; SMPP allows at most 8");
  EXPECT_ERROR(r, 17, "upstreams[0].system_type", "SMPP allows at most 12");
  CHECK(r.errors.size() == 3);  // an empty upstream password is allowed
  for (const auto& e : r.errors) CHECK(e.message.find("123456789") == std::string::npos);

  EXPECT_ERROR(Doc().set(9, "    password: \"\"").check(), 9, "accounts[0].password",
               "must not be empty");
  EXPECT_OK(
      Doc().set(8, "  - system_id: abcdefghijklmno").set(9, "    password: 12345678").check());

  EXPECT_ERROR(Doc().set(1, "node_id: \"\"").check(), 1, "node_id",
               "must be 1 to 16 characters of A-Z a-z 0-9 _ -, got \"\"");
  EXPECT_ERROR(Doc().set(1, "node_id: abcdefghijklmnopq").check(), 1, "node_id",
               "must be 1 to 16 characters");
  EXPECT_ERROR(Doc().set(1, "node_id: gw 1").check(), 1, "node_id", "got \"gw 1\"");
  EXPECT_ERROR(Doc().set(1, "node_id: gw.1").check(), 1, "node_id", "must be 1 to 16");
  EXPECT_OK(Doc().set(1, "node_id: GW_east-16chars1").check());
}

TEST_CASE("a program whose tenant has no account is a warning, not an error") {
  const auto r = Doc().set(20, "    tenant: globex").check();
  EXPECT_OK(r);
  EXPECT_WARNING(r, 20, "programs[0].tenant", "no account has tenant \"globex\"");
  CHECK(r.warnings[0].to_string().find("test.yaml:20: programs[0].tenant: warning: ") == 0);
  std::vector<Diagnostic> warnings;
  const Config c = Doc().set(20, "    tenant: globex").load(&warnings);
  CHECK(warnings.size() == 1);
  CHECK(c.programs[0].tenant == "globex");
}

TEST_CASE("time zones must exist under the zoneinfo directory") {
  EXPECT_ERROR(Doc().add({"    timezone: Mars/Olympus_Mons"}).check(), 23, "programs[0].timezone",
               "unknown time zone \"Mars/Olympus_Mons\"");
  EXPECT_ERROR(Doc().add({"    timezone: ../../etc/passwd"}).check(), 23, "programs[0].timezone",
               "unknown time zone");
  EXPECT_ERROR(Doc().add({"    timezone: America"}).check(), 23, "programs[0].timezone",
               "unknown time zone");  // a directory, not a zone
  CHECK(Doc().add({"    timezone: Europe/Paris"}).load().programs[0].timezone == "Europe/Paris");
  CHECK(Doc().add({"    timezone: UTC"}).load().programs[0].timezone == "UTC");
}

TEST_CASE("templates may use only the known placeholders") {
  const auto r = Doc()
                     .add({"    messages:", "      help: \"{prog}: call {help_contact}\"",
                           "      opt_in_confirm: \"{program} at {number} {oops\"",
                           "      disclaimer: \"\"", "      welcome: \"hi\""})
                     .check();
  EXPECT_ERROR(r, 24, "programs[0].messages.help",
               "unknown placeholder {prog} (allowed: {program}, {help_contact}, {number})");
  EXPECT_ERROR(r, 25, "programs[0].messages.opt_in_confirm", "unterminated placeholder");
  EXPECT_ERROR(r, 26, "programs[0].messages.disclaimer", "empty template");
  EXPECT_ERROR(r, 27, "programs[0].messages.welcome", "unknown key");
  CHECK(r.errors.size() == 4);

  EXPECT_ERROR(Doc().add({"    messages: { help: \"{programme} help\" }"}).check(), 23,
               "programs[0].messages.help", "(did you mean \"program\"?)");

  const Config c = Doc()
                       .add({"    name: Acme", "    messages:",
                             "      opt_out_confirm: \"{program}: bye. Text START to {number}.\""})
                       .load();
  CHECK(c.programs[0].name == "Acme");
  CHECK(c.programs[0].messages.opt_out_confirm == "{program}: bye. Text START to {number}.");
  CHECK(c.programs[0].messages.help == Messages{}.help);  // the others keep their defaults
}

TEST_CASE("quiet hours") {
  const Config off = Doc().add({"    quiet_hours: null"}).load();
  CHECK_FALSE(off.programs[0].quiet_hours);
  const Config tilde = Doc().add({"    quiet_hours: ~"}).load();
  CHECK_FALSE(tilde.programs[0].quiet_hours);

  const Config c =
      Doc().add({"    quiet_hours: { start: \"9:30\", end: \"17:05\", action: hold }"}).load();
  REQUIRE(c.programs[0].quiet_hours);
  CHECK(c.programs[0].quiet_hours->start == 9h + 30min);
  CHECK(c.programs[0].quiet_hours->end == 17h + 5min);
  CHECK(c.programs[0].quiet_hours->action == QuietAction::hold);

  const Config partial = Doc().add({"    quiet_hours:", "      start: \"22:00\""}).load();
  CHECK(partial.programs[0].quiet_hours->start == 22h);
  CHECK(partial.programs[0].quiet_hours->end == 8h);

  const auto r =
      Doc().add({"    quiet_hours:", "      start: \"25:00\"", "      end: 8am"}).check();
  EXPECT_ERROR(r, 24, "programs[0].quiet_hours.start",
               "bad time \"25:00\": expected HH:MM from 00:00 to 23:59");
  EXPECT_ERROR(r, 25, "programs[0].quiet_hours.end", "bad time \"8am\"");
  EXPECT_ERROR(Doc().add({"    quiet_hours: { start: \"08:00\", end: \"8:00\" }"}).check(), 23,
               "programs[0].quiet_hours", "start and end are equal");
  EXPECT_ERROR(Doc().add({"    quiet_hours: off"}).check(), 23, "programs[0].quiet_hours",
               "expected a map");
}

TEST_CASE("frequency caps") {
  const Config none = Doc().load();
  CHECK_FALSE(none.programs[0].frequency_cap);
  const Config c =
      Doc().add({"    frequency_cap: { max: 3, per: 24h, categories: [promotional] }"}).load();
  REQUIRE(c.programs[0].frequency_cap);
  CHECK(c.programs[0].frequency_cap->max == 3);
  CHECK(c.programs[0].frequency_cap->per == 24h);
  CHECK(c.programs[0].frequency_cap->categories == std::vector<Category>{Category::promotional});
  const Config dflt = Doc().add({"    frequency_cap: { max: 10, per: 7d }"}).load();
  CHECK(dflt.programs[0].frequency_cap->categories ==
        std::vector<Category>{Category::informational, Category::promotional});

  const auto r = Doc()
                     .add({"    frequency_cap:", "      max: 0",
                           "      categories: [promotional, promotional, spam]"})
                     .check();
  EXPECT_ERROR(r, 23, "programs[0].frequency_cap.per", "missing required key");
  EXPECT_ERROR(r, 24, "programs[0].frequency_cap.max", "must be from 1 to 1000000, got 0");
  EXPECT_ERROR(r, 25, "programs[0].frequency_cap.categories[1]", "listed twice");
  EXPECT_ERROR(r, 25, "programs[0].frequency_cap.categories[2]", "bad value \"spam\"");
  EXPECT_ERROR(Doc().add({"    frequency_cap: { max: 1, per: 1h, categories: [] }"}).check(), 23,
               "programs[0].frequency_cap.categories", "empty");
}

TEST_CASE("keywords add to the defaults and may not mean two things") {
  const auto r =
      Doc()
          .add({"    keywords:", "      opt_out: [ARRET, \"Halt Now\"]", "      help: [aide, stop]",
                "      join: [SUPPORT, arret]", "      opt_in: [\"  \"]"})
          .check();
  EXPECT_ERROR(r, 25, "programs[0].keywords.help[1]", "\"stop\" is already an opt-out keyword");
  EXPECT_ERROR(r, 26, "programs[0].keywords.join[1]", "\"arret\" is already an opt-out keyword");
  EXPECT_ERROR(r, 27, "programs[0].keywords.opt_in[0]", "empty keyword");
  CHECK(r.errors.size() == 3);

  const Config ok = Doc()
                        .add({"    keywords:", "      opt_out: [ARRET, STOP]", "      help: [AIDE]",
                              "      join: [SUPPORT, yes]"})
                        .load();
  CHECK(ok.programs[0].keywords.opt_out == std::vector<std::string>{"ARRET", "STOP"});
  CHECK(ok.programs[0].keywords.help == std::vector<std::string>{"AIDE"});
  CHECK(ok.programs[0].keywords.join == std::vector<std::string>{"SUPPORT", "yes"});
  CHECK(ok.programs[0].keywords.opt_in.empty());
}

TEST_CASE("defaults section") {
  const Config c =
      Doc()
          .add({"defaults:", "  default_country: gb",
                "  category_by_service_type: { ALRT: informational, MKT: promotional }"})
          .load();
  CHECK(c.defaults.default_country == "GB");
  CHECK(c.defaults.category_by_service_type ==
        std::map<std::string, Category, std::less<>>{{"ALRT", Category::informational},
                                                     {"MKT", Category::promotional}});
  const auto r =
      Doc()
          .add({"defaults:", "  default_country: USA",
                "  category_by_service_type:", "    MARKETING: promotional", "    CONV: chatty"})
          .check();
  EXPECT_ERROR(r, 24, "defaults.default_country", "expected an ISO 3166 two-letter country code");
  EXPECT_ERROR(r, 26, "defaults.category_by_service_type.MARKETING",
               "a service_type is 1 to 5 characters");
  EXPECT_ERROR(r, 27, "defaults.category_by_service_type.CONV", "bad value \"chatty\"");
}

TEST_CASE("admin tokens") {
  const Config c = Doc()
                       .add({"admin:", "  tokens:", "    - name: crm",
                             "      token: abc.DEF_123-~+/=", "    - { name: ops, token: other }"})
                       .load();
  REQUIRE(c.admin.tokens.size() == 2);
  CHECK(c.find_token("other")->name == "ops");
  const auto r = Doc()
                     .add({"admin:", "  tokens:", "    - { name: crm, token: \"has space\" }",
                           "    - { name: \"\", token: x }", "    - { token: y }"})
                     .check();
  EXPECT_ERROR(r, 25, "admin.tokens[0].token", "a bearer token may contain only");
  EXPECT_ERROR(r, 26, "admin.tokens[1].name", "must not be empty");
  EXPECT_ERROR(r, 27, "admin.tokens[2].name", "missing required key");
}

TEST_CASE("keys of another opt_in_mode are accepted and ignored") {
  const Config c =
      Doc()
          .add({"    opt_in_mode: strict", "    hold: false", "    hold_ttl: 1h",
                "    request_interval: 1h", "    mo_requires_consent: true",
                "    messages: { opt_in_request: \"{program}: reply YES\", disclaimer: "
                "\"{program} texts you\" }"})
          .load();
  CHECK(c.programs[0].opt_in_mode == OptInMode::strict);
  CHECK(c.programs[0].hold_ttl == 1h);
}

TEST_CASE("${NAME} is replaced from the environment") {
  const EnvVar pw("SG_TEST_PASSWORD", "s3cret");
  const EnvVar host("SG_TEST_HOST", "10.0.0.9");
  const EnvVar port("SG_TEST_PORT", "2777");
  const Config c = Doc()
                       .set(9, "    password: ${SG_TEST_PASSWORD}")
                       .set(13, "    host: ${SG_TEST_HOST}")
                       .set(14, "    port: ${SG_TEST_PORT}")
                       .set(5, "  smpp: \"${SG_TEST_HOST}:${SG_TEST_PORT}\"")
                       .set(22, "    help_contact: \"call $${NOT_A_VAR} or ${SG_TEST_HOST}\"")
                       .load();
  CHECK(c.accounts[0].password == "s3cret");
  CHECK(c.upstreams[0].host == "10.0.0.9");
  CHECK(c.upstreams[0].port == 2777);
  CHECK(c.listen.smpp == HostPort{"10.0.0.9", 2777});
  CHECK(c.programs[0].help_contact == "call ${NOT_A_VAR} or 10.0.0.9");

  ::unsetenv("SG_TEST_UNSET");
  const auto r = Doc()
                     .set(9, "    password: ${SG_TEST_UNSET}")
                     .set(13, "    host: \"${SG_TEST_HOST\"")
                     .set(15, "    system_id: ${1BAD}")
                     .check();
  EXPECT_ERROR(r, 9, "accounts[0].password", "environment variable SG_TEST_UNSET is not set");
  EXPECT_ERROR(r, 13, "upstreams[0].host", "unterminated ${");
  EXPECT_ERROR(r, 15, "upstreams[0].system_id", "bad environment variable name \"1BAD\"");
  CHECK(r.errors.size() == 3);

  // An empty value substitutes as empty: a required secret then fails its own check.
  const EnvVar empty("SG_TEST_EMPTY", "");
  EXPECT_ERROR(Doc().set(9, "    password: ${SG_TEST_EMPTY}").check(), 9, "accounts[0].password",
               "must not be empty");
}

TEST_CASE("cluster: absent is one node; present needs postgres and takes schema and max_lag") {
  CHECK_FALSE(Doc().load().cluster.has_value());

  ::setenv("SG_TEST_PG", "host=127.0.0.1 port=5432 dbname=sg", 1);
  const Config c = Doc().add({"cluster:", "  postgres: ${SG_TEST_PG}"}).load();
  REQUIRE(c.cluster.has_value());
  CHECK(c.cluster->postgres == "host=127.0.0.1 port=5432 dbname=sg");
  CHECK(c.cluster->schema == "smppguard");
  CHECK(c.cluster->max_lag == std::chrono::seconds(5));

  const Config d =
      Doc()
          .add({"cluster: { postgres: \"postgresql:///sg\", schema: sg_two, max_lag: 500ms }"})
          .load();
  CHECK(d.cluster->schema == "sg_two");
  CHECK(d.cluster->max_lag == std::chrono::milliseconds(500));

  EXPECT_ERROR(Doc().add({"cluster: { schema: sg }"}).check(), 23, "cluster.postgres",
               "missing required key");
  EXPECT_ERROR(Doc().add({"cluster: { postgres: x, schema: \"Sg; DROP\" }"}).check(), 23,
               "cluster.schema",
               "must be 1 to 63 characters of a-z 0-9 _ (not starting with a digit), got \"Sg; "
               "DROP\"");
  EXPECT_ERROR(Doc().add({"cluster: { postgres: x, max_lag: 0s }"}).check(), 23, "cluster.max_lag",
               "must be greater than 0");
}
