#include "smppguard/proto/udh.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <ostream>  // lets doctest print std::error_code
#include <vector>

using namespace smppguard::proto;

namespace {
using Bytes = std::vector<std::uint8_t>;
Bytes payload_of(const ParsedUdh& u) { return {u.payload.begin(), u.payload.end()}; }
}  // namespace

TEST_CASE("udh: concatenation with an 8-bit reference (IEI 0x00)") {
  const Bytes sm = {0x05, 0x00, 0x03, 0xCC, 0x02, 0x01, 0x68, 0x69};
  const auto udh = parse_udh(sm);
  REQUIRE(udh);
  REQUIRE(udh->concat);
  CHECK(*udh->concat == ConcatInfo{0xCC, 2, 1, false});
  CHECK(udh->header_octets == 6);
  CHECK(payload_of(*udh) == Bytes{0x68, 0x69});
  REQUIRE(udh->elements.size() == 1);
  CHECK(udh->elements[0] == UdhElement{0x00, {0xCC, 0x02, 0x01}});
}

TEST_CASE("udh: concatenation with a 16-bit reference (IEI 0x08)") {
  const Bytes sm = {0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x02, 0x00, 0x41};
  const auto udh = parse_udh(sm);
  REQUIRE(udh);
  REQUIRE(udh->concat);
  CHECK(*udh->concat == ConcatInfo{0x1234, 3, 2, true});
  CHECK(udh->header_octets == 7);
  CHECK(payload_of(*udh) == Bytes{0x00, 0x41});
}

TEST_CASE("udh: other information elements are kept") {
  // Application port addressing, 16-bit (IEI 0x05), then concatenation.
  const Bytes sm = {0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00, 0x03, 0xAB, 0x02, 0x02, 0x99};
  const auto udh = parse_udh(sm);
  REQUIRE(udh);
  REQUIRE(udh->elements.size() == 2);
  CHECK(udh->elements[0] == UdhElement{0x05, {0x0B, 0x84, 0x23, 0xF0}});
  CHECK(udh->elements[1] == UdhElement{0x00, {0xAB, 0x02, 0x02}});
  CHECK(*udh->concat == ConcatInfo{0xAB, 2, 2, false});
  CHECK(payload_of(*udh) == Bytes{0x99});

  const Bytes language = {0x03, 0x24, 0x01, 0x01, 0x41};  // national language shift
  const auto no_concat = parse_udh(language);
  REQUIRE(no_concat);
  CHECK_FALSE(no_concat->concat);
  CHECK(no_concat->elements == std::vector<UdhElement>{{0x24, {0x01}}});

  const Bytes bare = {0x00, 0x41};
  const auto empty = parse_udh(bare);
  REQUIRE(empty);
  CHECK(empty->elements.empty());
  CHECK(empty->header_octets == 1);
  CHECK(payload_of(*empty) == Bytes{0x41});

  const Bytes zero_ie = {0x02, 0x70, 0x00};
  const auto zero_length_ie = parse_udh(zero_ie);
  REQUIRE(zero_length_ie);
  CHECK(zero_length_ie->elements == std::vector<UdhElement>{{0x70, {}}});
  CHECK(zero_length_ie->payload.empty());
}

TEST_CASE("udh: the last concatenation IE wins") {
  const Bytes sm = {0x0B, 0x00, 0x03, 0x01, 0x02, 0x01, 0x08, 0x04, 0x00, 0x07, 0x03, 0x03};
  const auto udh = parse_udh(sm);
  REQUIRE(udh);
  CHECK(*udh->concat == ConcatInfo{7, 3, 3, true});
  CHECK(udh->elements.size() == 2);
}

TEST_CASE("udh: malformed headers are errors") {
  struct Case {
    Bytes sm;
    TextErrc err;
  };
  const Case cases[] = {
      {{}, TextErrc::udh_missing},
      {{0x05, 0x00, 0x03, 0xCC}, TextErrc::udh_truncated},  // UDHL past the data
      {{0xFF}, TextErrc::udh_truncated},
      {{0x03, 0x00, 0x03, 0xCC, 0x02, 0x01}, TextErrc::udh_ie_truncated},  // IE past the header
      {{0x01, 0x00}, TextErrc::udh_ie_truncated},                          // IEI without a length
      {{0x05, 0x00, 0x03, 0xCC, 0x02, 0x00}, TextErrc::udh_bad_concat},    // seq 0
      {{0x05, 0x00, 0x03, 0xCC, 0x02, 0x03}, TextErrc::udh_bad_concat},    // seq > total
      {{0x05, 0x00, 0x03, 0xCC, 0x00, 0x00}, TextErrc::udh_bad_concat},    // total 0
      {{0x04, 0x00, 0x02, 0xCC, 0x02}, TextErrc::udh_bad_concat},          // IEI 0x00, IEDL 2
      {{0x05, 0x08, 0x03, 0x12, 0x02, 0x01}, TextErrc::udh_bad_concat},    // IEI 0x08, IEDL 3
      {{0x07, 0x08, 0x04, 0x12, 0x34, 0x01, 0x02, 0x00}, TextErrc::udh_bad_concat},
  };
  for (const auto& c : cases) {
    CAPTURE(c.sm.size());
    const auto udh = parse_udh(c.sm);
    REQUIRE_FALSE(udh);
    CHECK(udh.error() == c.err);
  }
}

TEST_CASE("udh: building headers") {
  const UdhElement c8 = make_concat_element({0xCC, 2, 1, false});
  CHECK(c8 == UdhElement{0x00, {0xCC, 0x02, 0x01}});
  CHECK(*build_udh(std::vector{c8}) == Bytes{0x05, 0x00, 0x03, 0xCC, 0x02, 0x01});

  const UdhElement c16 = make_concat_element({0x1234, 3, 2, true});
  CHECK(*build_udh(std::vector{c16}) == Bytes{0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x02});

  CHECK(*build_udh(std::vector<UdhElement>{}) == Bytes{0x00});
  const std::vector<UdhElement> two = {{0x05, {0x0B, 0x84, 0x23, 0xF0}}, c8};
  const Bytes built = *build_udh(two);
  CHECK(built == Bytes{0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00, 0x03, 0xCC, 0x02, 0x01});
  const auto parsed = parse_udh(built);
  REQUIRE(parsed);
  CHECK(parsed->elements == two);
  CHECK(parsed->payload.empty());

  const std::vector<UdhElement> big_ie = {{0x70, Bytes(256, 0)}};
  CHECK(build_udh(big_ie).error() == TextErrc::udh_too_long);
  const std::vector<UdhElement> big_header(3, UdhElement{0x70, Bytes(100, 0)});
  CHECK(build_udh(big_header).error() == TextErrc::udh_too_long);
  const std::vector<UdhElement> max_header = {{0x70, Bytes(253, 0)}};
  CHECK(build_udh(max_header)->size() == 256);
}
