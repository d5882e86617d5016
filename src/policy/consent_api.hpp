#pragma once
// Operator-requested consent changes: the admin API's PUT and DELETE, the NDJSON import over HTTP
// and the offline `smppguard consent import`. One validation and one mutation, so that all four
// paths apply the same rules (docs/admin-api.md, "Consent changes").
//
// Flow: the caller parses its input into a ConsentRequest (admin/consent_json.hpp) ->
// validate_consent_request() (pure: program, E.164, state, level, source, evidence) ->
// apply_consent_request() inside a store mutation (reads the records, decides, writes the record
// and its audit entry; nothing is written on a conflict) -> the caller carries out the outcome
// after the commit: the opt-in request to send (confirm), REJECTD receipts for held MTs that an
// opt-out failed, held MTs to decide again and forward (an opt-in), metrics and a log line.
// Thread-safety: validation is pure; apply_consent_request runs on the store's writer thread.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "policy/engine.hpp"
#include "store/store.hpp"

namespace smppguard::policy {

/// A consent change as an operator asks for it, before validation. Strings are as given; "" means
/// "not given" for level and source.
struct ConsentRequest {
  std::string program;
  std::string msisdn;  // "+15551234567" or bare digits
  std::string state;   // opted_in | opted_out
  std::string level;   // implied | express | express_written; required for opted_in
  std::string source;  // api | web_form | verbal | paper | import; "" = the caller's default
  store::Evidence evidence;
  bool confirm = false;  // opted_in only: send the opt-in request and leave the record pending
};

/// Why a request was refused. `kind` decides the HTTP status: invalid 400, unknown_program 404,
/// conflict 409. `code` is the machine-readable error code of the API.
struct ConsentApiError {
  enum class Kind : std::uint8_t { invalid, unknown_program, conflict };
  Kind kind = Kind::invalid;
  std::string code;
  std::string message;

  bool operator==(const ConsentApiError&) const = default;
};

/// A validated request: typed, with the program resolved and the number in E.164.
struct ValidConsent {
  const config::Program* program = nullptr;
  std::string msisdn;
  store::ConsentState state = store::ConsentState::opted_in;
  store::ConsentLevel level = store::ConsentLevel::none;  // none for opted_out when not given
  store::ConsentSource source = store::ConsentSource::api;
  store::Evidence evidence;
  bool confirm = false;
};

/// Limits on evidence, so that one record cannot grow without bound.
inline constexpr std::size_t kMaxEvidenceEntries = 32;
inline constexpr std::size_t kMaxEvidenceKey = 64;
inline constexpr std::size_t kMaxEvidenceValue = 2048;

struct ValidateOptions {
  store::ConsentSource default_source = store::ConsentSource::api;  // when `source` is ""
  bool allow_confirm = true;  // false for imports: an import never texts subscribers
};

/// Finds a program by id (nullptr: unknown).
using ProgramLookup = std::function<const config::Program*(std::string_view id)>;

/// Either a ValidConsent or the error that stops it.
struct ConsentValidation {
  std::optional<ValidConsent> ok;
  ConsentApiError error;
};

/// Checks a request: the program exists (unknown_program), the number is E.164 (invalid_msisdn),
/// state is opted_in or opted_out (invalid_state), level is known and given for opted_in
/// (invalid_level / missing_level), source is one an operator may assert (api, web_form, verbal,
/// paper, import: invalid_source), evidence is within the limits above (invalid_evidence),
/// confirm only with opted_in and where allowed (invalid_confirm). Pure.
ConsentValidation validate_consent_request(const ConsentRequest& request,
                                           const ProgramLookup& find_program,
                                           const ValidateOptions& options = {});
/// The same with the programs of a config.
ConsentValidation validate_consent_request(const ConsentRequest& request,
                                           const config::Config& config,
                                           const ValidateOptions& options = {});

/// What apply_consent_request did.
enum class ConsentEffect : std::uint8_t {
  created,    // there was no record (HTTP 201)
  changed,    // the record changed (200)
  unchanged,  // already so; nothing written, not audited (200)
  refused,    // a conflict (409): nothing written; see ConsentOutcome::error
};
std::string_view to_string(ConsentEffect e);

struct ConsentOutcome {
  ConsentEffect effect = ConsentEffect::unchanged;
  std::optional<ConsentApiError> error;     // set when refused
  std::string old_state;                    // "none" when there was no record
  store::ConsentRecord record;              // the program record after the change
  std::vector<ConsentChange> changes;       // for smppguard_consent_changes_total
  std::optional<Reply> opt_in_request;      // confirm: the request to send (from `from_number`)
  std::string from_number;                  // the program's first number
  std::vector<store::HeldMessage> failed;   // an opt-out failed these held messages
  std::vector<store::HeldMessage> release;  // an opt-in released these (decide them again)
};

struct ApplyOptions {
  /// Fail (opt-out) or release (opt-in) the pair's held messages. The offline import turns this
  /// off: with the daemon stopped nobody could send the accounts their receipts, and held
  /// messages are decided again anyway when they are released or expire.
  bool held_messages = true;
};

/// Applies a validated request inside a mutation, at `now`, audited with `actor`
/// ("api:<token name>" or "import:<name>"). The rules (docs/admin-api.md):
/// - opted_out: the program record becomes opted_out with the request's source and evidence (the
///   level is kept, as a record of what was revoked); no confirmation text is sent. The pair's
///   held messages fail as on a STOP (audited mt_refused). Already opted out: unchanged.
/// - opted_in without confirm: opted_in with the level, source and evidence. Refused (conflict
///   `opted_out_by_subscriber`) when the subscriber revoked by text (a program record opted out
///   with source keyword, or a tenant-wide opt-out): only the subscriber's START undoes that.
///   Held MTs waiting for consent are released (the session decides each again).
/// - opted_in with confirm: refused (conflict `opted_out`) when opted out in any way: an opted-out
///   subscriber receives nothing but the one confirmation and HELP answers. Unchanged when consent
///   of at least that level is already in force. Otherwise the record becomes pending with the
///   requested level, source and evidence; the opt-in request is due unless one was sent within
///   the program's request_interval. A later YES gives the requested level (apply_mo).
/// Throws std::system_error when the store cannot be read (the mutation fails as a whole).
ConsentOutcome apply_consent_request(store::Batch& batch, const ValidConsent& request,
                                     const Actor& actor, TimePoint now,
                                     const ApplyOptions& options = {});

}  // namespace smppguard::policy
