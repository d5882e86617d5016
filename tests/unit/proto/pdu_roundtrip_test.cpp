// Round trips for every SMPP v3.4 PDU type: encode -> exact expected bytes (built here field by
// field from the spec layouts, independent of the encoder), decode -> equal Pdu.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bytes.hpp"
#include "smppguard/proto/decode.hpp"
#include "smppguard/proto/encode.hpp"

using namespace smppguard::proto;

namespace {

using smppguard::test::Bytes;
using smppguard::test::Octets;

Octets hex(std::string_view s) {
  Octets out;
  int nibble = -1;
  for (char c : s) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (v < 0) continue;
    if (nibble < 0) {
      nibble = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(nibble * 16 + v));
      nibble = -1;
    }
  }
  return out;
}

// encode(pdu) must give `wire` exactly, and decode(wire) must give `pdu` back.
void check_round_trip(const Pdu& pdu, const Octets& wire) {
  auto enc = encode(pdu);
  REQUIRE(enc.has_value());
  CHECK(*enc == wire);
  auto dec = decode(wire);
  REQUIRE(dec.has_value());
  CHECK(*dec == pdu);
  // And appending to a non-empty buffer appends exactly those bytes.
  Octets out{0xAA, 0xBB};
  auto n = encode(pdu, out);
  REQUIRE(n.has_value());
  CHECK(*n == wire.size());
  CHECK(out.size() == wire.size() + 2);
  CHECK(Octets(out.begin() + 2, out.end()) == wire);
}

std::string str(std::size_t n, char c) { return std::string(n, c); }

}  // namespace

TEST_CASE("bind_transmitter: the spec's example bytes") {
  Pdu pdu{cmd::kBindTransmitter, 0, 1,
          Bind{"SMPP3TEST", "secret08", "SUBMIT1", kInterfaceVersion34, 1, 1, ""}};
  const Octets wire =
      hex("0000002F 00000002 00000000 00000001"
          "534D5050335445535400"  // SMPP3TEST
          "7365637265743038 00"   // secret08
          "5355424D49543100"      // SUBMIT1
          "34 01 01 00");
  REQUIRE(wire.size() == 47);
  check_round_trip(pdu, wire);
}

TEST_CASE("bind_receiver and bind_transceiver share the bind layout") {
  for (std::uint32_t id : {cmd::kBindReceiver, cmd::kBindTransceiver}) {
    CAPTURE(command_name(id));
    Pdu pdu{id, 0, 0x7FFFFFFF, Bind{"esme", "pw", "", kInterfaceVersion50, 2, 9, "^1555"}};
    Bytes b;
    b.cstr("esme").cstr("pw").cstr("").u8(0x50).u8(2).u8(9).cstr("^1555");
    check_round_trip(pdu, b.frame(id, 0x7FFFFFFF, 0));
  }
}

TEST_CASE("bind_*_resp with sc_interface_version") {
  for (std::uint32_t id :
       {cmd::kBindTransmitterResp, cmd::kBindReceiverResp, cmd::kBindTransceiverResp}) {
    CAPTURE(command_name(id));
    BindResp body{"smppguard", {}};
    body.tlvs.set_u8(tlv::kScInterfaceVersion, 0x34);
    Pdu pdu{id, 0, 7, body};
    const Octets wire = hex("0000001F" +
                            std::string(id == cmd::kBindTransmitterResp ? "80000002"
                                        : id == cmd::kBindReceiverResp  ? "80000001"
                                                                        : "80000009") +
                            "00000000 00000007"
                            "736D70706775617264 00"  // smppguard
                            "0210 0001 34");
    REQUIRE(wire.size() == 31);
    check_round_trip(pdu, wire);
  }
}

TEST_CASE("outbind") {
  Pdu pdu{cmd::kOutbind, 0, 3, Outbind{"smsc", "secret"}};
  Bytes b;
  b.cstr("smsc").cstr("secret");
  check_round_trip(pdu, b.frame(cmd::kOutbind, 3, 0));
}

