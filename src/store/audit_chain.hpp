#pragma once
// The audit chain's hash rule (docs/store.md, "Audit chain"). Internal to src/store; pure
// functions, thread-safe.
#include <string>
#include <string_view>

#include "store/types.hpp"

namespace smppguard::store::detail {

/// prev_hash of the first entry.
inline const std::string kGenesisHash(64, '0');

/// The canonical serialisation that is hashed: a JSON object of every field except `hash`, keys in
/// a fixed order, no whitespace (Boost.JSON's serializer).
std::string canonical_audit_json(const AuditEntry& entry);

/// Lowercase hex SHA-256 of `data` (OpenSSL EVP).
std::string sha256_hex(std::string_view data);

/// sha256_hex(canonical_audit_json(entry)).
std::string audit_hash(const AuditEntry& entry);

}  // namespace smppguard::store::detail
