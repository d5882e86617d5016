#pragma once
// Text codecs for SMPP short_message / message_payload: UTF-8 is the internal form.
// Every function here is pure and thread-safe.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "smppguard/proto/expected.hpp"

namespace smppguard::proto {

/// Why a text operation failed. Category name "smppguard.text".
enum class TextErrc {
  invalid_utf8 = 1,  ///< input to an encoder is not well-formed UTF-8
  unencodable,       ///< a character the target character set cannot carry
  udh_missing,       ///< UDHI set but short_message is empty
  udh_truncated,     ///< the UDH length octet points past the end of short_message
  udh_ie_truncated,  ///< an information element runs past the end of the UDH
  udh_bad_concat,    ///< concatenation IE: wrong length, total 0, seq 0 or seq > total
  udh_too_long,      ///< building a UDH (or one IE) longer than 255 octets
  message_too_long,  ///< splitting would need more than 255 parts
  sar_invalid,       ///< sar_* values: total 0, seq 0 or seq > total
};
const std::error_category& text_category() noexcept;
std::error_code make_error_code(TextErrc e) noexcept;

}  // namespace smppguard::proto

template <>
struct std::is_error_code_enum<smppguard::proto::TextErrc> : std::true_type {};

namespace smppguard::proto {

/// A value or a TextErrc error_code; the text codecs do not throw on bad input.
template <typename T>
using TextResult = Expected<T, std::error_code>;

/// The error alternative of a TextResult.
inline Unexpected<std::error_code> text_error(TextErrc e) { return {make_error_code(e)}; }

/// The character set a data_coding value selects.
enum class Alphabet : std::uint8_t {
  gsm7,         ///< GSM 03.38 default alphabet, one septet per octet (see gsm7.hpp)
  ia5,          ///< IA5 / US-ASCII
  latin1,       ///< ISO-8859-1
  ucs2,         ///< UCS2, read as UTF-16BE (surrogate pairs accepted)
  binary,       ///< 8-bit data: not text
  unsupported,  ///< a defined character set this library does not convert (JIS, KS C 5601, ...)
};

/// What a data_coding octet says. Thread-safe value type.
struct DataCodingInfo {
  Alphabet alphabet = Alphabet::gsm7;
  std::optional<std::uint8_t> message_class;  ///< 0..3 when the coding carries a message class
  bool compressed = false;                    ///< TS 23.042 compression: not decoded here
  bool reserved = false;  ///< a reserved value, read as GSM 7-bit per TS 23.038 clause 4

