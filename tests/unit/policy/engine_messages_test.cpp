// render(), template_text(), build_proxy_message() and build_receipt(): exact text and bytes.
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/encode.hpp>

#include "unit/policy/engine_support.hpp"

using namespace smppguard;
using namespace smppguard::policy;
using namespace smppguard::policy::test;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

const proto::SubmitSm& sm(const proto::Pdu& pdu) {
  const auto* s = pdu.as<proto::SubmitSm>();
  REQUIRE(s != nullptr);
  return *s;
}

}  // namespace

TEST_CASE("render fills {program}, {help_contact} and {number}, and nothing else") {
  const auto config = make_config();
  const auto& alpha = config.programs.front();
  CHECK(render("{program}: help at {help_contact}. From {number}.", alpha, "+18005550100") ==
        "Alpha: help at help@alpha.example. From +18005550100.");
  CHECK(render("{number}{number}", alpha, "12345") == "1234512345");
  CHECK(render("Reply {STOP} or {unknown}", alpha, "1") == "Reply {STOP} or {unknown}");
  CHECK(render("open { brace", alpha, "1") == "open { brace");
  CHECK(render("tail {", alpha, "1") == "tail {");
  CHECK(render("no placeholders", alpha, "1") == "no placeholders");
  CHECK(render("", alpha, "1").empty());
  CHECK(render("{program}", alpha, "1") == "Alpha");
}

TEST_CASE("template_text maps reply names to the program's templates") {
  auto config = make_config();
  auto& alpha = config.programs.front();
  alpha.messages.help = "H";
  alpha.messages.opt_out_confirm = "OOC";
  alpha.messages.opt_in_request = "OIR";
  alpha.messages.opt_in_confirm = "OIC";
  alpha.messages.disclaimer = "D";
  alpha.messages.still_opted_out = "SOO";
  CHECK(template_text(alpha, "help") == "H");
  CHECK(template_text(alpha, "opt_out_confirm") == "OOC");
  CHECK(template_text(alpha, "opt_in_request") == "OIR");
  CHECK(template_text(alpha, "opt_in_confirm") == "OIC");
  CHECK(template_text(alpha, "disclaimer") == "D");
  CHECK(template_text(alpha, "still_opted_out") == "SOO");
  CHECK(template_text(alpha, "nope").empty());
}

TEST_CASE("build_proxy_message: a short GSM text from an E.164 number") {
  const auto pdus = build_proxy_message("+18005550100", "+12125550123", "Hi @ 5\xE2\x82\xAC", 9);
  REQUIRE(pdus.size() == 1);
  CHECK(pdus[0].command_id == proto::cmd::kSubmitSm);
  CHECK(pdus[0].sequence_number == 0);
  const auto& s = sm(pdus[0]);
  CHECK(s.service_type.empty());
  CHECK(s.source_addr_ton == 1);
  CHECK(s.source_addr_npi == 1);
  CHECK(s.source_addr == "18005550100");
  CHECK(s.dest_addr_ton == 1);
  CHECK(s.dest_addr_npi == 1);
  CHECK(s.destination_addr == "12125550123");
  CHECK(s.esm_class == 0);
  CHECK(s.registered_delivery == 1);
  CHECK(s.data_coding == 0);
  CHECK(bytes(s.short_message) == Bytes{0x48, 0x69, 0x20, 0x00, 0x20, 0x35, 0x1B, 0x65});
  CHECK(s.tlvs.empty());
  CHECK(proto::encode(pdus[0]).has_value());
}

TEST_CASE("build_proxy_message: UCS2 when a character is not GSM (emoji as a surrogate pair)") {
  const auto pdus = build_proxy_message("+18005550100", "+12125550123", "Hi \xF0\x9F\x98\x80", 0);
  REQUIRE(pdus.size() == 1);
  const auto& s = sm(pdus[0]);
  CHECK(s.data_coding == 8);
  CHECK(s.esm_class == 0);
  CHECK(bytes(s.short_message) ==
        Bytes{0x00, 0x48, 0x00, 0x69, 0x00, 0x20, 0xD8, 0x3D, 0xDE, 0x00});
}

