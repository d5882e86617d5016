#include "smppguard/proto/text.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <ostream>  // lets doctest print std::error_code
#include <string>
#include <string_view>
#include <vector>

using namespace smppguard::proto;

namespace {

using Bytes = std::vector<std::uint8_t>;
const std::string kFffd = "\xEF\xBF\xBD";

Bytes bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

struct Coding {
  std::uint8_t dc;
  Alphabet alphabet;
  std::optional<std::uint8_t> cls;
  bool text;
  bool reserved;
};

}  // namespace

TEST_CASE("text: data_coding table") {
  const std::optional<std::uint8_t> none;
  const Coding table[] = {
      // SMPP v3.4 5.2.19
      {0x00, Alphabet::gsm7, none, true, false},
      {0x01, Alphabet::ia5, none, true, false},
      {0x02, Alphabet::binary, none, false, false},
      {0x03, Alphabet::latin1, none, true, false},
      {0x04, Alphabet::binary, none, false, false},
      {0x05, Alphabet::unsupported, none, false, false},
      {0x06, Alphabet::unsupported, none, false, false},
      {0x07, Alphabet::unsupported, none, false, false},
      {0x08, Alphabet::ucs2, none, true, false},
      {0x09, Alphabet::unsupported, none, false, false},
      {0x0A, Alphabet::unsupported, none, false, false},
      {0x0B, Alphabet::gsm7, none, true, true},
      {0x0C, Alphabet::gsm7, none, true, true},
      {0x0D, Alphabet::unsupported, none, false, false},
      {0x0E, Alphabet::unsupported, none, false, false},
      {0x0F, Alphabet::gsm7, none, true, true},
      // TS 23.038 group 00xx with message class
      {0x10, Alphabet::gsm7, 0, true, false},
      {0x11, Alphabet::gsm7, 1, true, false},
      {0x12, Alphabet::gsm7, 2, true, false},
      {0x13, Alphabet::gsm7, 3, true, false},
      {0x14, Alphabet::binary, 0, false, false},
      {0x16, Alphabet::binary, 2, false, false},
      {0x18, Alphabet::ucs2, 0, true, false},
      {0x19, Alphabet::ucs2, 1, true, false},
      {0x1C, Alphabet::gsm7, 0, true, true},
      // compressed
      {0x20, Alphabet::gsm7, none, false, false},
      {0x38, Alphabet::ucs2, 0, false, false},
      // group 01xx, automatic deletion
      {0x40, Alphabet::gsm7, none, true, false},
      {0x48, Alphabet::ucs2, none, true, false},
      {0x51, Alphabet::gsm7, 1, true, false},
      {0x58, Alphabet::ucs2, 0, true, false},
      {0x64, Alphabet::binary, none, false, false},
      // reserved groups, message waiting, data coding / message class
      {0x80, Alphabet::gsm7, none, true, true},
      {0xBF, Alphabet::gsm7, none, true, true},
      {0xC0, Alphabet::gsm7, none, true, false},
      {0xD8, Alphabet::gsm7, none, true, false},
      {0xE8, Alphabet::ucs2, none, true, false},
      {0xF0, Alphabet::gsm7, 0, true, false},
      {0xF1, Alphabet::gsm7, 1, true, false},
      {0xF3, Alphabet::gsm7, 3, true, false},
      {0xF4, Alphabet::binary, 0, false, false},
      {0xF6, Alphabet::binary, 2, false, false},
  };
  for (const auto& c : table) {
    CAPTURE(static_cast<int>(c.dc));
    const DataCodingInfo info = describe_data_coding(c.dc);
    CHECK(info.alphabet == c.alphabet);
    CHECK(info.message_class == c.cls);
    CHECK(info.is_text() == c.text);
    CHECK(info.reserved == c.reserved);
  }
  CHECK(describe_data_coding(0x24).compressed);
  CHECK_FALSE(describe_data_coding(0x14).compressed);
}

