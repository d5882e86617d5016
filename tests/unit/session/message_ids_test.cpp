#include <doctest/doctest.h>

#include <smppguard/proto/tlv.hpp>

#include "session/message_ids.hpp"

using namespace smppguard;
using namespace smppguard::session;
using Fmt = config::MessageIdFormat;

TEST_CASE("message ids normalise per upstream format") {
  CHECK(*normalize_message_id(" abc-1 ", Fmt::as_is) == "abc-1");
  CHECK(*normalize_message_id("000A1f", Fmt::hex) == "a1f");
  CHECK(*normalize_message_id("0000", Fmt::hex) == "0");
  CHECK_FALSE(normalize_message_id("xyz", Fmt::hex));
  CHECK(*normalize_message_id("00042", Fmt::decimal) == "42");
  CHECK_FALSE(normalize_message_id("4a", Fmt::decimal));
  CHECK_FALSE(normalize_message_id("", Fmt::as_is));
}

TEST_CASE("a decimal receipt id under hex is also tried as its hex value") {
  // submit_sm_resp said "0000001F"; the receipt text says id:0000000031 (31 decimal = 0x1F).
  const auto keys = receipt_keys("0000000031", Fmt::hex);
  REQUIRE(keys.size() == 2);
  CHECK(keys[0] == "31");
  CHECK(keys[1] == "1f");
  CHECK(*normalize_message_id("0000001F", Fmt::hex) == "1f");
  CHECK(receipt_keys("12345678901234567890", Fmt::hex).back() == "ab54a98ceb1f0ad2");
  CHECK(receipt_keys("0A", Fmt::decimal).empty());
}

TEST_CASE("receipts are recognised by esm_class message type") {
  CHECK(is_receipt(0x04));
  CHECK(is_receipt(0x08));
  CHECK(is_receipt(0x20));
  CHECK(is_receipt(0x44));  // receipt with UDHI
  CHECK_FALSE(is_receipt(0x00));
  CHECK_FALSE(is_receipt(0x40));
}

TEST_CASE("receipt ids: TLV first, then the id: field of the text") {
  proto::SubmitSm d;
  d.short_message = "id:0000000031 sub:001 dlvrd:001 submit date:2611221200 done date:2611221201 "
                    "stat:DELIVRD err:000 text:hello";
  d.tlvs.set_cstring(proto::tlv::kReceiptedMessageId, "0000001F");
  const auto ids = receipt_ids(d);
  REQUIRE(ids.size() == 2);
  CHECK(ids[0] == "0000001F");
  CHECK(ids[1] == "0000000031");
}

TEST_CASE("receipts are rewritten to the proxy id in text and TLV") {
  proto::SubmitSm d;
  d.short_message = "id:0000000031 sub:001 dlvrd:001 stat:DELIVRD err:000 text:hello";
  d.tlvs.set_cstring(proto::tlv::kReceiptedMessageId, "0000001F");
  d.tlvs.set_u8(proto::tlv::kMessageState, 2);
  rewrite_receipt(d, "gw1-1-2a");
  CHECK(d.short_message == "id:gw1-1-2a sub:001 dlvrd:001 stat:DELIVRD err:000 text:hello");
  CHECK(*d.tlvs.get_cstring(proto::tlv::kReceiptedMessageId) == "gw1-1-2a");
  CHECK(*d.tlvs.get_u8(proto::tlv::kMessageState) == 2);
  // "grid:" must not be taken for "id:".
  std::string text = "grid:7 id:9 stat:DELIVRD";
  CHECK(rewrite_receipt_text(text, "X"));
  CHECK(text == "grid:7 id:X stat:DELIVRD");
  std::string none = "no receipt here";
  CHECK_FALSE(rewrite_receipt_text(none, "X"));
}

TEST_CASE("a longer id never makes the receipt text exceed 254 octets") {
  proto::SubmitSm d;
  d.short_message = "id:1 " + std::string(249, 'x');
  rewrite_receipt(d, std::string(40, 'P'));
  CHECK(d.short_message.size() == 254);
  CHECK(d.short_message.starts_with("id:" + std::string(40, 'P') + " "));
}