TEST_CASE("build_proxy_message: a long text in two parts with an 8-bit reference UDH") {
  const std::string text(161, 'a');
  const auto pdus = build_proxy_message("+18005550100", "+12125550123", text, 0x2A);
  REQUIRE(pdus.size() == 2);
  const auto& p1 = sm(pdus[0]);
  const auto& p2 = sm(pdus[1]);
  CHECK(p1.esm_class == 0x40);
  CHECK(p2.esm_class == 0x40);
  CHECK(p1.data_coding == 0);
  CHECK(p1.registered_delivery == 1);
  CHECK(p2.registered_delivery == 1);
  Bytes want1{0x05, 0x00, 0x03, 0x2A, 0x02, 0x01};
  want1.insert(want1.end(), 153, 0x61);
  Bytes want2{0x05, 0x00, 0x03, 0x2A, 0x02, 0x02};
  want2.insert(want2.end(), 8, 0x61);
  CHECK(bytes(p1.short_message) == want1);
  CHECK(bytes(p2.short_message) == want2);
  CHECK(p2.destination_addr == "12125550123");
  CHECK(proto::encode(pdus[1]).has_value());
  // 160 characters still fit one part.
  CHECK(build_proxy_message("+18005550100", "+12125550123", std::string(160, 'a'), 0).size() == 1);
}

TEST_CASE("build_proxy_message: a short code sender is TON 3 / NPI 0") {
  const auto pdus = build_proxy_message("12345", "+447700900123", "ok", 0);
  REQUIRE(pdus.size() == 1);
  const auto& s = sm(pdus[0]);
  CHECK(s.source_addr_ton == 3);
  CHECK(s.source_addr_npi == 0);
  CHECK(s.source_addr == "12345");
  CHECK(s.dest_addr_ton == 1);
  CHECK(s.dest_addr_npi == 1);
  CHECK(s.destination_addr == "447700900123");
  CHECK(bytes(s.short_message) == Bytes{0x6F, 0x6B});
}

TEST_CASE("build_proxy_message: nothing for bad numbers or bad UTF-8") {
  CHECK(build_proxy_message("abc", "+12125550123", "x", 0).empty());
  CHECK(build_proxy_message("+18005550100", "12", "x", 0).empty());
  CHECK(build_proxy_message("+18005550100", "+12125550123", "\xFF", 0).empty());
}

namespace {

proto::Pdu mt(std::string short_message, std::uint8_t data_coding = 0, std::uint8_t esm_class = 0) {
  proto::SubmitSm s;
  s.source_addr_ton = 1;
  s.source_addr_npi = 1;
  s.source_addr = "18005550100";
  s.dest_addr_ton = 0;
  s.dest_addr_npi = 1;
  s.destination_addr = "2125550123";
  s.data_coding = data_coding;
  s.esm_class = esm_class;
  s.registered_delivery = 1;
  s.short_message = std::move(short_message);
  return proto::Pdu{proto::cmd::kSubmitSm, 0, 5, std::move(s)};
}

const TimePoint kSubmitted = utc(2026, 1, 15, 3, 0, 42);
const TimePoint kDone = utc(2026, 1, 15, 3, 5, 1);

}  // namespace

TEST_CASE("build_receipt: REJECTD for a refusal, with the exact text and TLVs") {
  const auto pdu = build_receipt("gw1-1-7", mt("Your code is 123456, valid for 10 minutes"),
                                 "REJECTD", 0x401, kSubmitted, kDone);
  CHECK(pdu.command_id == proto::cmd::kDeliverSm);
  CHECK(pdu.sequence_number == 0);
  const auto& d = sm(pdu);
  CHECK(d.short_message ==
        "id:gw1-1-7 sub:001 dlvrd:000 submit date:2601150300 done date:2601150305 stat:REJECTD "
        "err:401 text:Your code is 123456,");
  CHECK(d.esm_class == 0x04);
  CHECK(d.data_coding == 0);
  CHECK(d.registered_delivery == 0);
  // Addresses swapped: from the MT's destination, to the MT's source.
  CHECK(d.source_addr_ton == 0);
  CHECK(d.source_addr_npi == 1);
  CHECK(d.source_addr == "2125550123");
  CHECK(d.dest_addr_ton == 1);
  CHECK(d.dest_addr_npi == 1);
  CHECK(d.destination_addr == "18005550100");
  CHECK(d.tlvs.get_cstring(proto::tlv::kReceiptedMessageId) == std::string_view("gw1-1-7"));
  CHECK(d.tlvs.get_u8(proto::tlv::kMessageState) == std::uint8_t{8});
  CHECK(proto::encode(pdu).has_value());
}

