#pragma once
// User Data Header (3GPP TS 23.040 clause 9.2.3.24) at the start of short_message when esm_class
// has the UDHI bit. Every function here is pure and thread-safe.
//
// Layout: UDHL (octets that follow), then information elements, each IEI, IEDL, IED[IEDL].
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "smppguard/proto/text.hpp"

namespace smppguard::proto {

inline constexpr std::uint8_t kEsmClassUdhi =
    0x40;  ///< esm_class bit: short_message starts with a UDH
inline constexpr std::uint8_t kIeiConcat8 = 0x00;   ///< concatenated SMS, 8-bit reference
inline constexpr std::uint8_t kIeiConcat16 = 0x08;  ///< concatenated SMS, 16-bit reference

/// One information element, kept as it came.
struct UdhElement {
  std::uint8_t iei = 0;
  std::vector<std::uint8_t> data;
  friend bool operator==(const UdhElement&, const UdhElement&) = default;
};

/// The position of one part in a concatenated message.
struct ConcatInfo {
  std::uint16_t ref = 0;   ///< same for every part of one message
  std::uint8_t total = 0;  ///< number of parts, 1..255
  std::uint8_t seq = 0;    ///< this part, 1..total
  bool ref16 = false;      ///< from IEI 0x08 (16-bit reference) rather than 0x00
  friend bool operator==(const ConcatInfo&, const ConcatInfo&) = default;
};

/// A parsed UDH and what follows it. `payload` views the caller's buffer.
struct ParsedUdh {
  std::vector<UdhElement> elements;  ///< every IE, in order, concatenation IEs included
  std::optional<ConcatInfo> concat;  ///< from the last concatenation IE (TS 23.040: last one wins)
  std::size_t header_octets = 0;     ///< the UDH's size, length octet included (for gsm7_fill_bits)
  std::span<const std::uint8_t> payload;  ///< the user data after the UDH
};

/// Parses the UDH at the start of `short_message`. Errors, never a read past the input:
/// udh_missing (empty input), udh_truncated (UDHL past the data), udh_ie_truncated (an IE past the
/// header), udh_bad_concat (IEI 0x00 with IEDL != 3, IEI 0x08 with IEDL != 4, total 0, seq 0 or
/// seq > total).
TextResult<ParsedUdh> parse_udh(std::span<const std::uint8_t> short_message);

/// The IE for one part of a concatenated message: IEI 0x08 when `c.ref16`, else 0x00 with the low
/// octet of `c.ref`.
UdhElement make_concat_element(const ConcatInfo& c);

/// Encodes a UDH (length octet included) from `elements`. Fails with udh_too_long when an IE's data
/// or the whole header exceeds 255 octets.
TextResult<std::vector<std::uint8_t>> build_udh(std::span<const UdhElement> elements);

}  // namespace smppguard::proto