TEST_CASE(
    "header-only PDUs: generic_nack, unbind(_resp), enquire_link(_resp), cancel/replace_sm_resp") {
  check_round_trip(Pdu{cmd::kEnquireLink, 0, 1, Empty{}},
                   hex("00000010 00000015 00000000 00000001"));
  check_round_trip(Pdu{cmd::kEnquireLinkResp, 0, 1, Empty{}},
                   hex("00000010 80000015 00000000 00000001"));
  check_round_trip(Pdu{cmd::kGenericNack, status::kEsmeRinvcmdid, 9, Empty{}},
                   hex("00000010 80000000 00000003 00000009"));
  check_round_trip(Pdu{cmd::kUnbind, 0, 2, Empty{}}, hex("00000010 00000006 00000000 00000002"));
  check_round_trip(Pdu{cmd::kUnbindResp, 0, 2, Empty{}},
                   hex("00000010 80000006 00000000 00000002"));
  check_round_trip(Pdu{cmd::kCancelSmResp, 0, 4, Empty{}},
                   hex("00000010 80000008 00000000 00000004"));
  check_round_trip(Pdu{cmd::kReplaceSmResp, status::kEsmeRreplacefail, 5, Empty{}},
                   hex("00000010 80000007 00000013 00000005"));
}

TEST_CASE("submit_sm with every mandatory field and a TLV") {
  SubmitSm sm;
  sm.service_type = "CMT";
  sm.source_addr_ton = 1;
  sm.source_addr_npi = 1;
  sm.source_addr = "15551230000";
  sm.dest_addr_ton = 1;
  sm.dest_addr_npi = 1;
  sm.destination_addr = "15557654321";
  sm.esm_class = 0x40;
  sm.protocol_id = 0;
  sm.priority_flag = 1;
  sm.schedule_delivery_time = "250101120000000+";
  sm.validity_period = "000001000000000R";
  sm.registered_delivery = 1;
  sm.replace_if_present_flag = 0;
  sm.data_coding = 8;
  sm.sm_default_msg_id = 0;
  sm.short_message = std::string("\x05\x00\x03\x2A\x02\x01\x00H\x00i", 10);
  sm.tlvs.set_u8(tlv::kSmppguardCategory, 2);
  Pdu pdu{cmd::kSubmitSm, 0, 0x01020304, sm};

  Bytes b;
  b.cstr("CMT").u8(1).u8(1).cstr("15551230000").u8(1).u8(1).cstr("15557654321");
  b.u8(0x40).u8(0).u8(1).cstr("250101120000000+").cstr("000001000000000R");
  b.u8(1).u8(0).u8(8).u8(0).u8(10).raw(std::string("\x05\x00\x03\x2A\x02\x01\x00H\x00i", 10));
  b.tlv(0x1400, std::string(1, '\x02'));
  const Octets wire = b.frame(cmd::kSubmitSm, 0x01020304, 0);
  CHECK(wire.size() == 16 + 4 + 2 + 12 + 2 + 12 + 3 + 17 + 17 + 4 + 1 + 10 + 5);
  check_round_trip(pdu, wire);
}

TEST_CASE("submit_sm with all fields at their maximum size") {
  SubmitSm sm;
  sm.service_type = str(5, 's');
  sm.source_addr = str(20, '1');
  sm.destination_addr = str(20, '2');
  sm.short_message = str(254, 'x');
  Pdu pdu{cmd::kSubmitSm, 0, 1, sm};
  Bytes b;
  b.cstr(sm.service_type).u8(0).u8(0).cstr(sm.source_addr).u8(0).u8(0).cstr(sm.destination_addr);
  b.u8(0).u8(0).u8(0).cstr("").cstr("").u8(0).u8(0).u8(0).u8(0).u8(254).raw(sm.short_message);
  check_round_trip(pdu, b.frame(cmd::kSubmitSm, 1, 0));
}

TEST_CASE("submit_sm_resp and deliver_sm_resp") {
  check_round_trip(Pdu{cmd::kSubmitSmResp, 0, 42, MessageIdResp{"0A1B2C3D", {}}},
                   hex("00000019 80000004 00000000 0000002A 3041314232433344 00"));
  check_round_trip(Pdu{cmd::kDeliverSmResp, 0, 43, MessageIdResp{}},
                   hex("00000011 80000005 00000000 0000002B 00"));
}

