#include "smppguard/proto/gsm7.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <ostream>  // lets doctest print std::error_code
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace smppguard::proto;

namespace {

using Bytes = std::vector<std::uint8_t>;

// Splits a UTF-8 literal into its characters.
std::vector<std::string> chars_of(std::string_view s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const std::size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    out.emplace_back(s.substr(i, n));
    i += n;
  }
  return out;
}

Bytes repeat(std::uint8_t septet, std::size_t n) { return Bytes(n, septet); }

}  // namespace

// 3GPP TS 23.038 clause 6.2.1, written column by column as the spec's table is printed: column k
// holds septets 0xk0..0xkF. "\x1B" marks the escape, which is not a character.
TEST_CASE("gsm7: default alphabet, all 128 positions") {
  const std::array<std::string_view, 8> columns = {
      "@£$¥èéùìòÇ\nØø\rÅå",
      "Δ_ΦΓΛΩΠΨΣΘΞ"
      "\x1B"
      "ÆæßÉ",
      " !\"#¤%&'()*+,-./",
      "0123456789:;<=>?",
      "¡ABCDEFGHIJKLMNO",
      "PQRSTUVWXYZÄÖÑÜ§",
      "¿abcdefghijklmno",
      "pqrstuvwxyzäöñüà",
  };
  int checked = 0;
  for (std::size_t col = 0; col < columns.size(); ++col) {
    const auto row = chars_of(columns[col]);
    REQUIRE(row.size() == 16);
    for (std::size_t r = 0; r < 16; ++r) {
      const auto septet = static_cast<std::uint8_t>(col * 16 + r);
      if (septet == kGsm7Escape) continue;
      CAPTURE(static_cast<int>(septet));
      CHECK(gsm7_decode(Bytes{septet}) == row[r]);
      const auto enc = gsm7_encode(row[r]);
      REQUIRE(enc);
      CHECK(*enc == Bytes{septet});
      CHECK(gsm7_septet_count(row[r]) == 1);
      ++checked;
    }
  }
  CHECK(checked == 127);
}

TEST_CASE("gsm7: extension table through the escape") {
  const std::array<std::pair<std::string_view, std::uint8_t>, 10> ext = {{
      {"\f", 0x0A},
      {"^", 0x14},
      {"{", 0x28},
      {"}", 0x29},
      {"\\", 0x2F},
      {"[", 0x3C},
      {"~", 0x3D},
      {"]", 0x3E},
      {"|", 0x40},
      {"€", 0x65},
  }};
  for (const auto& [ch, code] : ext) {
    CAPTURE(ch);
    const auto enc = gsm7_encode(ch);
    REQUIRE(enc);
    CHECK(*enc == Bytes{0x1B, code});
    CHECK(gsm7_decode(Bytes{0x1B, code}) == ch);
    CHECK(gsm7_septet_count(ch) == 2);
  }
  // Every other code after the escape shows the main-table character (TS 23.038 6.2.1.1).
  for (std::uint8_t code = 0; code < 0x80; ++code) {
    bool defined = code == kGsm7Escape;
    for (const auto& e : ext) defined = defined || e.second == code;
    if (defined) continue;
    CAPTURE(static_cast<int>(code));
    CHECK(gsm7_decode(Bytes{0x1B, code}) == gsm7_decode(Bytes{code}));
  }
}

TEST_CASE("gsm7: undefined escapes and bad septets decode deterministically") {
  CHECK(gsm7_decode(Bytes{0x1B, 0x41}) == "A");
  CHECK(gsm7_decode(Bytes{0x1B, 0x0D}) == "\r");  // CR2 reads as CR
  CHECK(gsm7_decode(Bytes{0x1B, 0x1B}) == " ");   // SS2: a space
  CHECK(gsm7_decode(Bytes{0x1B, 0x1B, 0x41}) == " A");
  CHECK(gsm7_decode(Bytes{0x1B, 0x1B, 0x1B, 0x65}) == " €");
  CHECK(gsm7_decode(Bytes{0x41, 0x1B}) == "A ");  // lone escape at the end
  CHECK(gsm7_decode(Bytes{0x1B}) == " ");
  CHECK(gsm7_decode(Bytes{0x80, 0x41}) ==
        "\xEF\xBF\xBD"
        "A");
  CHECK(gsm7_decode(Bytes{0x1B, 0xFF, 0x41}) ==
        "\xEF\xBF\xBD"
        "A");
  CHECK(gsm7_decode(Bytes{}).empty());
}

TEST_CASE("gsm7: characters GSM cannot carry fail to encode") {
  for (const std::string_view s :
       {"ç", "â", "中", "😀", "`", "\t", "Ω\u2126", "\x1B", "ca\u00A0va"}) {
    CAPTURE(s);
    const auto enc = gsm7_encode(s);
    REQUIRE_FALSE(enc);
    CHECK(enc.error() == TextErrc::unencodable);
    CHECK_FALSE(gsm7_septet_count(s).has_value());
    CHECK_FALSE(gsm7_fits(s));
  }
  // ñ and Ç are in the table; ç is not (only the capital).
  CHECK(*gsm7_encode("ñÑÇ") == Bytes{0x7D, 0x5D, 0x09});
}

TEST_CASE("gsm7: invalid UTF-8 is an error, not a substitution") {
  for (const std::string_view s :
       {"\xC3", "a\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF"}) {
    CAPTURE(s);
    const auto enc = gsm7_encode(s);
    REQUIRE_FALSE(enc);
    CHECK(enc.error() == TextErrc::invalid_utf8);
    CHECK_FALSE(gsm7_fits(s));
  }
}

