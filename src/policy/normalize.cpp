#include "policy/normalize.hpp"

#include <cstddef>
#include <smppguard/proto/text.hpp>

namespace smppguard::policy {
namespace {

using unicode::CharClass;

constexpr char32_t kReplacement = 0xFFFD;

// Decodes one code point at s[i], advancing i. Invalid sequences (bad lead or continuation bytes,
// overlong forms, surrogates, values above U+10FFFF, truncation) yield U+FFFD and consume one byte.
char32_t decode_utf8(std::string_view s, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  std::size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    ++i;
    return kReplacement;
  }
  if (i + len > s.size()) {
    ++i;
    return kReplacement;
  }
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return kReplacement;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return kReplacement;
  }
  i += len;
  return cp;
}

CharClass classify(char32_t cp) {
  if (cp < 0x80) {
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return CharClass::latin_greek;
    if (cp >= '0' && cp <= '9') return CharClass::other;
  }
  return unicode::char_class(cp);
}

struct Unit {
  char32_t cp;
  CharClass cls;
};

bool is_word_char(CharClass c) {
  return c == CharClass::other || c == CharClass::latin_greek || c == CharClass::mark;
}

// Folds and classifies the text. Format characters are dropped; combining marks after a Latin or
// Greek letter are dropped; marks with no letter before them (emoji variation selectors, keycaps,
// a mark at the start) count as symbols.
std::vector<Unit> fold_units(std::string_view utf8) {
  std::vector<Unit> units;
  units.reserve(utf8.size());
  bool after_latin_greek = false;
  bool after_base = false;
  const auto push = [&](char32_t c) {
    CharClass cls = classify(c);
    switch (cls) {
      case CharClass::ignore:
        return;
      case CharClass::mark:
        if (after_latin_greek) return;
        if (!after_base) cls = CharClass::symbol;
        break;
      default:
        after_latin_greek = cls == CharClass::latin_greek;
        after_base = cls == CharClass::latin_greek || cls == CharClass::other;
        break;
    }
    units.push_back({c, cls});
  };
  for (std::size_t i = 0; i < utf8.size();) {
    const char32_t cp = decode_utf8(utf8, i);
    if (cp >= 'A' && cp <= 'Z') {
      push(cp + ('a' - 'A'));
    } else if (cp < 0x80) {
      push(cp);
    } else if (const auto folded = unicode::fold(cp)) {
      for (const char32_t c : *folded) push(c);
    } else {
      push(cp);
    }
  }
  return units;
}

}  // namespace

std::string NormalizedText::joined_words() const {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

NormalizedText normalize_text(std::string_view utf8) {
  const std::vector<Unit> units = fold_units(utf8);
  NormalizedText result;

  std::size_t first = units.size();
  std::size_t last = 0;
  for (std::size_t i = 0; i < units.size(); ++i) {
    if (is_word_char(units[i].cls)) {
      if (first == units.size()) first = i;
      last = i;
    }
  }
  if (first == units.size()) return result;

  bool in_space = false;
  for (std::size_t i = first; i <= last; ++i) {
    if (units[i].cls == CharClass::space) {
      in_space = true;
      continue;
    }
    if (in_space) result.text.push_back(' ');
    in_space = false;
    proto::append_utf8(result.text, units[i].cp);
  }

  std::string word;
  for (std::size_t i = first; i <= last; ++i) {
    const Unit& u = units[i];
    if (is_word_char(u.cls)) {
      proto::append_utf8(word, u.cp);
      continue;
    }
    const bool inner_apostrophe = u.cls == CharClass::apostrophe && !word.empty() &&
                                  i + 1 <= last && is_word_char(units[i + 1].cls);
    if (inner_apostrophe) continue;
    if (!word.empty()) result.words.push_back(std::move(word));
    word.clear();
  }
  if (!word.empty()) result.words.push_back(std::move(word));
  return result;
}

}  // namespace smppguard::policy
