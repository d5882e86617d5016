// Value types and lookups of config.hpp, without YAML.
#include "config/config.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>

using namespace smppguard::config;
using namespace std::chrono_literals;

TEST_CASE("enum names round-trip") {
  CHECK(to_string(Category::promotional) == "promotional");
  CHECK(to_string(BindMode::transmitter_receiver) == "transmitter_receiver");
  CHECK(to_string(MessageIdFormat::as_is) == "as_is");
  CHECK(parse_enum<OptInMode>("disclaimer") == OptInMode::disclaimer);
  CHECK(parse_enum<RefuseWith>("receipt") == RefuseWith::receipt);
  CHECK(parse_enum<StopScope>("tenant") == StopScope::tenant);
  CHECK(parse_enum<QuietAction>("hold") == QuietAction::hold);
  CHECK(parse_enum<Category>("conversational") == Category::conversational);
  CHECK_FALSE(parse_enum<Category>("Promotional"));
  CHECK_FALSE(parse_enum<BindMode>(""));
  // TLV 0x1400 values
  CHECK(static_cast<int>(Category::conversational) == 0);
  CHECK(static_cast<int>(Category::informational) == 1);
  CHECK(static_cast<int>(Category::promotional) == 2);
}

TEST_CASE("host:port parsing") {
  auto hp = HostPort::parse("127.0.0.1:2775");
  REQUIRE(hp);
  CHECK(hp->host == "127.0.0.1");
  CHECK(hp->port == 2775);
  CHECK(HostPort::parse("0.0.0.0:0")->port == 0);
  CHECK(HostPort::parse("smsc.example:65535")->port == 65535);
  hp = HostPort::parse("[::1]:2775");
  REQUIRE(hp);
  CHECK(hp->host == "::1");
  CHECK(hp->to_string() == "[::1]:2775");
  CHECK(HostPort{"127.0.0.1", 9775}.to_string() == "127.0.0.1:9775");

  std::string why;
  CHECK_FALSE(HostPort::parse("127.0.0.1:65536", &why));
  CHECK(why.find("0 to 65535") != std::string::npos);
  CHECK_FALSE(HostPort::parse("127.0.0.1", &why));
  CHECK(why.find("host:port") != std::string::npos);
  CHECK_FALSE(HostPort::parse("::1:2775", &why));
  CHECK(why.find("brackets") != std::string::npos);
  CHECK_FALSE(HostPort::parse(":2775", &why));
  CHECK(why.find("host is empty") != std::string::npos);
  CHECK_FALSE(HostPort::parse("host:", &why));
  CHECK_FALSE(HostPort::parse("host:-1", &why));
  CHECK_FALSE(HostPort::parse("host:27a", &why));
  CHECK_FALSE(HostPort::parse("[::1]2775", &why));
  CHECK_FALSE(HostPort::parse("[nothex]:2775", &why));
}

TEST_CASE("CIDR matching, IPv4") {
  auto net = Cidr::parse("10.1.0.0/16");
  REQUIRE(net);
  CHECK_FALSE(net->ipv6);
  CHECK(net->prefix_len == 16);
  CHECK(net->text == "10.1.0.0/16");
  CHECK(net->matches("10.1.0.1"));
  CHECK(net->matches("10.1.255.255"));
  CHECK_FALSE(net->matches("10.2.0.1"));
  CHECK_FALSE(net->matches("2001:db8::1"));
  CHECK_FALSE(net->matches("not an ip"));
  // what a dual-stack listener reports for an IPv4 peer
  CHECK(net->matches("::ffff:10.1.2.3"));
  CHECK_FALSE(net->matches("::ffff:10.2.2.3"));
  const std::array<std::uint8_t, 4> raw = {10, 1, 9, 9};
  CHECK(net->matches(std::span<const std::uint8_t>(raw)));
  const std::array<std::uint8_t, 3> short_raw = {10, 1, 9};
  CHECK_FALSE(net->matches(std::span<const std::uint8_t>(short_raw)));

  auto host = Cidr::parse("192.0.2.7/32");
  REQUIRE(host);
  CHECK(host->matches("192.0.2.7"));
  CHECK_FALSE(host->matches("192.0.2.8"));
  auto bare = Cidr::parse("192.0.2.7");
  REQUIRE(bare);
  CHECK(bare->prefix_len == 32);
  CHECK_FALSE(bare->matches("192.0.2.6"));

  auto all = Cidr::parse("0.0.0.0/0");
  REQUIRE(all);
  CHECK(all->matches("255.255.255.255"));
  CHECK(all->matches("1.2.3.4"));
  CHECK_FALSE(all->matches("::1"));  // an IPv4 network never matches a real IPv6 peer

  auto odd = Cidr::parse("172.16.0.0/12");
  REQUIRE(odd);
  CHECK(odd->matches("172.31.255.255"));
  CHECK_FALSE(odd->matches("172.32.0.0"));
}

