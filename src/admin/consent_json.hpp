#pragma once
// JSON of the consent API: request bodies (PUT, DELETE, NDJSON import lines) into
// policy::ConsentRequest, and consent records and audit entries into the answers' objects.
// Strict: unknown fields, wrong types, deep nesting and bad UTF-8 are errors naming the field.
// Pure functions; thread-safe.
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policy/consent_api.hpp"
#include "store/types.hpp"

namespace smppguard::admin {

/// An error of the admin API: HTTP status, code and message ({"error":{"code","message"}}).
struct ApiError {
  unsigned status = 400;
  std::string code;
  std::string message;

  bool operator==(const ApiError&) const = default;
};

/// The HTTP status of a policy error: invalid 400, unknown_program 404, conflict 409.
ApiError to_api_error(const policy::ConsentApiError& error);

/// Which body is parsed: PUT (state, level, source, evidence, confirm), DELETE (source,
/// evidence; state is opted_out) or an import line (program and msisdn too, no confirm).
enum class ConsentBody : std::uint8_t { put, del, import_line };

/// Parses `text` into `out` (fields not in the body are left as they are). An empty DELETE body
/// is allowed. nullopt on success.
std::optional<ApiError> parse_consent_body(std::string_view text, ConsentBody kind,
                                           policy::ConsentRequest& out);

/// "2026-01-15T15:00:00.123Z", or null for 0.
boost::json::value time_or_null(std::int64_t unix_ms);

/// A consent record as the API shows it: program, msisdn, state, level, source, evidence,
/// handset_confirmed, created_at, updated_at (RFC 3339), last_mo_at, opt_in_requested_at,
/// opt_out_confirmed_at (null when never).
boost::json::object consent_json(std::string_view program, std::string_view msisdn,
                                 const store::ConsentRecord& record);

/// An audit entry (SPEC 8): seq, time (RFC 3339), program, msisdn, event, old_state, new_state,
/// source, actor, evidence, mo_text, keyword, rule, prev_hash, hash, plus time_ms,
/// mo_normalized and detail.
boost::json::object audit_json(const store::AuditEntry& entry);

}  // namespace smppguard::admin