TEST_CASE("text: decode_text dispatches on data_coding") {
  CHECK(decode_text(0x00, Bytes{0x48, 0x65, 0x6C, 0x6C, 0x6F, 0x00, 0x1B, 0x65}) == "Hello@€");
  CHECK(decode_text(0x00, Bytes{0x5B}) == "Ä");
  CHECK(decode_text(0x01, Bytes{0x5B}) == "[");
  CHECK(decode_text(0x03, Bytes{0x5B}) == "[");
  CHECK(decode_text(0x03, Bytes{0x63, 0x61, 0x66, 0xE9}) == "café");
  CHECK(decode_text(0x01, Bytes{0x41, 0xE9}) == "A" + kFffd);
  CHECK(decode_text(0x00, Bytes{0xE9}) == kFffd);
  CHECK(decode_text(0x08, Bytes{0x00, 0xE9, 0xD8, 0x3D, 0xDE, 0x00}) == "é😀");
  CHECK(decode_text(0x18, Bytes{0x00, 0x53}) == "S");  // UCS2, class 0
  CHECK(decode_text(0xF0, Bytes{0x53, 0x54, 0x4F, 0x50}) == "STOP");
  CHECK(decode_text(0x11, Bytes{0x53, 0x54, 0x4F, 0x50}) == "STOP");
  CHECK(decode_text(0xE0, Bytes{0x00, 0x53}) == "S");
  CHECK(decode_text(0x0B, Bytes{0x00}) == "@");  // reserved: GSM default
  // Non-text codings come back as they are.
  const Bytes binary = {0x00, 0xFF, 0x1B, 0x80};
  for (const std::uint8_t dc : {0x02, 0x04, 0x05, 0x14, 0x24, 0xF5}) {
    CAPTURE(static_cast<int>(dc));
    CHECK(bytes_of(decode_text(dc, binary)) == binary);
  }
  CHECK(decode_text(0x08, Bytes{}).empty());
}

TEST_CASE("text: message_payload is decoded whole") {
  // message_payload may exceed short_message's 254 octets; decode_text takes it in one piece.
  std::string expected;
  Bytes payload;
  for (int i = 0; i < 300; ++i) {
    expected += "Ω";
    payload.push_back(0x03);
    payload.push_back(0xA9);
  }
  CHECK(decode_text(0x08, payload) == expected);
}

TEST_CASE("text: IA5 / ASCII") {
  CHECK(*ia5_encode("STOP now!") == bytes_of("STOP now!"));
  const auto bad = ia5_encode("café");
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == TextErrc::unencodable);
  CHECK(ia5_decode(Bytes{0x53, 0x7F, 0x80, 0xFF}) == "S\x7F" + kFffd + kFffd);
  CHECK(ia5_encode("\xC3").error() == TextErrc::invalid_utf8);
}

TEST_CASE("text: Latin-1") {
  CHECK(*latin1_encode("café ¿ÿ") == Bytes{0x63, 0x61, 0x66, 0xE9, 0x20, 0xBF, 0xFF});
  const auto euro = latin1_encode("5€");
  REQUIRE_FALSE(euro);
  CHECK(euro.error() == TextErrc::unencodable);
  Bytes all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<std::uint8_t>(b));
  const std::string text = latin1_decode(all);
  CHECK(is_valid_utf8(text));
  CHECK(text.size() == 128 + 2 * 128);
  CHECK(*latin1_encode(text) == all);
}

TEST_CASE("text: UCS2 / UTF-16BE with surrogate pairs") {
  CHECK(*ucs2_encode("😀") == Bytes{0xD8, 0x3D, 0xDE, 0x00});
  CHECK(ucs2_decode(Bytes{0xD8, 0x3D, 0xDE, 0x00}) == "😀");
  CHECK(*ucs2_encode("Aé€中") == Bytes{0x00, 0x41, 0x00, 0xE9, 0x20, 0xAC, 0x4E, 0x2D});
  CHECK(ucs2_decode(Bytes{0x00, 0x41, 0x00, 0xE9, 0x20, 0xAC, 0x4E, 0x2D}) == "Aé€中");
  CHECK(*ucs2_encode("\U0010FFFF") == Bytes{0xDB, 0xFF, 0xDF, 0xFF});
  CHECK(ucs2_unit_count("a😀") == 3);
  CHECK(ucs2_unit_count("") == 0);
  CHECK_FALSE(ucs2_unit_count("\xFF").has_value());
  CHECK(ucs2_encode("a\xE2\x82").error() == TextErrc::invalid_utf8);
}

