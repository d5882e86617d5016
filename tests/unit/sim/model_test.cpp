// The simulator's pure parts: ids, receipt text and PDU, rules, MO PDUs, records, options.
#include "sim/model.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <smppguard/proto/decode.hpp>
#include <smppguard/proto/encode.hpp>
#include <string>
#include <vector>

using namespace smppguard;
using namespace smppguard::sim;

namespace {

TimePoint at(std::string_view rfc3339) { return *parse_rfc3339(rfc3339); }

std::string hex_of(const proto::Pdu& pdu) { return to_hex(*proto::encode(pdu)); }

}  // namespace

TEST_CASE("message ids: hex, decimal, and the receipt's decimal-of-hex form") {
  CHECK(format_message_id(1, IdFormat::hex) == "00000001");
  CHECK(format_message_id(31, IdFormat::hex) == "0000001F");
  CHECK(format_message_id(0x1234ABCDEull, IdFormat::hex) == "1234ABCDE");
  CHECK(format_message_id(31, IdFormat::decimal) == "31");

  CHECK(parse_message_id("0000001F", IdFormat::hex) == 31u);
  CHECK(parse_message_id("1f", IdFormat::hex) == 31u);
  CHECK(parse_message_id("31", IdFormat::decimal) == 31u);
  CHECK_FALSE(parse_message_id("", IdFormat::hex));
  CHECK_FALSE(parse_message_id("0000001G", IdFormat::hex));
  CHECK_FALSE(parse_message_id("1F", IdFormat::decimal));
  CHECK_FALSE(parse_message_id("00000000", IdFormat::hex));

  CHECK(receipt_text_id(31, IdFormat::hex, ReceiptIdFormat::same) == "0000001F");
  CHECK(receipt_text_id(31, IdFormat::hex, ReceiptIdFormat::decimal) == "0000000031");
  CHECK(receipt_text_id(0xFFFFFFFFull, IdFormat::hex, ReceiptIdFormat::decimal) == "4294967295");
  CHECK(receipt_text_id(7, IdFormat::decimal, ReceiptIdFormat::decimal) == "0000000007");
}

TEST_CASE("stat words map to message_state") {
  CHECK(message_state_for_stat("DELIVRD") == 2);
  CHECK(message_state_for_stat("UNDELIV") == 5);
  CHECK(message_state_for_stat("REJECTD") == 8);
  CHECK(message_state_for_stat("EXPIRED") == 3);
  CHECK_FALSE(message_state_for_stat("delivrd"));
  CHECK_FALSE(message_state_for_stat("OK"));
}

TEST_CASE("receipt text has the exact Appendix B shape") {
  const auto submitted = at("2026-11-22T17:18:00Z");
  const auto done = at("2026-11-22T17:19:59Z");
  CHECK(receipt_text("0000001F", submitted, done, "DELIVRD", "Your code is 123456, valid 5 min") ==
        "id:0000001F sub:001 dlvrd:001 submit date:2611221718 done date:2611221719 "
        "stat:DELIVRD err:000 text:Your code is 123456,");
  // Short text, and characters outside printable ASCII (counted as characters, not octets).
  CHECK(receipt_text("42", submitted, done, "UNDELIV", "h\xC3\xA9llo\n") ==
        "id:42 sub:001 dlvrd:001 submit date:2611221718 done date:2611221719 "
        "stat:UNDELIV err:000 text:h?llo?");
}

TEST_CASE("receipt PDU swaps the addresses and carries receipted_message_id and message_state") {
  SubmittedMessage m;
  m.message_id = "0000001F";
  m.source = {1, 1, "18005550100"};
  m.destination = {1, 1, "15551234567"};
  m.text = "hello";
  m.submitted = at("2026-11-22T17:18:00Z");
  const auto pdu = build_receipt(m, "0000000031", "REJECTD", at("2026-11-22T17:18:30Z"));
  CHECK(pdu.command_id == proto::cmd::kDeliverSm);
  const auto& sm = *pdu.as<proto::DeliverSm>();
  CHECK(sm.source_addr == "15551234567");
  CHECK(sm.destination_addr == "18005550100");
  CHECK(sm.esm_class == 0x04);
  CHECK(sm.data_coding == 0);
  CHECK(sm.short_message ==
        "id:0000000031 sub:001 dlvrd:001 submit date:2611221718 done date:2611221718 "
        "stat:REJECTD err:000 text:hello");
  CHECK(sm.tlvs.get_cstring(proto::tlv::kReceiptedMessageId) == "0000001F");
  CHECK(sm.tlvs.get_u8(proto::tlv::kMessageState) == 8);
  CHECK(proto::encode(pdu).has_value());
}

