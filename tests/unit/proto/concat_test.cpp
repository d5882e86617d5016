#include "smppguard/proto/concat.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <ostream>  // lets doctest print std::error_code
#include <string>
#include <vector>

#include "smppguard/proto/gsm7.hpp"

using namespace smppguard::proto;
using namespace std::chrono_literals;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes concat(Bytes head, const Bytes& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

std::string times(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

Bytes ucs2_times(std::uint8_t hi, std::uint8_t lo, std::size_t n) {
  Bytes out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(hi);
    out.push_back(lo);
  }
  return out;
}

const Reassembler::Time kT0 = Reassembler::Time{} + 1'700'000'000s;

IncomingPart udh_part(std::string_view key, std::uint8_t dc, const Bytes& sm) {
  return IncomingPart{key, dc, kEsmClassUdhi, sm, std::nullopt};
}

}  // namespace

TEST_CASE("concat: a short GSM text is one part without UDH") {
  const auto parts = split_for_sms("Hello");
  REQUIRE(parts);
  CHECK(parts->data_coding == 0x00);
  CHECK(parts->esm_class_udhi == 0);
  CHECK(parts->parts == std::vector<Bytes>{{0x48, 0x65, 0x6C, 0x6C, 0x6F}});

  const auto empty = split_for_sms("");
  REQUIRE(empty);
  CHECK(empty->parts == std::vector<Bytes>{Bytes{}});
}

TEST_CASE("concat: GSM single-part limit is 160 septets, escapes counted twice") {
  CHECK(split_for_sms(times("a", 160))->parts.size() == 1);
  CHECK(split_for_sms(times("a", 158) + "{")->parts.size() == 1);
  CHECK(split_for_sms(times("a", 159) + "{")->parts.size() == 2);
}

TEST_CASE("concat: a 161-character GSM text gives two parts with exact UDHs") {
  const auto parts = split_for_sms(times("a", 161), {.reference = 0x2A});
  REQUIRE(parts);
  CHECK(parts->data_coding == 0x00);
  CHECK(parts->esm_class_udhi == 0x40);
  REQUIRE(parts->parts.size() == 2);
  CHECK(parts->parts[0] == concat({0x05, 0x00, 0x03, 0x2A, 0x02, 0x01}, Bytes(153, 0x61)));
  CHECK(parts->parts[1] == concat({0x05, 0x00, 0x03, 0x2A, 0x02, 0x02}, Bytes(8, 0x61)));
}

TEST_CASE("concat: an escape pair at the 153 boundary moves to the next part") {
  const auto parts = split_for_sms(times("a", 152) + "€" + times("b", 10), {.reference = 7});
  REQUIRE(parts);
  REQUIRE(parts->parts.size() == 2);
  CHECK(parts->parts[0] == concat({0x05, 0x00, 0x03, 0x07, 0x02, 0x01}, Bytes(152, 0x61)));
  CHECK(parts->parts[1] ==
        concat({0x05, 0x00, 0x03, 0x07, 0x02, 0x02}, concat({0x1B, 0x65}, Bytes(10, 0x62))));

  // One septet earlier the pair fits whole in the first part.
  const auto fits = split_for_sms(times("a", 151) + "€" + times("b", 10));
  REQUIRE(fits);
  CHECK(fits->parts[0].size() == 6 + 153);
  CHECK(fits->parts[0].back() == 0x65);
}

TEST_CASE("concat: UCS2 limits are 70 units, 67 per part") {
  const auto one = split_for_sms(times("ç", 70));
  REQUIRE(one);
  CHECK(one->data_coding == 0x08);
  CHECK(one->esm_class_udhi == 0);
  CHECK(one->parts == std::vector<Bytes>{ucs2_times(0x00, 0xE7, 70)});

  const auto two = split_for_sms(times("ç", 71), {.reference = 1});
  REQUIRE(two);
  REQUIRE(two->parts.size() == 2);
  CHECK(two->esm_class_udhi == 0x40);
  CHECK(two->parts[0] == concat({0x05, 0x00, 0x03, 0x01, 0x02, 0x01}, ucs2_times(0x00, 0xE7, 67)));
  CHECK(two->parts[1] == concat({0x05, 0x00, 0x03, 0x01, 0x02, 0x02}, ucs2_times(0x00, 0xE7, 4)));
}

