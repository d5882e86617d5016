#include "policy/normalize.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace smppguard::policy;
using Words = std::vector<std::string>;

namespace {
std::string text_of(std::string_view s) { return normalize_text(s).text; }
Words words_of(std::string_view s) { return normalize_text(s).words; }
}  // namespace

TEST_CASE("normalisation folds case, trims and collapses whitespace") {
  CHECK(text_of("STOP") == "stop");
  CHECK(text_of("  Stop  ") == "stop");
  CHECK(text_of("STOP\n") == "stop");
  CHECK(text_of("\tstop \r\n all ") == "stop all");
  CHECK(text_of("stop\u00A0all") == "stop all");        // NBSP
  CHECK(text_of("stop\u3000all") == "stop all");        // ideographic space
  CHECK(text_of("stop\u2003\u2009all") == "stop all");  // em space, thin space
  CHECK(text_of("stop\u2028all") == "stop all");        // line separator
  CHECK(text_of("stop\u200Ball") == "stop all");        // zero-width space separates
  CHECK(words_of("stop\u200Ball") == Words{"stop", "all"});
  CHECK(text_of("") == "");
  CHECK(words_of("   \n\t ").empty());
}

TEST_CASE("normalisation strips surrounding punctuation, symbols and emoji") {
  CHECK(text_of("STOP.") == "stop");
  CHECK(text_of("stop!!") == "stop");
  CHECK(text_of("Stop 🛑") == "stop");
  CHECK(text_of("¡Stop!") == "stop");
  CHECK(text_of("\"stop\"") == "stop");
  CHECK(text_of("“Stop”") == "stop");
  CHECK(text_of("Help?") == "help");
  CHECK(text_of("Stop😡😡") == "stop");
  CHECK(text_of("👍🏽 yes ❤️") == "yes");       // skin tone modifier, variation selector
  CHECK(text_of("👨‍👩‍👧 stop") == "stop");  // ZWJ sequence
  CHECK(text_of("🇺🇸STOP🇺🇸") == "stop");                 // regional indicators
  CHECK(text_of("...") == "");
  CHECK(text_of("🛑") == "");
  CHECK(words_of("🛑🛑").empty());
}

TEST_CASE("punctuation inside the text stays in text; words drop it") {
  const auto n = normalize_text("Don't STOP, please!");
  CHECK(n.text == "don't stop, please");
  CHECK(n.words == Words{"dont", "stop", "please"});
  CHECK(normalize_text("don’t stop").words == Words{"dont", "stop"});  // typographic apostrophe
  CHECK(words_of("opt-out") == Words{"opt", "out"});
  CHECK(text_of("opt-out") == "opt-out");
  CHECK(words_of("stop,please") == Words{"stop", "please"});
  CHECK(words_of("stop...now") == Words{"stop", "now"});
  CHECK(words_of("'stop'") == Words{"stop"});
  CHECK(words_of("stop 🛑 now") == Words{"stop", "now"});
  CHECK(text_of("stop 🛑 now") == "stop 🛑 now");
  CHECK(words_of("l'arrêt") == Words{"larret"});
  CHECK(normalize_text("Stop all").joined_words() == "stop all");
}

TEST_CASE("full-width and half-width forms fold to their plain forms") {
  CHECK(text_of("ＳＴＯＰ") == "stop");
  CHECK(text_of("ｓｔｏｐ！") == "stop");
  CHECK(text_of("ＳＴＯＰ　ＡＬＬ") == "stop all");
  CHECK(text_of("１２３") == "123");
  // Half-width katakana with a voiced mark equals the full-width precomposed letter.
  CHECK(text_of("ｶﾞ") == text_of("ガ"));
}