TEST_CASE("text: UCS2 malformed input decodes to U+FFFD") {
  CHECK(ucs2_decode(Bytes{0x00, 0x41, 0x00}) == "A" + kFffd);  // odd length
  CHECK(ucs2_decode(Bytes{0x41}) == kFffd);
  CHECK(ucs2_decode(Bytes{0xD8, 0x3D, 0x00, 0x41}) == kFffd + "A");    // high, no low
  CHECK(ucs2_decode(Bytes{0x00, 0x41, 0xD8, 0x3D}) == "A" + kFffd);    // high at the end
  CHECK(ucs2_decode(Bytes{0xDE, 0x00}) == kFffd);                      // lone low
  CHECK(ucs2_decode(Bytes{0xDE, 0x00, 0xD8, 0x3D}) == kFffd + kFffd);  // reversed pair
  CHECK(ucs2_decode(Bytes{0xD8, 0x3D, 0xD8, 0x3D, 0xDE, 0x00}) == kFffd + "😀");
  CHECK(ucs2_decode(Bytes{0xD8, 0x3D, 0xDE}) == kFffd + kFffd);  // high, odd byte
}

TEST_CASE("text: UTF-8 validation") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain"));
  CHECK(is_valid_utf8("é€😀\U0010FFFF"));
  CHECK(is_valid_utf8(std::string_view("\0", 1)));
  CHECK_FALSE(is_valid_utf8("\x80"));
  CHECK_FALSE(is_valid_utf8("\xC1\xBF"));          // overlong
  CHECK_FALSE(is_valid_utf8("\xE0\x9F\xBF"));      // overlong
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xF0\x9F\x98"));      // truncated
  CHECK_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
}

TEST_CASE("text: encode_text_for_sms picks GSM, else UCS2") {
  const auto gsm = encode_text_for_sms("Reply {STOP} €1");
  REQUIRE(gsm);
  CHECK(gsm->data_coding == 0x00);
  CHECK(gsm->bytes == Bytes{0x52, 0x65, 0x70, 0x6C, 0x79, 0x20, 0x1B, 0x28, 0x53, 0x54, 0x4F, 0x50,
                            0x1B, 0x29, 0x20, 0x1B, 0x65, 0x31});
  const auto ucs2 = encode_text_for_sms("ça 😀");
  REQUIRE(ucs2);
  CHECK(ucs2->data_coding == 0x08);
  CHECK(ucs2->bytes == Bytes{0x00, 0xE7, 0x00, 0x61, 0x00, 0x20, 0xD8, 0x3D, 0xDE, 0x00});
  CHECK(*encode_text_for_sms("") == EncodedText{0x00, {}});
  const auto bad = encode_text_for_sms("ok\xC3(");
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == TextErrc::invalid_utf8);
  // What goes out decodes back to the same text.
  for (const std::string_view s : {"Hello", "ça 😀", "[x] ~ ^", "中文"}) {
    const auto e = encode_text_for_sms(s);
    REQUIRE(e);
    CHECK(decode_text(e->data_coding, e->bytes) == s);
  }
}

TEST_CASE("text: error category") {
  const std::error_code ec = TextErrc::udh_truncated;
  CHECK(ec.category() == text_category());
  CHECK(std::string(ec.category().name()) == "smppguard.text");
  CHECK(ec.message() == "UDH length runs past the end of short_message");
  CHECK(ec == make_error_code(TextErrc::udh_truncated));
}