TEST_CASE("CIDR matching, IPv6") {
  auto net = Cidr::parse("2001:db8::/32");
  REQUIRE(net);
  CHECK(net->ipv6);
  CHECK(net->matches("2001:db8:1::5"));
  CHECK_FALSE(net->matches("2001:db9::1"));
  CHECK_FALSE(net->matches("10.0.0.1"));
  auto all = Cidr::parse("::/0");
  REQUIRE(all);
  CHECK(all->matches("fe80::1"));
  CHECK(all->matches("10.0.0.1"));  // as ::ffff:10.0.0.1
  auto host = Cidr::parse("::1/128");
  REQUIRE(host);
  CHECK(host->matches("::1"));
  CHECK_FALSE(host->matches("::2"));
  auto mapped = Cidr::parse("::ffff:0:0/96");
  REQUIRE(mapped);
  CHECK(mapped->matches("203.0.113.9"));
  auto odd = Cidr::parse("2001:db8:8000::/33");
  REQUIRE(odd);
  CHECK(odd->matches("2001:db8:ffff::1"));
  CHECK_FALSE(odd->matches("2001:db8:7fff::1"));
}

TEST_CASE("CIDR parse errors name the problem") {
  std::string why;
  CHECK_FALSE(Cidr::parse("10.0.0.0/33", &why));
  CHECK(why == "mask /33 is longer than /32");
  CHECK_FALSE(Cidr::parse("::/129", &why));
  CHECK(why == "mask /129 is longer than /128");
  CHECK_FALSE(Cidr::parse("10.0.0.0/", &why));
  CHECK(why.find("bad mask") != std::string::npos);
  CHECK_FALSE(Cidr::parse("10.0.0.0/-1", &why));
  CHECK(why.find("bad mask") != std::string::npos);
  CHECK_FALSE(Cidr::parse("10.0.0.0/8a", &why));
  CHECK_FALSE(Cidr::parse("10.0.0.0/0008", &why));
  CHECK_FALSE(Cidr::parse("10.0.0/8", &why));
  CHECK(why.find("bad IP address") != std::string::npos);
  CHECK_FALSE(Cidr::parse("", &why));
  CHECK_FALSE(Cidr::parse("10.0.0.1/8", &why));
  CHECK(why == "host bits are set; the network is 10.0.0.0/8");
  CHECK_FALSE(Cidr::parse("2001:db8::1/32", &why));
  CHECK(why == "host bits are set; the network is 2001:db8::/32");
}

TEST_CASE("number shapes") {
  CHECK(is_e164("+18005550100"));
  CHECK(is_e164("+1234567"));          // 7 digits, the shortest
  CHECK(is_e164("+123456789012345"));  // 15 digits, the longest
  CHECK_FALSE(is_e164("+123456"));
  CHECK_FALSE(is_e164("+1234567890123456"));
  CHECK_FALSE(is_e164("+0123456789"));
  CHECK_FALSE(is_e164("18005550100"));
  CHECK_FALSE(is_e164("+1800555010a"));
  CHECK(is_short_code("123"));
  CHECK(is_short_code("12345678"));
  CHECK_FALSE(is_short_code("12"));
  CHECK_FALSE(is_short_code("123456789"));
  CHECK_FALSE(is_short_code("+12345"));
}

TEST_CASE("quiet hours wrap midnight; frequency caps name categories") {
  QuietHours q;  // 21:00-08:00
  CHECK(q.contains(21h));
  CHECK(q.contains(23h + 59min));
  CHECK(q.contains(0min));
  CHECK(q.contains(7h + 59min));
  CHECK_FALSE(q.contains(8h));
  CHECK_FALSE(q.contains(12h));
  QuietHours day{9h, 17h, QuietAction::hold};
  CHECK(day.contains(9h));
  CHECK_FALSE(day.contains(17h));
  CHECK_FALSE(day.contains(20h));

  FrequencyCap cap;
  CHECK(cap.applies_to(Category::promotional));
  CHECK(cap.applies_to(Category::informational));
  CHECK_FALSE(cap.applies_to(Category::conversational));
}

