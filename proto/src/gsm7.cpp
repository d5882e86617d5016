// GSM 03.38 default alphabet, extension table and 7-bit packing (3GPP TS 23.038 clause 6).
#include "smppguard/proto/gsm7.hpp"

#include <algorithm>
#include <array>

#include "text_utf8.hpp"

namespace smppguard::proto {
namespace {

// TS 23.038 clause 6.2.1, by septet. 0x1B is the escape, not a character.
// clang-format off
constexpr std::array<char32_t, 128> kMain = {
    U'@',    U'\u00A3', U'$',     U'\u00A5', U'\u00E8', U'\u00E9', U'\u00F9', U'\u00EC',  // 0x00
    U'\u00F2', U'\u00C7', U'\n',  U'\u00D8', U'\u00F8', U'\r',    U'\u00C5', U'\u00E5',  // 0x08
    U'\u0394', U'_',    U'\u03A6', U'\u0393', U'\u039B', U'\u03A9', U'\u03A0', U'\u03A8',  // 0x10
    U'\u03A3', U'\u0398', U'\u039E', U'\x1B', U'\u00C6', U'\u00E6', U'\u00DF', U'\u00C9',  // 0x18
    U' ',    U'!',      U'"',     U'#',      U'\u00A4', U'%',      U'&',      U'\'',       // 0x20
    U'(',    U')',      U'*',     U'+',      U',',      U'-',      U'.',      U'/',        // 0x28
    U'0',    U'1',      U'2',     U'3',      U'4',      U'5',      U'6',      U'7',        // 0x30
    U'8',    U'9',      U':',     U';',      U'<',      U'=',      U'>',      U'?',        // 0x38
    U'\u00A1', U'A',    U'B',     U'C',      U'D',      U'E',      U'F',      U'G',        // 0x40
    U'H',    U'I',      U'J',     U'K',      U'L',      U'M',      U'N',      U'O',        // 0x48
    U'P',    U'Q',      U'R',     U'S',      U'T',      U'U',      U'V',      U'W',        // 0x50
    U'X',    U'Y',      U'Z',     U'\u00C4', U'\u00D6', U'\u00D1', U'\u00DC', U'\u00A7',  // 0x58
    U'\u00BF', U'a',    U'b',     U'c',      U'd',      U'e',      U'f',      U'g',        // 0x60
    U'h',    U'i',      U'j',     U'k',      U'l',      U'm',      U'n',      U'o',        // 0x68
    U'p',    U'q',      U'r',     U's',      U't',      U'u',      U'v',      U'w',        // 0x70
    U'x',    U'y',      U'z',     U'\u00E4', U'\u00F6', U'\u00F1', U'\u00FC', U'\u00E0',  // 0x78
};
// clang-format on

struct Extension {
  std::uint8_t code;
  char32_t cp;
};
// TS 23.038 clause 6.2.1.1, the characters reached through the escape.
constexpr std::array<Extension, 10> kExtension = {{
    {0x0A, U'\f'},
    {0x14, U'^'},
    {0x28, U'{'},
    {0x29, U'}'},
    {0x2F, U'\\'},
    {0x3C, U'['},
    {0x3D, U'~'},
    {0x3E, U']'},
    {0x40, U'|'},
    {0x65, U'\u20AC'},
}};

// Septets for one code point: {1, code}, {2, code} (after the escape) or {0, 0} when not in GSM.
struct Mapping {
  std::uint8_t septets;
  std::uint8_t code;
};

constexpr std::array<Mapping, 128> make_ascii_map() {
  std::array<Mapping, 128> m{};
  for (std::size_t s = 0; s < kMain.size(); ++s) {
    if (s != kGsm7Escape && kMain[s] < 0x80) m[kMain[s]] = {1, static_cast<std::uint8_t>(s)};
  }
  for (const auto& e : kExtension) {
    if (e.cp < 0x80) m[e.cp] = {2, e.code};
  }
  return m;
}
constexpr std::array<Mapping, 128> kAscii = make_ascii_map();

Mapping map_code_point(char32_t cp) {
  if (cp < 0x80) return kAscii[cp];
  for (std::size_t s = 0; s < kMain.size(); ++s) {
    if (kMain[s] == cp) return {1, static_cast<std::uint8_t>(s)};
  }
  for (const auto& e : kExtension) {
    if (e.cp == cp) return {2, e.code};
  }
  return {0, 0};
}

void put(std::vector<std::uint8_t>& out, Mapping m) {
  if (m.septets == 2) out.push_back(kGsm7Escape);
  out.push_back(m.code);
}

}  // namespace

TextResult<std::vector<std::uint8_t>> gsm7_encode(std::string_view utf8) {
  std::vector<std::uint8_t> out;
  out.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size();) {
    const auto cp = detail::utf8_next(utf8, i);
    if (!cp) return text_error(TextErrc::invalid_utf8);
    const Mapping m = map_code_point(*cp);
    if (m.septets == 0) return text_error(TextErrc::unencodable);
    put(out, m);
  }
  return out;
}

