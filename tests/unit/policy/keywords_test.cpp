#include "policy/keywords.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace smppguard::policy;

namespace {

using K = KeywordKind;
using R = MatchRule;

struct Row {
  const char* mo;
  KeywordKind kind;
  MatchRule rule;
  const char* keyword;
  bool stop_all = false;
  bool join = false;
};

ProgramKeywords program_keywords() {
  ProgramKeywords p;
  p.opt_out = {"ARRÊT", "Désabonner", "СТОП", "ΣΤΑΜΑΤΑ", "BAJA"};
  p.opt_in = {"OUI", "SÍ"};
  p.help = {"AIDE", "AYUDA"};
  p.join = {"SUPPORT", "Join Now"};
  return p;
}

// Real-world replies and what the default keywords plus program_keywords() make of them.
const Row kRows[] = {
    {"Stop", K::opt_out, R::exact, "stop"},
    {"STOP.", K::opt_out, R::exact, "stop"},
    {"stop!!", K::opt_out, R::exact, "stop"},
    {"Stop 🛑", K::opt_out, R::exact, "stop"},
    {"please stop", K::opt_out, R::phrase, "stop"},
    {"STOP ALL", K::opt_out, R::exact, "stop all", true},
    {"stop all", K::opt_out, R::exact, "stop all", true},
    {"StopAll", K::opt_out, R::exact, "stopall", true},
    {"stop-all", K::opt_out, R::exact, "stop all", true},
    {"Stop\u00A0all", K::opt_out, R::exact, "stop all", true},
    {"Stop all messages", K::opt_out, R::phrase, "stop all", true},
    {"opt out", K::opt_out, R::exact, "opt out"},
    {"opt-out", K::opt_out, R::exact, "opt out"},
    {"OPTOUT", K::opt_out, R::exact, "optout"},
    {"Opt out please", K::opt_out, R::phrase, "opt out"},
    {"I want to opt out of these messages", K::possible_opt_out, R::long_message, "opt out"},
    {"Unsubscribe me", K::opt_out, R::phrase, "unsubscribe"},
    {"unsubscribe", K::opt_out, R::exact, "unsubscribe"},
    {"Unsubscribe.", K::opt_out, R::exact, "unsubscribe"},
    {"Please unsubscribe me", K::opt_out, R::phrase, "unsubscribe"},
    {"ARRET", K::opt_out, R::exact, "arret"},
    {"arrêt", K::opt_out, R::exact, "arret"},
    {"Arrêt!", K::opt_out, R::exact, "arret"},
    {"desabonner", K::opt_out, R::exact, "desabonner"},
    {"Désabonner", K::opt_out, R::exact, "desabonner"},
    {"BAJA", K::opt_out, R::exact, "baja"},
    {"YES", K::opt_in, R::exact, "yes"},
    {"Yes!", K::opt_in, R::exact, "yes"},
    {"yes 👍", K::opt_in, R::exact, "yes"},
    {"yes please", K::none, R::none, ""},
    {"YES YES", K::none, R::none, ""},
    {"Help?", K::help, R::exact, "help"},
    {"ＨＥＬＰ", K::help, R::exact, "help"},
    {"help me", K::none, R::none, ""},
    {"INFO", K::help, R::exact, "info"},
    {"info?", K::help, R::exact, "info"},
    {"HELP STOP", K::opt_out, R::phrase, "stop"},
    {"yes stop", K::opt_out, R::phrase, "stop"},
    {"don't stop", K::opt_out, R::phrase, "stop"},
    {"stop texting me", K::opt_out, R::phrase, "stop"},
    {"stop texting me please", K::opt_out, R::phrase, "stop"},
    {"please stop texting me now", K::possible_opt_out, R::long_message, "stop"},
    {"I don't want to stop", K::possible_opt_out, R::long_message, "stop"},
    {"I was at the store and forgot to tell you to stop sending these deals", K::possible_opt_out,
     R::long_message, "stop"},
    {"Can I cancel my appointment tomorrow at 3?", K::possible_opt_out, R::long_message, "cancel"},
    {"STOP STOP STOP", K::opt_out, R::phrase, "stop"},
    {"stop!!! 🛑🛑🛑", K::opt_out, R::exact, "stop"},
    {"Stopwatch", K::none, R::none, ""},
    {"Stopp", K::none, R::none, ""},
    {"S T O P", K::none, R::none, ""},
    {"non-stop", K::opt_out, R::phrase, "stop"},
    {"ＳＴＯＰ", K::opt_out, R::exact, "stop"},
    {"ｓｔｏｐ　ａｌｌ", K::opt_out, R::exact, "stop all", true},
    {"STOP\n", K::opt_out, R::exact, "stop"},
    {"  stop  ", K::opt_out, R::exact, "stop"},
    {"\"stop\"", K::opt_out, R::exact, "stop"},
    {"¡Stop!", K::opt_out, R::exact, "stop"},
    {"Stop😡😡", K::opt_out, R::exact, "stop"},
    {"END", K::opt_out, R::exact, "end"},
    {"end of the day", K::opt_out, R::phrase, "end"},
    {"The End", K::opt_out, R::phrase, "end"},
    {"Cancel my subscription", K::opt_out, R::phrase, "cancel"},
    {"Cancel.", K::opt_out, R::exact, "cancel"},
    {"QUIT", K::opt_out, R::exact, "quit"},
    {"QUIT!!!", K::opt_out, R::exact, "quit"},
    {"revoke", K::opt_out, R::exact, "revoke"},
    {"START", K::opt_in, R::exact, "start"},
    {"Start!", K::opt_in, R::exact, "start"},
    {"unstop", K::opt_in, R::exact, "unstop"},
    {"SUPPORT", K::opt_in, R::exact, "support", false, true},
    {"support", K::opt_in, R::exact, "support", false, true},
    {"Join now!", K::opt_in, R::exact, "join now", false, true},
    {"join now please", K::none, R::none, ""},
    {"OUI", K::opt_in, R::exact, "oui"},
    {"Sí", K::opt_in, R::exact, "si"},
    {"AIDE", K::help, R::exact, "aide"},
    {"ayuda", K::help, R::exact, "ayuda"},
    {"СТОП", K::opt_out, R::exact, "стоп"},
    {"Стоп", K::opt_out, R::exact, "стоп"},
    {"стоп пожалуйста", K::opt_out, R::phrase, "стоп"},
    {"ΣΤΑΜΑΤΑ", K::opt_out, R::exact, "σταματα"},
    {"σταμάτα", K::opt_out, R::exact, "σταματα"},
    {"Thanks!", K::none, R::none, ""},
    {"What time do you close?", K::none, R::none, ""},
    {"", K::none, R::none, ""},
    {"🛑", K::none, R::none, ""},
    {"\xFF\xFE", K::none, R::none, ""},
};

}  // namespace

