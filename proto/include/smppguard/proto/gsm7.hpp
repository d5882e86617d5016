#pragma once
// GSM 03.38 (3GPP TS 23.038 clause 6.2.1) default alphabet and its extension table, and the 7-bit
// packing of TS 23.038 clause 6.1.2.1 / TS 23.040 clause 9.2.3.24. Every function here is pure and
// thread-safe.
//
// "Septets" are GSM codes 0x00-0x7F, one per octet, as SMPP carries data_coding 0. An extension
// character is two septets: the escape 0x1B, then its code (form feed 0x0A, ^ 0x14, { 0x28, } 0x29,
// \ 0x2F, [ 0x3C, ~ 0x3D, ] 0x3E, | 0x40, euro sign 0x65).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smppguard/proto/text.hpp"

namespace smppguard::proto {

inline constexpr std::uint8_t kGsm7Escape = 0x1B;

/// UTF-8 -> unpacked septets. Fails with TextErrc::unencodable on the first character the default
/// alphabet and its extension table cannot carry (no silent substitution), or invalid_utf8.
TextResult<std::vector<std::uint8_t>> gsm7_encode(std::string_view utf8);

/// Like gsm7_encode, but each character GSM cannot carry, and each byte of an ill-formed UTF-8
/// sequence, becomes '?' (0x3F). Never fails.
std::vector<std::uint8_t> gsm7_encode_lenient(std::string_view utf8);

/// Unpacked septets -> UTF-8. Never fails, never reads past the input. TS 23.038 rules for codes
/// the extension table does not define:
///  - 0x1B then a code with no extension character: the main-table character of that code
///    ("the MS shall display the character shown in the main GSM 7 bit default alphabet table");
///    this also covers CR2 (0x1B 0x0D), which reads as CR;
///  - 0x1B 0x1B (reserved for another extension table, "SS2"): a space, both septets consumed;
///  - a lone 0x1B at the end of the input: a space (what a receiver without the extension mechanism
///    shows for the escape itself);
///  - an octet above 0x7F (not a septet): U+FFFD.
std::string gsm7_decode(std::span<const std::uint8_t> septets);

/// Number of septets `utf8` takes in GSM 7-bit (extension characters count 2); nullopt when some
/// character does not fit or `utf8` is not valid UTF-8.
std::optional<std::size_t> gsm7_septet_count(std::string_view utf8);

/// True when every character of `utf8` fits the default alphabet or its extension table.
inline bool gsm7_fits(std::string_view utf8) { return gsm7_septet_count(utf8).has_value(); }

/// Fill bits that align the first septet after a UDH of `udh_octets` octets (the length octet
/// included) on a septet boundary of the user data: (7 - udh_octets * 8 % 7) % 7; 1 for the 6-octet
/// concatenation UDH, 0 for the 7-octet one.
constexpr unsigned gsm7_fill_bits(std::size_t udh_octets) {
  return static_cast<unsigned>((7 - (udh_octets * 8) % 7) % 7);
}

/// Packs septets 8 to 7, least significant bit first, after `fill_bits` (0..6) zero bits. When the
/// last octet would end with 7 spare bits, they hold CR (0x0D) rather than zeros, so that a reader
/// that does not know the septet count does not see a trailing '@' (TS 23.038 clause 6.1.2.3.1).
/// Septets are masked to 7 bits.
std::vector<std::uint8_t> gsm7_pack(std::span<const std::uint8_t> septets, unsigned fill_bits = 0);

/// Unpacks `septet_count` septets that follow `fill_bits` (0..6) bits; stops early, without reading
/// past the input, when `packed` is too short.
std::vector<std::uint8_t> gsm7_unpack(std::span<const std::uint8_t> packed, unsigned fill_bits,
                                      std::size_t septet_count);

/// Unpacks every whole septet in `packed` when the count is not known (SMPP gives octets, not
/// septets). A last septet that lies entirely in the padding of the final octet is dropped when it
/// is CR or 0x00, which is how gsm7_pack and TS 23.038 clause 6.1.2.3.1 pad (so a message that
/// really ends with CR or '@' in that position loses it: the bits are the same).
std::vector<std::uint8_t> gsm7_unpack(std::span<const std::uint8_t> packed, unsigned fill_bits = 0);

}  // namespace smppguard::proto