TEST_CASE("submit_multi: SME addresses and a distribution list") {
  SubmitMulti m;
  m.service_type = "";
  m.source_addr_ton = 3;
  m.source_addr_npi = 0;
  m.source_addr = "12345";
  m.dest_addresses = {
      DestAddress{kDestFlagSmeAddress, 1, 1, "15550000001", ""},
      DestAddress{kDestFlagDistributionList, 0, 0, "", "friends"},
      DestAddress{kDestFlagSmeAddress, 1, 1, "15550000002", ""},
  };
  m.esm_class = 0;
  m.protocol_id = 0;
  m.priority_flag = 0;
  m.registered_delivery = 1;
  m.data_coding = 0;
  m.short_message = "Hello";
  Pdu pdu{cmd::kSubmitMulti, 0, 5, m};

  const Octets wire =
      hex("00000050 00000021 00000000 00000005"
          "00"                                 // service_type ""
          "03 00 313233343500"                 // source ton, npi, "12345"
          "03"                                 // number_of_dests
          "01 01 01 313535353030303030303100"  // dest_flag 1, ton, npi, 15550000001
          "02 667269656E647300"                // dest_flag 2, "friends"
          "01 01 01 313535353030303030303200"  // dest_flag 1, ton, npi, 15550000002
          "00 00 00"                           // esm_class, protocol_id, priority_flag
          "00 00"                              // schedule_delivery_time, validity_period
          "01 00 00 00"      // registered_delivery, replace_if_present, data_coding, default_msg_id
          "05 48656C6C6F");  // sm_length, "Hello"
  REQUIRE(wire.size() == 0x50);
  check_round_trip(pdu, wire);
}

TEST_CASE("submit_multi_resp with unsuccess_sme entries") {
  SubmitMultiResp r;
  r.message_id = "m1";
  r.unsuccess_smes = {UnsuccessSme{1, 1, "15550000001", 0x00000400},
                      UnsuccessSme{1, 1, "15550000002", status::kEsmeRinvdstadr}};
  Pdu pdu{cmd::kSubmitMultiResp, 0, 6, r};
  Bytes b;
  b.cstr("m1").u8(2);
  b.u8(1).u8(1).cstr("15550000001").u32(0x400);
  b.u8(1).u8(1).cstr("15550000002").u32(0x0B);
  check_round_trip(pdu, b.frame(cmd::kSubmitMultiResp, 6, 0));
  // No unsuccessful destinations.
  check_round_trip(Pdu{cmd::kSubmitMultiResp, 0, 7, SubmitMultiResp{"m2", {}, {}}},
                   hex("00000014 80000021 00000000 00000007 6D3200 00"));
}

TEST_CASE("deliver_sm carrying a delivery receipt with TLVs") {
  DeliverSm d;
  d.source_addr_ton = 1;
  d.source_addr_npi = 1;
  d.source_addr = "15557654321";
  d.dest_addr_ton = 3;
  d.dest_addr_npi = 0;
  d.destination_addr = "12345";
  d.esm_class = esm_class::kDeliveryReceipt;
  d.short_message = "id:0A1B stat:DELIVRD err:000";
  d.tlvs.set_cstring(tlv::kReceiptedMessageId, "0A1B");
  d.tlvs.set_u8(tlv::kMessageState, 2);
  d.tlvs.set(tlv::kNetworkErrorCode, std::string("\x03\x00\x00", 3));
  Pdu pdu{cmd::kDeliverSm, 0, 100, d};

  Bytes b;
  b.cstr("").u8(1).u8(1).cstr("15557654321").u8(3).u8(0).cstr("12345");
  b.u8(0x04).u8(0).u8(0).cstr("").cstr("").u8(0).u8(0).u8(0).u8(0);
  b.u8(static_cast<std::uint8_t>(d.short_message.size())).raw(d.short_message);
  b.tlv(0x001E, std::string("0A1B\0", 5));
  b.tlv(0x0427, std::string("\x02", 1));
  b.tlv(0x0423, std::string("\x03\x00\x00", 3));
  const Octets wire = b.frame(cmd::kDeliverSm, 100, 0);
  check_round_trip(pdu, wire);

  auto dec = decode(wire);
  REQUIRE(dec);
  const auto* got = dec->as<DeliverSm>();
  REQUIRE(got != nullptr);
  CHECK(got->tlvs.get_cstring(tlv::kReceiptedMessageId) == std::string_view("0A1B"));
  CHECK(got->tlvs.get_u8(tlv::kMessageState) == 2);
  CHECK(got->tlvs.get_bytes(tlv::kNetworkErrorCode)->size() == 3);
}