  /// True when decode_text returns UTF-8 text for this coding.
  bool is_text() const {
    return !compressed && alphabet != Alphabet::binary && alphabet != Alphabet::unsupported;
  }
};

// data_coding as this library reads it. 0x00-0x0F follow SMPP v3.4 section 5.2.19; the rest follow
// the SMS data coding groups of 3GPP TS 23.038 clause 4, which SMPP leaves to GSM.
//
//  value      SMPP v3.4 / TS 23.038 meaning                       Alphabet      class
//  0x00       SMSC default alphabet (GSM 03.38 here, per SPEC)   gsm7          -
//  0x01       IA5 (CCITT T.50) / ASCII (ANSI X3.4)               ia5           -
//  0x02,0x04  octet unspecified (8-bit binary)                   binary        -
//  0x03       Latin 1 (ISO-8859-1)                               latin1        -
//  0x05       JIS (X 0208-1990)                                  unsupported   -
//  0x06       Cyrillic (ISO-8859-5)                              unsupported   -
//  0x07       Latin/Hebrew (ISO-8859-8)                          unsupported   -
//  0x08       UCS2 (ISO/IEC-10646)                               ucs2          -
//  0x09       pictogram encoding                                 unsupported   -
//  0x0A       ISO-2022-JP (music codes)                          unsupported   -
//  0x0B,0x0C  reserved (SMPP)                                    gsm7 reserved -
//  0x0D       extended Kanji JIS (X 0212-1990)                   unsupported   -
//  0x0E       KS C 5601                                          unsupported   -
//  0x0F       reserved (SMPP; 23.038 alphabet bits 11)           gsm7 reserved -
//  0x10-0x3F  23.038 group 00xx, general data coding:
//             bit 5 compressed (then not text), bit 4 class in bits 1..0,
//             bits 3..2: 00 gsm7, 01 binary, 10 ucs2, 11 reserved (gsm7)
//  0x40-0x7F  23.038 group 01xx, marked for automatic deletion: bits 5..0 as group 00xx
//  0x80-0xBF  reserved coding groups 1000..1011                  gsm7 reserved -
//  0xC0-0xCF  message waiting indication, discard message        gsm7          -
//  0xD0-0xDF  message waiting indication, store message          gsm7          -
//  0xE0-0xEF  message waiting indication, store message, UCS2    ucs2          -
//             (SMPP v3.4 lists 1110xxxx as reserved; 23.038 defines it, and it is followed here)
//  0xF0-0xFF  data coding / message class: bit 2 0 gsm7, 1 binary; bits 1..0 class
DataCodingInfo describe_data_coding(std::uint8_t data_coding);

/// Decodes the text of a short_message payload (after any UDH is removed, see udh.hpp) or of the
/// message_payload TLV's value: message_payload carries the whole message in one field, so callers
/// pass its value here directly. Text codings give valid UTF-8 (malformed input decodes to U+FFFD,
/// never an error); non-text codings (describe_data_coding(dc).is_text() == false) return the bytes
/// unchanged. GSM 7-bit is read as unpacked septets, as SMPP carries data_coding 0.
std::string decode_text(std::uint8_t data_coding, std::span<const std::uint8_t> bytes);

/// A text encoded for short_message: the data_coding to send and its bytes.
struct EncodedText {
  std::uint8_t data_coding = 0;
  std::vector<std::uint8_t> bytes;
  friend bool operator==(const EncodedText&, const EncodedText&) = default;
};

/// GSM 7-bit (data_coding 0, unpacked septets) when every character fits the default alphabet and
/// its extension table, else UCS2 (data_coding 8). Fails only on invalid UTF-8. No length limit:
/// use split_for_sms (concat.hpp) to cut it into SMS parts.
TextResult<EncodedText> encode_text_for_sms(std::string_view utf8);

/// Appends `cp` (a Unicode scalar value) to `out` as UTF-8.
void append_utf8(std::string& out, char32_t cp);

/// True when `utf8` is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
bool is_valid_utf8(std::string_view utf8);

/// IA5 (data_coding 1): bytes 0x00-0x7F map to themselves; bytes with the top bit set decode to
/// U+FFFD. Encoding fails on characters above U+007F.
std::string ia5_decode(std::span<const std::uint8_t> bytes);
TextResult<std::vector<std::uint8_t>> ia5_encode(std::string_view utf8);

/// ISO-8859-1 (data_coding 3): every byte is the code point of the same value. Encoding fails on
/// characters above U+00FF.
std::string latin1_decode(std::span<const std::uint8_t> bytes);
TextResult<std::vector<std::uint8_t>> latin1_encode(std::string_view utf8);

/// UCS2 (data_coding 8), read and written as UTF-16BE so that characters above U+FFFF (emoji)
/// travel as surrogate pairs. Decoding: a lone surrogate and an odd trailing byte each give U+FFFD.
std::string ucs2_decode(std::span<const std::uint8_t> bytes);
TextResult<std::vector<std::uint8_t>> ucs2_encode(std::string_view utf8);

/// Number of UTF-16 code units `utf8` takes in UCS2 (2 for a character above U+FFFF); nullopt when
/// `utf8` is not valid UTF-8.
std::optional<std::size_t> ucs2_unit_count(std::string_view utf8);

}  // namespace smppguard::proto