TEST_CASE("submitted_message keeps what a receipt needs") {
  proto::SubmitSm sm;
  sm.source_addr_ton = 3;
  sm.source_addr = "12345";
  sm.dest_addr_ton = 1;
  sm.dest_addr_npi = 1;
  sm.destination_addr = "15551234567";
  sm.registered_delivery = 1;
  sm.short_message = "A message that is longer than twenty characters";
  const auto m = submitted_message(proto::Pdu{.command_id = proto::cmd::kSubmitSm, .body = sm});
  REQUIRE(m);
  CHECK(m->source == Address{3, 0, "12345"});
  CHECK(m->destination == Address{1, 1, "15551234567"});
  CHECK(m->registered_delivery == 1);
  CHECK(m->text == "A message that is lo");
  CHECK_FALSE(
      submitted_message(proto::Pdu{.command_id = proto::cmd::kQuerySm, .body = proto::QuerySm{}}));
}

TEST_CASE("rules: first match by E.164 prefix, bare digits, or everything") {
  const std::vector<Rule> rules = {
      {.prefix = "+1555000", .action = RuleAction::status, .status = 88},
      {.prefix = "+1555", .action = RuleAction::no_answer},
      {.prefix = "123", .action = RuleAction::drop},
  };
  CHECK(e164_form(1, "15550001111") == "+15550001111");
  CHECK(e164_form(1, "+15550001111") == "+15550001111");
  CHECK(e164_form(3, "12345") == "12345");

  const Rule* r = match_rule(rules, 1, "15550001111");
  REQUIRE(r);
  CHECK(r->status == 88);
  r = match_rule(rules, 1, "+15559999999");
  REQUIRE(r);
  CHECK(r->action == RuleAction::no_answer);
  r = match_rule(rules, 3, "12345");
  REQUIRE(r);
  CHECK(r->action == RuleAction::drop);
  CHECK(match_rule(rules, 1, "447700900000") == nullptr);
  // National digits do not match an E.164 prefix.
  CHECK(match_rule(rules, 0, "5550001111") == nullptr);
  // A prefix without '+' also matches a TON 1 number's digits.
  const std::vector<Rule> bare = {{.prefix = "1555", .action = RuleAction::drop}};
  CHECK(match_rule(bare, 1, "15550001111") != nullptr);
  const std::vector<Rule> all = {{.prefix = "", .action = RuleAction::no_answer}};
  CHECK(match_rule(all, 5, "ACME") != nullptr);
}

TEST_CASE("rules parse from JSON and back") {
  auto parse = [](std::string_view text) { return parse_rule(boost::json::parse(text)); };
  auto r = parse(R"({"prefix":"+1555000","action":"status","status":88})");
  REQUIRE(r);
  CHECK(*r == Rule{.prefix = "+1555000", .action = RuleAction::status, .status = 88});
  r = parse(R"({"prefix":"+1","action":"status","status":"0x58"})");
  REQUIRE(r);
  CHECK(r->status == 0x58);
  r = parse(R"({"prefix":"+1","action":"delay","delay_ms":500})");
  REQUIRE(r);
  CHECK(r->delay == std::chrono::milliseconds(500));
  CHECK(boost::json::serialize(rule_to_json(*r)) ==
        R"({"prefix":"+1","action":"delay","delay_ms":500})");
  CHECK(parse(R"({"prefix":"+1","action":"drop"})"));
  CHECK(parse(R"({"action":"no_answer"})")->prefix.empty());
  CHECK_FALSE(parse(R"({"prefix":"+1","action":"status"})"));
  CHECK_FALSE(parse(R"({"prefix":"+1","action":"explode"})"));
  CHECK_FALSE(parse(R"({"prefix":"+1","action":"delay","delay_ms":-5})"));
  CHECK_FALSE(parse(R"({"prefix":"+1","action":"drop","typo":1})"));
  CHECK_FALSE(parse(R"([1,2])"));
}