TEST_CASE("concat: a UCS2 surrogate pair at the 67 boundary moves to the next part") {
  const auto parts = split_for_sms(times("ç", 66) + "😀" + times("ç", 5), {.reference = 9});
  REQUIRE(parts);
  REQUIRE(parts->parts.size() == 2);
  CHECK(parts->parts[0] ==
        concat({0x05, 0x00, 0x03, 0x09, 0x02, 0x01}, ucs2_times(0x00, 0xE7, 66)));
  CHECK(parts->parts[1] == concat({0x05, 0x00, 0x03, 0x09, 0x02, 0x02},
                                  concat({0xD8, 0x3D, 0xDE, 0x00}, ucs2_times(0x00, 0xE7, 5))));
}

TEST_CASE("concat: packed GSM parts carry the fill bit after the UDH") {
  const auto parts = split_for_sms(times("a", 161), {.reference = 0x2A, .pack_gsm7 = true});
  REQUIRE(parts);
  REQUIRE(parts->parts.size() == 2);
  const Bytes& first = parts->parts[0];
  REQUIRE(first.size() == 6 + 134);  // 1 fill bit + 153 * 7 bits = 134 octets
  CHECK(Bytes(first.begin(), first.begin() + 8) ==
        Bytes{0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 0xC2, 0xE1});
  const Bytes tail(first.begin() + 6, first.end());
  CHECK(gsm7_unpack(tail, 1, 153) == Bytes(153, 0x61));
  CHECK(parts->parts[1] ==
        concat({0x05, 0x00, 0x03, 0x2A, 0x02, 0x02}, gsm7_pack(Bytes(8, 0x61), 1)));

  const auto single = split_for_sms("hellohello", {.pack_gsm7 = true});
  REQUIRE(single);
  CHECK(single->parts ==
        std::vector<Bytes>{{0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37}});
}

TEST_CASE("concat: splitting errors") {
  CHECK(split_for_sms("ab\xC3").error() == TextErrc::invalid_utf8);
  CHECK(split_for_sms(times("a", 255 * 153))->parts.size() == 255);
  CHECK(split_for_sms(times("a", 255 * 153 + 1)).error() == TextErrc::message_too_long);
}

TEST_CASE("concat: reassembly in order") {
  const std::string text = times("Reply STOP to end {x} ", 15) + "€";  // 362 septets
  const auto parts = split_for_sms(text, {.reference = 0x11});
  REQUIRE(parts);
  REQUIRE(parts->parts.size() == 3);
  Reassembler r({.max_pending_messages = 8, .max_age = 5min});
  const std::string key = "15551234567 12345";
  CHECK(r.add(udh_part(key, 0, parts->parts[0]), kT0).status == PartStatus::stored);
  CHECK(r.add(udh_part(key, 0, parts->parts[1]), kT0).status == PartStatus::stored);
  CHECK(r.pending() == 1);
  const PartResult done = r.add(udh_part(key, 0, parts->parts[2]), kT0);
  CHECK(done.status == PartStatus::complete);
  CHECK(done.text == text);
  CHECK(done.data_coding == 0);
  CHECK(r.pending() == 0);
}

TEST_CASE("concat: reassembly out of order, with duplicates ignored") {
  const std::string text = times("ç😀", 40);
  const auto parts = split_for_sms(text, {.reference = 0xFE});
  REQUIRE(parts);
  REQUIRE(parts->parts.size() == 2);
  CHECK(parts->data_coding == 0x08);
  Reassembler r({.max_pending_messages = 8, .max_age = 5min});
  CHECK(r.add(udh_part("k", 8, parts->parts[1]), kT0).status == PartStatus::stored);
  CHECK(r.add(udh_part("k", 8, parts->parts[1]), kT0).status == PartStatus::duplicate);
  const PartResult done = r.add(udh_part("k", 8, parts->parts[0]), kT0 + 1s);
  CHECK(done.status == PartStatus::complete);
  CHECK(done.text == text);
  CHECK(r.pending() == 0);
}

TEST_CASE("concat: reassembly keeps keys and references apart") {
  const Bytes a1 = {0x05, 0x00, 0x03, 0x01, 0x02, 0x01, 0x41};
  const Bytes a2 = {0x05, 0x00, 0x03, 0x01, 0x02, 0x02, 0x42};
  const Bytes b2 = {0x05, 0x00, 0x03, 0x02, 0x02, 0x02, 0x43};
  Reassembler r({.max_pending_messages = 8, .max_age = 5min});
  CHECK(r.add(udh_part("x", 0, a1), kT0).status == PartStatus::stored);
  CHECK(r.add(udh_part("y", 0, a2), kT0).status == PartStatus::stored);  // other key
  CHECK(r.add(udh_part("x", 0, b2), kT0).status == PartStatus::stored);  // other reference
  CHECK(r.pending() == 3);
  const PartResult done = r.add(udh_part("x", 0, a2), kT0);
  CHECK(done.status == PartStatus::complete);
  CHECK(done.text == "AB");
  CHECK(r.pending() == 2);
}