namespace {
Config hand_built() {
  Config c;
  c.upstreams = {Upstream{.name = "a"}, Upstream{.name = "b"}, Upstream{.name = "c"}};
  c.routes = {{"+1555", "a"}, {"+1", "b"}, {"+15", "c"}, {"", "c"}};
  Program p1;
  p1.id = "p1";
  p1.numbers = {"+18005550100", "12345"};
  Program p2;
  p2.id = "p2";
  p2.numbers = {"+447700900000"};
  c.programs = {p1, p2};
  c.accounts = {Account{.system_id = "app1", .tenant = "acme"}};
  c.admin.tokens = {{"crm", "secret-one"}, {"ops", "secret-two"}};
  c.build_index();
  return c;
}
}  // namespace

TEST_CASE("routes: the first matching prefix in file order wins") {
  const Config c = hand_built();
  CHECK(c.route_for("+15551234567")->upstream == "a");
  CHECK(c.route_for("+12125550100")->upstream == "b");
  // "+15" is listed after "+1", so "+1" wins even though "+15" is longer
  CHECK(c.route_for("+15012345678")->upstream == "b");
  CHECK(c.route_for("+447700900000")->upstream == "c");
  CHECK(c.route_for("")->upstream == "c");
  CHECK(c.upstream_for("+15551234567") == &c.upstreams[0]);

  Config no_default = c;
  no_default.routes.pop_back();
  no_default.build_index();
  CHECK(no_default.route_for("+447700900000") == nullptr);
  CHECK(no_default.upstream_for("+447700900000") == nullptr);
}

TEST_CASE("lookups by number, id, system_id, name and token") {
  const Config c = hand_built();
  CHECK(c.program_for_number("+18005550100")->id == "p1");
  CHECK(c.program_for_number("12345")->id == "p1");
  CHECK(c.program_for_number("+447700900000")->id == "p2");
  CHECK(c.program_for_number("18005550100") == nullptr);
  CHECK(c.program_for_number("+1800555010") == nullptr);
  CHECK(c.find_program("p2") == &c.programs[1]);
  CHECK(c.find_program("p3") == nullptr);
  CHECK(c.find_account("app1")->tenant == "acme");
  CHECK(c.find_account("APP1") == nullptr);
  CHECK(c.find_upstream("b") == &c.upstreams[1]);
  CHECK(c.find_upstream("z") == nullptr);
  CHECK(c.find_token("secret-two")->name == "ops");
  CHECK(c.find_token("secret-tw") == nullptr);
  CHECK(c.find_token("") == nullptr);
  CHECK(c.has_tenant("acme"));
  CHECK_FALSE(c.has_tenant("other"));

  // the index holds positions, so a copy looks up in its own vectors
  const Config copy = c;
  CHECK(copy.find_program("p1") == &copy.programs[0]);
  CHECK(copy == c);
}

TEST_CASE("account allowed_ips: empty allows any peer") {
  Account a;
  CHECK(a.ip_allowed("203.0.113.5"));
  a.allowed_ips = {*Cidr::parse("127.0.0.1/32"), *Cidr::parse("2001:db8::/32")};
  CHECK(a.ip_allowed("127.0.0.1"));
  CHECK(a.ip_allowed("2001:db8::7"));
  CHECK_FALSE(a.ip_allowed("127.0.0.2"));
  const std::array<std::uint8_t, 4> raw = {127, 0, 0, 1};
  CHECK(a.ip_allowed(std::span<const std::uint8_t>(raw)));
}

TEST_CASE("diagnostic format") {
  Diagnostic d{"smppguard.yaml", 12, "programs[0].quiet_hours.start", "bad time", Severity::error};
  CHECK(d.to_string() == "smppguard.yaml:12: programs[0].quiet_hours.start: bad time");
  d.severity = Severity::warning;
  CHECK(d.to_string() == "smppguard.yaml:12: programs[0].quiet_hours.start: warning: bad time");
  CHECK(Diagnostic{"f.yaml", 3, "", "YAML syntax error: x"}.to_string() ==
        "f.yaml:3: YAML syntax error: x");
  CHECK(
      Diagnostic{"f.yaml", 0, "", "cannot read the file: No such file or directory"}.to_string() ==
      "f.yaml: cannot read the file: No such file or directory");
  const ConfigErrors e(
      {Diagnostic{"a.yaml", 1, "node_id", "one"}, Diagnostic{"a.yaml", 2, "store", "two"}});
  CHECK(std::string(e.what()) == "a.yaml:1: node_id: one\na.yaml:2: store: two");
  CHECK(e.errors().size() == 2);
}
