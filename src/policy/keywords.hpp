#pragma once
// Keyword matching for MO texts (SPEC 5 and 8 "Phrase rule"). Free functions are pure and
// thread-safe; see KeywordMatcher for its own.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "policy/normalize.hpp"

namespace smppguard::policy {

enum class KeywordKind { none, opt_out, opt_in, help, possible_opt_out };
enum class MatchRule { none, exact, phrase, long_message };

/// "none", "opt_out", "opt_in", "help", "possible_opt_out" (the metric and audit labels).
std::string_view to_string(KeywordKind kind);
/// "none", "exact", "phrase", "long_message".
std::string_view to_string(MatchRule rule);

/// A program's additions to the default keywords, in any language and letter case; each is
/// normalised like an MO text. `join` keywords are opt-ins (e.g. "SUPPORT").
struct ProgramKeywords {
  std::vector<std::string> opt_out;
  std::vector<std::string> opt_in;
  std::vector<std::string> help;
  std::vector<std::string> join;
  /// The phrase rule: a message of at most 4 words containing an opt-out keyword opts out.
  bool phrase_opt_out = true;
};

/// What an MO text matched.
/// - exact: the words of the text are exactly a keyword's words (any kind).
/// - phrase: opt_out; at most kPhraseMaxWords words containing an opt-out keyword as consecutive
///   words. With the phrase rule off such a message is possible_opt_out with rule phrase.
/// - long_message: possible_opt_out; more words, containing an opt-out keyword. Not acted on.
struct KeywordMatch {
  KeywordKind kind = KeywordKind::none;
  MatchRule rule = MatchRule::none;
  /// The keyword that matched, in canonical (normalised) form: "stop", "stop all", "arret".
  std::string keyword;
  /// STOPALL / "STOP ALL": the opt-out applies to every program of the tenant.
  bool is_stop_all = false;
  /// The keyword is one of the program's join keywords (kind opt_in).
  bool is_join = false;

  bool operator==(const KeywordMatch&) const = default;
};

/// Matches normalised MO texts against the default keywords plus a program's own.
/// Precedence when one keyword is in several lists: opt-out, then help, then opt-in (never invent
/// consent). Built once per program at config load; immutable afterwards, so match() is
/// thread-safe. Matching is hash lookups over word n-grams.
class KeywordMatcher {
 public:
  static constexpr std::size_t kPhraseMaxWords = 4;

  explicit KeywordMatcher(const ProgramKeywords& program = {});

  KeywordMatch match(const NormalizedText& text) const;
  /// Normalises and matches.
  KeywordMatch match(std::string_view utf8) const;

  /// Why a configured keyword cannot be used (it has no letters or digits), or nullopt when it is
  /// fine. Such keywords are skipped by the constructor; config validation should report them.
  static std::optional<std::string> check_keyword(std::string_view keyword);

 private:
  struct Entry {
    KeywordKind kind;
    bool is_stop_all;
    bool is_join;
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  void add(std::string_view keyword, KeywordKind kind, bool is_stop_all, bool is_join);
  const Entry* find(std::string_view key) const;

  std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> keywords_;
  std::size_t max_opt_out_words_ = 1;
  bool phrase_opt_out_ = true;
};

}  // namespace smppguard::policy