TEST_CASE("concat: reassembly from sar_* values") {
  Reassembler r({.max_pending_messages = 8, .max_age = 5min});
  const Bytes p1 = {0x00, 0x53, 0x00, 0x54};
  const Bytes p2 = {0x00, 0x4F, 0x00, 0x50, 0xD8, 0x3D, 0xDE, 0x00};
  IncomingPart part{"k", 0x08, 0x00, p2, SarInfo{0x1234, 2, 2}};
  CHECK(r.add(part, kT0).status == PartStatus::stored);
  part.payload = p1;
  part.sar = SarInfo{0x1234, 2, 1};
  const PartResult done = r.add(part, kT0);
  CHECK(done.status == PartStatus::complete);
  CHECK(done.text == "STOP😀");
  CHECK(done.data_coding == 0x08);

  part.sar = SarInfo{1, 2, 0};
  const PartResult bad = r.add(part, kT0);
  CHECK(bad.status == PartStatus::invalid);
  CHECK(bad.error == TextErrc::sar_invalid);
  part.sar = SarInfo{1, 2, 3};
  CHECK(r.add(part, kT0).error == TextErrc::sar_invalid);
  part.sar = SarInfo{1, 0, 0};
  CHECK(r.add(part, kT0).error == TextErrc::sar_invalid);
}

TEST_CASE("concat: pairs split across parts by a sender still decode") {
  Reassembler r({.max_pending_messages = 8, .max_age = 5min});
  // A surrogate pair cut in two, and a GSM escape cut from its code.
  CHECK(r.add(udh_part("k", 8, {0x05, 0x00, 0x03, 0x05, 0x02, 0x01, 0x00, 0x41, 0xD8, 0x3D}), kT0)
            .status == PartStatus::stored);
  CHECK(r.add(udh_part("k", 8, {0x05, 0x00, 0x03, 0x05, 0x02, 0x02, 0xDE, 0x00}), kT0).text ==
        "A😀");
  CHECK(r.add(udh_part("k", 0, {0x05, 0x00, 0x03, 0x06, 0x02, 0x01, 0x41, 0x1B}), kT0).status ==
        PartStatus::stored);
  CHECK(r.add(udh_part("k", 0, {0x05, 0x00, 0x03, 0x06, 0x02, 0x02, 0x65}), kT0).text == "A€");
}

TEST_CASE("concat: messages that are not concatenated complete at once") {
  Reassembler r({.max_pending_messages = 8, .max_age = 5min});
  const Bytes plain = {0x53, 0x54, 0x4F, 0x50};
  const PartResult p = r.add(IncomingPart{"k", 0, 0, plain, std::nullopt}, kT0);
  CHECK(p.status == PartStatus::complete);
  CHECK(p.text == "STOP");

  // UDHI with only a port-addressing IE: the UDH is removed.
  const PartResult port =
      r.add(udh_part("k", 0, {0x06, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x48, 0x49}), kT0);
  CHECK(port.status == PartStatus::complete);
  CHECK(port.text == "HI");

  // A concatenation IE saying "1 of 1".
  const PartResult one = r.add(udh_part("k", 3, {0x05, 0x00, 0x03, 0x01, 0x01, 0x01, 0xE9}), kT0);
  CHECK(one.status == PartStatus::complete);
  CHECK(one.text == "é");
  CHECK(r.pending() == 0);
}

TEST_CASE("concat: malformed UDHs are reported, not stored") {
  Reassembler r({.max_pending_messages = 8, .max_age = 5min});
  const PartResult truncated = r.add(udh_part("k", 0, {0x05, 0x00, 0x03}), kT0);
  CHECK(truncated.status == PartStatus::invalid);
  CHECK(truncated.error == TextErrc::udh_truncated);
  const PartResult seq0 = r.add(udh_part("k", 0, {0x05, 0x00, 0x03, 0x01, 0x02, 0x00}), kT0);
  CHECK(seq0.status == PartStatus::invalid);
  CHECK(seq0.error == TextErrc::udh_bad_concat);
  CHECK(r.add(udh_part("k", 0, {}), kT0).error == TextErrc::udh_missing);
  CHECK(r.pending() == 0);
}

