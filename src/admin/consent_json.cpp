#include "admin/consent_json.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>
#include <set>
#include <vector>

#include "common/time.hpp"

namespace smppguard::admin {

namespace json = boost::json;

ApiError to_api_error(const policy::ConsentApiError& error) {
  unsigned status = 400;
  switch (error.kind) {
    case policy::ConsentApiError::Kind::invalid:
      status = 400;
      break;
    case policy::ConsentApiError::Kind::unknown_program:
      status = 404;
      break;
    case policy::ConsentApiError::Kind::conflict:
      status = 409;
      break;
  }
  return ApiError{status, error.code, error.message};
}

namespace {

ApiError bad(std::string code, std::string message) {
  return ApiError{400, std::move(code), std::move(message)};
}

// Boost.JSON's value keeps the last of two equal keys, so `{"state":"opted_out","state":
// "opted_in"}` would silently mean opted_in. This handler only watches keys, one set per open
// object, and stops the parse at the first repeated one.
struct DuplicateKeyFinder {
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;
  using ec_t = json::error_code;

  std::vector<std::set<std::string, std::less<>>> open;
  std::string key;
  std::optional<std::string> duplicate;

  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_array_begin(ec_t&) { return true; }
  bool on_array_end(std::size_t, ec_t&) { return true; }
  bool on_object_begin(ec_t&) {
    open.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, ec_t&) {
    open.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, ec_t&) { return true; }
  bool on_string(json::string_view, std::size_t, ec_t&) { return true; }
  bool on_key_part(json::string_view s, std::size_t, ec_t&) {
    key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, ec_t& ec) {
    key.append(s.data(), s.size());
    auto& keys = open.back();
    if (keys.contains(key)) {
      duplicate = std::move(key);
      ec = json::make_error_code(json::error::syntax);
      return false;
    }
    keys.insert(std::move(key));
    key.clear();
    return true;
  }
  bool on_number_part(json::string_view, ec_t&) { return true; }
  bool on_int64(std::int64_t, json::string_view, ec_t&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, ec_t&) { return true; }
  bool on_double(double, json::string_view, ec_t&) { return true; }
  bool on_bool(bool, ec_t&) { return true; }
  bool on_null(ec_t&) { return true; }
  bool on_comment_part(json::string_view, ec_t&) { return true; }
  bool on_comment(json::string_view, ec_t&) { return true; }
};

// The first key that appears twice in one object of `text`, if any (text already parsed).
std::optional<std::string> duplicate_key(std::string_view text, const json::parse_options& opts) {
  json::basic_parser<DuplicateKeyFinder> parser(opts);
  json::error_code ec;
  parser.write_some(false, text.data(), text.size(), ec);
  return parser.handler().duplicate;
}

std::optional<ApiError> string_field(const json::value& v, std::string_view name,
                                     std::string& out) {
  if (!v.is_string())
    return bad("invalid_" + std::string(name), std::string(name) + " must be a string");
  out = std::string(v.as_string());
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> parse_consent_body(std::string_view text, ConsentBody kind,
                                           policy::ConsentRequest& out) {
  if (kind == ConsentBody::del) out.state = "opted_out";
  std::size_t first = 0;
  while (first < text.size() && (text[first] == ' ' || text[first] == '\t' || text[first] == '\r' ||
                                 text[first] == '\n')) {
    ++first;
  }
  if (first == text.size()) {
    if (kind == ConsentBody::del) return std::nullopt;
    return bad("invalid_json", "the body is empty; a JSON object is expected");
  }
  json::parse_options options;
  options.max_depth = 4;
  std::error_code ec;
  json::value doc = json::parse(text, ec, {}, options);
  if (ec) return bad("invalid_json", "the body is not valid JSON: " + ec.message());
  if (!doc.is_object()) return bad("invalid_json", "the body must be a JSON object");
  if (auto key = duplicate_key(text, options)) {
    return bad("invalid_json", "the key \"" + *key + "\" appears twice");
  }
  for (const auto& [key, value] : doc.as_object()) {
    const std::string_view k = key;
    std::optional<ApiError> e;
    if (k == "state" && kind != ConsentBody::del) {
      e = string_field(value, "state", out.state);
    } else if (k == "level" && kind != ConsentBody::del) {
      e = string_field(value, "level", out.level);
    } else if (k == "source") {
      e = string_field(value, "source", out.source);
    } else if (k == "program" && kind == ConsentBody::import_line) {
      e = string_field(value, "program", out.program);
    } else if (k == "msisdn" && kind == ConsentBody::import_line) {
      e = string_field(value, "msisdn", out.msisdn);
    } else if (k == "confirm" && kind != ConsentBody::del) {
      if (!value.is_bool()) return bad("invalid_confirm", "confirm must be true or false");
      out.confirm = value.as_bool();
    } else if (k == "evidence") {
      if (value.is_null()) continue;
      if (!value.is_object()) {
        return bad("invalid_evidence", "evidence must be an object of strings");
      }
      out.evidence.clear();
      for (const auto& [ek, ev] : value.as_object()) {
        if (!ev.is_string()) {
          return bad("invalid_evidence",
                     "evidence." + std::string(ek) + " must be a string (write numbers as \"42\")");
        }
        out.evidence[std::string(ek)] = std::string(ev.as_string());
      }
    } else {
      std::string allowed = kind == ConsentBody::del ? "source, evidence"
                            : kind == ConsentBody::put
                                ? "state, level, source, evidence, confirm"
                                : "program, msisdn, state, level, source, evidence";
      return bad("unknown_field",
                 "unknown field '" + std::string(k) + "' (allowed: " + allowed + ")");
    }
    if (e) return e;
  }
  return std::nullopt;
}

json::value time_or_null(std::int64_t unix_ms) {
  if (unix_ms == 0) return nullptr;
  return json::value(format_rfc3339(from_unix_ms(unix_ms), true));
}

namespace {
json::object evidence_json(const store::Evidence& evidence) {
  json::object o;
  for (const auto& [k, v] : evidence) o[k] = v;
  return o;
}
}  // namespace

json::object consent_json(std::string_view program, std::string_view msisdn,
                          const store::ConsentRecord& r) {
  json::object o;
  o["program"] = program;
  o["msisdn"] = msisdn;
  o["state"] = store::to_string(r.state);
  o["level"] = store::to_string(r.level);
  o["source"] = store::to_string(r.source);
  o["evidence"] = evidence_json(r.evidence);
  o["handset_confirmed"] = r.handset_confirmed;
  o["created_at"] = time_or_null(r.created_at_ms);
  o["updated_at"] = time_or_null(r.updated_at_ms);
  o["last_mo_at"] = time_or_null(r.last_mo_at_ms);
  o["opt_in_requested_at"] = time_or_null(r.opt_in_requested_at_ms);
  o["opt_out_confirmed_at"] = time_or_null(r.opt_out_confirmed_at_ms);
  return o;
}

json::object audit_json(const store::AuditEntry& e) {
  json::object o;
  o["seq"] = e.seq;
  o["time"] = format_rfc3339(from_unix_ms(e.time_ms), true);
  o["time_ms"] = e.time_ms;
  o["program"] = e.program;
  o["msisdn"] = e.msisdn;
  o["event"] = e.event;
  o["old_state"] = e.old_state;
  o["new_state"] = e.new_state;
  o["source"] = e.source;
  o["actor"] = e.actor;
  o["evidence"] = evidence_json(e.evidence);
  o["mo_text"] = e.mo_text;
  o["mo_normalized"] = e.mo_normalized;
  o["keyword"] = e.keyword;
  o["rule"] = e.rule;
  o["detail"] = e.detail;
  o["prev_hash"] = e.prev_hash;
  o["hash"] = e.hash;
  return o;
}

}  // namespace smppguard::admin
