// Operator-requested consent changes (consent_api.hpp): validation and the mutation.
#include "policy/consent_api.hpp"

#include <algorithm>

#include "policy/engine_internal.hpp"
#include "policy/numbers.hpp"

namespace smppguard::policy {

using namespace detail;
using store::AuditEntry;
using store::ConsentLevel;
using store::ConsentRecord;
using store::ConsentSource;
using store::ConsentState;

namespace {

ConsentValidation invalid(std::string code, std::string message) {
  return ConsentValidation{std::nullopt, ConsentApiError{ConsentApiError::Kind::invalid,
                                                         std::move(code), std::move(message)}};
}

// The sources an operator may assert. keyword, mo_conversation and disclaimer are facts only the
// proxy itself observes.
bool operator_source(ConsentSource s) {
  switch (s) {
    case ConsentSource::api:
    case ConsentSource::web_form:
    case ConsentSource::verbal:
    case ConsentSource::paper:
    case ConsentSource::import:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string_view to_string(ConsentEffect e) {
  switch (e) {
    case ConsentEffect::created:
      return "created";
    case ConsentEffect::changed:
      return "changed";
    case ConsentEffect::unchanged:
      return "unchanged";
    case ConsentEffect::refused:
      return "refused";
  }
  return "unchanged";
}

ConsentValidation validate_consent_request(const ConsentRequest& request,
                                           const ProgramLookup& find_program,
                                           const ValidateOptions& options) {
  ValidConsent v;
  if (request.program.empty()) return invalid("invalid_program", "program is required");
  v.program = find_program(request.program);
  if (v.program == nullptr) {
    return ConsentValidation{
        std::nullopt, ConsentApiError{ConsentApiError::Kind::unknown_program, "unknown_program",
                                      "no program '" + request.program + "' in the config"}};
  }
  if (request.msisdn.empty()) return invalid("invalid_msisdn", "msisdn is required");
  auto e164 = parse_e164(request.msisdn);
  if (!e164) {
    return invalid("invalid_msisdn", "msisdn '" + request.msisdn +
                                         "' is not an E.164 number: " + e164.error().message());
  }
  v.msisdn = std::move(*e164);

  if (request.state == "opted_in") {
    v.state = ConsentState::opted_in;
  } else if (request.state == "opted_out") {
    v.state = ConsentState::opted_out;
  } else if (request.state.empty()) {
    return invalid("invalid_state", "state is required: opted_in or opted_out");
  } else {
    return invalid("invalid_state", "state '" + request.state +
                                        "' is not opted_in or opted_out (a pending record "
                                        "comes from confirm: true)");
  }

  if (!request.level.empty()) {
    ConsentLevel level{};
    if (!store::parse(request.level, level) || level == ConsentLevel::none) {
      return invalid("invalid_level",
                     "level '" + request.level + "' is not implied, express or express_written");
    }
    v.level = level;
  } else if (v.state == ConsentState::opted_in) {
    return invalid("missing_level",
                   "level is required with opted_in: implied, express or "
                   "express_written");
  }

  v.source = options.default_source;
  if (!request.source.empty()) {
    ConsentSource source{};
    if (!store::parse(request.source, source) || !operator_source(source)) {
      return invalid("invalid_source", "source '" + request.source +
                                           "' is not api, web_form, verbal, paper or import");
    }
    v.source = source;
  }

  if (request.evidence.size() > kMaxEvidenceEntries) {
    return invalid("invalid_evidence",
                   "evidence has more than " + std::to_string(kMaxEvidenceEntries) + " entries");
  }
  for (const auto& [key, value] : request.evidence) {
    if (key.empty() || key.size() > kMaxEvidenceKey) {
      return invalid("invalid_evidence",
                     "evidence keys are 1 to " + std::to_string(kMaxEvidenceKey) + " bytes");
    }
    if (value.size() > kMaxEvidenceValue) {
      return invalid("invalid_evidence", "evidence '" + key + "' is longer than " +
                                             std::to_string(kMaxEvidenceValue) + " bytes");
    }
  }
  v.evidence = request.evidence;

  if (request.confirm) {
    if (!options.allow_confirm) {
      return invalid("invalid_confirm",
                     "confirm is not allowed in an import (it would text every subscriber); use "
                     "PUT /v1/consents/{program}/{msisdn}");
    }
    if (v.state != ConsentState::opted_in) {
      return invalid("invalid_confirm", "confirm: true goes with state opted_in only");
    }
    v.confirm = true;
  }
  return ConsentValidation{std::move(v), {}};
}

ConsentValidation validate_consent_request(const ConsentRequest& request,
                                           const config::Config& config,
                                           const ValidateOptions& options) {
  return validate_consent_request(
      request, [&config](std::string_view id) { return config.find_program(id); }, options);
}

namespace {

/// One apply_consent_request call.
class ApiRun {
 public:
  ApiRun(store::Batch& batch, const ValidConsent& request, const Actor& actor, TimePoint now,
         const ApplyOptions& options)
      : batch_(batch),
        options_(options),
        req_(request),
        program_(*request.program),
        now_(now),
        now_ms_(to_unix_ms(now)),
        record_(read_consent(batch, program_.id, request.msisdn)) {
    base_.program = program_.id;
    base_.msisdn = req_.msisdn;
    base_.actor = actor.name;
    base_.evidence = req_.evidence;
    out_.old_state = state_name(record_);
    out_.record = record_.value_or(ConsentRecord{});
    if (!program_.numbers.empty()) out_.from_number = program_.numbers.front();
  }

  ConsentOutcome run() && {
    if (req_.state == ConsentState::opted_out) {
      opt_out();
    } else if (req_.confirm) {
      confirm();
    } else {
      opt_in();
    }
    return std::move(out_);
  }

 private:
  void refuse(std::string code, std::string message) {
    out_.effect = ConsentEffect::refused;
    out_.error =
        ConsentApiError{ConsentApiError::Kind::conflict, std::move(code), std::move(message)};
  }

  // Writes the record and its audit entry `event` (old -> new state).
  void write(ConsentRecord r, std::string event, std::string detail = {}) {
    if (r.created_at_ms == 0) r.created_at_ms = now_ms_;
    r.updated_at_ms = now_ms_;
    batch_.put_consent(program_.id, req_.msisdn, r);
    AuditEntry e = audit_from(base_, std::move(event), now_);
    e.old_state = state_name(record_);
    e.new_state = std::string(store::to_string(r.state));
    e.source = std::string(store::to_string(r.source));
    e.detail = std::move(detail);
    batch_.append_audit(std::move(e));
    out_.effect = record_ ? ConsentEffect::changed : ConsentEffect::created;
    out_.changes.push_back(ConsentChange{program_.id, r.state, r.source});
    out_.record = std::move(r);
  }

  bool same_as_current(ConsentState state, ConsentLevel level) const {
    return record_ && record_->state == state && record_->level == level &&
           record_->source == req_.source && record_->evidence == req_.evidence;
  }

  void opt_out() {
    // Held messages fail whatever the record says: a quiet-hours hold can exist without one.
    if (options_.held_messages)
      out_.failed = fail_held(batch_, program_.id, req_.msisdn, base_, now_);
    if (is_opted_out(record_)) return;  // already opted out: unchanged (held ones still failed)
    ConsentRecord r = record_.value_or(ConsentRecord{});
    r.state = ConsentState::opted_out;
    r.source = req_.source;
    r.evidence = req_.evidence;
    // The level is kept as a record of what was revoked. No confirmation text is sent, so
    // opt_out_confirmed_at stays as it was.
    write(std::move(r), "opted_out", "operator opt-out; no confirmation text");
  }

  void opt_in() {
    if (const auto why = revoked_by_subscriber()) {
      refuse("opted_out_by_subscriber", *why);
      return;
    }
    if (same_as_current(ConsentState::opted_in, req_.level)) return;
    ConsentRecord r = record_.value_or(ConsentRecord{});
    const bool was_opted_out = is_opted_out(record_);
    r.state = ConsentState::opted_in;
    r.level = req_.level;
    r.source = req_.source;
    r.evidence = req_.evidence;
    if (was_opted_out) r.handset_confirmed = false;
    write(std::move(r), "opted_in");
    // Consent now exists: MTs held waiting for it go out (each is decided again by the session,
    // so a level that does not cover its category still refuses it). Held messages for consent
    // always sit beside a record, so a new record has none to look for.
    if (record_ && options_.held_messages) {
      out_.release = release_pending(batch_, program_.id, req_.msisdn, base_, now_);
    }
  }

  void confirm() {
    if (is_opted_out(record_) || is_opted_out(tenant())) {
      refuse("opted_out",
             "the subscriber opted out; an opted-out subscriber may receive no opt-in request. "
             "Only the subscriber's START (or a consent recorded without confirm, when the "
             "opt-out did not come from the handset) changes that");
      return;
    }
    if (record_ && record_->state == ConsentState::opted_in && record_->level >= req_.level) {
      return;  // consent of that level is in force: nothing to confirm
    }
    ConsentRecord r = record_.value_or(ConsentRecord{});
    r.state = ConsentState::pending;
    r.level = req_.level;  // kept until YES, which gives this level (apply_mo)
    r.source = req_.source;
    r.evidence = req_.evidence;
    r.handset_confirmed = false;
    const std::int64_t last = r.opt_in_requested_at_ms;
    const bool due = last == 0 || now_ms_ - last >= program_.request_interval.count();
    if (due) r.opt_in_requested_at_ms = now_ms_;
    if (!due && same_as_current(ConsentState::pending, req_.level)) return;
    write(std::move(r), "pending",
          due ? "opt_in_request due; level " + std::string(store::to_string(req_.level)) + " on YES"
              : "opt_in_request not re-sent within request_interval");
    if (due) {
      out_.opt_in_request = Reply{
          "opt_in_request", render(program_.messages.opt_in_request, program_, out_.from_number)};
    }
  }

  // The tenant-wide record, read on first use (an opt-out does not need it).
  const std::optional<ConsentRecord>& tenant() {
    if (!tenant_read_) {
      tenant_read_ = true;
      if (!program_.tenant.empty()) {
        tenant_ = read_tenant_consent(batch_, program_.tenant, req_.msisdn);
      }
    }
    return tenant_;
  }

  // Why an API opt-in may not override the current opt-out, if it may not.
  std::optional<std::string> revoked_by_subscriber() {
    if (is_opted_out(tenant())) {
      return "the subscriber opted out of every program of tenant " + program_.tenant +
             " (STOPALL); only the subscriber's START at this program undoes that";
    }
    if (is_opted_out(record_) && record_->source == ConsentSource::keyword) {
      return std::string(
          "the subscriber opted out by text; only the subscriber's START undoes that");
    }
    return std::nullopt;
  }

  store::Batch& batch_;
  const ApplyOptions& options_;
  const ValidConsent& req_;
  const config::Program& program_;
  const TimePoint now_;
  const std::int64_t now_ms_;
  const std::optional<ConsentRecord> record_;
  std::optional<ConsentRecord> tenant_;
  bool tenant_read_ = false;
  AuditEntry base_;
  ConsentOutcome out_;
};

}  // namespace

ConsentOutcome apply_consent_request(store::Batch& batch, const ValidConsent& request,
                                     const Actor& actor, TimePoint now,
                                     const ApplyOptions& options) {
  return ApiRun(batch, request, actor, now, options).run();
}

}  // namespace smppguard::policy
