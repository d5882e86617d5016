// TLVs: the ordered list, typed getters, set/replace/remove, and byte-exact pass-through of
// unknown, duplicate and SMPP v5.0 TLVs.
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

Bytes deliver_head() {
  Bytes b;
  b.cstr("").u8(1).u8(1).cstr("15557654321").u8(3).u8(0).cstr("12345");
  b.u8(0).u8(0).u8(0).cstr("").cstr("").u8(0).u8(0).u8(0).u8(0).u8(4).raw("STOP");
  return b;
}

}  // namespace

TEST_CASE("unknown and duplicate TLVs keep their order and re-encode byte for byte") {
  Bytes b = deliver_head();
  b.tlv(0x1401, "vendor-a");  // unknown vendor TLV
  b.tlv(tlv::kSarMsgRefNum, std::string("\x00\x2A", 2));
  b.tlv(0x1401, "vendor-b");  // duplicate unknown tag
  b.tlv(tlv::kUserMessageReference, std::string("\x00\x01", 2));
  b.tlv(tlv::kUserMessageReference, std::string("\x00\x02", 2));  // duplicate known tag
  b.tlv(0x7FFF, "");                                              // zero-length unknown
  b.tlv(0xFFFF, std::string("\0\1\2", 3));                        // reserved range
  const Octets wire = b.frame(cmd::kDeliverSm, 1);

  auto d = decode(wire);
  REQUIRE(d);
  const TlvList& tlvs = d->as<DeliverSm>()->tlvs;
  REQUIRE(tlvs.size() == 7);
  std::vector<std::uint16_t> tags;
  for (const Tlv& t : tlvs) tags.push_back(t.tag);
  CHECK(tags == std::vector<std::uint16_t>{0x1401, 0x020C, 0x1401, 0x0204, 0x0204, 0x7FFF, 0xFFFF});
  CHECK(tlvs.get_bytes(0x1401) == std::string_view("vendor-a"));  // first wins
  CHECK(tlvs.get_u16(tlv::kUserMessageReference) == 1);
  CHECK(tlvs.get_u16(tlv::kSarMsgRefNum) == 42);
  CHECK(*encode(*d) == wire);
}

TEST_CASE("SMPP v5.0 TLVs pass untouched") {
  Bytes b;
  b.cstr("msg-1");
  b.tlv(tlv::kCongestionState, "\x50");
  b.tlv(tlv::kBillingIdentification,
        "\x01"
        "acct-9");
  b.tlv(tlv::kSourceNetworkId, std::string("net\0", 4));
  b.tlv(tlv::kDestNodeId, "123456");
  b.tlv(tlv::kDestAddrNpInformation, "0123456789");
  b.tlv(tlv::kDestAddrNpCountry, "\x01");
  b.tlv(tlv::kBroadcastAreaIdentifier, std::string("\x00"
                                                   "area",
                                                   5));
  b.tlv(tlv::kMsValidity, std::string("\x03\x01\x00\x05", 4));  // the v5.0 4-octet form
  b.tlv(tlv::kAlertOnMessageDelivery, "\x02");                  // the v5.0 1-octet form
  const Octets wire = b.frame(cmd::kSubmitSmResp, 2);  // v5.0 allows TLVs on submit_sm_resp
  auto d = decode(wire);
  REQUIRE(d);
  const auto* r = d->as<SubmitSmResp>();
  REQUIRE(r != nullptr);
  CHECK(r->message_id == "msg-1");
  CHECK(r->tlvs.size() == 9);
  CHECK(r->tlvs.get_u8(tlv::kCongestionState) == 0x50);
  CHECK(*encode(*d) == wire);
  // On deliver_sm_resp, submit_multi_resp and bind_resp too.
  for (std::uint32_t id : {cmd::kDeliverSmResp, cmd::kDataSmResp, cmd::kBindReceiverResp}) {
    auto again = decode(b.frame(id, 3));
    REQUIRE(again);
    CHECK(*encode(*again) == b.frame(id, 3));
  }
  Bytes multi;
  multi.cstr("m").u8(0).tlv(tlv::kCongestionState, "\x10");
  auto m = decode(multi.frame(cmd::kSubmitMultiResp, 4));
  REQUIRE(m);
  CHECK(m->as<SubmitMultiResp>()->tlvs.get_u8(tlv::kCongestionState) == 0x10);
}

