#pragma once
// The consent engine: SPEC sections 3, 4 and 5 as pure logic over the config and the store API.
// No sockets, no Asio. The session layer (src/session/consent_chain) calls these functions and
// carries out what they return: sending replies, forwarding or holding MTs, receipts.
//
// Flow of an MT:   classify_mt()  -> decide_mt() on a ConsentPair read from the store (fast path,
//                  any thread) -> forward | refuse | hold/disclaimer, the last two completed by a
//                  mutation (hold_for_consent, hold_for_quiet_hours, record_disclaimer) run on the
//                  store's writer thread, so read-modify-write of a record is atomic.
// Flow of an MO:   match keywords on the decoded, reassembled text (pure) -> apply_mo() inside a
//                  mutation: consent change, audit entries, held MTs to release or fail, replies.
// Thread-safety: every function is pure or runs inside one store mutation; a Programs object is
// immutable once built and shared by every session.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <smppguard/proto/pdu.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "common/time.hpp"
#include "config/config.hpp"
#include "policy/keywords.hpp"
#include "policy/quiet_hours.hpp"
#include "policy/timezone.hpp"
#include "store/store.hpp"

namespace smppguard::policy {

/// The keyword lists of one program (defaults are added by KeywordMatcher itself).
ProgramKeywords program_keywords(const config::Program& program);

/// Per-program data derived from a Config once per load or reload: the KeywordMatcher of each
/// program (defaults + the program's keywords + its phrase_opt_out flag) and the programs of each
/// tenant. Immutable once built; every const member is thread-safe. Holds no pointer into the
/// Config, so it may outlive it.
class Programs {
 public:
  explicit Programs(const config::Config& config);

  /// The matcher of a program; the defaults-only matcher for an unknown id.
  const KeywordMatcher& matcher(std::string_view program_id) const;
  /// Matches a normalised MO text with the program's matcher.
  KeywordMatch match(std::string_view program_id, const NormalizedText& text) const;
  /// Ids of the programs of a tenant, in config order; empty for an unknown tenant.
  const std::vector<std::string>& of_tenant(std::string_view tenant) const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  template <typename T>
  using Map = std::unordered_map<std::string, T, Hash, std::equal_to<>>;

  KeywordMatcher defaults_{};
  Map<KeywordMatcher> matchers_{};
  Map<std::vector<std::string>> tenants_{};
};

/// Why an MT was refused or held (metric label `reason`, audit `detail`).
enum class Reason : std::uint8_t {
  none,
  opted_out,
  no_consent,
  quiet_hours,
  consent_level,
  frequency_cap,
  store_unavailable,
  unknown_program,
};
std::string_view to_string(Reason r);
/// The configured command_status of a refusal reason (defaults.statuses); unknown_program is
/// ESME_RINVSRCADR (0x0A), none is 0.
std::uint32_t status_for(const config::Config& config, Reason r);

/// What classify_mt() reads from one MT destination.
struct MtSubject {
  const config::Program* program = nullptr;  // from the source address; nullptr = unknown
  std::string msisdn;                        // E.164 of the destination
  config::Category category = config::Category::informational;
};

/// classify_mt() output: the subject, or why the MT cannot be decided (status != 0).
struct MtClassification {
  MtSubject subject;
  Reason reason = Reason::none;  // unknown_program when status is ESME_RINVSRCADR
  std::uint32_t status = 0;      // 0, ESME_RINVSRCADR (0x0A) or ESME_RINVDSTADR (0x0B)
  std::error_code error;         // why the destination is not an E.164 number
};

/// Reads one MT destination (SPEC 4): the program owning the normalised source address (an
/// account may only send from its own tenant's programs: else unknown_program, 0x0A), the
/// destination as E.164 (TON/NPI aware, default_country; a short code or a bad number is 0x0B),
/// and category_of(). Pure.
MtClassification classify_mt(const config::Config& config, const config::Account& account,
                             std::uint8_t source_ton, std::uint8_t source_npi,
                             std::string_view source_addr, std::uint8_t dest_ton,
                             std::uint8_t dest_npi, std::string_view destination_addr,
                             std::string_view service_type, const proto::TlvList& tlvs);

/// The category of an MT: TLV 0x1400 (smppguard_category: 0, 1, 2) over service_type mapped by
/// defaults.category_by_service_type over the account's default_category.
config::Category category_of(const config::Config& config, const config::Account& account,
                             std::string_view service_type, const proto::TlvList& tlvs);

/// Whether a consent record covers a category at `now` (SPEC 3): implied covers conversational
/// for implied_ttl after last_mo_at; express covers conversational and informational;
/// express_written covers all three. Only state opted_in covers anything.
bool covers(const store::ConsentRecord& record, config::Category category,
            const config::Program& program, TimePoint now);

/// A program's quiet_hours in the form is_quiet()/next_window_open() take.
QuietHours quiet_window(const config::QuietHours& quiet_hours);

/// The zone quiet hours use for a subscriber: zone_for_number(msisdn, program.timezone), then
/// the program's zone, then UTC when neither loads. Thread-safe; the first use of a zone reads
/// its file (TimeZoneDb caches it).
std::shared_ptr<const TimeZone> subscriber_zone(std::string_view msisdn,
                                                const config::Program& program,
                                                const TimeZoneDb& db = TimeZoneDb::system());

enum class MtAction : std::uint8_t {
  forward,                  // send it on
  refuse,                   // answer `status` (reason)
  hold_for_consent,         // confirm mode with hold: true: hold durably, maybe send the request
  refuse_and_request,       // confirm mode with hold: false: refuse no_consent, maybe request
  hold_for_quiet_hours,     // quiet_hours action hold: hold until release_at
  disclaimer_then_forward,  // disclaimer mode, first MT to this subscriber
};

/// "forward", "refuse", "hold_for_consent", ... (logs).
std::string_view to_string(MtAction a);

struct MtDecision {
  MtAction action = MtAction::forward;
  Reason reason = Reason::none;
  std::uint32_t status = 0;  // for refuse / refuse_and_request (and the would-be refusal of
                             // hold_for_consent)
  TimePoint release_at{};    // for hold_for_quiet_hours

