// UTF-8, IA5, Latin-1 and UCS2 (UTF-16BE) codecs, and the text error category.
#include "smppguard/proto/text.hpp"

#include "text_utf8.hpp"

namespace smppguard::proto {
namespace detail {

std::optional<char32_t> utf8_next(std::string_view s, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;  // bounds of the second byte; later bytes are always 80..BF
  char32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    ++i;
    return std::nullopt;
  }
  if (s.size() - i < len) {
    ++i;
    return std::nullopt;
  }
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char b = byte(i + k);
    const unsigned char min = k == 1 ? lo : 0x80;
    const unsigned char max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) {
      ++i;
      return std::nullopt;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  i += len;
  return cp;
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace detail

namespace {

class TextCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "smppguard.text"; }
  std::string message(int ev) const override {
    switch (static_cast<TextErrc>(ev)) {
      case TextErrc::invalid_utf8:
        return "text is not valid UTF-8";
      case TextErrc::unencodable:
        return "character not representable in the target charset";
      case TextErrc::udh_missing:
        return "UDHI set but short_message is empty";
      case TextErrc::udh_truncated:
        return "UDH length runs past the end of short_message";
      case TextErrc::udh_ie_truncated:
        return "UDH information element runs past the header";
      case TextErrc::udh_bad_concat:
        return "malformed concatenation information element";
      case TextErrc::udh_too_long:
        return "UDH longer than 255 octets";
      case TextErrc::message_too_long:
        return "message needs more than 255 parts";
      case TextErrc::sar_invalid:
        return "invalid sar_* segmentation values";
    }
    return "unknown text error";
  }
};

// Encodes each code point with `put`, which returns false when the charset cannot carry it.
template <typename Put>
TextResult<std::vector<std::uint8_t>> encode_each(std::string_view utf8, Put put) {
  std::vector<std::uint8_t> out;
  out.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size();) {
    const auto cp = detail::utf8_next(utf8, i);
    if (!cp) return text_error(TextErrc::invalid_utf8);
    if (!put(out, *cp)) return text_error(TextErrc::unencodable);
  }
  return out;
}

}  // namespace

const std::error_category& text_category() noexcept {
  static const TextCategory category;
  return category;
}

std::error_code make_error_code(TextErrc e) noexcept {
  return {static_cast<int>(e), text_category()};
}

bool is_valid_utf8(std::string_view utf8) {
  for (std::size_t i = 0; i < utf8.size();) {
    if (!detail::utf8_next(utf8, i)) return false;
  }
  return true;
}

std::string ia5_decode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (const std::uint8_t b : bytes) {
    detail::utf8_append(out, b < 0x80 ? char32_t{b} : detail::kReplacementChar);
  }
  return out;
}

TextResult<std::vector<std::uint8_t>> ia5_encode(std::string_view utf8) {
  return encode_each(utf8, [](std::vector<std::uint8_t>& out, char32_t cp) {
    if (cp > 0x7F) return false;
    out.push_back(static_cast<std::uint8_t>(cp));
    return true;
  });
}

std::string latin1_decode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) detail::utf8_append(out, b);
  return out;
}

TextResult<std::vector<std::uint8_t>> latin1_encode(std::string_view utf8) {
  return encode_each(utf8, [](std::vector<std::uint8_t>& out, char32_t cp) {
    if (cp > 0xFF) return false;
    out.push_back(static_cast<std::uint8_t>(cp));
    return true;
  });
}

std::string ucs2_decode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 3 / 2);
  const std::size_t units = bytes.size() / 2;
  const auto unit = [&](std::size_t k) -> char32_t {
    return static_cast<char32_t>((bytes[2 * k] << 8) | bytes[2 * k + 1]);
  };
  for (std::size_t k = 0; k < units; ++k) {
    const char32_t u = unit(k);
    if (u >= 0xD800 && u <= 0xDBFF && k + 1 < units) {
      const char32_t low = unit(k + 1);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        detail::utf8_append(out, 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
        ++k;
        continue;
      }
    }
    detail::utf8_append(out, (u >= 0xD800 && u <= 0xDFFF) ? detail::kReplacementChar : u);
  }
  if (bytes.size() % 2 != 0) detail::utf8_append(out, detail::kReplacementChar);
  return out;
}

TextResult<std::vector<std::uint8_t>> ucs2_encode(std::string_view utf8) {
  return encode_each(utf8, [](std::vector<std::uint8_t>& out, char32_t cp) {
    const auto put16 = [&](char32_t u) {
      out.push_back(static_cast<std::uint8_t>(u >> 8));
      out.push_back(static_cast<std::uint8_t>(u & 0xFF));
    };
    if (cp < 0x10000) {
      put16(cp);
    } else {
      put16(0xD800 + ((cp - 0x10000) >> 10));
      put16(0xDC00 + ((cp - 0x10000) & 0x3FF));
    }
    return true;
  });
}

std::optional<std::size_t> ucs2_unit_count(std::string_view utf8) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto cp = detail::utf8_next(utf8, i);
    if (!cp) return std::nullopt;
    n += *cp < 0x10000 ? 1 : 2;
  }
  return n;
}

void append_utf8(std::string& out, char32_t cp) { detail::utf8_append(out, cp); }

}  // namespace smppguard::proto
