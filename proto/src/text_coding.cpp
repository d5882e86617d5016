// data_coding dispatch: SMPP v3.4 section 5.2.19 and 3GPP TS 23.038 clause 4 (table in text.hpp).
#include "smppguard/proto/gsm7.hpp"
#include "smppguard/proto/text.hpp"

namespace smppguard::proto {
namespace {

// Bits 3..2 of the TS 23.038 general data coding groups (00xx and 01xx).
DataCodingInfo general_group(std::uint8_t dc) {
  DataCodingInfo info;
  info.compressed = (dc & 0x20) != 0;
  if ((dc & 0x10) != 0) info.message_class = dc & 0x03;
  switch ((dc >> 2) & 0x03) {
    case 0:
      info.alphabet = Alphabet::gsm7;
      break;
    case 1:
      info.alphabet = Alphabet::binary;
      break;
    case 2:
      info.alphabet = Alphabet::ucs2;
      break;
    default:
      info.alphabet = Alphabet::gsm7;
      info.reserved = true;
      break;
  }
  return info;
}

DataCodingInfo smpp_value(std::uint8_t dc) {
  DataCodingInfo info;
  switch (dc) {
    case 0x00:
      info.alphabet = Alphabet::gsm7;
      break;
    case 0x01:
      info.alphabet = Alphabet::ia5;
      break;
    case 0x02:
    case 0x04:
      info.alphabet = Alphabet::binary;
      break;
    case 0x03:
      info.alphabet = Alphabet::latin1;
      break;
    case 0x08:
      info.alphabet = Alphabet::ucs2;
      break;
    case 0x0B:
    case 0x0C:
    case 0x0F:
      info.alphabet = Alphabet::gsm7;
      info.reserved = true;
      break;
    default:  // 05 06 07 09 0A 0D 0E: defined character sets not converted here
      info.alphabet = Alphabet::unsupported;
      break;
  }
  return info;
}

}  // namespace

DataCodingInfo describe_data_coding(std::uint8_t dc) {
  if (dc <= 0x0F) return smpp_value(dc);
  if (dc <= 0x7F) return general_group(dc);
  DataCodingInfo info;
  switch (dc >> 4) {
    case 0xC:
    case 0xD:
      info.alphabet = Alphabet::gsm7;
      break;
    case 0xE:
      info.alphabet = Alphabet::ucs2;
      break;
    case 0xF:
      info.alphabet = (dc & 0x04) != 0 ? Alphabet::binary : Alphabet::gsm7;
      info.message_class = dc & 0x03;
      break;
    default:  // 0x8-0xB: reserved coding groups
      info.alphabet = Alphabet::gsm7;
      info.reserved = true;
      break;
  }
  return info;
}

std::string decode_text(std::uint8_t data_coding, std::span<const std::uint8_t> bytes) {
  const DataCodingInfo info = describe_data_coding(data_coding);
  if (!info.is_text()) return {bytes.begin(), bytes.end()};
  switch (info.alphabet) {
    case Alphabet::gsm7:
      return gsm7_decode(bytes);
    case Alphabet::ia5:
      return ia5_decode(bytes);
    case Alphabet::latin1:
      return latin1_decode(bytes);
    case Alphabet::ucs2:
      return ucs2_decode(bytes);
    case Alphabet::binary:
    case Alphabet::unsupported:
      break;
  }
  return {bytes.begin(), bytes.end()};
}

TextResult<EncodedText> encode_text_for_sms(std::string_view utf8) {
  if (auto septets = gsm7_encode(utf8)) return EncodedText{0x00, std::move(*septets)};
  auto units = ucs2_encode(utf8);
  if (!units) return text_error(TextErrc::invalid_utf8);
  return EncodedText{0x08, std::move(*units)};
}

}  // namespace smppguard::proto