TEST_CASE("concat: reassembly expiry sweep") {
  Reassembler r({.max_pending_messages = 8, .max_age = 60s});
  CHECK(r.add(udh_part("a", 0, {0x05, 0x00, 0x03, 0x01, 0x02, 0x01, 0x41}), kT0).status ==
        PartStatus::stored);
  CHECK(r.add(udh_part("b", 0, {0x05, 0x00, 0x03, 0x01, 0x02, 0x01, 0x41}), kT0 + 30s).status ==
        PartStatus::stored);
  // A later part does not extend the first part's deadline.
  CHECK(r.add(udh_part("a", 0, {0x05, 0x00, 0x03, 0x01, 0x03, 0x02, 0x41}), kT0 + 50s).status ==
        PartStatus::stored);
  CHECK(r.pending() == 3);
  CHECK(r.expire(kT0 + 59s) == 0);
  CHECK(r.expire(kT0 + 60s) == 1);
  CHECK(r.pending() == 2);
  CHECK(r.expire(kT0 + 90s) == 1);
  CHECK(r.expire(kT0 + 109s) == 0);
  CHECK(r.expire(kT0 + 110s) == 1);
  CHECK(r.pending() == 0);
  // The expired message starts over.
  CHECK(r.add(udh_part("a", 0, {0x05, 0x00, 0x03, 0x01, 0x02, 0x02, 0x42}), kT0 + 11min).status ==
        PartStatus::stored);
}

TEST_CASE("concat: pending messages are bounded, oldest dropped first") {
  Reassembler r({.max_pending_messages = 2, .max_age = 5min});
  const auto first = [](std::uint8_t ref) {
    return Bytes{0x05, 0x00, 0x03, ref, 0x02, 0x01, 0x41};
  };
  const auto second = [](std::uint8_t ref) {
    return Bytes{0x05, 0x00, 0x03, ref, 0x02, 0x02, 0x42};
  };
  CHECK_FALSE(r.add(udh_part("k", 0, first(1)), kT0).evicted_oldest);
  CHECK_FALSE(r.add(udh_part("k", 0, first(2)), kT0).evicted_oldest);
  const PartResult third = r.add(udh_part("k", 0, first(3)), kT0);
  CHECK(third.status == PartStatus::stored);
  CHECK(third.evicted_oldest);
  CHECK(r.pending() == 2);
  // Message 1 was dropped: its second part starts a new entry (dropping message 2).
  const PartResult late = r.add(udh_part("k", 0, second(1)), kT0);
  CHECK(late.status == PartStatus::stored);
  CHECK(late.evicted_oldest);
  // Message 3 is still whole.
  const PartResult done = r.add(udh_part("k", 0, second(3)), kT0);
  CHECK(done.status == PartStatus::complete);
  CHECK(done.text == "AB");
  CHECK_FALSE(done.evicted_oldest);
  CHECK(r.pending() == 1);
}

TEST_CASE("concat: reassembly of packed GSM parts") {
  const std::string text = times("packed [7-bit] ", 15);
  const auto parts = split_for_sms(text, {.reference = 3, .pack_gsm7 = true});
  REQUIRE(parts);
  REQUIRE(parts->parts.size() == 2);
  Reassembler r({.max_pending_messages = 8, .max_age = 5min, .gsm7_packed = true});
  CHECK(r.add(udh_part("k", 0, parts->parts[1]), kT0).status == PartStatus::stored);
  const PartResult done = r.add(udh_part("k", 0, parts->parts[0]), kT0);
  CHECK(done.status == PartStatus::complete);
  CHECK(done.text == text);
}

TEST_CASE("concat: 255 parts reassemble") {
  const std::string text = times("0123456789", 3901) + "{}";
  const auto parts = split_for_sms(text, {.reference = 0x80});
  REQUIRE(parts);
  REQUIRE(parts->parts.size() == 255);
  Reassembler r({.max_pending_messages = 1, .max_age = 5min});
  PartResult last;
  for (auto it = parts->parts.rbegin(); it != parts->parts.rend(); ++it) {
    last = r.add(udh_part("k", 0, *it), kT0);
  }
  CHECK(last.status == PartStatus::complete);
  CHECK(last.text == text);
}
