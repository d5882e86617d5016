// apply_mo: SPEC 5's effects table and SPEC 8's rules for MOs, inside one store mutation.
#include <algorithm>

#include "policy/engine_internal.hpp"

namespace smppguard::policy {

using namespace detail;
using store::AuditEntry;
using store::ConsentLevel;
using store::ConsentRecord;
using store::ConsentSource;
using store::ConsentState;

namespace {

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

/// One apply_mo call: the MO, its records as read at the start, and the outcome being built.
class MoRun {
 public:
  MoRun(store::Batch& batch, const MoInput& in)
      : batch_(batch),
        in_(in),
        program_(in.program),
        now_ms_(to_unix_ms(in.now)),
        record_(read_consent(batch, in.program.id, in.msisdn)),
        tenant_(read_tenant_consent(batch, in.program.tenant, in.msisdn)) {
    const KeywordKind kind = in.match.kind;
    const bool keyword =
        kind == KeywordKind::opt_out || kind == KeywordKind::opt_in || kind == KeywordKind::help;
    keyword_ = ascii_upper(in.match.keyword);
    base_.program = program_.id;
    base_.msisdn = in.msisdn;
    base_.actor = keyword ? "keyword:" + keyword_ + ":" + in.mo_id : "mo:" + in.mo_id;
    base_.evidence = {{"mo_id", in.mo_id}};
    base_.mo_text = in.raw_text;
    base_.mo_normalized = in.normalized.text;
    if (kind != KeywordKind::none) {
      base_.keyword = keyword_;
      base_.rule = std::string(to_string(in.match.rule));
    }
    out_.kind = kind == KeywordKind::none ? "other" : std::string(to_string(kind));
    if (keyword && !program_.forward_keywords) out_.forward = false;
  }

  MoOutcome run() && {
    switch (in_.match.kind) {
      case KeywordKind::opt_out:
        opt_out();
        break;
      case KeywordKind::opt_in:
        opt_in();
        break;
      case KeywordKind::help:
        help();
        break;
      case KeywordKind::possible_opt_out:
        audit("possible_opt_out", effective_state(), effective_state());
        other();
        break;
      case KeywordKind::none:
        other();
        break;
    }
    return std::move(out_);
  }

 private:
  std::string effective_state() const {
    return is_opted_out(tenant_) ? "opted_out" : state_name(record_);
  }

  void audit(std::string event, std::string old_state, std::string new_state,
             std::string source = {}, std::string program = {}, std::string detail = {}) {
    AuditEntry e = audit_from(base_, std::move(event), in_.now);
    if (!program.empty()) e.program = std::move(program);
    e.old_state = std::move(old_state);
    e.new_state = std::move(new_state);
    e.source = std::move(source);
    e.detail = std::move(detail);
    batch_.append_audit(std::move(e));
  }

  void reply(std::string_view template_name) {
    out_.replies.push_back(
        Reply{std::string(template_name),
              render(template_text(program_, template_name), program_, in_.number)});
  }

  void change(std::string program, ConsentState to, ConsentSource source) {
    out_.changes.push_back(ConsentChange{std::move(program), to, source});
  }

  // A record revoked by this MO; `prior` keeps its level and history fields.
  ConsentRecord revoked(const std::optional<ConsentRecord>& prior) const {
    ConsentRecord r = prior.value_or(ConsentRecord{});
    r.state = ConsentState::opted_out;
    r.source = ConsentSource::keyword;
    r.evidence = base_.evidence;
    if (r.created_at_ms == 0) r.created_at_ms = now_ms_;
    r.updated_at_ms = now_ms_;
    r.last_mo_at_ms = now_ms_;
    r.opt_out_confirmed_at_ms = now_ms_;
    return r;
  }