TEST_CASE("MO addresses: E.164, short codes, alphanumeric, overrides") {
  CHECK(default_address("+15551234567") == Address{1, 1, "15551234567"});
  CHECK(default_address("12345") == Address{3, 0, "12345"});
  CHECK(default_address("123") == Address{3, 0, "123"});
  CHECK(default_address("12345678") == Address{3, 0, "12345678"});
  CHECK(default_address("15551234567") == Address{1, 1, "15551234567"});
  CHECK(default_address("ACME") == Address{5, 0, "ACME"});

  MoRequest r{.from = "+15551234567", .to = "5551234567", .text = "hi"};
  r.dest_ton = 2;
  r.dest_npi = 1;
  auto pdus = build_mo(r, 1);
  REQUIRE(pdus);
  const auto& sm = *pdus->front().as<proto::DeliverSm>();
  CHECK(sm.dest_addr_ton == 2);
  CHECK(sm.dest_addr_npi == 1);
  CHECK(sm.destination_addr == "5551234567");
}

TEST_CASE("MO in GSM 7-bit: exact bytes") {
  const auto pdus = build_mo(MoRequest{.from = "+15551234567", .to = "12345", .text = "STOP"}, 1);
  REQUIRE(pdus);
  REQUIRE(pdus->size() == 1);
  CHECK(hex_of(pdus->front()) ==
        "00000035"                      // command_length 53
        "00000005"                      // deliver_sm
        "00000000"                      // command_status
        "00000000"                      // sequence_number (set when sent)
        "00"                            // service_type ""
        "0101313535353132333435363700"  // TON 1, NPI 1, "15551234567"
        "0300313233343500"              // TON 3, NPI 0, "12345"
        "000000"                        // esm_class, protocol_id, priority_flag
        "0000"                          // schedule_delivery_time, validity_period
        "00000000"                      // registered_delivery, replace, data_coding, default id
        "0453544f50");                  // sm_length 4, "STOP"
}

TEST_CASE("MO in UCS2: exact bytes, data_coding 8") {
  // "Стоп" does not fit GSM: UCS2.
  const auto pdus =
      build_mo(MoRequest{.from = "+79161234567", .to = "+15551234567", .text = "Стоп"}, 1);
  REQUIRE(pdus);
  CHECK(hex_of(pdus->front()) ==
        "0000003f"                      // command_length 63
        "00000005"                      // deliver_sm
        "00000000"                      // command_status
        "00000000"                      // sequence_number
        "00"                            // service_type ""
        "0101373931363132333435363700"  // TON 1, NPI 1, "79161234567"
        "0101313535353132333435363700"  // TON 1, NPI 1, "15551234567"
        "000000"                        // esm_class, protocol_id, priority_flag
        "0000"                          // schedule_delivery_time, validity_period
        "00000800"                      // registered_delivery, replace, data_coding 8, id
        "0804210442043e043f");          // sm_length 8, UTF-16BE "Стоп"
  // Forcing UCS2 for GSM text.
  MoRequest forced{.from = "+15551234567", .to = "12345", .text = "ok"};
  forced.data_coding = 8;
  const auto f = build_mo(forced, 1);
  REQUIRE(f);
  CHECK(f->front().as<proto::DeliverSm>()->short_message == std::string("\0o\0k", 4));
  forced.data_coding = 0;
  forced.text = "Стоп";
  CHECK_FALSE(build_mo(forced, 1));
}

