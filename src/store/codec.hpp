#pragma once
// Key layouts and value encodings of the store (docs/store.md, "Keys" and "Values"). Internal to
// src/store. Pure functions; thread-safe.
//
// Values are a small versioned binary format: a version byte, then the fields in a fixed order as
// unsigned LEB128 varints, zigzag varints (signed times), 8-byte big-endian integers (where a
// reader must find a field without decoding the rest) and length-prefixed byte strings. Decoders
// check every length against the input and reject trailing bytes: a corrupt value decodes to
// false, never to a crash.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/types.hpp"

namespace smppguard::store::detail {

inline constexpr std::uint8_t kValueVersion = 1;

// ---- keys --------------------------------------------------------------------------------------
inline constexpr char kConsentProgramTag = 'p';
inline constexpr char kConsentTenantTag = 't';
inline constexpr char kRouteProxyTag = 'p';
inline constexpr char kRouteUpstreamTag = 'u';

inline constexpr std::string_view kMetaSchemaVersion = "schema_version";
inline constexpr std::string_view kMetaBootCounter = "boot_counter";
inline constexpr std::string_view kMetaAuditHead = "audit_head";
inline constexpr std::string_view kMetaQueueSeq = "queue_seq";
inline constexpr std::string_view kMetaHeldSeq = "held_seq";
inline constexpr std::string_view kMetaClusterVersion = "cluster_version";  // cluster mode
// 2: consent records are sealed (a store of version 1 is sealed at its first read-write open).
inline constexpr std::uint32_t kSchemaVersion = 2;

/// True when `s` can be a key component: it holds no NUL, the separator.
bool valid_component(std::string_view s);

void append_be64(std::string& out, std::uint64_t v);
std::uint64_t read_be64(std::string_view eight_bytes);
/// Times in keys: big-endian with the sign bit flipped, so negative values sort first.
void append_time_key(std::string& out, std::int64_t ms);
std::int64_t read_time_key(std::string_view eight_bytes);

/// consent: tag + owner + '\0' + msisdn. Reuses `out`'s capacity.
void consent_key(std::string& out, char tag, std::string_view owner, std::string_view msisdn);
/// consent export prefix: tag + owner + '\0'.
std::string consent_prefix(char tag, std::string_view owner);

std::string audit_key(std::uint64_t seq);
std::string audit_msisdn_key(std::string_view msisdn, std::uint64_t seq);
std::string audit_msisdn_prefix(std::string_view msisdn);

std::string held_prefix(std::string_view program, std::string_view msisdn);
std::string held_key(std::string_view program, std::string_view msisdn, std::uint64_t seq);
std::string held_time_key(std::int64_t due_ms, std::uint64_t seq);
/// min(release_at when set, expires_at when set); INT64_MAX when neither is set.
std::int64_t held_due_ms(const HeldMessage& m);

std::string queue_prefix(std::string_view target);
std::string queue_key(std::string_view target, std::uint64_t seq);

std::string route_proxy_key(std::string_view proxy_id);
std::string route_upstream_key(std::string_view upstream, std::string_view upstream_key);

std::string freq_key(std::string_view program, std::string_view msisdn);

/// mo_parts: message + '\0' + BE16 ref + total, then the part's seq (one octet).
std::string mo_parts_prefix(std::string_view message, std::uint16_t ref, std::uint8_t total);

/// The smallest key greater than every key starting with `prefix` ("" when there is none).
std::string prefix_end(std::string_view prefix);

// ---- values ------------------------------------------------------------------------------------
/// consent value v1 (stores written before sealing): the fields, no audit_seq, no seal.
void encode(const ConsentRecord& r, std::string& out);
bool decode(std::string_view in, ConsentRecord& r);
/// consent value v2, what the store writes: version 2, the v1 fields, audit_seq, then a 16-byte
/// seal (SHA-256 over a tag, the key and every byte before it). A value edited in place (a state
/// byte flipped) no longer matches its seal and is not trusted.
inline constexpr std::uint8_t kConsentSealedVersion = 2;
inline constexpr std::size_t kConsentSealBytes = 16;
void encode_consent(std::string_view key, const ConsentRecord& r, std::string& out);
enum class ConsentCheck : std::uint8_t { ok, unsealed, bad_seal, undecodable };
/// Decodes and checks a stored value; `unsealed` is a v1 value (decoded, not provable).
ConsentCheck check_consent(std::string_view key, std::string_view in, ConsentRecord& r);
/// True only for a sealed value whose seal matches (what every read of the store trusts).
bool decode_consent(std::string_view key, std::string_view in, ConsentRecord& r);

void encode(const AuditEntry& e, std::string& out);
bool decode(std::string_view in, AuditEntry& e);

/// idmap 'p' value: version, BE expires_at, then the rest of the route.
void encode(const MessageRoute& r, std::string& out);
bool decode(std::string_view in, MessageRoute& r);
/// idmap 'u' value: version, BE expires_at, proxy_id.
void encode_route_ref(std::int64_t expires_at_ms, std::string_view proxy_id, std::string& out);
bool decode_route_ref(std::string_view in, std::int64_t& expires_at_ms, std::string& proxy_id);
/// expires_at of either idmap value, read without decoding the rest; false when malformed.
bool route_expiry(std::string_view in, std::int64_t& expires_at_ms);

void encode(const DeliveryItem& d, std::string& out);
bool decode(std::string_view in, DeliveryItem& d);

void encode(const HeldMessage& m, std::string& out);
bool decode(std::string_view in, HeldMessage& m);

/// mo_parts value: version, BE expires_at (read by the expiry filter, as for idmap), the rest.
void encode(const MoPart& p, std::string& out);
bool decode(std::string_view in, MoPart& p);

/// freq value: ascending send times.
void encode_sent_times(const std::vector<std::int64_t>& times, std::string& out);
bool decode_sent_times(std::string_view in, std::vector<std::int64_t>& times);

/// meta audit_head value: BE seq + 64 hex chars.
void encode_audit_head(std::uint64_t seq, std::string_view hash, std::string& out);
bool decode_audit_head(std::string_view in, std::uint64_t& seq, std::string& hash);

}  // namespace smppguard::store::detail
