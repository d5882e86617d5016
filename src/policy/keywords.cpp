#include "policy/keywords.hpp"

#include <algorithm>
#include <array>

namespace smppguard::policy {
namespace {

struct DefaultKeyword {
  std::string_view text;
  KeywordKind kind;
  bool is_stop_all;
};

// SPEC 5. The FCC's per-se revocation words are all in the opt-out set.
constexpr std::array kDefaults = {
    DefaultKeyword{"STOP", KeywordKind::opt_out, false},
    DefaultKeyword{"STOPALL", KeywordKind::opt_out, true},
    DefaultKeyword{"STOP ALL", KeywordKind::opt_out, true},
    DefaultKeyword{"UNSUBSCRIBE", KeywordKind::opt_out, false},
    DefaultKeyword{"CANCEL", KeywordKind::opt_out, false},
    DefaultKeyword{"END", KeywordKind::opt_out, false},
    DefaultKeyword{"QUIT", KeywordKind::opt_out, false},
    DefaultKeyword{"REVOKE", KeywordKind::opt_out, false},
    DefaultKeyword{"OPTOUT", KeywordKind::opt_out, false},
    DefaultKeyword{"OPT OUT", KeywordKind::opt_out, false},
    DefaultKeyword{"START", KeywordKind::opt_in, false},
    DefaultKeyword{"YES", KeywordKind::opt_in, false},
    DefaultKeyword{"UNSTOP", KeywordKind::opt_in, false},
    DefaultKeyword{"HELP", KeywordKind::help, false},
    DefaultKeyword{"INFO", KeywordKind::help, false},
};

int precedence(KeywordKind kind) {
  switch (kind) {
    case KeywordKind::opt_out:
      return 3;
    case KeywordKind::help:
      return 2;
    case KeywordKind::opt_in:
      return 1;
    default:
      return 0;
  }
}

}  // namespace

std::string_view to_string(KeywordKind kind) {
  switch (kind) {
    case KeywordKind::opt_out:
      return "opt_out";
    case KeywordKind::opt_in:
      return "opt_in";
    case KeywordKind::help:
      return "help";
    case KeywordKind::possible_opt_out:
      return "possible_opt_out";
    case KeywordKind::none:
      break;
  }
  return "none";
}

std::string_view to_string(MatchRule rule) {
  switch (rule) {
    case MatchRule::exact:
      return "exact";
    case MatchRule::phrase:
      return "phrase";
    case MatchRule::long_message:
      return "long_message";
    case MatchRule::none:
      break;
  }
  return "none";
}

KeywordMatcher::KeywordMatcher(const ProgramKeywords& program)
    : phrase_opt_out_(program.phrase_opt_out) {
  for (const auto& d : kDefaults) add(d.text, d.kind, d.is_stop_all, false);
  for (const auto& k : program.opt_out) add(k, KeywordKind::opt_out, false, false);
  for (const auto& k : program.help) add(k, KeywordKind::help, false, false);
  for (const auto& k : program.opt_in) add(k, KeywordKind::opt_in, false, false);
  for (const auto& k : program.join) add(k, KeywordKind::opt_in, false, true);
}

void KeywordMatcher::add(std::string_view keyword, KeywordKind kind, bool is_stop_all,
                         bool is_join) {
  const NormalizedText norm = normalize_text(keyword);
  if (norm.words.empty()) return;
  const std::string key = norm.joined_words();
  if (kind == KeywordKind::opt_out) {
    max_opt_out_words_ = std::max(max_opt_out_words_, norm.words.size());
  }
  const auto [it, inserted] = keywords_.try_emplace(key, Entry{kind, is_stop_all, is_join});
  if (!inserted && precedence(kind) > precedence(it->second.kind)) {
    it->second = Entry{kind, is_stop_all, is_join};
  }
}

const KeywordMatcher::Entry* KeywordMatcher::find(std::string_view key) const {
  const auto it = keywords_.find(key);
  return it == keywords_.end() ? nullptr : &it->second;
}

KeywordMatch KeywordMatcher::match(std::string_view utf8) const {
  return match(normalize_text(utf8));
}

KeywordMatch KeywordMatcher::match(const NormalizedText& text) const {
  KeywordMatch result;
  const auto& words = text.words;
  if (words.empty()) return result;

  // Offsets of each word inside the joined form, so every n-gram is a substring view.
  std::string joined;
  std::vector<std::size_t> begin(words.size());
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) joined.push_back(' ');
    begin[i] = joined.size();
    joined += words[i];
  }
  const auto ngram = [&](std::size_t i, std::size_t n) {
    const std::size_t end = begin[i + n - 1] + words[i + n - 1].size();
    return std::string_view(joined).substr(begin[i], end - begin[i]);
  };

  if (const Entry* e = find(joined)) {
    result.kind = e->kind;
    result.rule = MatchRule::exact;
    result.keyword = joined;
    result.is_stop_all = e->is_stop_all;
    result.is_join = e->is_join;
    return result;
  }

  // The longest opt-out keyword found anywhere, the earliest among equals ("stop all" over "stop").
  for (std::size_t n = std::min(max_opt_out_words_, words.size()); n >= 1; --n) {
    for (std::size_t i = 0; i + n <= words.size(); ++i) {
      const std::string_view key = ngram(i, n);
      const Entry* e = find(key);
      if (e == nullptr || e->kind != KeywordKind::opt_out) continue;
      result.keyword = std::string(key);
      result.is_stop_all = e->is_stop_all;
      if (words.size() <= kPhraseMaxWords) {
        result.kind = phrase_opt_out_ ? KeywordKind::opt_out : KeywordKind::possible_opt_out;
        result.rule = MatchRule::phrase;
      } else {
        result.kind = KeywordKind::possible_opt_out;
        result.rule = MatchRule::long_message;
      }
      return result;
    }
  }
  return result;
}

std::optional<std::string> KeywordMatcher::check_keyword(std::string_view keyword) {
  if (normalize_text(keyword).words.empty()) {
    return "keyword \"" + std::string(keyword) + "\" has no letters or digits";
  }
  return std::nullopt;
}

}  // namespace smppguard::policy