  void opt_out() {
    const bool tenant_wide =
        in_.match.is_stop_all || program_.stop_scope == config::StopScope::tenant;
    const bool already =
        tenant_wide ? is_opted_out(tenant_) : is_opted_out(record_) || is_opted_out(tenant_);
    if (already) return;  // SPEC 8: the one confirmation was already sent; no reply at all

    if (!is_opted_out(record_)) {
      batch_.put_consent(program_.id, in_.msisdn, revoked(record_));
      audit("opted_out", state_name(record_), "opted_out", "keyword");
      change(program_.id, ConsentState::opted_out, ConsentSource::keyword);
    }
    if (tenant_wide) {
      batch_.put_tenant_consent(program_.tenant, in_.msisdn, revoked(tenant_));
      const std::string key = tenant_key(program_.tenant);
      audit("opted_out", state_name(tenant_), "opted_out", "keyword", key);
      change(key, ConsentState::opted_out, ConsentSource::keyword);
    }
    out_.changed_to = ConsentState::opted_out;

    if (tenant_wide) {
      for (const auto& p : in_.config.programs) {
        if (p.tenant == program_.tenant) fail_held(p.id);
      }
    } else {
      fail_held(program_.id);
    }
    reply("opt_out_confirm");
  }

  void fail_held(const std::string& program) {
    for (auto& held : detail::fail_held(batch_, program, in_.msisdn, base_, in_.now)) {
      out_.failed.push_back(std::move(held));
    }
  }

  void help() {
    const std::string state = effective_state();
    audit("help", state, state);
    reply("help");
  }

  void opt_in() {
    const bool tenant_out = is_opted_out(tenant_);
    if (tenant_out) narrow_tenant_opt_out();

    ConsentRecord r = record_.value_or(ConsentRecord{});
    const ConsentRecord before = r;
    // A higher level survives only when consent is still in force: a revoked express_written
    // consent is not brought back by a keyword. A pending record that carries a level was asked
    // for by an operator (PUT with confirm: true, policy/consent_api.hpp): the YES confirms
    // that request, so the requested level (at least express), source and evidence are kept.
    const bool in_force = r.state == ConsentState::opted_in && !tenant_out;
    const bool requested = r.state == ConsentState::pending && r.level != ConsentLevel::none &&
                           r.source != ConsentSource::none && !tenant_out;
    if (requested) {
      r.level = std::max(r.level, ConsentLevel::express);
    } else if (!in_force || r.level <= ConsentLevel::express) {
      r.level = ConsentLevel::express;
      r.source = ConsentSource::keyword;
      r.evidence = base_.evidence;
    }
    r.state = ConsentState::opted_in;
    r.handset_confirmed = true;
    if (r.created_at_ms == 0) r.created_at_ms = now_ms_;
    r.last_mo_at_ms = now_ms_;
    const bool changed = !record_ || before.state != r.state || before.level != r.level ||
                         before.source != r.source ||
                         before.handset_confirmed != r.handset_confirmed || tenant_out;
    if (changed) r.updated_at_ms = now_ms_;
    batch_.put_consent(program_.id, in_.msisdn, r);
    if (changed) {
      audit("opted_in", tenant_out ? "opted_out" : state_name(record_), "opted_in",
            std::string(store::to_string(r.source)));
      change(program_.id, ConsentState::opted_in, r.source);
      out_.changed_to = ConsentState::opted_in;
    }
    reply("opt_in_confirm");

    for (auto& held : release_pending(batch_, program_.id, in_.msisdn, base_, in_.now)) {
      out_.release.push_back(std::move(held));
    }
  }

  // START at one program after a tenant-wide opt-out: every OTHER program of the tenant keeps
  // the opt-out as a program record, then the tenant record is lifted.
  void narrow_tenant_opt_out() {
    for (const auto& p : in_.config.programs) {
      if (p.tenant != program_.tenant || p.id == program_.id) continue;
      const auto other = read_consent(batch_, p.id, in_.msisdn);
      if (is_opted_out(other)) continue;
      ConsentRecord r = revoked(other);
      r.evidence = tenant_->evidence;
      r.opt_out_confirmed_at_ms = tenant_->opt_out_confirmed_at_ms;
      batch_.put_consent(p.id, in_.msisdn, r);
      audit("opted_out", state_name(other), "opted_out", "keyword", p.id,
            "tenant-wide opt-out kept for this program; START at " + program_.id);
      change(p.id, ConsentState::opted_out, ConsentSource::keyword);
    }
    ConsentRecord t = *tenant_;
    t.state = ConsentState::none;
    t.source = ConsentSource::keyword;
    t.evidence = base_.evidence;
    t.updated_at_ms = now_ms_;
    t.last_mo_at_ms = now_ms_;
    batch_.put_tenant_consent(program_.tenant, in_.msisdn, t);
    const std::string key = tenant_key(program_.tenant);
    audit("opted_in", "opted_out", "none", "keyword", key,
          "tenant-wide opt-out replaced by program opt-outs; START at " + program_.id);
    change(key, ConsentState::none, ConsentSource::keyword);
  }