TEST_CASE("data_sm with 64-character addresses and message_payload") {
  DataSm d;
  d.service_type = "WAP";
  d.source_addr_ton = 5;
  d.source_addr_npi = 0;
  d.source_addr = str(64, 'a');
  d.dest_addr_ton = 1;
  d.dest_addr_npi = 1;
  d.destination_addr = str(64, '9');
  d.esm_class = 0;
  d.registered_delivery = 0;
  d.data_coding = 4;
  d.tlvs.set(tlv::kMessagePayload, str(300, 'p'));
  d.tlvs.set_u16(tlv::kSourcePort, 9200);
  Pdu pdu{cmd::kDataSm, 0, 8, d};

  Bytes b;
  b.cstr("WAP").u8(5).u8(0).cstr(d.source_addr).u8(1).u8(1).cstr(d.destination_addr);
  b.u8(0).u8(0).u8(4);
  b.tlv(0x0424, str(300, 'p'));
  b.tlv(0x020A, std::string("\x23\xF0", 2));
  const Octets wire = b.frame(cmd::kDataSm, 8, 0);
  CHECK(wire.size() == 16 + 4 + 2 + 65 + 2 + 65 + 3 + 304 + 6);
  check_round_trip(pdu, wire);
}

TEST_CASE("data_sm_resp with delivery_failure_reason, also on an error status") {
  MessageIdResp r;
  r.message_id = "";
  r.tlvs.set_u8(tlv::kDeliveryFailureReason, 1);
  r.tlvs.set_cstring(tlv::kAdditionalStatusInfoText, "absent");
  Pdu pdu{cmd::kDataSmResp, status::kEsmeRdeliveryfailure, 9, r};
  const Octets wire =
      hex("00000021 80000103 000000FE 00000009"
          "00"
          "0425 0001 01"
          "001D 0007 61627365 6E7400");
  REQUIRE(wire.size() == 0x21);
  check_round_trip(pdu, wire);
}

TEST_CASE("query_sm and query_sm_resp") {
  check_round_trip(Pdu{cmd::kQuerySm, 0, 10, QuerySm{"12AB", 1, 1, "15551230000"}},
                   hex("00000023 00000003 00000000 0000000A"
                       "3132414200 01 01 313535353132333030303000"));
  QuerySmResp r{"12AB", "250102030405060+", 2, 0};
  const Octets wire =
      hex("00000028 80000003 00000000 0000000A"
          "3132414200"
          "32353031303230333034303530363 02B 00"  // 250102030405060+
          "02 00");
  REQUIRE(wire.size() == 0x28);
  check_round_trip(Pdu{cmd::kQuerySmResp, 0, 10, r}, wire);
  // Not yet final: final_date is a single NUL.
  check_round_trip(Pdu{cmd::kQuerySmResp, 0, 11, QuerySmResp{"X", "", 1, 0}},
                   hex("00000015 80000003 00000000 0000000B 5800 00 01 00"));
}

TEST_CASE("cancel_sm") {
  CancelSm c{"", "12AB", 1, 1, "15551230000", 1, 1, "15557654321"};
  Bytes b;
  b.cstr("").cstr("12AB").u8(1).u8(1).cstr("15551230000").u8(1).u8(1).cstr("15557654321");
  check_round_trip(Pdu{cmd::kCancelSm, 0, 12, c}, b.frame(cmd::kCancelSm, 12, 0));
}

TEST_CASE("replace_sm carries its TLVs through") {
  ReplaceSm r;
  r.message_id = "12AB";
  r.source_addr_ton = 1;
  r.source_addr_npi = 1;
  r.source_addr = "15551230000";
  r.schedule_delivery_time = "";
  r.validity_period = "250101000000000+";
  r.registered_delivery = 1;
  r.sm_default_msg_id = 0;
  r.short_message = "new text";
  r.tlvs.add(0x1500, "vendor");
  Bytes b;
  b.cstr("12AB").u8(1).u8(1).cstr("15551230000").cstr("").cstr("250101000000000+");
  b.u8(1).u8(0).u8(8).raw("new text").tlv(0x1500, "vendor");
  check_round_trip(Pdu{cmd::kReplaceSm, 0, 13, r}, b.frame(cmd::kReplaceSm, 13, 0));
}