TEST_CASE("real-world replies match exactly as specified") {
  const KeywordMatcher matcher(program_keywords());
  int rows = 0;
  for (const Row& row : kRows) {
    CAPTURE(row.mo);
    const KeywordMatch m = matcher.match(row.mo);
    CHECK(to_string(m.kind) == to_string(row.kind));
    CHECK(to_string(m.rule) == to_string(row.rule));
    CHECK(m.keyword == row.keyword);
    CHECK(m.is_stop_all == row.stop_all);
    CHECK(m.is_join == row.join);
    ++rows;
  }
  CHECK(rows >= 60);
}

TEST_CASE("program keywords do not leak into the defaults") {
  const KeywordMatcher defaults;
  CHECK(defaults.match("ARRET").kind == K::none);
  CHECK(defaults.match("SUPPORT").kind == K::none);
  CHECK(defaults.match("stop").kind == K::opt_out);
  CHECK(defaults.match("Stop all").is_stop_all);
}

TEST_CASE("with the phrase rule off, short phrases are only possible opt-outs") {
  ProgramKeywords p;
  p.phrase_opt_out = false;
  const KeywordMatcher matcher(p);
  CHECK(matcher.match("stop") == KeywordMatch{K::opt_out, R::exact, "stop", false, false});
  CHECK(matcher.match("please stop") ==
        KeywordMatch{K::possible_opt_out, R::phrase, "stop", false, false});
  CHECK(matcher.match("please stop all") ==
        KeywordMatch{K::possible_opt_out, R::phrase, "stop all", true, false});
  CHECK(matcher.match("you can stop sending me these now") ==
        KeywordMatch{K::possible_opt_out, R::long_message, "stop", false, false});
}

TEST_CASE("a keyword in several lists takes opt-out, then help, then opt-in") {
  ProgramKeywords p;
  p.opt_in = {"HELP", "STOP"};
  p.join = {"INFO", "QUIT"};
  p.opt_out = {"START"};
  const KeywordMatcher matcher(p);
  CHECK(matcher.match("help").kind == K::help);
  CHECK(matcher.match("stop").kind == K::opt_out);
  CHECK(matcher.match("info").kind == K::help);
  CHECK_FALSE(matcher.match("info").is_join);
  CHECK(matcher.match("quit").kind == K::opt_out);
  CHECK(matcher.match("start").kind == K::opt_out);
}

TEST_CASE("an exact program keyword wins over the phrase rule") {
  ProgramKeywords p;
  p.join = {"STOP SMOKING"};
  const KeywordMatcher matcher(p);
  CHECK(matcher.match("Stop smoking!") ==
        KeywordMatch{K::opt_in, R::exact, "stop smoking", false, true});
  CHECK(matcher.match("stop smoking now").kind == K::opt_out);
}

TEST_CASE("long multi-word opt-out keywords match exactly and inside long messages") {
  ProgramKeywords p;
  p.opt_out = {"please remove me from this list"};
  const KeywordMatcher matcher(p);
  CHECK(matcher.match("Please remove me from this list.") ==
        KeywordMatch{K::opt_out, R::exact, "please remove me from this list", false, false});
  CHECK(matcher.match("hi please remove me from this list thanks") ==
        KeywordMatch{K::possible_opt_out, R::long_message, "please remove me from this list", false,
                     false});
}

TEST_CASE("keywords without letters or digits are rejected") {
  CHECK(KeywordMatcher::check_keyword("🛑").has_value());
  CHECK(KeywordMatcher::check_keyword("  ...  ").has_value());
  CHECK_FALSE(KeywordMatcher::check_keyword("ARRÊT").has_value());
  ProgramKeywords p;
  p.opt_out = {"🛑", ""};
  const KeywordMatcher matcher(p);
  CHECK(matcher.match("🛑").kind == K::none);
}

TEST_CASE("labels") {
  CHECK(to_string(K::none) == "none");
  CHECK(to_string(K::opt_out) == "opt_out");
  CHECK(to_string(K::opt_in) == "opt_in");
  CHECK(to_string(K::help) == "help");
  CHECK(to_string(K::possible_opt_out) == "possible_opt_out");
  CHECK(to_string(R::none) == "none");
  CHECK(to_string(R::exact) == "exact");
  CHECK(to_string(R::phrase) == "phrase");
  CHECK(to_string(R::long_message) == "long_message");
}

TEST_CASE("matching a normalised text equals matching the raw text") {
  const KeywordMatcher matcher(program_keywords());
  for (const Row& row : kRows) {
    CHECK(matcher.match(normalize_text(row.mo)) == matcher.match(std::string_view(row.mo)));
  }
}
