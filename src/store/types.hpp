#pragma once
// Domain records kept in the store. Plain values; no RocksDB types leak out of src/store.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smppguard::store {

/// Consent state of one (program, subscriber) pair (SPEC section 3).
enum class ConsentState : std::uint8_t { none = 0, pending = 1, opted_in = 2, opted_out = 3 };
/// Consent level; ordered: implied < express < express_written.
enum class ConsentLevel : std::uint8_t { none = 0, implied = 1, express = 2, express_written = 3 };
/// How consent (or its revocation) was obtained.
enum class ConsentSource : std::uint8_t {
  none = 0,
  keyword = 1,
  mo_conversation = 2,
  api = 3,
  web_form = 4,
  verbal = 5,
  paper = 6,
  import = 7,
  disclaimer = 8,
};

std::string_view to_string(ConsentState v);
std::string_view to_string(ConsentLevel v);
std::string_view to_string(ConsentSource v);
/// Parse the names above; false when unknown.
bool parse(std::string_view text, ConsentState& out);
bool parse(std::string_view text, ConsentLevel& out);
bool parse(std::string_view text, ConsentSource& out);

using Evidence = std::map<std::string, std::string>;  // sorted: canonical for hashing

/// The consent record of one (program, E.164 subscriber) pair, or of (tenant, subscriber) for
/// tenant-wide opt-outs (STOPALL, stop_scope: tenant). Times are Unix milliseconds, 0 = never.
struct ConsentRecord {
  ConsentState state = ConsentState::none;
  ConsentLevel level = ConsentLevel::none;
  ConsentSource source = ConsentSource::none;
  Evidence evidence;
  bool handset_confirmed = false;  // the subscriber's handset answered (YES/START) or API said so
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::int64_t last_mo_at_ms = 0;  // last MO from the subscriber: implied consent window
  std::int64_t opt_in_requested_at_ms =
      0;  // confirm mode: last opt-in request sent (request_interval)
  std::int64_t opt_out_confirmed_at_ms = 0;  // the one opt-out confirmation was sent at
  std::int64_t last_reminder_at_ms = 0;      // last still_opted_out reminder (reminder_interval)
  std::int64_t disclaimer_sent_at_ms = 0;    // disclaimer mode: disclaimer sent at
  // The seq of the last audit entry about this subscriber when the record was written (set by
  // the store): `audit verify` checks the record against that history (docs/store.md, "Sealed
  // consent records").
  std::uint64_t audit_seq = 0;

  bool operator==(const ConsentRecord&) const = default;
};

/// One audit log entry (SPEC sections 3 and 8, /v1/audit). seq, prev_hash and hash are assigned by
/// the store when the entry is committed; callers fill the rest.
struct AuditEntry {
  std::uint64_t seq = 0;
  std::int64_t time_ms = 0;
  std::string program;    // program id, or "tenant:<tenant>" for tenant-wide changes
  std::string msisdn;     // E.164
  std::string event;      // opted_in, opted_out, pending, help, possible_opt_out, mt_refused, ...
  std::string old_state;  // ConsentState name or empty
  std::string new_state;
  std::string source;  // ConsentSource name or empty
  std::string actor;   // account system_id, "api:<token name>", or "keyword:<kw>:<mo id>"
  Evidence evidence;
  std::string mo_text;  // raw MO text (UTF-8) when an MO caused the entry
  std::string mo_normalized;
  std::string keyword;
  std::string rule;
  std::string detail;     // refusal reason, template name, message id, ... (free text)
  std::string prev_hash;  // hex SHA-256 of the previous entry ("0"*64 for the first)
  std::string hash;       // hex SHA-256 of this entry (see docs/store.md for the canonical form)

  bool operator==(const AuditEntry&) const = default;
};

/// What the proxy knows about one accepted MT: the id it gave the account and where it went.
/// Kept for message_map_ttl, looked up by either id.
struct MessageRoute {
  std::string proxy_id;      // the id the account was given
  std::string account;       // system_id of the sending account ("" for the proxy's own messages)
  std::string upstream;      // upstream name
  std::string upstream_id;   // id as the upstream gave it in submit_sm_resp
  std::string upstream_key;  // upstream_id normalised by the upstream's message_id_format
  std::string program;       // proxy messages: program and subscriber, for receipt auditing
  std::string msisdn;
  std::string template_name;  // proxy messages: which template
  std::int64_t created_at_ms = 0;
  std::int64_t expires_at_ms = 0;

  bool operator==(const MessageRoute&) const = default;
};

/// Kind of an item in the durable queue: towards ESMEs (mo, receipt), or towards the carrier
/// (outbox: a message the proxy itself must get accepted, an encoded OutboxMessage).
enum class DeliveryKind : std::uint8_t { mo = 1, receipt = 2, outbox = 3 };