  bool operator==(const MtDecision&) const = default;
};

/// A refusal with the configured status of `reason` (store_unavailable, unknown_program, ...).
MtDecision refusal(const config::Config& config, Reason reason);

/// Inputs of decide_mt beyond the consent records.
struct MtContext {
  const config::Config& config;
  const config::Program& program;
  const MtSubject& subject;
  TimePoint now;
  const TimeZone& subscriber_zone;     // zone_for_number(msisdn, program.timezone)
  std::size_t sent_in_cap_window = 0;  // Store::sent_since(program, msisdn, now - cap.per)
};

/// Decides one MT destination (SPEC 4 and 8 "Refusal precedence", "Disclaimer mode"), in order:
/// opted out (program or tenant) -> consent covers the category, else opt_in_mode -> quiet hours
/// for informational and promotional -> frequency cap. Pure. A subject without a program gives
/// unknown_program. Quiet hours and the cap are checked for forward and disclaimer_then_forward
/// only: a held or refused MT is decided again when it is released (docs/consent.md).
MtDecision decide_mt(const MtContext& context, const store::ConsentPair& consent);

/// Who or what caused a change, for the audit log.
struct Actor {
  std::string name;  // account system_id, "api:<token name>", "keyword:<KEYWORD>:<mo id>"
};

/// Output of the MT mutations below: what the session must send after the commit.
struct MtMutationResult {
  bool send_opt_in_request = false;  // confirm: a request is due (request_interval respected)
  bool send_disclaimer = false;      // disclaimer: this MT is the first one
  bool held = false;                 // the MT was stored as a held message
  std::uint64_t held_seq = 0;
  std::optional<MtDecision> redecided;  // the record changed since the fast-path read: decide again
};

/// Confirm mode (hold or refuse_and_request): inside a mutation, re-reads the records and
/// decides again with decide_mt(context, fresh records); when that is no longer hold_for_consent
/// or refuse_and_request (a YES or a STOP arrived meanwhile) nothing is written and `redecided`
/// holds the new decision. Otherwise: a record without consent (none) becomes pending (audit
/// `pending`; an opted_in record whose level is too low keeps its state); a request is due when
/// none was sent within request_interval (opt_in_requested_at set to now); with `hold`, the MT is
/// stored (reason pending_consent, expires_at = now + hold_ttl; audit `mt_held`).
/// Throws std::system_error when the store cannot be read (the mutation fails: fail closed).
MtMutationResult hold_for_consent(store::Batch& batch, const MtContext& context,
                                  std::optional<store::HeldMessage> hold, const Actor& actor);
/// The same without the category: redecides only on an opt-out (refuse opted_out) or an opt-in
/// of level express or more (forward), with the DEFAULT statuses (config::Statuses{}); prefer
/// the MtContext overload, or call decide_mt again on `redecided`.
MtMutationResult hold_for_consent(store::Batch& batch, const config::Program& program,
                                  const std::string& msisdn, std::optional<store::HeldMessage> hold,
                                  const Actor& actor, TimePoint now);

/// Quiet hours with action hold: stores the held MT (reason quiet_hours; release_at_ms as given,
/// which the caller sets from MtDecision::release_at; audit `mt_held`). The MT must be decided
/// again when released: consent may have changed overnight.
MtMutationResult hold_for_quiet_hours(store::Batch& batch, store::HeldMessage hold,
                                      const Actor& actor, TimePoint now);

/// Disclaimer mode, called after the disclaimer's submit_sm_resp was OK: creates the record
/// opted_in / express / source disclaimer when there is none (or state none), or upgrades an
/// implied record to it (disclaimer_sent_at = now; audit `opted_in`). Idempotent. When the record
/// is opted out (program or tenant; a STOP arrived while the disclaimer was in flight) or pending,
/// nothing is written and `redecided` is a refusal (DEFAULT statuses; use status_for): the MT must
/// then not be forwarded. Throws std::system_error when the store cannot be read.
MtMutationResult record_disclaimer(store::Batch& batch, const config::Program& program,
                                   const std::string& msisdn, const Actor& actor, TimePoint now);

/// Audits a refused MT (event `mt_refused`, detail = reason, or "reason message_id" when
/// `message_id` is given).
void audit_refusal(store::Batch& batch, const config::Program* program, const std::string& msisdn,
                   Reason reason, const Actor& actor, TimePoint now,
                   std::string_view message_id = {});

/// Releases a held message the session is about to forward (quiet hours over): removes it and
/// audits `mt_released` (detail = proxy_id). Not needed for apply_mo's `release`, which are
/// already removed and audited.
void release_held(store::Batch& batch, const store::HeldMessage& held, const Actor& actor,
                  TimePoint now);

/// Cluster mode (docs/cluster.md, "Held MTs across nodes"): a consent change committed by another
/// node reached this replica; the MTs held here for (program, msisdn) follow it as they would have
/// followed the change made here. Opted in: those held for consent are released (removed, audited
/// `mt_released`, in their original order) into `release`; opted out: every held one is failed
/// (audited `mt_refused`) into `failed`. Otherwise nothing. Reads the record inside the mutation.
struct HeldFollowUp {
  std::vector<store::HeldMessage> release;
  std::vector<store::HeldMessage> failed;
};
HeldFollowUp follow_consent_change(store::Batch& batch, const std::string& program,
                                   const std::string& msisdn, const Actor& actor, TimePoint now);

/// A held message whose hold_ttl ran out: removes it and audits `mt_expired` (detail =
/// proxy_id). The session then sends the account a failed (EXPIRED) receipt when it asked for one.
void expire_held(store::Batch& batch, const store::HeldMessage& held, TimePoint now);

/// Records that a proxy message (a template) was sent, at its real send time: audit
/// `message_sent` (detail "<template> <message_id>"). For opt_out_confirm it also sets
/// opt_out_confirmed_at of the program record (and of the tenant record when that is opted out),
/// so a confirmation later than 5 minutes after the STOP shows up.
void record_message_sent(store::Batch& batch, const config::Program& program,
                         const std::string& msisdn, std::string_view template_name,
                         std::string_view message_id, TimePoint sent_at);

/// Audits a delivery receipt for a proxy message (event `receipt`, detail = the receipt's stat
/// and the message id, actor "upstream:<name>"). Receipts for proxy messages are never forwarded.
void audit_proxy_receipt(store::Batch& batch, const store::MessageRoute& route,
                         std::string_view receipt_text, TimePoint now);

/// One MO as the engine sees it.
struct MoInput {
  const config::Config& config;
  const config::Program& program;  // owner of the number the subscriber texted
  std::string msisdn;              // the subscriber, E.164
  std::string number;              // the number the subscriber texted (program number)
  std::string raw_text;            // decoded UTF-8 (reassembled when multipart)
  NormalizedText normalized;
  KeywordMatch match;
  std::string mo_id;  // id the proxy gave this MO (audit actor/evidence)
  TimePoint now;
  std::string pdu;  // the MO as it came (encoded PDU); stored when held
                    // (mo_requires_consent); empty: the session keeps it itself
};

/// A message the proxy must send to the subscriber after the commit, from MoInput::number.
struct Reply {
  std::string template_name;  // help, opt_out_confirm, opt_in_request, opt_in_confirm, ...
  std::string text;           // rendered

