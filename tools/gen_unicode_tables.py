#!/usr/bin/env python3
"""Generates src/policy/unicode_tables.cpp: the Unicode data behind MO text normalisation.

Usage: python3 tools/gen_unicode_tables.py > src/policy/unicode_tables.cpp

Only the Python standard library (unicodedata) is used; the build never runs this script.

Two tables are written:
- the fold table: code point -> replacement code points (possibly none), for every code point whose
  fold differs from itself. The fold of a code point is, in order:
    1. full-width ASCII (U+FF01..U+FF5E) -> ASCII; other half-width and full-width forms
       (U+FF61..U+FFEE) -> their NFKC compatibility equivalent;
    2. full Unicode case folding (CaseFolding.txt statuses C and F, which str.casefold implements);
    3. for Latin, Greek, Cyrillic, Hiragana and Katakana letters, the canonical decomposition (NFD);
    4. for Latin and Greek letters, the combining marks of that decomposition (or of the case
       folding: "İ" -> "i̇") are dropped ("é" -> "e", "ά" -> "α", "İ" -> "i"), and a Latin letter
       named "... LETTER X WITH ..." that has no decomposition folds to X ("ł" -> "l", "ø" -> "o").
       Cyrillic keeps its marks (decomposed), since they tell letters apart ("й" is not "и").
  At run time normalize.cpp drops a combining mark that follows a Latin or Greek letter, so
  decomposed input ("e" + U+0301) folds like precomposed input.
  The result is a fixed point: folding a folded code point changes nothing.
- the class table: sorted ranges of code points with the class the normaliser needs
  (word characters, marks, spaces, punctuation, apostrophes, symbols and emoji, ignorables).
"""
import sys
import unicodedata

MAX_CP = 0x110000
SCRIPT_PREFIXES_DECOMPOSE = ("LATIN ", "GREEK ", "CYRILLIC ", "HIRAGANA ", "KATAKANA ")
SCRIPT_PREFIXES_DROP_MARKS = ("LATIN ", "GREEK ")
APOSTROPHES = {0x0027, 0x0060, 0x00B4, 0x02BC, 0x2018, 0x2019, 0xFF07}
EXTRA_SPACES = {0x200B}  # ZERO WIDTH SPACE separates words although it is a format character
CLASS_NAMES = ["other", "latin_greek", "mark", "space", "punct", "apostrophe", "symbol", "ignore"]


def name_of(cp):
    return unicodedata.name(chr(cp), "")


def is_latin_greek(cp):
    return unicodedata.category(chr(cp)).startswith("L") and name_of(cp).startswith(
        SCRIPT_PREFIXES_DROP_MARKS)


def is_mark(cp):
    return unicodedata.category(chr(cp)).startswith("M")


def stroke_base(cp):
    """'LATIN SMALL LETTER L WITH STROKE' -> 'l' for Latin letters without a decomposition."""
    name = name_of(cp)
    for prefix in ("LATIN SMALL LETTER ", "LATIN CAPITAL LETTER "):
        if name.startswith(prefix) and " WITH " in name:
            base = name[len(prefix):].split(" WITH ")[0]
            if len(base) == 1 and base.isalpha():
                return base.lower()
    return None


def fold_once(text):
    out = []
    after_latin_greek = False
    for ch in text:
        cp = ord(ch)
        if 0xFF01 <= cp <= 0xFF5E:
            ch = chr(cp - 0xFF01 + 0x21)
        elif 0xFF61 <= cp <= 0xFFEE:
            ch = unicodedata.normalize("NFKC", ch)
        for c in ch.casefold():
            if is_mark(ord(c)):
                if not after_latin_greek:
                    out.append(c)
                continue
            after_latin_greek = is_latin_greek(ord(c))
            name = name_of(ord(c))
            if name.startswith(SCRIPT_PREFIXES_DECOMPOSE):
                parts = unicodedata.normalize("NFD", c)
                if name.startswith(SCRIPT_PREFIXES_DROP_MARKS):
                    kept = "".join(p for p in parts if not is_mark(ord(p)))
                    if kept == c and unicodedata.category(c).startswith("L"):
                        base = stroke_base(ord(c))
                        if base is not None:
                            kept = base
                    parts = kept
                out.append(parts)
            else:
                out.append(c)
    return "".join(out)