TEST_CASE("build_receipt: message_state and err for each stat") {
  const auto state = [](std::string_view stat, std::uint32_t err = 0) {
    const auto pdu = build_receipt("x", mt("t"), stat, err, kSubmitted, kDone);
    return sm(pdu).tlvs.get_u8(proto::tlv::kMessageState).value_or(0xFF);
  };
  CHECK(state("EXPIRED") == 3);
  CHECK(state("UNDELIV") == 5);
  CHECK(state("REJECTD") == 8);
  CHECK(state("DELIVRD") == 2);
  CHECK(state("ACCEPTD") == 6);
  CHECK(state("WHATEVR") == 7);
  const auto text = [](std::uint32_t err) {
    return sm(build_receipt("x", mt(""), "EXPIRED", err, kSubmitted, kDone)).short_message;
  };
  CHECK(text(0x0A) ==
        "id:x sub:001 dlvrd:000 submit date:2601150300 done date:2601150305 stat:EXPIRED err:00A "
        "text:");
  CHECK(text(0x1234).find(" err:234 ") != std::string::npos);
}

TEST_CASE("build_receipt: text: is the first 20 characters of the decoded MT text") {
  const auto head = [](const proto::Pdu& original) {
    const auto t =
        sm(build_receipt("x", original, "REJECTD", 0x400, kSubmitted, kDone)).short_message;
    return t.substr(t.find("text:") + 5);
  };
  // UCS2 with an accent and an emoji: one '?' per character outside printable ASCII.
  const std::string ucs2{'\x00', 'O',    '\x00', 'l',    '\x00', '\xE1', '\x00', ' ',
                         '\xD8', '\x3D', '\xDE', '\x00', '\x00', ' ',    '\x00', 'm'};
  CHECK(head(mt(ucs2, 8)) == "Ol? ? m");
  // A UDH part: the header is not text.
  CHECK(head(mt(std::string("\x05\x00\x03\x01\x02\x01", 6) + "Hello", 0, 0x40)) == "Hello");
  // GSM 03.38: '@' is septet 0.
  CHECK(head(mt(std::string("a\x00"
                            "b",
                            3))) == "a@b");
  // message_payload when short_message is empty.
  auto payload = mt("");
  payload.as<proto::SubmitSm>()->tlvs.set(proto::tlv::kMessagePayload,
                                          "Payload text here ok and more");
  CHECK(head(payload) == "Payload text here ok");
  // data_sm carries its text in message_payload.
  proto::DataSm data;
  data.source_addr = "18005550100";
  data.destination_addr = "12125550123";
  data.tlvs.set(proto::tlv::kMessagePayload, "data sm");
  const auto r = build_receipt("x", proto::Pdu{proto::cmd::kDataSm, 0, 1, data}, "REJECTD", 0x400,
                               kSubmitted, kDone);
  CHECK(sm(r).source_addr == "12125550123");
  CHECK(sm(r).destination_addr == "18005550100");
  CHECK(head(proto::Pdu{proto::cmd::kDataSm, 0, 1, data}) == "data sm");
  // submit_multi: the first SME destination.
  proto::SubmitMulti multi;
  multi.source_addr = "12345";
  multi.source_addr_ton = 3;
  proto::DestAddress list;
  list.dest_flag = proto::kDestFlagDistributionList;
  list.dl_name = "friends";
  proto::DestAddress one;
  one.dest_addr_ton = 1;
  one.destination_addr = "12125550123";
  multi.dest_addresses = {list, one};
  multi.short_message = "multi";
  const auto m = build_receipt("x", proto::Pdu{proto::cmd::kSubmitMulti, 0, 1, multi}, "REJECTD",
                               0x400, kSubmitted, kDone);
  CHECK(sm(m).source_addr == "12125550123");
  CHECK(sm(m).source_addr_ton == 1);
  CHECK(sm(m).destination_addr == "12345");
  CHECK(sm(m).dest_addr_ton == 3);
  CHECK(head(proto::Pdu{proto::cmd::kSubmitMulti, 0, 1, multi}) == "multi");
}