/// The queue target of the carrier outbox (docs/store.md, "Outbox").
inline constexpr std::string_view kOutboxTarget = "outbox:carrier";

/// One deliver_sm/data_sm waiting for an ESME. `target` is "account:<system_id>" (receipts go to
/// the account that sent the MT) or "tenant:<tenant>" (MOs go to any receiver bind of the tenant).
struct DeliveryItem {
  std::uint64_t seq = 0;  // assigned by the store; FIFO order within a target
  std::string target;
  DeliveryKind kind = DeliveryKind::mo;
  std::string pdu;  // the encoded PDU to send; its sequence number is patched at send
  std::int64_t created_at_ms = 0;
  std::int64_t expires_at_ms = 0;
  std::int64_t next_attempt_at_ms = 0;
  std::uint32_t attempts = 0;

  bool operator==(const DeliveryItem&) const = default;
};

/// One part of a multipart MO, kept until the other parts arrive so that a restart between the
/// parts does not cut a long STOP in two (docs/store.md, "Multipart MOs"). The fields are those
/// the reassembler reads (proto::IncomingPart).
struct MoPart {
  std::uint8_t seq = 0;  // 1..total: the part's place in its message
  std::uint8_t data_coding = 0;
  std::uint8_t esm_class = 0;
  std::string payload;  // short_message (or message_payload) as it came, UDH included
  bool has_sar = false;
  std::uint16_t sar_ref = 0;
  std::uint8_t sar_total = 0;
  std::uint8_t sar_seq = 0;
  std::int64_t received_at_ms = 0;
  std::int64_t expires_at_ms = 0;  // after this it is ignored, and compaction drops it

  bool operator==(const MoPart&) const = default;
};

/// Why an MT is held.

enum class HoldReason : std::uint8_t { pending_consent = 1, quiet_hours = 2 };

/// An MT held by the proxy (confirm mode waiting for YES, or quiet hours with action hold).
struct HeldMessage {
  std::uint64_t seq = 0;  // assigned by the store; release order
  std::string program;
  std::string msisdn;
  std::string account;   // system_id that sent it
  std::string proxy_id;  // the id the account was given when it was held
  std::string pdu;       // the original request frame from the ESME, as it came
  HoldReason reason = HoldReason::pending_consent;
  std::int64_t held_at_ms = 0;
  std::int64_t release_at_ms = 0;  // quiet hours: when the window opens (0 = on consent)
  std::int64_t expires_at_ms = 0;  // hold_ttl
  bool wants_receipt = false;      // registered_delivery asked for a receipt

  bool operator==(const HeldMessage&) const = default;
};

/// What the outbox holds until the carrier's submit_sm_resp accepts it: a proxy message
/// (opt-out or opt-in confirmation, HELP answer, opt-in request, reminder) or a held MT released
/// by YES or by the end of quiet hours. Resent after a restart (at least once).
struct OutboxMessage {
  enum class Kind : std::uint8_t { proxy_message = 1, released_mt = 2 };
  Kind kind = Kind::proxy_message;
  std::string program;
  std::string msisdn;
  std::string from_number;    // proxy_message: the program number it is sent from
  std::string template_name;  // proxy_message: help, opt_out_confirm, ...
  std::string text;           // proxy_message: rendered
  HeldMessage held;           // released_mt

  bool operator==(const OutboxMessage&) const = default;
};
/// The outbox item's payload (DeliveryItem::pdu) and back; false when it does not decode.
std::string encode_outbox(const OutboxMessage& message);
bool decode_outbox(std::string_view in, OutboxMessage& message);

/// Cluster mode (docs/cluster.md): one version of the cluster's consent log, what one node's
/// writer group committed: the consent records it wrote (as sealed, audit_seq set) and the audit
/// entries it appended (seq, prev_hash and hash set), in the order they were written.
struct ReplicatedConsent {
  bool tenant = false;  // a tenant-wide record (owner is the tenant) or a program's (owner: id)
  std::string owner;
  std::string msisdn;
  ConsentRecord record;

  bool operator==(const ReplicatedConsent&) const = default;
};
struct ReplicatedChange {
  std::uint64_t version = 0;
  std::vector<ReplicatedConsent> consents;
  std::vector<AuditEntry> audit;  // ascending seq, each linked to the one before

  bool empty() const { return consents.empty() && audit.empty(); }
  bool operator==(const ReplicatedChange&) const = default;
};
/// The hash an audit entry must carry (docs/store.md, "Audit chain"): for checking a chain kept
/// outside the store (cluster mode's copy in PostgreSQL).
std::string audit_entry_hash(const AuditEntry& entry);

/// The change as bytes (its body in PostgreSQL) and back; false when it does not decode.
std::string encode_change(const ReplicatedChange& change);
bool decode_change(std::string_view in, ReplicatedChange& change);

}  // namespace smppguard::store