def fold(cp):
    text = chr(cp)
    for _ in range(8):
        nxt = fold_once(text)
        if nxt == text:
            return text
        text = nxt
    raise RuntimeError(f"fold of U+{cp:04X} does not converge")


def char_class(cp):
    ch = chr(cp)
    cat = unicodedata.category(ch)
    if cp in APOSTROPHES:
        return "apostrophe"
    if cp in EXTRA_SPACES or ch.isspace() or cat in ("Zs", "Zl", "Zp"):
        return "space"
    if cat == "Cc":
        return "space"
    if cat == "Cf":
        return "ignore"
    if cat.startswith("P"):
        return "punct"
    if cat.startswith("S") or cat in ("Cn", "Co", "Cs"):
        return "symbol"
    if cat.startswith("M"):
        return "mark"
    if is_latin_greek(cp):
        return "latin_greek"
    return "other"


def main():
    folds = []
    for cp in range(MAX_CP):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        f = fold(cp)
        if f != chr(cp):
            folds.append((cp, f))

    pool = []
    pool_index = {}
    entries = []
    for cp, f in folds:
        key = f
        if key not in pool_index:
            pool_index[key] = len(pool)
            pool.extend(ord(c) for c in f)
        entries.append((cp, pool_index[key], len(f)))
    assert len(pool) < 65536 and max(len(f) for _, f in folds) < 256

    ranges = []
    for cp in range(MAX_CP):
        cls = char_class(cp)
        if ranges and ranges[-1][2] == cls and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp, cls])

    w = sys.stdout.write
    w("// Generated by tools/gen_unicode_tables.py from Python's unicodedata "
      f"(Unicode {unicodedata.unidata_version}). Do not edit.\n")
    w('#include <algorithm>\n#include <cstdint>\n#include <iterator>\n#include <optional>\n#include <string_view>\n\n#include "policy/normalize.hpp"\n\n')
    w("namespace smppguard::policy::unicode {\nnamespace {\n\n")
    w("struct FoldEntry {\n  char32_t cp;\n  std::uint16_t offset;\n  std::uint8_t length;\n};\n\n")
    w("struct ClassRange {\n  char32_t first;\n  char32_t last;\n  CharClass cls;\n};\n\n")
    w(f"constexpr char32_t kFoldPool[{max(len(pool), 1)}] = {{\n")
    for i in range(0, len(pool), 10):
        w("    " + ", ".join(f"0x{c:04X}" for c in pool[i:i + 10]) + ",\n")
    w("};\n\n")
    w(f"constexpr FoldEntry kFoldEntries[{len(entries)}] = {{\n")
    for i in range(0, len(entries), 4):
        w("    " + " ".join(f"{{0x{cp:04X}, {off}, {ln}}}," for cp, off, ln in entries[i:i + 4]) +
          "\n")
    w("};\n\n")
    w(f"constexpr ClassRange kClassRanges[{len(ranges)}] = {{\n")
    for i in range(0, len(ranges), 3):
        w("    " + " ".join(f"{{0x{a:04X}, 0x{b:04X}, CharClass::{c}}},"
                            for a, b, c in ranges[i:i + 3]) + "\n")
    w("};\n\n}  // namespace\n\n")
    w("""CharClass char_class(char32_t cp) {
  const auto* it = std::upper_bound(std::begin(kClassRanges), std::end(kClassRanges), cp,
                                    [](char32_t c, const ClassRange& r) { return c < r.first; });
  if (it == std::begin(kClassRanges)) return CharClass::symbol;
  --it;
  return cp <= it->last ? it->cls : CharClass::symbol;
}

std::optional<std::u32string_view> fold(char32_t cp) {
  const auto* it = std::lower_bound(std::begin(kFoldEntries), std::end(kFoldEntries), cp,
                                    [](const FoldEntry& e, char32_t c) { return e.cp < c; });
  if (it == std::end(kFoldEntries) || it->cp != cp) return std::nullopt;
  return std::u32string_view(kFoldPool + it->offset, it->length);
}

}  // namespace smppguard::policy::unicode
""")


if __name__ == "__main__":
    main()
