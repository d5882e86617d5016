// The pure half of the consent engine: categories, coverage, MT decisions, program indexes.
#include "policy/engine.hpp"

#include <smppguard/proto/status.hpp>

#include "policy/engine_internal.hpp"
#include "policy/numbers.hpp"

namespace smppguard::policy {

using config::Category;
using config::OptInMode;
using store::ConsentLevel;
using store::ConsentRecord;
using store::ConsentState;

// ---- programs ---------------------------------------------------------------------------------

ProgramKeywords program_keywords(const config::Program& program) {
  ProgramKeywords k;
  k.opt_out = program.keywords.opt_out;
  k.opt_in = program.keywords.opt_in;
  k.help = program.keywords.help;
  k.join = program.keywords.join;
  k.phrase_opt_out = program.phrase_opt_out;
  return k;
}

Programs::Programs(const config::Config& config) {
  for (const auto& program : config.programs) {
    matchers_.try_emplace(program.id, program_keywords(program));
    tenants_[program.tenant].push_back(program.id);
  }
}

const KeywordMatcher& Programs::matcher(std::string_view program_id) const {
  const auto it = matchers_.find(program_id);
  return it == matchers_.end() ? defaults_ : it->second;
}

KeywordMatch Programs::match(std::string_view program_id, const NormalizedText& text) const {
  return matcher(program_id).match(text);
}

const std::vector<std::string>& Programs::of_tenant(std::string_view tenant) const {
  static const std::vector<std::string> kNone;
  const auto it = tenants_.find(tenant);
  return it == tenants_.end() ? kNone : it->second;
}

// ---- reasons and statuses ---------------------------------------------------------------------

std::string_view to_string(Reason r) {
  switch (r) {
    case Reason::none:
      return "none";
    case Reason::opted_out:
      return "opted_out";
    case Reason::no_consent:
      return "no_consent";
    case Reason::quiet_hours:
      return "quiet_hours";
    case Reason::consent_level:
      return "consent_level";
    case Reason::frequency_cap:
      return "frequency_cap";
    case Reason::store_unavailable:
      return "store_unavailable";
    case Reason::unknown_program:
      return "unknown_program";
  }
  return "none";
}

std::string_view to_string(MtAction a) {
  switch (a) {
    case MtAction::forward:
      return "forward";
    case MtAction::refuse:
      return "refuse";
    case MtAction::hold_for_consent:
      return "hold_for_consent";
    case MtAction::refuse_and_request:
      return "refuse_and_request";
    case MtAction::hold_for_quiet_hours:
      return "hold_for_quiet_hours";
    case MtAction::disclaimer_then_forward:
      return "disclaimer_then_forward";
  }
  return "forward";
}

std::uint32_t detail::status_for(const config::Statuses& s, Reason r) {
  switch (r) {
    case Reason::none:
      return proto::status::kEsmeRok;
    case Reason::opted_out:
      return s.opted_out;
    case Reason::no_consent:
      return s.no_consent;
    case Reason::quiet_hours:
      return s.quiet_hours;
    case Reason::consent_level:
      return s.consent_level;
    case Reason::frequency_cap:
      return s.frequency_cap;
    case Reason::store_unavailable:
      return s.store_unavailable;
    case Reason::unknown_program:
      return proto::status::kEsmeRinvsrcadr;
  }
  return s.store_unavailable;
}

std::uint32_t status_for(const config::Config& config, Reason r) {
  return detail::status_for(config.defaults.statuses, r);
}

MtDecision refusal(const config::Config& config, Reason reason) {
  return MtDecision{MtAction::refuse, reason, status_for(config, reason), {}};
}

// ---- classification ---------------------------------------------------------------------------

Category category_of(const config::Config& config, const config::Account& account,
                     std::string_view service_type, const proto::TlvList& tlvs) {
  if (const auto v = tlvs.get_u8(proto::tlv::kSmppguardCategory)) {
    if (*v <= static_cast<std::uint8_t>(Category::promotional)) return static_cast<Category>(*v);
  }
  if (!service_type.empty()) {
    const auto& map = config.defaults.category_by_service_type;
    if (const auto it = map.find(service_type); it != map.end()) return it->second;
  }
  return account.default_category;
}

MtClassification classify_mt(const config::Config& config, const config::Account& account,
                             std::uint8_t source_ton, std::uint8_t source_npi,
                             std::string_view source_addr, std::uint8_t dest_ton,
                             std::uint8_t dest_npi, std::string_view destination_addr,
                             std::string_view service_type, const proto::TlvList& tlvs) {
  MtClassification out;
  const auto& country = config.defaults.default_country;
  const auto source =
      normalize_address(source_ton, source_npi, source_addr, country, AddressRole::source);
  const config::Program* program = source ? config.program_for_number(source->value) : nullptr;
  if (program == nullptr || program->tenant != account.tenant) {
    out.reason = Reason::unknown_program;
    out.status = proto::status::kEsmeRinvsrcadr;
    return out;
  }
  out.subject.program = program;
  const auto destination =
      normalize_address(dest_ton, dest_npi, destination_addr, country, AddressRole::destination);
  if (!destination) {
    out.status = proto::status::kEsmeRinvdstadr;
    out.error = destination.error();
    return out;
  }
  if (destination->kind != AddressKind::e164) {
    out.status = proto::status::kEsmeRinvdstadr;
    out.error = make_error_code(NumberErrc::not_e164);
    return out;
  }
  out.subject.msisdn = destination->value;
  out.subject.category = category_of(config, account, service_type, tlvs);
  return out;
}

// ---- coverage and zones -----------------------------------------------------------------------

bool covers(const ConsentRecord& record, Category category, const config::Program& program,
            TimePoint now) {
  if (record.state != ConsentState::opted_in) return false;
  switch (record.level) {
    case ConsentLevel::none:
      return false;
    case ConsentLevel::implied: {
      if (category != Category::conversational || record.last_mo_at_ms == 0) return false;
      const auto since_mo = to_unix_ms(now) - record.last_mo_at_ms;
      return since_mo <= program.implied_ttl.count();
    }
    case ConsentLevel::express:
      return category != Category::promotional;
    case ConsentLevel::express_written:
      return true;
  }
  return false;
}

QuietHours quiet_window(const config::QuietHours& quiet_hours) {
  return QuietHours{static_cast<int>(quiet_hours.start.count()),
                    static_cast<int>(quiet_hours.end.count())};
}

std::shared_ptr<const TimeZone> subscriber_zone(std::string_view msisdn,
                                                const config::Program& program,
                                                const TimeZoneDb& db) {
  if (auto z = db.find(zone_for_number(msisdn, program.timezone))) return std::move(*z);
  if (auto z = db.find(program.timezone)) return std::move(*z);
  static const auto kUtc = std::make_shared<const TimeZone>(TimeZone::utc());
  return kUtc;
}

// ---- decide_mt --------------------------------------------------------------------------------

namespace {

bool opted_out(const std::optional<ConsentRecord>& r) {
  return r && r->state == ConsentState::opted_out;
}

// SPEC 8 "Refusal precedence": consent_level only when consent exists (opted_in) but is too low.
Reason missing_reason(const std::optional<ConsentRecord>& r) {
  return r && r->state == ConsentState::opted_in ? Reason::consent_level : Reason::no_consent;
}

// Disclaimer mode applies to a subscriber without consent: no record (or state none), or an
// implied record that never got the disclaimer.
bool disclaimer_applies(const std::optional<ConsentRecord>& r) {
  if (!r || r->state == ConsentState::none) return true;
  return r->state == ConsentState::opted_in && r->level == ConsentLevel::implied &&
         r->disclaimer_sent_at_ms == 0;
}

}  // namespace

MtDecision decide_mt(const MtContext& context, const store::ConsentPair& consent) {
  const config::Config& config = context.config;
  if (context.subject.program == nullptr) return refusal(config, Reason::unknown_program);
  const config::Program& program = context.program;
  const Category category = context.subject.category;
  const auto& record = consent.program;

  if (opted_out(record) || opted_out(consent.tenant)) return refusal(config, Reason::opted_out);

  MtDecision pass{};  // forward, or disclaimer_then_forward once quiet hours and cap are passed
  if (!record || !covers(*record, category, program, context.now)) {
    const Reason reason = missing_reason(record);
    const std::uint32_t status = status_for(config, reason);
    switch (program.opt_in_mode) {
      case OptInMode::strict:
        return refusal(config, reason);
      case OptInMode::confirm:
        // A YES gives express, which never covers promotional: asking would not help.
        if (category == Category::promotional) return refusal(config, reason);
        return MtDecision{program.hold ? MtAction::hold_for_consent : MtAction::refuse_and_request,
                          reason,
                          status,
                          {}};
      case OptInMode::disclaimer:
        // The disclaimer yields express: promotional still needs express_written.
        if (category == Category::promotional || !disclaimer_applies(record)) {
          return refusal(config, reason);
        }
        pass.action = MtAction::disclaimer_then_forward;
        break;
    }
  }

  if (category != Category::conversational && program.quiet_hours) {
    const QuietHours window = quiet_window(*program.quiet_hours);
    if (window.enabled() && is_quiet(window, context.subscriber_zone, context.now)) {
      if (program.quiet_hours->action == config::QuietAction::reject) {
        return refusal(config, Reason::quiet_hours);
      }
      return MtDecision{MtAction::hold_for_quiet_hours, Reason::quiet_hours,
                        status_for(config, Reason::quiet_hours),
                        next_window_open(window, context.subscriber_zone, context.now)};
    }
  }

  if (const auto& cap = program.frequency_cap;
      cap && cap->applies_to(category) && context.sent_in_cap_window >= cap->max) {
    return refusal(config, Reason::frequency_cap);
  }
  return pass;
}

}  // namespace smppguard::policy