TEST_CASE("MO parts: UDH-concatenated deliver_sm per part") {
  MoRequest r{.from = "+15551234567", .to = "12345", .text = std::string(200, 'a')};
  r.parts = true;
  const auto pdus = build_mo(r, 7);
  REQUIRE(pdus);
  REQUIRE(pdus->size() == 2);
  const auto& p1 = *(*pdus)[0].as<proto::DeliverSm>();
  const auto& p2 = *(*pdus)[1].as<proto::DeliverSm>();
  CHECK(p1.esm_class == 0x40);
  CHECK(p1.short_message.substr(0, 6) == std::string("\x05\x00\x03\x07\x02\x01", 6));
  CHECK(p1.short_message.size() == 6 + 153);
  CHECK(p2.short_message.substr(0, 6) == std::string("\x05\x00\x03\x07\x02\x02", 6));
  CHECK(p2.short_message.size() == 6 + 47);

  // UCS2 parts: 67 characters each, a surrogate pair never split.
  std::string emoji;
  for (int i = 0; i < 40; ++i) emoji += "\xF0\x9F\x98\x80";  // 80 UTF-16 units
  r.text = emoji;
  const auto u = build_mo(r, 8);
  REQUIRE(u);
  REQUIRE(u->size() == 2);
  CHECK((*u)[0].as<proto::DeliverSm>()->short_message.size() == 6 + 132);
  CHECK((*u)[1].as<proto::DeliverSm>()->short_message.size() == 6 + 28);

  // Without parts a long text goes in message_payload.
  r.parts = false;
  r.text = std::string(300, 'b');
  const auto whole = build_mo(r, 1);
  REQUIRE(whole);
  REQUIRE(whole->size() == 1);
  const auto& sm = *whole->front().as<proto::DeliverSm>();
  CHECK(sm.short_message.empty());
  CHECK(sm.tlvs.get_bytes(proto::tlv::kMessagePayload)->size() == 300);
}

TEST_CASE("MO as data_sm carries message_payload") {
  MoRequest r{.from = "+15551234567", .to = "12345", .text = "HELP"};
  r.data_sm = true;
  const auto pdus = build_mo(r, 1);
  REQUIRE(pdus);
  const auto& pdu = pdus->front();
  CHECK(pdu.command_id == proto::cmd::kDataSm);
  CHECK(pdu.as<proto::DataSm>()->tlvs.get_bytes(proto::tlv::kMessagePayload) == "HELP");
}

TEST_CASE("POST /mo bodies") {
  auto r = parse_mo_request(R"({"from":"+15551234567","to":"12345","text":"STOP"})");
  REQUIRE(r);
  CHECK(r->from == "+15551234567");
  CHECK_FALSE(r->data_sm);
  r = parse_mo_request(
      R"({"from":"+1","to":"2","text":"x","command":"data_sm","data_coding":8,"parts":true,)"
      R"("esm_class":3,"system_id":"smppguard","source_addr_ton":2})");
  REQUIRE(r);
  CHECK(r->data_sm);
  CHECK(r->data_coding == 8);
  CHECK(r->parts);
  CHECK(r->esm_class == 3);
  CHECK(r->system_id == "smppguard");
  CHECK(r->source_ton == 2);
  r = parse_mo_request(R"({"pdu_hex":"00000010000000150000000000000001"})");
  REQUIRE(r);
  CHECK(r->pdu->size() == 16);
  CHECK_FALSE(parse_mo_request(R"({"pdu_hex":"0000"})"));
  CHECK_FALSE(parse_mo_request(R"({"pdu_hex":"zz"})"));
  CHECK_FALSE(parse_mo_request(R"({"from":"+1","to":"2"})"));
  CHECK_FALSE(parse_mo_request(R"({"from":"+1","to":"2","text":"x","data_coding":4})"));
  CHECK_FALSE(parse_mo_request(R"({"from":"+1","to":"2","text":"x","command":"submit_sm"})"));
  CHECK_FALSE(parse_mo_request(R"({"from":"+1","to":"2","text":"x","frm":"x"})"));
  CHECK_FALSE(parse_mo_request("not json"));
}