TEST_CASE("accents of Latin and Greek letters are dropped") {
  CHECK(text_of("arrêt") == "arret");
  CHECK(text_of("ARRÊT") == "arret");
  CHECK(text_of("ARRET") == "arret");
  CHECK(text_of("are\u0302t") == "aret");  // decomposed input
  CHECK(text_of("Désabonner") == "desabonner");
  CHECK(text_of("CANCELACIÓN") == "cancelacion");
  CHECK(text_of("Straße") == "strasse");  // full case folding
  CHECK(text_of("ẞ") == "ss");
  CHECK(text_of("İPTAL") == "iptal");  // Turkish dotted capital I
  CHECK(text_of("Łódź") == "lodz");
  CHECK(text_of("ØRESUND") == "oresund");
  CHECK(text_of("ﬁn") == "fin");  // ligature
}

TEST_CASE("Greek and Cyrillic fold case") {
  CHECK(text_of("ΣΤΟΠ") == "στοπ");
  CHECK(text_of("στοπ") == "στοπ");
  CHECK(text_of("ΣΤΆΣΟΣ") == "στασοσ");  // tonos dropped, final sigma folded
  CHECK(text_of("στάσος") == "στασοσ");
  CHECK(text_of("СТОП") == "стоп");
  CHECK(text_of("Отписаться") == "отписаться");
  CHECK(text_of("ЇЖАК") == text_of("їжак"));
  // Cyrillic letters keep their diacritics: й is not и.
  CHECK(text_of("ЙОД") != text_of("иод"));
  CHECK(text_of("йод") == text_of("и\u0306од"));  // precomposed and decomposed agree
  CHECK(text_of("ЁЛКА") == text_of("ёлка"));
}

TEST_CASE("scripts without case pass through") {
  CHECK(text_of("停止") == "停止");
  CHECK(text_of(" रोको ") == "रोको");
  CHECK(words_of("إيقاف") == Words{"إيقاف"});
  CHECK(words_of("停止。") == Words{"停止"});
}

TEST_CASE("invalid UTF-8 does not crash and reads as U+FFFD") {
  CHECK(text_of("\xFF") == "");
  CHECK(text_of("stop\xFF") == "stop");
  CHECK(words_of("stop\xC0\xAFnow") == Words{"stop", "now"});  // overlong '/'
  CHECK(words_of("st\xED\xA0\x80op") == Words{"st", "op"});    // surrogate
  CHECK(words_of("\xF4\x90\x80\x80stop") == Words{"stop"});    // above U+10FFFF
  CHECK(words_of("stop\xE2\x82") == Words{"stop"});            // truncated
  CHECK(words_of(std::string("stop\0all", 8)) == Words{"stop", "all"});
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  CHECK_NOTHROW(normalize_text(all_bytes));
}

TEST_CASE("normalisation is idempotent") {
  for (const char* s : {"Don't STOP, please!", "ＳＴＯＰ　ＡＬＬ", "ΣΤΆΣΟΣ", "Straße 🛑",
                        "İPTAL", "ЁЛКА йод", "ｶﾞ", "¡Stop!"}) {
    const std::string once = text_of(s);
    CHECK(text_of(once) == once);
  }
}

TEST_CASE("the Unicode tables classify and fold") {
  using unicode::CharClass;
  CHECK(unicode::char_class(U'a') == CharClass::latin_greek);
  CHECK(unicode::char_class(U'ж') == CharClass::other);
  CHECK(unicode::char_class(U'7') == CharClass::other);
  CHECK(unicode::char_class(U'\u0301') == CharClass::mark);
  CHECK(unicode::char_class(U'\u00A0') == CharClass::space);
  CHECK(unicode::char_class(U'!') == CharClass::punct);
  CHECK(unicode::char_class(U'\'') == CharClass::apostrophe);
  CHECK(unicode::char_class(U'\u2019') == CharClass::apostrophe);
  CHECK(unicode::char_class(U'\U0001F6D1') == CharClass::symbol);
  CHECK(unicode::char_class(U'\u200D') == CharClass::ignore);
  CHECK(unicode::char_class(U'\U0010FFFF') == CharClass::symbol);
  CHECK_FALSE(unicode::fold(U'a').has_value());
  REQUIRE(unicode::fold(U'Σ').has_value());
  CHECK(*unicode::fold(U'Σ') == U"σ");
  CHECK(*unicode::fold(U'ß') == U"ss");
  CHECK(*unicode::fold(U'Ｐ') == U"p");
}
