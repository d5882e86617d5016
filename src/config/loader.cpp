// The YAML loader: parsing, ${ENV} substitution and every validation of the config, in one pass
// that collects all findings instead of stopping at the first. The only yaml-cpp user.
//
// Flow: text -> YAML::LoadAll (syntax errors end here) -> one reader per section, each walking
// its map with MapReader (unknown and duplicate keys, missing required keys) and converting
// scalars with the typed readers (each reports its own error with file, line and key path) ->
// cross-section checks done as sections are read, in dependency order (upstreams before routes,
// accounts before programs) -> errors sorted by line and thrown together.
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <smppguard/proto/status.hpp>
#include <sstream>

#include "common/time.hpp"
#include "config/config.hpp"

namespace smppguard::config {
namespace {

using std::chrono::milliseconds;

constexpr std::size_t kSystemIdMax = 15;    // SMPP system_id C-Octet String (16 with NUL)
constexpr std::size_t kPasswordMax = 8;     // SMPP password (9 with NUL)
constexpr std::size_t kSystemTypeMax = 12;  // SMPP system_type (13 with NUL)
constexpr std::size_t kServiceTypeMax = 5;  // SMPP service_type (6 with NUL)
constexpr std::size_t kNodeIdMax = 16;

// A value in the document together with where it is and what it is called.
struct Field {
  YAML::Node node;
  std::string path;  // "programs[0].quiet_hours.start"
  int line = 1;      // 1-based
};

int line_of(const YAML::Mark& mark) { return mark.is_null() ? 1 : mark.line + 1; }

// Scalars are reported at their own line; maps, lists and nulls at their key's line (a block
// value's own mark is the line after its key, a null's is the next token's).
int value_line(const YAML::Node& value, int key_line) {
  return value.IsScalar() ? line_of(value.Mark()) : key_line;
}

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "\"" + n.Scalar() + "\"";
    default:
      return "nothing";
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// " (did you mean "x"?)" for the closest candidate within a third of the word's length.
template <typename Range>
std::string suggest(std::string_view word, const Range& candidates) {
  const std::string w = lower(word);
  std::string best;
  std::size_t best_d = std::max<std::size_t>(1, w.size() / 3) + 1;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(w, lower(c));
    if (d < best_d) {
      best_d = d;
      best = std::string(c);
    }
  }
  return best.empty() ? std::string() : " (did you mean \"" + best + "\"?)";
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

template <typename E>
constexpr std::size_t kEnumCount = 0;
template <>
constexpr std::size_t kEnumCount<Category> = 3;
template <>
constexpr std::size_t kEnumCount<OptInMode> = 3;
template <>
constexpr std::size_t kEnumCount<RefuseWith> = 2;
template <>
constexpr std::size_t kEnumCount<BindMode> = 2;
template <>
constexpr std::size_t kEnumCount<MessageIdFormat> = 3;
template <>
constexpr std::size_t kEnumCount<StopScope> = 2;
template <>
constexpr std::size_t kEnumCount<QuietAction> = 2;

template <typename E>
std::vector<std::string_view> enum_names() {
  std::vector<std::string_view> out;
  for (std::size_t i = 0; i < kEnumCount<E>; ++i) out.push_back(to_string(static_cast<E>(i)));
  return out;
}

// "a, b or c"
std::string one_of(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

// Upper case, single spaces, trimmed: how keywords are compared with one another.
std::string keyword_key(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return out;
}

std::string zoneinfo_dir() {
  const char* dir = std::getenv("TZDIR");
  return dir && *dir ? dir : "/usr/share/zoneinfo";
}

// Collects diagnostics and converts scalars. Every read_* reports its own errors and leaves
// `out` untouched on failure.
class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  void error(int line, std::string key, std::string message) {
    result_.errors.push_back({file_, line, std::move(key), std::move(message), Severity::error});
  }
  void warning(int line, std::string key, std::string message) {
    result_.warnings.push_back(
        {file_, line, std::move(key), std::move(message), Severity::warning});
  }
  std::size_t error_count() const { return result_.errors.size(); }

  CheckResult take() {
    auto by_line = [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; };
    std::stable_sort(result_.errors.begin(), result_.errors.end(), by_line);
    std::stable_sort(result_.warnings.begin(), result_.warnings.end(), by_line);
    return std::move(result_);
  }

  // The scalar text with ${NAME} replaced from the environment; nullopt when not a scalar or a
  // variable is unset. `expected` names the wanted type in the error.
  std::optional<std::string> scalar(const Field& f, std::string_view expected = "a string") {
    if (!f.node.IsScalar()) {
      error(f.line, f.path, "expected " + std::string(expected) + ", got " + describe(f.node));
      return std::nullopt;
    }
    return substitute(f, f.node.Scalar());
  }

  void read(const Field& f, std::string& out) {
    if (auto s = scalar(f)) out = std::move(*s);
  }

  void read(const Field& f, bool& out) {
    const auto s = scalar(f, "true or false");
    if (!s) return;
    const std::string v = lower(*s);
    if (v == "true" || v == "yes" || v == "on") {
      out = true;
    } else if (v == "false" || v == "no" || v == "off") {
      out = false;
    } else {
      error(f.line, f.path, "expected true or false, got " + quoted(*s));
    }
  }

  void read(const Field& f, std::uint32_t& out, std::uint32_t min, std::uint32_t max) {
    const auto s = scalar(f, "a whole number");
    if (!s) return;
    const std::string range = " from " + std::to_string(min) + " to " + std::to_string(max);
    if (!all_digits(*s) || s->size() > 10) {
      error(f.line, f.path, "expected a whole number" + range + ", got " + quoted(*s));
      return;
    }
    const auto v = std::stoull(*s);
    if (v < min || v > max) {
      error(f.line, f.path, "must be" + range + ", got " + *s);
      return;
    }
    out = static_cast<std::uint32_t>(v);
  }

  // A duration with a unit; `positive` rejects 0.
  void read(const Field& f, milliseconds& out, bool positive) {
    const auto s = scalar(f, "a duration");
    if (!s) return;
    const std::size_t digits = s->find_first_not_of("0123456789");
    std::optional<milliseconds> d;
    if (digits != std::string::npos && digits <= 9) d = parse_duration(*s);
    if (!d) {
      error(f.line, f.path,
            "bad duration " + quoted(*s) + ": use a number and a unit: 500ms, 30s, 5m, 24h, 7d");
      return;
    }
    if (positive && d->count() == 0) {
      error(f.line, f.path, "must be greater than 0");
      return;
    }
    out = *d;
  }

  template <typename E>
  void read_enum(const Field& f, E& out) {
    const auto s = scalar(f);
    if (!s) return;
    if (auto v = parse_enum<E>(*s)) {
      out = *v;
      return;
    }
    const auto names = enum_names<E>();
    error(f.line, f.path,
          "bad value " + quoted(*s) + ": expected " + one_of(names) + suggest(*s, names));
  }

  // An SMPP command_status: hex "0x00000400" or decimal "1024".
  void read_status(const Field& f, std::uint32_t& out) {
    const auto s = scalar(f, "a command_status");
    if (!s) return;
    std::uint64_t v = 0;
    bool ok = false;
    if (s->size() > 2 && (*s)[0] == '0' && ((*s)[1] == 'x' || (*s)[1] == 'X')) {
      const std::string hex = s->substr(2);
      ok = hex.size() <= 8 && hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
      if (ok) v = std::stoull(hex, nullptr, 16);
    } else if (all_digits(*s) && s->size() <= 10) {
      v = std::stoull(*s);
      ok = v <= 0xFFFFFFFFULL;
    }
    if (!ok) {
      error(f.line, f.path,
            "bad status " + quoted(*s) + ": expected hex (0x00000400) or decimal (1024), 32 bits");
      return;
    }
    out = static_cast<std::uint32_t>(v);
  }

  // A non-empty SMPP C-Octet String of printable ASCII; secrets are never echoed.
  void read_smpp_string(const Field& f, std::string& out, std::size_t max, bool allow_empty,
                        bool secret) {
    auto s = scalar(f);
    if (!s) return;
    if (s->empty() && !allow_empty) {
      error(f.line, f.path, "must not be empty");
      return;
    }
    if (s->size() > max) {
      error(f.line, f.path,
            (secret ? std::string("is ") : quoted(*s) + " is ") + std::to_string(s->size()) +
                " characters; SMPP allows at most " + std::to_string(max));
      return;
    }
    if (!std::all_of(s->begin(), s->end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
      error(f.line, f.path, "must be printable ASCII (an SMPP C-Octet String)");
      return;
    }
    out = std::move(*s);
  }

  void read_nonempty(const Field& f, std::string& out) {
    auto s = scalar(f);
    if (!s) return;
    if (s->empty()) {
      error(f.line, f.path, "must not be empty");
      return;
    }
    out = std::move(*s);
  }

  // A list: calls fn(item) for each entry, with its path and line.
  template <typename Fn>
  bool each(const Field& f, Fn&& fn) {
    if (!f.node.IsSequence()) {
      error(f.line, f.path, "expected a list, got " + describe(f.node));
      return false;
    }
    std::size_t i = 0;
    for (const auto& item : f.node) {
      const int line = item.IsNull() ? f.line : line_of(item.Mark());
      fn(Field{item, f.path + "[" + std::to_string(i) + "]", line}, i);
      ++i;
    }
    return true;
  }

 private:
  std::optional<std::string> substitute(const Field& f, const std::string& in) {
    if (in.find('$') == std::string::npos) return in;
    std::string out;
    bool ok = true;
    for (std::size_t i = 0; i < in.size();) {
      if (in.compare(i, 3, "$${") == 0) {
        out += "${";
        i += 3;
        continue;
      }
      if (in.compare(i, 2, "${") != 0) {
        out += in[i++];
        continue;
      }
      const std::size_t close = in.find('}', i + 2);
      if (close == std::string::npos) {
        error(f.line, f.path, "unterminated ${ (write $${ for a literal ${)");
        return std::nullopt;
      }
      const std::string name = in.substr(i + 2, close - i - 2);
      const bool valid =
          !name.empty() && !(name[0] >= '0' && name[0] <= '9') &&
          std::all_of(name.begin(), name.end(), [](char c) { return is_name_char(c) && c != '-'; });
      if (!valid) {
        error(f.line, f.path, "bad environment variable name " + quoted(name));
        ok = false;
      } else if (const char* value = std::getenv(name.c_str())) {
        out += value;
      } else {
        error(f.line, f.path, "environment variable " + name + " is not set");
        ok = false;
      }
      i = close + 1;
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::string file_;
  CheckResult result_;
};

// The entries of one YAML map: reports non-map values, non-string, duplicate and unknown keys
// on construction, missing required keys on require().
class MapReader {
 public:
  // `known` lists the accepted keys; an empty list with any_key accepts every key.
  MapReader(Loader& ld, const Field& f, std::initializer_list<std::string_view> known,
            bool any_key = false)
      : ld_(ld), path_(f.path), line_(f.line) {
    if (f.node.IsNull() && f.path.empty()) return;  // an empty document: report missing keys
    if (!f.node.IsMap()) {
      ld.error(f.line, f.path, "expected a map (key: value), got " + describe(f.node));
      valid_ = false;
      return;
    }
    std::set<std::string, std::less<>> seen;
    for (auto it = f.node.begin(); it != f.node.end(); ++it) {
      const int key_line = line_of(it->first.Mark());
      if (!it->first.IsScalar()) {
        ld.error(key_line, path_, "keys must be plain names, got " + describe(it->first));
        continue;
      }
      const std::string key = it->first.Scalar();
      const std::string path = path_.empty() ? key : path_ + "." + key;
      if (!any_key && std::find(known.begin(), known.end(), key) == known.end()) {
        ld.error(key_line, path,
                 key == "<<" ? "YAML merge keys are not supported; repeat the keys"
                             : "unknown key" + suggest(key, known));
        continue;
      }
      if (!seen.insert(key).second) {
        ld.error(key_line, path, "duplicate key");
        continue;
      }
      entries_.emplace_back(key, Field{it->second, path, value_line(it->second, key_line)});
    }
  }

  bool valid() const { return valid_; }
  const std::string& path() const { return path_; }
  int line() const { return line_; }
  const std::vector<std::pair<std::string, Field>>& entries() const { return entries_; }

  std::optional<Field> get(std::string_view key) const {
    for (const auto& [k, f] : entries_) {
      if (k == key) return f;
    }
    return std::nullopt;
  }

  std::optional<Field> require(std::string_view key) const {
    auto f = get(key);
    if (!f && valid_) ld_.error(line_, child(key), "missing required key");
    return f;
  }

  std::string child(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

 private:
  Loader& ld_;
  std::string path_;
  int line_;
  bool valid_ = true;
  std::vector<std::pair<std::string, Field>> entries_;
};

// Reads the whole document into a Config.
class ConfigReader {
 public:
  explicit ConfigReader(Loader& ld) : ld_(ld) {}

  void read(const Field& root, Config& c) {
    MapReader m(ld_, root,
                {"node_id", "store", "cluster", "listen", "admin", "log", "accounts", "upstreams",
                 "routes", "defaults", "programs"});
    if (!m.valid()) return;
    if (auto f = m.require("node_id")) read_node_id(*f, c.node_id);
    if (auto f = m.require("store")) read_store(*f, c.store);
    if (auto f = m.get("cluster")) read_cluster(*f, c.cluster.emplace());
    if (auto f = m.require("listen")) read_listen(*f, c.listen);
    if (auto f = m.get("admin")) read_admin(*f, c.admin);
    if (auto f = m.get("log")) read_log(*f, c.log);
    if (auto f = m.require("accounts")) {
      read_list(*f, c.accounts, "account",
                [&](const Field& item, Account& a, std::size_t i) { read_account(item, a, i); });
    }
    if (auto f = m.require("upstreams")) {
      read_list(*f, c.upstreams, "upstream",
                [&](const Field& item, Upstream& u, std::size_t i) { read_upstream(item, u, i); });
    }
    if (auto f = m.require("routes")) {
      read_list(*f, c.routes, "route",
                [&](const Field& item, Route& r, std::size_t i) { read_route(item, r, i, c); });
    }
    if (auto f = m.get("defaults")) read_defaults(*f, c.defaults);
    if (auto f = m.require("programs")) {
      read_list(*f, c.programs, "program",
                [&](const Field& item, Program& p, std::size_t i) { read_program(item, p, i, c); });
    }
  }

 private:
  template <typename T, typename Fn>
  void read_list(const Field& f, std::vector<T>& out, std::string_view what, Fn&& fn) {
    const bool is_list = ld_.each(f, [&](const Field& item, std::size_t i) {
      out.emplace_back();
      fn(item, out.back(), i);
    });
    if (is_list && out.empty()) {
      ld_.error(f.line, f.path, "at least one " + std::string(what) + " is required");
    }
  }

  void read_node_id(const Field& f, std::string& out) {
    const auto s = ld_.scalar(f);
    if (!s) return;
    if (s->empty() || s->size() > kNodeIdMax || !std::all_of(s->begin(), s->end(), is_name_char)) {
      ld_.error(f.line, f.path, "must be 1 to 16 characters of A-Z a-z 0-9 _ -, got " + quoted(*s));
      return;
    }
    out = *s;
  }

  void read_store(const Field& f, StoreConfig& s) {
    MapReader m(ld_, f, {"path", "sync", "message_map_ttl", "min_free_mb"});
    if (auto v = m.require("path")) {
      ld_.read_nonempty(*v, s.path);
      if (!s.path.empty() && s.path.front() != '/') {
        ld_.warning(v->line, v->path,
                    "relative path: it is resolved against the daemon's working directory");
      }
    }
    if (auto v = m.get("sync")) ld_.read(*v, s.sync);
    if (auto v = m.get("message_map_ttl")) ld_.read(*v, s.message_map_ttl, true);
    if (auto v = m.get("min_free_mb")) ld_.read(*v, s.min_free_mb, 0, 1u << 20);
  }

  void read_cluster(const Field& f, ClusterConfig& c) {
    MapReader m(ld_, f, {"postgres", "schema", "max_lag"});
    if (auto v = m.require("postgres")) ld_.read_nonempty(*v, c.postgres);
    if (auto v = m.get("schema")) {
      const auto s = ld_.scalar(*v);
      if (s && is_plain_identifier(*s)) {
        c.schema = *s;
      } else if (s) {
        ld_.error(v->line, v->path,
                  "must be 1 to 63 characters of a-z 0-9 _ (not starting with a digit), got " +
                      quoted(*s));
      }
    }
    if (auto v = m.get("max_lag")) ld_.read(*v, c.max_lag, true);
  }

  void read_address(const Field& f, HostPort& out) {
    const auto s = ld_.scalar(f, "host:port");
    if (!s) return;
    std::string why;
    if (auto hp = HostPort::parse(*s, &why)) {
      out = *hp;
    } else {
      ld_.error(f.line, f.path, "bad address " + quoted(*s) + ": " + why);
    }
  }

  void read_listen(const Field& f, ListenConfig& l) {
    MapReader m(ld_, f, {"smpp", "http", "bind_timeout", "max_pdu_size"});
    const auto smpp = m.require("smpp");
    if (smpp) read_address(*smpp, l.smpp);
    if (auto v = m.require("http")) {
      read_address(*v, l.http);
      if (smpp && l.http.port != 0 && l.http == l.smpp) {
        ld_.error(v->line, v->path, "same address as listen.smpp");
      }
    }
    if (auto v = m.get("bind_timeout")) ld_.read(*v, l.bind_timeout, true);
    if (auto v = m.get("max_pdu_size")) ld_.read(*v, l.max_pdu_size, 512, 16 * 1024 * 1024);
  }

  void read_admin(const Field& f, AdminConfig& a) {
    MapReader m(ld_, f, {"tokens"});
    const auto tokens = m.get("tokens");
    if (!tokens) return;
    std::map<std::string, std::size_t, std::less<>> names;
    std::map<std::string, std::size_t, std::less<>> secrets;
    ld_.each(*tokens, [&](const Field& item, std::size_t i) {
      AdminToken& t = a.tokens.emplace_back();
      MapReader tm(ld_, item, {"name", "token"});
      if (auto v = tm.require("name")) {
        ld_.read_nonempty(*v, t.name);
        if (!t.name.empty()) {
          const auto [it, fresh] = names.emplace(t.name, i);
          if (!fresh) {
            ld_.error(v->line, v->path,
                      "duplicate token name " + quoted(t.name) + " (also admin.tokens[" +
                          std::to_string(it->second) + "])");
          }
        }
      }
      if (auto v = tm.require("token")) {
        ld_.read_nonempty(*v, t.token);
        const bool b64token = std::all_of(t.token.begin(), t.token.end(), [](char c) {
          return is_name_char(c) || c == '.' || c == '~' || c == '+' || c == '/' || c == '=';
        });
        if (!b64token) {
          ld_.error(v->line, v->path,
                    "a bearer token may contain only A-Z a-z 0-9 - . _ ~ + / = (RFC 6750)");
        } else if (!t.token.empty()) {
          const auto [it, fresh] = secrets.emplace(t.token, i);
          if (!fresh) {
            ld_.error(v->line, v->path,
                      "same token as admin.tokens[" + std::to_string(it->second) +
                          "]: the audit log could not tell them apart");
          }
        }
      }
    });
  }

  void read_log(const Field& f, LogConfig& l) {
    MapReader m(ld_, f, {"level"});
    if (auto v = m.get("level")) {
      const auto s = ld_.scalar(*v);
      if (s && !::smppguard::log::parse_level(*s, l.level)) {
        const std::vector<std::string_view> names = {"debug", "info", "warn", "error", "off"};
        ld_.error(v->line, v->path,
                  "bad value " + quoted(*s) + ": expected " + one_of(names) + suggest(*s, names));
      }
    }
  }

  void read_account(const Field& f, Account& a, std::size_t i) {
    MapReader m(ld_, f,
                {"system_id", "password", "tenant", "allowed_ips", "max_binds", "throughput",
                 "default_category", "window", "refuse_with"});
    if (!m.valid()) return;
    if (auto v = m.require("system_id")) {
      ld_.read_smpp_string(*v, a.system_id, kSystemIdMax, false, false);
      if (!a.system_id.empty()) {
        const auto [it, fresh] = system_ids_.emplace(a.system_id, i);
        if (!fresh) {
          ld_.error(v->line, v->path,
                    "duplicate system_id " + quoted(a.system_id) + " (also accounts[" +
                        std::to_string(it->second) + "])");
        }
      }
    }
    if (auto v = m.require("password"))
      ld_.read_smpp_string(*v, a.password, kPasswordMax, false, true);
    if (auto v = m.require("tenant")) ld_.read_nonempty(*v, a.tenant);
    if (auto v = m.get("allowed_ips")) {
      ld_.each(*v, [&](const Field& item, std::size_t) {
        const auto s = ld_.scalar(item, "a CIDR");
        if (!s) return;
        std::string why;
        if (auto cidr = Cidr::parse(*s, &why)) {
          a.allowed_ips.push_back(std::move(*cidr));
        } else {
          ld_.error(item.line, item.path, "bad CIDR " + quoted(*s) + ": " + why);
        }
      });
    }
    if (auto v = m.get("max_binds")) ld_.read(*v, a.max_binds, 1, 1000);
    if (auto v = m.get("throughput")) ld_.read(*v, a.throughput, 0, 1'000'000);
    if (auto v = m.get("default_category")) ld_.read_enum(*v, a.default_category);
    if (auto v = m.get("window")) ld_.read(*v, a.window, 1, 10'000);
    if (auto v = m.get("refuse_with")) ld_.read_enum(*v, a.refuse_with);
  }

  void read_upstream(const Field& f, Upstream& u, std::size_t i) {
    MapReader m(ld_, f,
                {"name", "host", "port", "system_id", "password", "system_type", "bind", "sessions",
                 "window", "throughput", "enquire_link", "response_timeout", "reconnect",
                 "message_id_format"});
    if (!m.valid()) return;
    if (auto v = m.require("name")) {
      ld_.read_nonempty(*v, u.name);
      if (!u.name.empty()) {
        const auto [it, fresh] = upstream_names_.emplace(u.name, i);
        if (!fresh) {
          ld_.error(v->line, v->path,
                    "duplicate upstream name " + quoted(u.name) + " (also upstreams[" +
                        std::to_string(it->second) + "])");
        }
      }
    }
    if (auto v = m.require("host")) {
      ld_.read_nonempty(*v, u.host);
      if (u.host.find_first_of(" \t/[]") != std::string::npos) {
        ld_.error(v->line, v->path, "bad host " + quoted(u.host) + " (no brackets or port here)");
      }
    }
    if (auto v = m.require("port")) {
      std::uint32_t port = 0;
      ld_.read(*v, port, 1, 65535);
      u.port = static_cast<std::uint16_t>(port);
    }
    if (auto v = m.require("system_id")) {
      ld_.read_smpp_string(*v, u.system_id, kSystemIdMax, false, false);
    }
    if (auto v = m.get("password")) ld_.read_smpp_string(*v, u.password, kPasswordMax, true, true);
    if (auto v = m.get("system_type")) {
      ld_.read_smpp_string(*v, u.system_type, kSystemTypeMax, true, false);
    }
    if (auto v = m.get("bind")) ld_.read_enum(*v, u.bind);
    if (auto v = m.get("sessions")) ld_.read(*v, u.sessions, 1, 64);
    if (auto v = m.get("window")) ld_.read(*v, u.window, 1, 10'000);
    if (auto v = m.get("throughput")) ld_.read(*v, u.throughput, 0, 1'000'000);
    if (auto v = m.get("enquire_link")) ld_.read(*v, u.enquire_link, true);
    if (auto v = m.get("response_timeout")) ld_.read(*v, u.response_timeout, true);
    if (auto v = m.get("reconnect")) {
      MapReader rm(ld_, *v, {"min", "max"});
      const auto min = rm.get("min");
      const auto max = rm.get("max");
      if (min) ld_.read(*min, u.reconnect.min, true);
      if (max) ld_.read(*max, u.reconnect.max, true);
      if (u.reconnect.min > u.reconnect.max) {
        ld_.error(max ? max->line : v->line, rm.child("max"),
                  "must not be less than min (" + format_duration(u.reconnect.min) + ")");
      }
    }
    if (auto v = m.get("message_id_format")) ld_.read_enum(*v, u.message_id_format);
  }

  void read_route(const Field& f, Route& r, std::size_t i, const Config& c) {
    MapReader m(ld_, f, {"prefix", "upstream"});
    route_prefixes_.emplace_back();
    route_prefix_ok_.push_back(false);
    if (!m.valid()) return;
    if (auto v = m.require("prefix")) {
      const auto s = ld_.scalar(*v, "a prefix");
      if (s) {
        const bool ok = s->empty() || ((*s)[0] == '+' && s->size() <= 16 &&
                                       (s->size() == 1 || all_digits(s->substr(1))));
        if (!ok) {
          ld_.error(v->line, v->path,
                    "bad prefix " + quoted(*s) +
                        ": expected \"\" (every destination) or + and up to 15 digits");
        } else {
          r.prefix = *s;
          route_prefixes_[i] = *s;
          route_prefix_ok_[i] = true;
          for (std::size_t j = 0; j < i; ++j) {
            const std::string& earlier = route_prefixes_[j];
            if (route_prefix_ok_[j] && r.prefix.starts_with(earlier)) {
              ld_.error(v->line, v->path,
                        "this route never matches: routes[" + std::to_string(j) + "] (prefix " +
                            quoted(earlier) + ") comes first and takes all its destinations");
              break;
            }
          }
        }
      }
    }
    if (auto v = m.require("upstream")) {
      const auto s = ld_.scalar(*v);
      if (s) {
        r.upstream = *s;
        if (!upstream_names_.contains(*s)) {
          std::vector<std::string> names;
          for (const auto& u : c.upstreams) names.push_back(u.name);
          std::string hint = suggest(*s, names);
          if (hint.empty() && !names.empty()) {
            hint = " (defined: ";
            for (std::size_t k = 0; k < names.size(); ++k) hint += (k ? ", " : "") + names[k];
            hint += ")";
          }
          ld_.error(v->line, v->path, "unknown upstream " + quoted(*s) + hint);
        }
      }
    }
  }

  void read_statuses(const Field& f, Statuses& s) {
    MapReader m(ld_, f,
                {"opted_out", "no_consent", "quiet_hours", "consent_level", "frequency_cap",
                 "store_unavailable"});
    const std::pair<std::string_view, std::uint32_t*> fields[] = {
        {"opted_out", &s.opted_out},         {"no_consent", &s.no_consent},
        {"quiet_hours", &s.quiet_hours},     {"consent_level", &s.consent_level},
        {"frequency_cap", &s.frequency_cap}, {"store_unavailable", &s.store_unavailable}};
    for (const auto& [key, out] : fields) {
      const auto v = m.get(key);
      if (!v) continue;
      std::uint32_t status = *out;
      const std::size_t before = error_count();
      ld_.read_status(*v, status);
      if (error_count() != before) continue;
      if (status == 0) {
        ld_.error(v->line, v->path, "0 is ESME_ROK: the refused message would look accepted");
        continue;
      }
      // store_unavailable may be retryable on purpose: the refusal is temporary.
      if (key != "store_unavailable") {
        if (const auto name = retryable_name(status)) {
          ld_.error(v->line, v->path,
                    *name + " is a retryable status: senders would retry a refused message");
          continue;
        }
      }
      *out = status;
    }
  }

  // "0x00000008 (ESME_RSYSERR)" for a status senders retry (proto::is_temporary_status).
  static std::optional<std::string> retryable_name(std::uint32_t status) {
    if (!proto::is_temporary_status(status)) return std::nullopt;
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08X", status);
    return std::string(hex) + " (" + std::string(proto::status_name(status)) + ")";
  }

  std::size_t error_count() const { return ld_.error_count(); }

  void read_defaults(const Field& f, Defaults& d) {
    MapReader m(ld_, f, {"default_country", "category_by_service_type", "statuses"});
    if (auto v = m.get("default_country")) {
      const auto s = ld_.scalar(*v);
      if (s) {
        const bool ok = s->size() == 2 && std::all_of(s->begin(), s->end(), [](char c) {
                          return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
                        });
        if (ok) {
          d.default_country = keyword_key(*s);
        } else {
          ld_.error(v->line, v->path,
                    "expected an ISO 3166 two-letter country code (US, GB, DE), got " + quoted(*s));
        }
      }
    }
    if (auto v = m.get("category_by_service_type")) {
      MapReader cm(ld_, *v, {}, true);
      if (cm.valid()) {
        d.category_by_service_type.clear();
        for (const auto& [key, field] : cm.entries()) {
          if (key.empty() || key.size() > kServiceTypeMax) {
            ld_.error(field.line, field.path,
                      "a service_type is 1 to 5 characters (SMPP field limit)");
            continue;
          }
          Category cat = Category::informational;
          const std::size_t before = error_count();
          ld_.read_enum(field, cat);
          if (error_count() == before) d.category_by_service_type[key] = cat;
        }
      }
    }
    if (auto v = m.get("statuses")) read_statuses(*v, d.statuses);
  }

  void read_number(const Field& f, Program& p, std::size_t i) {
    const auto s = ld_.scalar(f, "a number");
    if (!s) return;
    if (!is_e164(*s) && !is_short_code(*s)) {
      ld_.error(f.line, f.path,
                quoted(*s) +
                    " is neither E.164 (+[1-9][0-9]{6,14}, with the +) nor a short code (3 to 8 "
                    "digits)");
      return;
    }
    const auto [it, fresh] = numbers_.emplace(*s, i);
    if (!fresh) {
      ld_.error(f.line, f.path,
                it->second == i
                    ? "number " + quoted(*s) + " is listed twice"
                    : "number " + quoted(*s) + " already belongs to programs[" +
                          std::to_string(it->second) + "] (" + program_ids_[it->second] +
                          "); each number belongs to one program");
      return;
    }
    p.numbers.push_back(*s);
  }

  void read_timezone(const Field& f, std::string& out) {
    const auto s = ld_.scalar(f, "a time zone");
    if (!s) return;
    const bool safe_name = !s->empty() && s->front() != '/' && s->find("..") == std::string::npos &&
                           std::all_of(s->begin(), s->end(), [](char c) {
                             return is_name_char(c) || c == '/' || c == '+' || c == '.';
                           });
    const std::string file = zoneinfo_dir() + "/" + *s;
    struct stat st {};
    if (!safe_name || ::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      ld_.error(f.line, f.path,
                "unknown time zone " + quoted(*s) + " (no file " + file +
                    "; use an IANA name like America/New_York)");
      return;
    }
    out = *s;
  }

  void read_time_of_day(const Field& f, std::chrono::minutes& out) {
    const auto s = ld_.scalar(f, "a time HH:MM");
    if (!s) return;
    const auto colon = s->find(':');
    const bool shape = colon != std::string::npos && colon >= 1 && colon <= 2 &&
                       s->size() == colon + 3 && all_digits(s->substr(0, colon)) &&
                       all_digits(s->substr(colon + 1));
    const int h = shape ? std::stoi(s->substr(0, colon)) : -1;
    const int mm = shape ? std::stoi(s->substr(colon + 1)) : -1;
    if (!shape || h > 23 || mm > 59) {
      ld_.error(f.line, f.path, "bad time " + quoted(*s) + ": expected HH:MM from 00:00 to 23:59");
      return;
    }
    out = std::chrono::minutes(h * 60 + mm);
  }

  void read_quiet_hours(const Field& f, std::optional<QuietHours>& out) {
    if (f.node.IsNull()) {
      out.reset();
      return;
    }
    MapReader m(ld_, f, {"start", "end", "action"});
    if (!m.valid()) return;
    QuietHours q;
    if (auto v = m.get("start")) read_time_of_day(*v, q.start);
    if (auto v = m.get("end")) read_time_of_day(*v, q.end);
    if (auto v = m.get("action")) ld_.read_enum(*v, q.action);
    if (q.start == q.end) {
      ld_.error(f.line, f.path,
                "start and end are equal, an empty window; write quiet_hours: null to turn quiet "
                "hours off");
    }
    out = q;
  }

  void read_frequency_cap(const Field& f, std::optional<FrequencyCap>& out) {
    if (f.node.IsNull()) {
      out.reset();
      return;
    }
    MapReader m(ld_, f, {"max", "per", "categories"});
    if (!m.valid()) return;
    FrequencyCap cap;
    if (auto v = m.require("max")) ld_.read(*v, cap.max, 1, 1'000'000);
    if (auto v = m.require("per")) ld_.read(*v, cap.per, true);
    if (auto v = m.get("categories")) {
      std::vector<Category> cats;
      const bool is_list = ld_.each(*v, [&](const Field& item, std::size_t) {
        Category c = Category::informational;
        const std::size_t before = error_count();
        ld_.read_enum(item, c);
        if (error_count() != before) return;
        if (std::find(cats.begin(), cats.end(), c) != cats.end()) {
          ld_.error(item.line, item.path, "listed twice");
          return;
        }
        cats.push_back(c);
      });
      if (is_list && v->node.size() == 0) {
        ld_.error(v->line, v->path,
                  "empty: name the capped categories, or set frequency_cap: null");
      }
      cap.categories = std::move(cats);
    }
    out = cap;
  }

  void read_keywords(const Field& f, Keywords& k) {
    MapReader m(ld_, f, {"opt_out", "opt_in", "help", "join"});
    if (!m.valid()) return;
    // kind of each keyword seen so far, to catch one word meaning two things
    std::map<std::string, std::string, std::less<>> kinds;
    for (auto w : kDefaultOptOutKeywords) kinds.emplace(std::string(w), "an opt-out keyword");
    for (auto w : kDefaultOptInKeywords) kinds.emplace(std::string(w), "an opt-in keyword");
    for (auto w : kDefaultHelpKeywords) kinds.emplace(std::string(w), "a help keyword");
    const std::tuple<std::string_view, std::vector<std::string>*, std::string> lists[] = {
        {"opt_out", &k.opt_out, "an opt-out keyword"},
        {"opt_in", &k.opt_in, "an opt-in keyword"},
        {"join", &k.join, "an opt-in keyword"},
        {"help", &k.help, "a help keyword"}};
    for (const auto& [key, out, kind] : lists) {
      const auto v = m.get(key);
      if (!v) continue;
      ld_.each(*v, [&, &out = out, &kind = kind](const Field& item, std::size_t) {
        const auto s = ld_.scalar(item, "a keyword");
        if (!s) return;
        const std::string norm = keyword_key(*s);
        if (norm.empty()) {
          ld_.error(item.line, item.path, "empty keyword");
          return;
        }
        const auto [it, fresh] = kinds.emplace(norm, kind);
        if (!fresh && it->second != kind) {
          ld_.error(item.line, item.path, quoted(*s) + " is already " + it->second);
          return;
        }
        out->push_back(*s);
      });
    }
  }

  void read_template(const Field& f, std::string& out) {
    const auto s = ld_.scalar(f, "a message template");
    if (!s) return;
    if (s->empty()) {
      ld_.error(f.line, f.path, "empty template: the proxy would send an empty SMS");
      return;
    }
    bool ok = true;
    for (std::size_t open = s->find('{'); open != std::string::npos;
         open = s->find('{', open + 1)) {
      const std::size_t close = s->find('}', open);
      if (close == std::string::npos) {
        ld_.error(f.line, f.path, "unterminated placeholder (a '{' without '}')");
        ok = false;
        break;
      }
      const std::string name = s->substr(open + 1, close - open - 1);
      if (std::find(kTemplatePlaceholders.begin(), kTemplatePlaceholders.end(), name) ==
          kTemplatePlaceholders.end()) {
        ld_.error(f.line, f.path,
                  "unknown placeholder {" + name +
                      "} (allowed: {program}, {help_contact}, {number})" +
                      suggest(name, kTemplatePlaceholders));
        ok = false;
      }
    }
    if (ok) out = *s;
  }

  void read_messages(const Field& f, Messages& msg) {
    MapReader m(ld_, f,
                {"help", "opt_out_confirm", "opt_in_request", "opt_in_confirm", "disclaimer",
                 "still_opted_out"});
    const std::pair<std::string_view, std::string*> fields[] = {
        {"help", &msg.help},
        {"opt_out_confirm", &msg.opt_out_confirm},
        {"opt_in_request", &msg.opt_in_request},
        {"opt_in_confirm", &msg.opt_in_confirm},
        {"disclaimer", &msg.disclaimer},
        {"still_opted_out", &msg.still_opted_out}};
    for (const auto& [key, out] : fields) {
      if (auto v = m.get(key)) read_template(*v, *out);
    }
  }

  void read_program(const Field& f, Program& p, std::size_t i, const Config& c) {
    MapReader m(ld_, f,
                {"id",
                 "tenant",
                 "name",
                 "numbers",
                 "opt_in_mode",
                 "hold",
                 "hold_ttl",
                 "request_interval",
                 "implied_ttl",
                 "reminder_interval",
                 "stop_scope",
                 "phrase_opt_out",
                 "mo_requires_consent",
                 "forward_keywords",
                 "timezone",
                 "quiet_hours",
                 "frequency_cap",
                 "keywords",
                 "messages",
                 "help_contact"});
    program_ids_.emplace_back();
    if (!m.valid()) return;
    if (auto v = m.require("id")) {
      const auto s = ld_.scalar(*v);
      if (s && (s->empty() || !std::all_of(s->begin(), s->end(), [](char ch) {
                  return is_name_char(ch) || ch == '.';
                }))) {
        ld_.error(v->line, v->path,
                  "bad program id " + quoted(*s) +
                      ": ids appear in URLs and metrics; use A-Z a-z 0-9 _ - .");
      } else if (s) {
        p.id = *s;
        program_ids_.back() = *s;
        for (std::size_t j = 0; j < i; ++j) {
          if (program_ids_[j] == p.id) {
            ld_.error(v->line, v->path,
                      "duplicate program id " + quoted(p.id) + " (also programs[" +
                          std::to_string(j) + "])");
            break;
          }
        }
      }
    }
    if (auto v = m.require("tenant")) {
      ld_.read_nonempty(*v, p.tenant);
      if (!p.tenant.empty() && !c.has_tenant(p.tenant)) {
        ld_.warning(v->line, v->path,
                    "no account has tenant " + quoted(p.tenant) +
                        ": MTs cannot come from it and its MOs will wait in the queue until one "
                        "binds");
      }
    }
    if (auto v = m.get("name")) ld_.read_nonempty(*v, p.name);
    if (auto v = m.require("numbers")) {
      const bool is_list =
          ld_.each(*v, [&](const Field& item, std::size_t) { read_number(item, p, i); });
      if (is_list && v->node.size() == 0) {
        ld_.error(v->line, v->path, "at least one number is required");
      }
    }
    if (auto v = m.get("opt_in_mode")) ld_.read_enum(*v, p.opt_in_mode);
    if (auto v = m.get("hold")) ld_.read(*v, p.hold);
    if (auto v = m.get("hold_ttl")) ld_.read(*v, p.hold_ttl, true);
    if (auto v = m.get("request_interval")) ld_.read(*v, p.request_interval, false);
    if (auto v = m.get("implied_ttl")) ld_.read(*v, p.implied_ttl, false);
    if (auto v = m.get("reminder_interval")) ld_.read(*v, p.reminder_interval, false);
    if (auto v = m.get("stop_scope")) ld_.read_enum(*v, p.stop_scope);
    if (auto v = m.get("phrase_opt_out")) ld_.read(*v, p.phrase_opt_out);
    if (auto v = m.get("mo_requires_consent")) ld_.read(*v, p.mo_requires_consent);
    if (auto v = m.get("forward_keywords")) ld_.read(*v, p.forward_keywords);
    if (auto v = m.get("timezone")) read_timezone(*v, p.timezone);
    if (auto v = m.get("quiet_hours")) read_quiet_hours(*v, p.quiet_hours);
    if (auto v = m.get("frequency_cap")) read_frequency_cap(*v, p.frequency_cap);
    if (auto v = m.get("keywords")) read_keywords(*v, p.keywords);
    if (auto v = m.get("messages")) read_messages(*v, p.messages);
    const auto contact = m.get("help_contact");
    if (contact) ld_.read(*contact, p.help_contact);
    if (p.name.empty()) p.name = p.id;

    if (p.help_contact.empty()) {
      for (const std::string* t :
           {&p.messages.help, &p.messages.opt_out_confirm, &p.messages.opt_in_request,
            &p.messages.opt_in_confirm, &p.messages.disclaimer, &p.messages.still_opted_out}) {
        if (t->find("{help_contact}") != std::string::npos) {
          ld_.error(contact ? contact->line : m.line(), m.child("help_contact"),
                    contact ? "empty, but a template uses {help_contact}"
                            : "missing required key: a template uses {help_contact} (the "
                              "default help template does)");
          break;
        }
      }
    }
  }

  Loader& ld_;
  std::map<std::string, std::size_t, std::less<>> system_ids_;
  std::map<std::string, std::size_t, std::less<>> upstream_names_;
  std::map<std::string, std::size_t, std::less<>> numbers_;
  std::vector<std::string> program_ids_;
  std::vector<std::string> route_prefixes_;
  std::vector<bool> route_prefix_ok_;
};

CheckResult check(std::string_view yaml, std::string_view name, Config& out) {
  Loader ld{std::string(name)};
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    ld.error(line_of(e.mark), "", "YAML syntax error: " + e.msg);
    return ld.take();
  }
  if (docs.size() > 1) {
    ld.error(line_of(docs[1].Mark()), "", "only one YAML document is allowed (remove the ---)");
  }
  const YAML::Node root = docs.empty() ? YAML::Node() : docs[0];
  try {
    ConfigReader(ld).read(Field{root, "", 1}, out);
  } catch (const YAML::Exception& e) {
    ld.error(line_of(e.mark), "", "YAML error: " + e.msg);
  }
  return ld.take();
}

bool read_file(const std::string& path, std::string& text, CheckResult& result) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  const int open_errno = errno;
  if (in) {
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!in.bad()) {
      text = ss.str();
      return true;
    }
  }
  result.errors.push_back(
      {path, 0, "",
       std::string("cannot read the file: ") + std::strerror(open_errno ? open_errno : EIO),
       Severity::error});
  return false;
}

Config finish(CheckResult&& result, Config&& config, std::vector<Diagnostic>* warnings) {
  if (!result.ok()) throw ConfigErrors(std::move(result.errors));
  if (warnings) *warnings = std::move(result.warnings);
  config.build_index();
  return std::move(config);
}

}  // namespace

Config load_config_string(std::string_view yaml, std::string_view name,
                          std::vector<Diagnostic>* warnings) {
  Config config;
  CheckResult result = check(yaml, name, config);
  return finish(std::move(result), std::move(config), warnings);
}

Config load_config_file(const std::string& path, std::vector<Diagnostic>* warnings) {
  std::string text;
  CheckResult result;
  if (!read_file(path, text, result)) throw ConfigErrors(std::move(result.errors));
  return load_config_string(text, path, warnings);
}

CheckResult check_config_string(std::string_view yaml, std::string_view name) {
  Config config;
  return check(yaml, name, config);
}

CheckResult check_config_file(const std::string& path) {
  std::string text;
  CheckResult result;
  if (!read_file(path, text, result)) return result;
  return check_config_string(text, path);
}

}  // namespace smppguard::config