TEST_CASE("records list decoded fields and the raw frame") {
  proto::SubmitSm sm;
  sm.source_addr_ton = 1;
  sm.source_addr_npi = 1;
  sm.source_addr = "18005550100";
  sm.dest_addr_ton = 1;
  sm.dest_addr_npi = 1;
  sm.destination_addr = "15551234567";
  sm.registered_delivery = 1;
  sm.short_message = "hello";
  sm.tlvs.add(0x1400, std::string(1, '\x01'));
  const auto frame = *proto::encode(
      proto::Pdu{.command_id = proto::cmd::kSubmitSm, .sequence_number = 9, .body = sm});
  const auto o = record_to_json(
      Record{.index = 3, .system_id = "smppguard", .message_id = "00000001", .frame = frame});
  CHECK(o.at("index").as_uint64() == 3);
  CHECK(o.at("command").as_string() == "submit_sm");
  CHECK(o.at("sequence_number").to_number<int>() == 9);
  CHECK(o.at("system_id").as_string() == "smppguard");
  CHECK(o.at("message_id").as_string() == "00000001");
  CHECK(o.at("source_addr").as_string() == "18005550100");
  CHECK(o.at("dest_addr_ton").to_number<int>() == 1);
  CHECK(o.at("destination_addr").as_string() == "15551234567");
  CHECK(o.at("registered_delivery").to_number<int>() == 1);
  CHECK(o.at("short_message_hex").as_string() == "68656c6c6f");
  CHECK(o.at("text").as_string() == "hello");
  CHECK(boost::json::serialize(o.at("tlvs")) == R"([{"tag":5120,"value_hex":"01"}])");
  CHECK(o.at("pdu_hex").as_string() == to_hex(frame));

  proto::SubmitMulti multi;
  multi.source_addr = "12345";
  multi.dest_addresses = {{.dest_addr_ton = 1, .destination_addr = "15550001111"},
                          {.dest_addr_ton = 1, .destination_addr = "15550002222"}};
  multi.short_message = "hi";
  const auto mo = record_to_json(Record{
      .index = 1,
      .frame = *proto::encode(proto::Pdu{.command_id = proto::cmd::kSubmitMulti, .body = multi})});
  CHECK(boost::json::serialize(mo.at("destinations")) == R"(["15550001111","15550002222"])");

  const auto q = record_to_json(Record{
      .index = 2,
      .frame = *proto::encode(proto::Pdu{.command_id = proto::cmd::kQuerySm,
                                         .body = proto::QuerySm{.message_id = "0000001F"}})});
  CHECK(q.at("message_id").as_string() == "0000001F");
}

TEST_CASE("hex helpers") {
  const std::vector<std::uint8_t> bytes = {0x00, 0xAB, 0x7F};
  CHECK(to_hex(bytes) == "00ab7f");
  CHECK(from_hex("00AB7f") == bytes);
  CHECK_FALSE(from_hex("0"));
  CHECK_FALSE(from_hex("0g"));
}

TEST_CASE("smsc-sim flags") {
  auto o = parse_simulator_flags({});
  REQUIRE(o);
  CHECK(o->smpp == config::HostPort{"127.0.0.1", 2776});
  CHECK(o->http == config::HostPort{"127.0.0.1", 2777});
  CHECK(o->id_format == IdFormat::hex);
  CHECK(o->receipt_delay == std::chrono::milliseconds(100));
  CHECK(o->receipt_status == "DELIVRD");
  CHECK(o->receipt_id_format == ReceiptIdFormat::same);

  o = parse_simulator_flags({{"smpp", "127.0.0.1:0"},
                             {"http", "127.0.0.1:0"},
                             {"system-id", "smppguard"},
                             {"password", "sim"},
                             {"id-format", "decimal"},
                             {"receipt-delay", "2s"},
                             {"receipt-status", "undeliv"},
                             {"receipt-id-format", "decimal"},
                             {"ports-file", "/tmp/x.json"}});
  REQUIRE(o);
  CHECK(o->smpp.port == 0);
  CHECK(o->system_id == "smppguard");
  CHECK(o->id_format == IdFormat::decimal);
  CHECK(o->receipt_delay == std::chrono::seconds(2));
  CHECK(o->receipt_status == "UNDELIV");
  CHECK(o->receipt_id_format == ReceiptIdFormat::decimal);
  CHECK(parse_simulator_flags({{"receipt-delay", "250"}})->receipt_delay ==
        std::chrono::milliseconds(250));

  CHECK_FALSE(parse_simulator_flags({{"smpp", "nowhere"}}));
  CHECK_FALSE(parse_simulator_flags({{"id-format", "octal"}}));
  CHECK_FALSE(parse_simulator_flags({{"receipt-status", "OK"}}));
  CHECK_FALSE(parse_simulator_flags({{"receipt-delay", "soon"}}));
  CHECK_FALSE(parse_simulator_flags({{"password", "sim"}}));
  CHECK_FALSE(parse_simulator_flags({{"system-id", "a-system-id-too-long"}}));
  CHECK(parse_simulator_flags({{"colour", "red"}}).error() == "unknown option --colour");
}