std::vector<std::uint8_t> gsm7_encode_lenient(std::string_view utf8) {
  std::vector<std::uint8_t> out;
  out.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size();) {
    const auto cp = detail::utf8_next(utf8, i);
    const Mapping m = cp ? map_code_point(*cp) : Mapping{0, 0};
    if (m.septets == 0) {
      out.push_back(0x3F);  // '?'
    } else {
      put(out, m);
    }
  }
  return out;
}

std::string gsm7_decode(std::span<const std::uint8_t> septets) {
  std::string out;
  out.reserve(septets.size());
  for (std::size_t i = 0; i < septets.size(); ++i) {
    const std::uint8_t s = septets[i];
    if (s > 0x7F) {
      detail::utf8_append(out, detail::kReplacementChar);
      continue;
    }
    if (s != kGsm7Escape) {
      detail::utf8_append(out, kMain[s]);
      continue;
    }
    if (i + 1 == septets.size()) {
      out.push_back(' ');
      continue;
    }
    const std::uint8_t code = septets[++i];
    if (code > 0x7F) {
      detail::utf8_append(out, detail::kReplacementChar);
    } else if (code == kGsm7Escape) {
      out.push_back(' ');
    } else {
      char32_t cp = kMain[code];
      for (const auto& e : kExtension) {
        if (e.code == code) cp = e.cp;
      }
      detail::utf8_append(out, cp);
    }
  }
  return out;
}

std::optional<std::size_t> gsm7_septet_count(std::string_view utf8) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto cp = detail::utf8_next(utf8, i);
    if (!cp) return std::nullopt;
    const Mapping m = map_code_point(*cp);
    if (m.septets == 0) return std::nullopt;
    n += m.septets;
  }
  return n;
}

std::vector<std::uint8_t> gsm7_pack(std::span<const std::uint8_t> septets, unsigned fill_bits) {
  fill_bits %= 7;
  const std::size_t bits = fill_bits + 7 * septets.size();
  std::vector<std::uint8_t> out((bits + 7) / 8, 0);
  const auto put_septet = [&](std::size_t pos, unsigned v) {
    const std::size_t byte = pos / 8;
    const unsigned shift = pos % 8;
    out[byte] = static_cast<std::uint8_t>(out[byte] | ((v << shift) & 0xFF));
    if (shift > 1) out[byte + 1] = static_cast<std::uint8_t>(out[byte + 1] | (v >> (8 - shift)));
  };
  for (std::size_t k = 0; k < septets.size(); ++k)
    put_septet(fill_bits + 7 * k, septets[k] & 0x7Fu);
  if (out.size() * 8 - bits == 7) put_septet(bits, 0x0D);
  return out;
}

std::vector<std::uint8_t> gsm7_unpack(std::span<const std::uint8_t> packed, unsigned fill_bits,
                                      std::size_t septet_count) {
  fill_bits %= 7;
  const std::size_t total_bits = packed.size() * 8;
  std::vector<std::uint8_t> out;
  out.reserve(std::min(septet_count, packed.size() * 8 / 7 + 1));
  for (std::size_t k = 0; k < septet_count; ++k) {
    const std::size_t pos = fill_bits + 7 * k;
    if (pos + 7 > total_bits) break;
    const std::size_t byte = pos / 8;
    const unsigned shift = pos % 8;
    unsigned v = packed[byte] >> shift;
    if (shift > 1) v |= static_cast<unsigned>(packed[byte + 1]) << (8 - shift);
    out.push_back(static_cast<std::uint8_t>(v & 0x7F));
  }
  return out;
}

std::vector<std::uint8_t> gsm7_unpack(std::span<const std::uint8_t> packed, unsigned fill_bits) {
  fill_bits %= 7;
  const std::size_t total_bits = packed.size() * 8;
  if (total_bits < fill_bits + 7) return {};
  std::vector<std::uint8_t> out = gsm7_unpack(packed, fill_bits, (total_bits - fill_bits) / 7);
  // The last septet is padding when the septets before it already needed every octet.
  const std::size_t before = fill_bits + 7 * (out.size() - 1);
  const bool in_padding = (before + 7) / 8 == packed.size();
  if (in_padding && (out.back() == 0x0D || out.back() == 0x00)) out.pop_back();
  return out;
}

}  // namespace smppguard::proto
