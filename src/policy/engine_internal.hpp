#pragma once
// Helpers shared by the engine's mutation sources (mutations.cpp, mo.cpp). Not a public API.
#include <optional>
#include <string>
#include <string_view>

#include "policy/engine.hpp"

namespace smppguard::policy::detail {

/// The program or tenant record, inside a mutation. Throws std::system_error when the store
/// cannot be read: the mutation then fails as a whole and nothing is decided on a guess.
std::optional<store::ConsentRecord> read_consent(store::Batch& batch, std::string_view program,
                                                 std::string_view msisdn);
std::optional<store::ConsentRecord> read_tenant_consent(store::Batch& batch,
                                                        std::string_view tenant,
                                                        std::string_view msisdn);
/// held_for, throwing like read_consent.
std::vector<store::HeldMessage> read_held(store::Batch& batch, std::string_view program,
                                          std::string_view msisdn);

/// "tenant:<tenant>": the program field of audit entries about tenant-wide records.
std::string tenant_key(std::string_view tenant);
/// The state name of a record, "none" when there is none.
std::string state_name(const std::optional<store::ConsentRecord>& record);
bool is_opted_out(const std::optional<store::ConsentRecord>& record);

/// An audit entry of `event` stamped `now`, copying the identity, actor and MO fields of `base`.
store::AuditEntry audit_from(const store::AuditEntry& base, std::string event, TimePoint now);

/// The configured status of a reason.
std::uint32_t status_for(const config::Statuses& statuses, Reason reason);
/// A refusal with the built-in default status (for the overloads without a Config).
MtDecision default_refusal(Reason reason);

/// Confirm mode, shared by MTs and MOs: a record without consent (absent or none) becomes
/// pending, with an audit `pending` built from `base`; the request is due when none was sent
/// within request_interval, and then opt_in_requested_at is set to now.
struct PendingOutcome {
  bool request_due = false;
  bool became_pending = false;
};
PendingOutcome mark_pending(store::Batch& batch, const config::Program& program,
                            const std::string& msisdn,
                            const std::optional<store::ConsentRecord>& current,
                            const store::AuditEntry& base, TimePoint now);

/// An opt-out (STOP, the admin API): removes every held message of (program, msisdn) and audits
/// each held MT `mt_refused` (detail "opted_out <proxy id>", program `program`, otherwise as
/// `base`); held MOs (empty account) are dropped without an entry. Returns them, in seq order.
std::vector<store::HeldMessage> fail_held(store::Batch& batch, const std::string& program,
                                          const std::string& msisdn, const store::AuditEntry& base,
                                          TimePoint now);
/// An opt-in (YES, the admin API): removes the held messages of (program, msisdn) that wait for
/// consent (reason pending_consent) and audits each MT `mt_released` (detail = proxy id). Held
/// for quiet hours stay. Returns them, in their original order.
std::vector<store::HeldMessage> release_pending(store::Batch& batch, const std::string& program,
                                                const std::string& msisdn,
                                                const store::AuditEntry& base, TimePoint now);

}  // namespace smppguard::policy::detail