TEST_CASE("alert_notification with ms_availability_status") {
  AlertNotification a;
  a.source_addr_ton = 1;
  a.source_addr_npi = 1;
  a.source_addr = "15557654321";
  a.esme_addr_ton = 3;
  a.esme_addr_npi = 0;
  a.esme_addr = "12345";
  a.tlvs.set_u8(tlv::kMsAvailabilityStatus, 0);
  const Octets wire =
      hex("0000002B 00000102 00000000 0000000E"
          "01 01 313535353736353433323100"
          "03 00 313233343500"
          "0422 0001 00");
  REQUIRE(wire.size() == 0x2B);
  check_round_trip(Pdu{cmd::kAlertNotification, 0, 14, a}, wire);
}

TEST_CASE("error responses: both forms decode, each re-encodes as it came") {
  // v3.4 form: no body.
  const Octets bare = hex("00000010 80000004 00000401 00000010");
  auto d1 = decode(bare);
  REQUIRE(d1);
  CHECK(std::holds_alternative<Empty>(d1->body));
  CHECK(d1->command_status == 0x401);
  CHECK(*encode(*d1) == bare);
  // v5.0 / v3.3 form: an empty message_id.
  const Octets with_body = hex("00000011 80000004 00000401 00000010 00");
  auto d2 = decode(with_body);
  REQUIRE(d2);
  REQUIRE(d2->as<MessageIdResp>() != nullptr);
  CHECK(d2->as<MessageIdResp>()->message_id.empty());
  CHECK(*encode(*d2) == with_body);
  // bind_transceiver_resp, query_sm_resp and submit_multi_resp without body.
  for (std::uint32_t id : {cmd::kBindTransceiverResp, cmd::kQuerySmResp, cmd::kSubmitMultiResp,
                           cmd::kDataSmResp, cmd::kDeliverSmResp}) {
    CAPTURE(command_name(id));
    Bytes none;
    auto d = decode(none.frame(id, 3, status::kEsmeRsyserr));
    REQUIRE(d);
    CHECK(std::holds_alternative<Empty>(d->body));
  }
}

TEST_CASE("make_response applies the v3.4 rule for error responses") {
  const Header submit{0, cmd::kSubmitSm, 0, 77};
  // Refusal: bare header, as SMPP v3.4 4.4.2 says.
  CHECK(*encode(make_response(submit, 0x401)) == hex("00000010 80000004 00000401 0000004D"));
  // Accepted: the caller fills in message_id.
  Pdu ok = make_response(submit, status::kEsmeRok);
  REQUIRE(ok.as<SubmitSmResp>() != nullptr);
  ok.as<SubmitSmResp>()->message_id = "abc";
  CHECK(*encode(ok) == hex("00000014 80000004 00000000 0000004D 61626300"));
  // bind_*_resp errors: bare header.
  for (std::uint32_t id : {cmd::kBindTransmitter, cmd::kBindReceiver, cmd::kBindTransceiver}) {
    Pdu r = make_response(Header{0, id, 0, 1}, status::kEsmeRinvpaswd);
    CHECK(r.command_id == (id | 0x80000000u));
    CHECK(std::holds_alternative<Empty>(r.body));
    CHECK(encode(r)->size() == 16);
  }
  // data_sm_resp, deliver_sm_resp, query_sm_resp, submit_multi_resp keep a body on errors.
  CHECK(*encode(make_response(Header{0, cmd::kDeliverSm, 0, 2}, status::kEsmeRxTAppn)) ==
        hex("00000011 80000005 00000064 00000002 00"));
  CHECK(make_response(Header{0, cmd::kDataSm, 0, 2}, 8).as<DataSmResp>() != nullptr);
  CHECK(encode(make_response(Header{0, cmd::kQuerySm, 0, 2}, 0x67))->size() == 16 + 4);
  CHECK(encode(make_response(Header{0, cmd::kSubmitMulti, 0, 2}, 0x45))->size() == 16 + 2);
  // Commands without a `_resp` get a generic_nack.
  Pdu nack = make_response(Header{0, cmd::kAlertNotification, 0, 5}, status::kEsmeRinvcmdlen);
  CHECK(nack.command_id == cmd::kGenericNack);
  CHECK(nack.sequence_number == 5);
  CHECK(make_response(Header{0, cmd::kEnquireLink, 0, 5}, 0).command_id == cmd::kEnquireLinkResp);
}
