#include "store/audit_chain.hpp"

#include <openssl/evp.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <stdexcept>

namespace smppguard::store::detail {

std::string canonical_audit_json(const AuditEntry& e) {
  boost::json::object evidence;
  for (const auto& [k, v] : e.evidence) evidence.emplace(k, v);

  // Insertion order is serialisation order: this list is the canonical key order.
  boost::json::object o;
  o.reserve(16);
  o.emplace("seq", e.seq);
  o.emplace("time_ms", e.time_ms);
  o.emplace("program", e.program);
  o.emplace("msisdn", e.msisdn);
  o.emplace("event", e.event);
  o.emplace("old_state", e.old_state);
  o.emplace("new_state", e.new_state);
  o.emplace("source", e.source);
  o.emplace("actor", e.actor);
  o.emplace("evidence", std::move(evidence));
  o.emplace("mo_text", e.mo_text);
  o.emplace("mo_normalized", e.mo_normalized);
  o.emplace("keyword", e.keyword);
  o.emplace("rule", e.rule);
  o.emplace("detail", e.detail);
  o.emplace("prev_hash", e.prev_hash);
  return boost::json::serialize(o);
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1 || len != 32) {
    // Only when libcrypto itself is broken (e.g. a FIPS provider refusing SHA-256).
    throw std::runtime_error("store: SHA-256 unavailable in libcrypto");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(64, '0');
  for (unsigned int i = 0; i < 32; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 0x0f];
  }
  return out;
}

std::string audit_hash(const AuditEntry& entry) { return sha256_hex(canonical_audit_json(entry)); }

}  // namespace smppguard::store::detail

namespace smppguard::store {
std::string audit_entry_hash(const AuditEntry& entry) { return detail::audit_hash(entry); }
}  // namespace smppguard::store