TEST_CASE("gsm7: lenient encoding substitutes '?'") {
  CHECK(gsm7_encode_lenient("ça {va} 😀") ==
        Bytes{0x3F, 0x61, 0x20, 0x1B, 0x28, 0x76, 0x61, 0x1B, 0x29, 0x20, 0x3F});
  CHECK(gsm7_encode_lenient("a\xFF"
                            "b") == Bytes{0x61, 0x3F, 0x62});
  CHECK(gsm7_encode_lenient("") == Bytes{});
}

TEST_CASE("gsm7: septet counts count extension characters twice") {
  CHECK(gsm7_septet_count("") == 0);
  CHECK(gsm7_septet_count("Hello") == 5);
  CHECK(gsm7_septet_count("€10") == 4);
  CHECK(gsm7_septet_count("{a}") == 5);
  CHECK(gsm7_septet_count("ΔΦ@") == 3);
  CHECK(gsm7_fits("Reply STOP to opt out"));
}

TEST_CASE("gsm7: round trip of the whole repertoire") {
  const std::string all =
      "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ "
      "!\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
      "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà\f^{}\\[~]|€";
  const auto enc = gsm7_encode(all);
  REQUIRE(enc);
  CHECK(enc->size() == 127 + 2 * 10);
  CHECK(gsm7_decode(*enc) == all);
}

TEST_CASE("gsm7: packing known vectors") {
  const Bytes hellohello = *gsm7_encode("hellohello");
  const Bytes packed = {0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37};
  CHECK(gsm7_pack(hellohello) == packed);
  CHECK(gsm7_unpack(packed, 0, 10) == hellohello);
  CHECK(gsm7_unpack(packed) == hellohello);

  CHECK(gsm7_pack(*gsm7_encode("hello")) == Bytes{0xE8, 0x32, 0x9B, 0xFD, 0x06});
  CHECK(gsm7_pack(Bytes{}) == Bytes{});
  CHECK(gsm7_pack(Bytes{0xC1}) == Bytes{0x41});  // septets are masked to 7 bits
}

TEST_CASE("gsm7: 7 spare bits are padded with CR and dropped when unpacking") {
  const Bytes septets = *gsm7_encode("1234567");
  const Bytes packed = {0x31, 0xD9, 0x8C, 0x56, 0xB3, 0xDD, 0x1A};
  CHECK(gsm7_pack(septets) == packed);
  CHECK(gsm7_unpack(packed) == septets);
  CHECK(gsm7_unpack(packed, 0, 8) == Bytes{0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x0D});
  // Zero padding (a packer that does not use CR) is not read as a trailing '@' either.
  CHECK(gsm7_unpack(Bytes{0x31, 0xD9, 0x8C, 0x56, 0xB3, 0xDD, 0x00}) == septets);
  // Eight septets fill seven octets exactly: nothing is padding.
  const Bytes eight = *gsm7_encode("12345678");
  CHECK(gsm7_pack(eight).size() == 7);
  CHECK(gsm7_unpack(gsm7_pack(eight)) == eight);
}

TEST_CASE("gsm7: fill bits after a UDH") {
  CHECK(gsm7_fill_bits(0) == 0);
  CHECK(gsm7_fill_bits(6) == 1);  // 05 00 03 ref total seq
  CHECK(gsm7_fill_bits(7) == 0);  // 06 08 04 ref ref total seq
  CHECK(gsm7_fill_bits(5) == 2);
  CHECK(gsm7_fill_bits(12) == 2);

  // "hello" after a 6-octet UDH: every bit of E8 32 9B FD 06 moves up by the one fill bit.
  const Bytes hello = *gsm7_encode("hello");
  const Bytes packed = {0xD0, 0x65, 0x36, 0xFB, 0x0D};
  CHECK(gsm7_pack(hello, 1) == packed);
  CHECK(gsm7_unpack(packed, 1, 5) == hello);
  CHECK(gsm7_unpack(packed, 1) == hello);

  // 8 septets after 1 fill bit take 57 bits: the last octet's 7 spare bits hold CR.
  const Bytes a8 = repeat(0x61, 8);
  const Bytes a8_packed = gsm7_pack(a8, 1);
  REQUIRE(a8_packed.size() == 8);
  CHECK(a8_packed.back() == 0x1B);  // bit 0: the last 'a''s top bit; bits 1..7: CR
  CHECK(gsm7_unpack(a8_packed, 1) == a8);
}

TEST_CASE("gsm7: unpacking never reads past the input") {
  CHECK(gsm7_unpack(Bytes{0xE8, 0x32}, 0, 10) == Bytes{0x68, 0x65});
  CHECK(gsm7_unpack(Bytes{}, 0, 3) == Bytes{});
  CHECK(gsm7_unpack(Bytes{}) == Bytes{});
  CHECK(gsm7_unpack(Bytes{0xFF}, 6) == Bytes{});
  CHECK(gsm7_unpack(Bytes{0xFF}, 1) == Bytes{0x7F});
}

TEST_CASE("gsm7: pack and unpack round trip for every length and fill") {
  for (unsigned fill = 0; fill < 7; ++fill) {
    for (std::size_t n = 0; n <= 40; ++n) {
      Bytes septets;
      // 0x20..0x7E: never CR or '@', which read as padding in the last septet's position.
      for (std::size_t k = 0; k < n; ++k) {
        septets.push_back(static_cast<std::uint8_t>(0x20 + (k * 37) % 0x5F));
      }
      CAPTURE(fill);
      CAPTURE(n);
      const Bytes packed = gsm7_pack(septets, fill);
      CHECK(packed.size() == (fill + 7 * n + 7) / 8);
      CHECK(gsm7_unpack(packed, fill, n) == septets);
      CHECK(gsm7_unpack(packed, fill) == septets);
    }
  }
}