  bool operator==(const Reply&) const = default;
};

/// One consent record changed by apply_mo (metric smppguard_consent_changes_total).
struct ConsentChange {
  std::string program;  // program id, or "tenant:<tenant>"
  store::ConsentState to = store::ConsentState::none;
  store::ConsentSource source = store::ConsentSource::none;

  bool operator==(const ConsentChange&) const = default;
};

/// What apply_mo() decided.
struct MoOutcome {
  std::string kind;  // metric label: opt_out, opt_in, help, other, possible_opt_out
  std::optional<store::ConsentState> changed_to;  // consent change (metric) or nullopt
  std::vector<Reply> replies;                     // in order: confirmation first
  std::vector<store::HeldMessage> release;        // held MTs to forward now, in original order
  std::vector<store::HeldMessage> failed;         // held MTs that failed (STOP): failed receipts
  bool forward = true;                 // forward the MO to the tenant (forward_keywords, ...)
  bool hold_mo = false;                // mo_requires_consent: held until YES
  std::uint64_t held_mo_seq = 0;       // hold_mo with MoInput::pdu: its HeldMessage seq
  std::vector<ConsentChange> changes;  // every record changed, in audit order
};

/// Applies SPEC 5's effects table inside a mutation: consent changes (STOPALL and stop_scope
/// tenant are tenant-wide), audit entries for every change, HELP and possible_opt_out, exactly one
/// opt-out confirmation, still_opted_out at most once per reminder_interval and only for
/// non-keyword MOs, implied consent refreshed by other MOs, held MTs released by an opt-in (after
/// the confirmation) and failed by an opt-out. Held messages with an empty `account` are MOs
/// (mo_requires_consent): forward them to the tenant when released, drop them when failed.
/// Throws std::system_error when the store cannot be read (the mutation fails; answer the
/// upstream with a temporary error so that the carrier retries).
MoOutcome apply_mo(store::Batch& batch, const MoInput& input);

/// Renders a template: {program} -> program name, {help_contact}, {number} -> the number.
/// Other braces are left as written.
std::string render(std::string_view tmpl, const config::Program& program, std::string_view number);
/// The template of a Reply::template_name ("help", "opt_out_confirm", ...); empty when unknown.
std::string_view template_text(const config::Program& program, std::string_view template_name);

/// The submit_sm PDUs (one per part) of a proxy message from `from_number` (E.164 or short code)
/// to `msisdn`: GSM 03.38 when every character fits, else UCS2; split with an 8-bit-reference UDH
/// when long; registered_delivery 1. Sequence numbers are left 0. Empty when a number does not
/// parse or the text is not UTF-8.
std::vector<proto::Pdu> build_proxy_message(std::string_view from_number, std::string_view msisdn,
                                            std::string_view text, std::uint8_t reference);

/// A delivery receipt (deliver_sm, esm_class 0x04) for a message the proxy answered itself:
/// refuse_with: receipt (stat REJECTD), held MTs that expired (EXPIRED) or failed on STOP
/// (REJECTD). Text per SMPP v3.4 Appendix B with `err:` the last three hex digits of `error`
/// (upper case) and `text:` the first 20 characters of the MT (characters outside printable ASCII
/// as '?'); TLVs receipted_message_id and message_state (REJECTD 8, EXPIRED 3, UNDELIV 5,
/// DELIVRD 2, ...). `original_mt` is a submit_sm, data_sm or submit_multi (first address).
proto::Pdu build_receipt(std::string_view message_id, const proto::Pdu& original_mt,
                         std::string_view stat, std::uint32_t error, TimePoint submitted,
                         TimePoint done);

}  // namespace smppguard::policy
