// The MT side's store mutations: holding for consent or quiet hours, the disclaimer record,
// refusal and proxy-message audit entries.
#include <algorithm>
#include <functional>

#include "policy/engine_internal.hpp"

namespace smppguard::policy {

using store::AuditEntry;
using store::ConsentLevel;
using store::ConsentRecord;
using store::ConsentSource;
using store::ConsentState;

namespace detail {

namespace {
template <typename T>
T value_or_throw(Result<T> r, const char* what) {
  if (!r) throw std::system_error(r.error(), what);
  return std::move(r).value();
}
}  // namespace

std::optional<ConsentRecord> read_consent(store::Batch& batch, std::string_view program,
                                          std::string_view msisdn) {
  return value_or_throw(batch.get_consent(program, msisdn), "policy: read consent");
}

std::optional<ConsentRecord> read_tenant_consent(store::Batch& batch, std::string_view tenant,
                                                 std::string_view msisdn) {
  return value_or_throw(batch.get_tenant_consent(tenant, msisdn), "policy: read tenant consent");
}

std::vector<store::HeldMessage> read_held(store::Batch& batch, std::string_view program,
                                          std::string_view msisdn) {
  return value_or_throw(batch.held_for(program, msisdn), "policy: read held messages");
}

std::string tenant_key(std::string_view tenant) { return "tenant:" + std::string(tenant); }

std::string state_name(const std::optional<ConsentRecord>& record) {
  return std::string(store::to_string(record ? record->state : ConsentState::none));
}

bool is_opted_out(const std::optional<ConsentRecord>& record) {
  return record && record->state == ConsentState::opted_out;
}

AuditEntry audit_from(const AuditEntry& base, std::string event, TimePoint now) {
  AuditEntry e = base;
  e.time_ms = to_unix_ms(now);
  e.event = std::move(event);
  return e;
}

MtDecision default_refusal(Reason reason) {
  return MtDecision{MtAction::refuse, reason, status_for(config::Statuses{}, reason), {}};
}

PendingOutcome mark_pending(store::Batch& batch, const config::Program& program,
                            const std::string& msisdn, const std::optional<ConsentRecord>& current,
                            const AuditEntry& base, TimePoint now) {
  const std::int64_t now_ms = to_unix_ms(now);
  ConsentRecord record = current.value_or(ConsentRecord{});
  PendingOutcome out;
  if (record.state == ConsentState::none) {
    record.state = ConsentState::pending;
    if (record.created_at_ms == 0) record.created_at_ms = now_ms;
    out.became_pending = true;
  }
  const std::int64_t last = record.opt_in_requested_at_ms;
  if (last == 0 || now_ms - last >= program.request_interval.count()) {
    record.opt_in_requested_at_ms = now_ms;
    out.request_due = true;
  }
  if (!out.became_pending && !out.request_due) return out;
  record.updated_at_ms = now_ms;
  batch.put_consent(program.id, msisdn, record);
  if (out.became_pending) {
    AuditEntry e = audit_from(base, "pending", now);
    e.old_state = state_name(current);
    e.new_state = "pending";
    e.detail = out.request_due ? "opt_in_request due" : "";
    batch.append_audit(std::move(e));
  }
  return out;
}

std::vector<store::HeldMessage> fail_held(store::Batch& batch, const std::string& program,
                                          const std::string& msisdn, const AuditEntry& base,
                                          TimePoint now) {
  auto held = read_held(batch, program, msisdn);
  for (const auto& h : held) {
    batch.remove_held(h);
    if (h.account.empty()) continue;
    AuditEntry e = audit_from(base, "mt_refused", now);
    e.program = program;
    e.old_state.clear();
    e.new_state.clear();
    e.source.clear();
    e.detail = "opted_out " + h.proxy_id;
    batch.append_audit(std::move(e));
  }
  return held;
}

std::vector<store::HeldMessage> release_pending(store::Batch& batch, const std::string& program,
                                                const std::string& msisdn, const AuditEntry& base,
                                                TimePoint now) {
  std::vector<store::HeldMessage> out;
  for (auto& h : read_held(batch, program, msisdn)) {
    if (h.reason != store::HoldReason::pending_consent) continue;
    batch.remove_held(h);
    if (!h.account.empty()) {
      AuditEntry e = audit_from(base, "mt_released", now);
      e.program = program;
      e.old_state.clear();
      e.new_state.clear();
      e.source.clear();
      e.detail = h.proxy_id;
      batch.append_audit(std::move(e));
    }
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace detail

using namespace detail;

namespace {

AuditEntry mt_base(std::string program, std::string msisdn, const Actor& actor) {
  AuditEntry e;
  e.program = std::move(program);
  e.msisdn = std::move(msisdn);
  e.actor = actor.name;
  return e;
}

std::int64_t add_ms(TimePoint now, Millis d) { return to_unix_ms(now) + d.count(); }

using Redecide = std::function<std::optional<MtDecision>(const store::ConsentPair&)>;

MtMutationResult hold_for_consent_impl(store::Batch& batch, const config::Program& program,
                                       const std::string& msisdn,
                                       std::optional<store::HeldMessage> hold, const Actor& actor,
                                       TimePoint now, const Redecide& redecide) {
  store::ConsentPair pair{read_consent(batch, program.id, msisdn),
                          read_tenant_consent(batch, program.tenant, msisdn)};
  MtMutationResult out;
  if (auto d = redecide(pair)) {
    out.redecided = *d;
    return out;
  }
  const AuditEntry base = mt_base(program.id, msisdn, actor);
  out.send_opt_in_request =
      mark_pending(batch, program, msisdn, pair.program, base, now).request_due;
  if (hold) {
    hold->program = program.id;
    hold->msisdn = msisdn;
    hold->reason = store::HoldReason::pending_consent;
    hold->held_at_ms = to_unix_ms(now);
    hold->release_at_ms = 0;
    hold->expires_at_ms = add_ms(now, program.hold_ttl);
    const std::string proxy_id = hold->proxy_id;
    out.held_seq = batch.hold_message(std::move(*hold));
    out.held = true;
    AuditEntry e = audit_from(base, "mt_held", now);
    e.detail = "pending_consent " + proxy_id;
    batch.append_audit(std::move(e));
  }
  return out;
}

}  // namespace

MtMutationResult hold_for_consent(store::Batch& batch, const MtContext& context,
                                  std::optional<store::HeldMessage> hold, const Actor& actor) {
  return hold_for_consent_impl(
      batch, context.program, context.subject.msisdn, std::move(hold), actor, context.now,
      [&](const store::ConsentPair& pair) -> std::optional<MtDecision> {
        MtDecision d = decide_mt(context, pair);
        if (d.action == MtAction::hold_for_consent || d.action == MtAction::refuse_and_request) {
          return std::nullopt;
        }
        return d;
      });
}

MtMutationResult hold_for_consent(store::Batch& batch, const config::Program& program,
                                  const std::string& msisdn, std::optional<store::HeldMessage> hold,
                                  const Actor& actor, TimePoint now) {
  return hold_for_consent_impl(batch, program, msisdn, std::move(hold), actor, now,
                               [](const store::ConsentPair& pair) -> std::optional<MtDecision> {
                                 if (is_opted_out(pair.program) || is_opted_out(pair.tenant)) {
                                   return default_refusal(Reason::opted_out);
                                 }
                                 if (pair.program &&
                                     pair.program->state == ConsentState::opted_in &&
                                     pair.program->level >= ConsentLevel::express) {
                                   return MtDecision{};
                                 }
                                 return std::nullopt;
                               });
}

MtMutationResult hold_for_quiet_hours(store::Batch& batch, store::HeldMessage hold,
                                      const Actor& actor, TimePoint now) {
  MtMutationResult out;
  hold.reason = store::HoldReason::quiet_hours;
  if (hold.held_at_ms == 0) hold.held_at_ms = to_unix_ms(now);
  AuditEntry e = audit_from(mt_base(hold.program, hold.msisdn, actor), "mt_held", now);
  e.detail =
      "quiet_hours " + hold.proxy_id + " until " + format_rfc3339(from_unix_ms(hold.release_at_ms));
  out.held_seq = batch.hold_message(std::move(hold));
  out.held = true;
  batch.append_audit(std::move(e));
  return out;
}

MtMutationResult record_disclaimer(store::Batch& batch, const config::Program& program,
                                   const std::string& msisdn, const Actor& actor, TimePoint now) {
  MtMutationResult out;
  const auto current = read_consent(batch, program.id, msisdn);
  if (is_opted_out(current) || is_opted_out(read_tenant_consent(batch, program.tenant, msisdn))) {
    out.redecided = default_refusal(Reason::opted_out);
    return out;
  }
  if (current && current->state == ConsentState::pending) {
    out.redecided = default_refusal(Reason::no_consent);
    return out;
  }
  const bool implied_only = current && current->state == ConsentState::opted_in &&
                            current->level == ConsentLevel::implied;
  if (current && current->state == ConsentState::opted_in && !implied_only) return out;

  const std::int64_t now_ms = to_unix_ms(now);
  ConsentRecord record = current.value_or(ConsentRecord{});
  record.state = ConsentState::opted_in;
  record.level = ConsentLevel::express;
  record.source = ConsentSource::disclaimer;
  record.evidence = {{"account", actor.name}};
  record.disclaimer_sent_at_ms = now_ms;
  if (record.created_at_ms == 0) record.created_at_ms = now_ms;
  record.updated_at_ms = now_ms;
  batch.put_consent(program.id, msisdn, record);

  AuditEntry e = audit_from(mt_base(program.id, msisdn, actor), "opted_in", now);
  e.old_state = state_name(current);
  e.new_state = "opted_in";
  e.source = "disclaimer";
  e.evidence = record.evidence;
  e.detail = "disclaimer sent";
  batch.append_audit(std::move(e));
  return out;
}

void audit_refusal(store::Batch& batch, const config::Program* program, const std::string& msisdn,
                   Reason reason, const Actor& actor, TimePoint now, std::string_view message_id) {
  AuditEntry e =
      audit_from(mt_base(program ? program->id : std::string(), msisdn, actor), "mt_refused", now);
  e.detail = std::string(to_string(reason));
  if (!message_id.empty()) e.detail += " " + std::string(message_id);
  batch.append_audit(std::move(e));
}

void release_held(store::Batch& batch, const store::HeldMessage& held, const Actor& actor,
                  TimePoint now) {
  batch.remove_held(held);
  AuditEntry e = audit_from(mt_base(held.program, held.msisdn, actor), "mt_released", now);
  e.detail = held.proxy_id;
  batch.append_audit(std::move(e));
}

HeldFollowUp follow_consent_change(store::Batch& batch, const std::string& program,
                                   const std::string& msisdn, const Actor& actor, TimePoint now) {
  HeldFollowUp out;
  const auto record = read_consent(batch, program, msisdn);
  if (!record) return out;
  const AuditEntry base = mt_base(program, msisdn, actor);
  if (record->state == ConsentState::opted_in) {
    out.release = release_pending(batch, program, msisdn, base, now);
  } else if (record->state == ConsentState::opted_out) {
    out.failed = fail_held(batch, program, msisdn, base, now);
  }
  return out;
}

void expire_held(store::Batch& batch, const store::HeldMessage& held, TimePoint now) {
  batch.remove_held(held);
  AuditEntry e = audit_from(mt_base(held.program, held.msisdn, Actor{"proxy"}), "mt_expired", now);
  e.detail = held.account.empty() ? "mo " + held.proxy_id : held.proxy_id;
  batch.append_audit(std::move(e));
}

void record_message_sent(store::Batch& batch, const config::Program& program,
                         const std::string& msisdn, std::string_view template_name,
                         std::string_view message_id, TimePoint sent_at) {
  const std::int64_t sent_ms = to_unix_ms(sent_at);
  if (template_name == "opt_out_confirm") {
    auto record = read_consent(batch, program.id, msisdn);
    auto tenant = read_tenant_consent(batch, program.tenant, msisdn);
    // The tenant record was changed by the same STOP when both carry the STOP's time.
    if (is_opted_out(tenant) &&
        (!is_opted_out(record) || tenant->updated_at_ms == record->updated_at_ms)) {
      tenant->opt_out_confirmed_at_ms = sent_ms;
      batch.put_tenant_consent(program.tenant, msisdn, *tenant);
    }
    if (is_opted_out(record)) {
      record->opt_out_confirmed_at_ms = sent_ms;
      batch.put_consent(program.id, msisdn, *record);
    }
  }
  AuditEntry e = audit_from(mt_base(program.id, msisdn, Actor{"proxy"}), "message_sent", sent_at);
  e.detail = std::string(template_name) + " " + std::string(message_id);
  batch.append_audit(std::move(e));
}

void audit_proxy_receipt(store::Batch& batch, const store::MessageRoute& route,
                         std::string_view receipt_text, TimePoint now) {
  std::string stat;
  if (const auto at = receipt_text.find("stat:"); at != std::string_view::npos) {
    const auto rest = receipt_text.substr(at + 5);
    stat = std::string(rest.substr(0, rest.find(' ')));
  }
  AuditEntry e = audit_from(
      mt_base(route.program, route.msisdn, Actor{"upstream:" + route.upstream}), "receipt", now);
  e.detail = route.template_name + " " + route.proxy_id + (stat.empty() ? "" : " stat:" + stat);
  batch.append_audit(std::move(e));
}

}  // namespace smppguard::policy