  void other() {
    if (is_opted_out(record_) || is_opted_out(tenant_)) {
      remind();
      return;
    }
    const bool without_consent =
        !record_ || record_->state == ConsentState::none || record_->state == ConsentState::pending;
    if (without_consent && program_.opt_in_mode == config::OptInMode::confirm &&
        program_.mo_requires_consent) {
      hold_mo();
      return;
    }
    if (without_consent) {
      ConsentRecord r = record_.value_or(ConsentRecord{});
      r.state = ConsentState::opted_in;
      r.level = ConsentLevel::implied;
      r.source = ConsentSource::mo_conversation;
      r.evidence = base_.evidence;
      if (r.created_at_ms == 0) r.created_at_ms = now_ms_;
      r.updated_at_ms = now_ms_;
      r.last_mo_at_ms = now_ms_;
      batch_.put_consent(program_.id, in_.msisdn, r);
      audit("opted_in", state_name(record_), "opted_in", "mo_conversation");
      change(program_.id, ConsentState::opted_in, ConsentSource::mo_conversation);
      out_.changed_to = ConsentState::opted_in;
      return;
    }
    // The implied-consent refresh. Skipped while the cluster cannot commit (docs/cluster.md): the
    // MO still reaches the tenant, and an implied consent may end earlier, never later.
    if (!batch_.consent_writable()) return;
    ConsentRecord r = *record_;
    r.last_mo_at_ms = now_ms_;
    batch_.put_consent(program_.id, in_.msisdn, r);
  }

  // At most one still_opted_out per reminder_interval, kept on the record that opts out: the
  // program's, else the tenant's (a tenant-wide opt-out limits reminders tenant-wide).
  void remind() {
    // Kept on the consent record: skipped while the cluster cannot commit (docs/cluster.md).
    if (!batch_.consent_writable()) return;
    const bool on_program = is_opted_out(record_);
    ConsentRecord r = on_program ? *record_ : *tenant_;
    const std::int64_t last = r.last_reminder_at_ms;
    if (last != 0 && now_ms_ - last < program_.reminder_interval.count()) return;
    r.last_reminder_at_ms = now_ms_;
    if (on_program) {
      batch_.put_consent(program_.id, in_.msisdn, r);
    } else {
      batch_.put_tenant_consent(program_.tenant, in_.msisdn, r);
    }
    reply("still_opted_out");
  }

  void hold_mo() {
    out_.hold_mo = true;
    out_.forward = false;
    const PendingOutcome p = mark_pending(batch_, program_, in_.msisdn, record_, base_, in_.now);
    if (p.became_pending) {
      change(program_.id, ConsentState::pending, ConsentSource::none);
      out_.changed_to = ConsentState::pending;
    }
    if (!in_.pdu.empty()) {
      store::HeldMessage held;
      held.program = program_.id;
      held.msisdn = in_.msisdn;
      held.proxy_id = in_.mo_id;
      held.pdu = in_.pdu;
      held.reason = store::HoldReason::pending_consent;
      held.held_at_ms = now_ms_;
      held.expires_at_ms = now_ms_ + program_.hold_ttl.count();
      out_.held_mo_seq = batch_.hold_message(std::move(held));
    }
    if (p.request_due) reply("opt_in_request");
  }

  store::Batch& batch_;
  const MoInput& in_;
  const config::Program& program_;
  const std::int64_t now_ms_;
  const std::optional<ConsentRecord> record_;
  const std::optional<ConsentRecord> tenant_;
  std::string keyword_;
  AuditEntry base_;
  MoOutcome out_;
};

}  // namespace

MoOutcome apply_mo(store::Batch& batch, const MoInput& input) { return MoRun(batch, input).run(); }

}  // namespace smppguard::policy