TEST_CASE("typed getters check the value's form") {
  TlvList l;
  l.add(tlv::kSarTotalSegments, "\x03");
  l.add(tlv::kSarMsgRefNum, "\x12\x34");
  l.add(tlv::kQosTimeToLive, std::string("\x00\x01\x51\x80", 4));
  l.add(tlv::kReceiptedMessageId, std::string("abc\0", 4));
  l.add(tlv::kAdditionalStatusInfoText, "no-nul");
  l.add(0x1500, std::string("a\0b\0", 4));
  CHECK(l.get_u8(tlv::kSarTotalSegments) == 3);
  CHECK(l.get_u16(tlv::kSarMsgRefNum) == 0x1234);
  CHECK(l.get_u32(tlv::kQosTimeToLive) == 86400);
  CHECK(l.get_cstring(tlv::kReceiptedMessageId) == std::string_view("abc"));
  // Wrong sizes or forms give nullopt.
  CHECK_FALSE(l.get_u16(tlv::kSarTotalSegments).has_value());
  CHECK_FALSE(l.get_u8(tlv::kSarMsgRefNum).has_value());
  CHECK_FALSE(l.get_cstring(tlv::kAdditionalStatusInfoText).has_value());
  CHECK_FALSE(l.get_cstring(0x1500).has_value());  // NUL inside
  CHECK_FALSE(l.get_u8(tlv::kMessagePayload).has_value());
  CHECK(l.find(tlv::kMessagePayload) == nullptr);
  CHECK(l.contains(tlv::kSarMsgRefNum));
  CHECK(l.get_bytes(tlv::kAdditionalStatusInfoText) == std::string_view("no-nul"));
}

TEST_CASE("set replaces in place and drops later duplicates; remove drops all") {
  TlvList l{{0x0001, "a"},
            {tlv::kReceiptedMessageId, "x"},
            {0x0002, "b"},
            {tlv::kReceiptedMessageId, "y"}};
  l.set_cstring(tlv::kReceiptedMessageId, "proxy-7");
  REQUIRE(l.size() == 3);
  CHECK(l.items()[0] == Tlv{0x0001, "a"});
  CHECK(l.items()[1] == Tlv{tlv::kReceiptedMessageId, std::string("proxy-7\0", 8)});
  CHECK(l.items()[2] == Tlv{0x0002, "b"});
  l.set_u8(tlv::kSmppguardCategory, 1);  // absent: appended
  CHECK(l.items().back() == Tlv{0x1400, "\x01"});
  l.set_u16(tlv::kSarMsgRefNum, 0xABCD);
  CHECK(l.find(tlv::kSarMsgRefNum)->value == "\xAB\xCD");
  l.set_u32(tlv::kQosTimeToLive, 0x01020304);
  CHECK(l.find(tlv::kQosTimeToLive)->value == "\x01\x02\x03\x04");
  l.add(0x0001, "c");
  CHECK(l.remove(0x0001) == 2);
  CHECK(l.remove(0x0001) == 0);
  CHECK(l.size() == 5);
  CHECK(l.encoded_size() == (4 + 8) + (4 + 1) + (4 + 1) + (4 + 2) + (4 + 4));
}

TEST_CASE("rewriting receipted_message_id keeps the rest of the PDU byte for byte") {
  Bytes b = deliver_head();
  b.tlv(0x1410, "x");
  b.tlv(tlv::kReceiptedMessageId, std::string("up-1\0", 5));
  b.tlv(tlv::kMessageState, "\x02");
  auto d = decode(b.frame(cmd::kDeliverSm, 9));
  REQUIRE(d);
  d->as<DeliverSm>()->tlvs.set_cstring(tlv::kReceiptedMessageId, "esme-000042");
  Bytes want = deliver_head();
  want.tlv(0x1410, "x");
  want.tlv(tlv::kReceiptedMessageId, std::string("esme-000042\0", 12));
  want.tlv(tlv::kMessageState, "\x02");
  CHECK(*encode(*d) == want.frame(cmd::kDeliverSm, 9));
}

TEST_CASE("tlv names and lengths") {
  CHECK(tlv_name(0x0005) == "dest_addr_subunit");
  CHECK(tlv_name(0x001E) == "receipted_message_id");
  CHECK(tlv_name(0x020C) == "sar_msg_ref_num");
  CHECK(tlv_name(0x020E) == "sar_total_segments");
  CHECK(tlv_name(0x020F) == "sar_segment_seqnum");
  CHECK(tlv_name(0x0210) == "sc_interface_version");
  CHECK(tlv_name(0x0423) == "network_error_code");
  CHECK(tlv_name(0x0424) == "message_payload");
  CHECK(tlv_name(0x0427) == "message_state");
  CHECK(tlv_name(0x0428) == "congestion_state");
  CHECK(tlv_name(0x060B) == "billing_identification");
  CHECK(tlv_name(0x0613) == "dest_addr_np_country");
  CHECK(tlv_name(0x1383) == "its_session_info");
  CHECK(tlv_name(0x1400) == "smppguard_category");
  CHECK(tlv_name(0x060C) == "unknown");
  CHECK(tlv_name(0x1401) == "unknown");
  CHECK(tlv_length(tlv::kNetworkErrorCode).min == 3);
  CHECK(tlv_length(tlv::kNetworkErrorCode).max == 3);
  CHECK(tlv_length(tlv::kMessagePayload).max == 0xFFFF);
  CHECK(tlv_length(0x1234).min == 0);
}
