#include "store/codec.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace smppguard::store::detail {
namespace {

class Encoder {
 public:
  explicit Encoder(std::string& out) : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void svarint(std::int64_t v) {
    varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void fixed64(std::uint64_t v) { append_be64(out_, v); }
  void str(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }
  void evidence(const Evidence& e) {
    varint(e.size());
    for (const auto& [k, v] : e) {
      str(k);
      str(v);
    }
  }

 private:
  std::string& out_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  bool u8(std::uint8_t& v) {
    if (pos_ >= in_.size()) return false;
    v = static_cast<std::uint8_t>(in_[pos_++]);
    return true;
  }
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return false;
      const auto byte = static_cast<std::uint8_t>(in_[pos_++]);
      if (shift == 63 && byte > 1) return false;
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  bool svarint(std::int64_t& v) {
    std::uint64_t u;
    if (!varint(u)) return false;
    v = static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }
  bool fixed64(std::uint64_t& v) {
    if (in_.size() - pos_ < 8) return false;
    v = read_be64(in_.substr(pos_, 8));
    pos_ += 8;
    return true;
  }
  bool str(std::string& s) {
    std::uint64_t n;
    if (!varint(n) || n > in_.size() - pos_) return false;
    s.assign(in_.data() + pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return true;
  }
  bool evidence(Evidence& e) {
    std::uint64_t n;
    // Each pair takes at least two bytes: a cheap bound before allocating anything.
    if (!varint(n) || n > (in_.size() - pos_) / 2) return false;
    e.clear();
    std::string k, v;
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!str(k) || !str(v)) return false;
      e.insert_or_assign(std::move(k), std::move(v));
    }
    return true;
  }
  bool version() {
    std::uint8_t v;
    return u8(v) && v == kValueVersion;
  }
  template <typename E>
  bool enum8(E& out, std::uint8_t lo, std::uint8_t hi) {
    std::uint8_t v;
    if (!u8(v) || v < lo || v > hi) return false;
    out = static_cast<E>(v);
    return true;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

bool valid_component(std::string_view s) { return s.find('\0') == std::string_view::npos; }

void append_be64(std::string& out, std::uint64_t v) {
  char b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out.append(b, 8);
}

std::uint64_t read_be64(std::string_view s) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(s[i]);
  return v;
}

void append_time_key(std::string& out, std::int64_t ms) {
  append_be64(out, static_cast<std::uint64_t>(ms) ^ (std::uint64_t{1} << 63));
}

std::int64_t read_time_key(std::string_view s) {
  return static_cast<std::int64_t>(read_be64(s) ^ (std::uint64_t{1} << 63));
}

void consent_key(std::string& out, char tag, std::string_view owner, std::string_view msisdn) {
  out.clear();
  out.reserve(2 + owner.size() + msisdn.size());
  out.push_back(tag);
  out.append(owner);
  out.push_back('\0');
  out.append(msisdn);
}

std::string consent_prefix(char tag, std::string_view owner) {
  std::string out(1, tag);
  out.append(owner);
  out.push_back('\0');
  return out;
}

std::string audit_key(std::uint64_t seq) {
  std::string out;
  append_be64(out, seq);
  return out;
}

std::string audit_msisdn_prefix(std::string_view msisdn) {
  std::string out(msisdn);
  out.push_back('\0');
  return out;
}

std::string audit_msisdn_key(std::string_view msisdn, std::uint64_t seq) {
  std::string out = audit_msisdn_prefix(msisdn);
  append_be64(out, seq);
  return out;
}

std::string held_prefix(std::string_view program, std::string_view msisdn) {
  std::string out(program);
  out.push_back('\0');
  out.append(msisdn);
  out.push_back('\0');
  return out;
}

std::string held_key(std::string_view program, std::string_view msisdn, std::uint64_t seq) {
  std::string out = held_prefix(program, msisdn);
  append_be64(out, seq);
  return out;
}

std::string mo_parts_prefix(std::string_view message, std::uint16_t ref, std::uint8_t total) {
  std::string out(message);
  out.push_back('\0');
  out.push_back(static_cast<char>(ref >> 8));
  out.push_back(static_cast<char>(ref & 0xff));
  out.push_back(static_cast<char>(total));
  return out;
}

std::string held_time_key(std::int64_t due_ms, std::uint64_t seq) {
  std::string out;
  append_time_key(out, due_ms);
  append_be64(out, seq);
  return out;
}

std::int64_t held_due_ms(const HeldMessage& m) {
  std::int64_t due = std::numeric_limits<std::int64_t>::max();
  if (m.release_at_ms != 0) due = std::min(due, m.release_at_ms);
  if (m.expires_at_ms != 0) due = std::min(due, m.expires_at_ms);
  return due;
}

std::string queue_prefix(std::string_view target) {
  std::string out(target);
  out.push_back('\0');
  return out;
}

std::string queue_key(std::string_view target, std::uint64_t seq) {
  std::string out = queue_prefix(target);
  append_be64(out, seq);
  return out;
}

std::string route_proxy_key(std::string_view proxy_id) {
  std::string out(1, kRouteProxyTag);
  out.append(proxy_id);
  return out;
}

std::string route_upstream_key(std::string_view upstream, std::string_view upstream_key) {
  std::string out(1, kRouteUpstreamTag);
  out.append(upstream);
  out.push_back('\0');
  out.append(upstream_key);
  return out;
}

std::string freq_key(std::string_view program, std::string_view msisdn) {
  std::string out(program);
  out.push_back('\0');
  out.append(msisdn);
  return out;
}

std::string prefix_end(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(out.back());
    if (c != 0xff) {
      ++c;
      return out;
    }
    out.pop_back();
  }
  return out;
}

// ---- ConsentRecord -----------------------------------------------------------------------------
void encode(const ConsentRecord& r, std::string& out) {
  out.clear();
  Encoder e(out);
  e.u8(kValueVersion);
  e.u8(static_cast<std::uint8_t>(r.state));
  e.u8(static_cast<std::uint8_t>(r.level));
  e.u8(static_cast<std::uint8_t>(r.source));
  e.u8(r.handset_confirmed ? 1 : 0);
  e.svarint(r.created_at_ms);
  e.svarint(r.updated_at_ms);
  e.svarint(r.last_mo_at_ms);
  e.svarint(r.opt_in_requested_at_ms);
  e.svarint(r.opt_out_confirmed_at_ms);
  e.svarint(r.last_reminder_at_ms);
  e.svarint(r.disclaimer_sent_at_ms);
  e.evidence(r.evidence);
}

namespace {

bool consent_fields(Decoder& d, ConsentRecord& r) {
  std::uint8_t flags;
  if (!d.enum8(r.state, 0, 3) || !d.enum8(r.level, 0, 3) || !d.enum8(r.source, 0, 8) ||
      !d.u8(flags) || flags > 1)
    return false;
  r.handset_confirmed = flags == 1;
  return d.svarint(r.created_at_ms) && d.svarint(r.updated_at_ms) && d.svarint(r.last_mo_at_ms) &&
         d.svarint(r.opt_in_requested_at_ms) && d.svarint(r.opt_out_confirmed_at_ms) &&
         d.svarint(r.last_reminder_at_ms) && d.svarint(r.disclaimer_sent_at_ms) &&
         d.evidence(r.evidence);
}

// The first 16 bytes of SHA-256 over a domain tag, the key (length first) and the sealed bytes.
std::string consent_seal(std::string_view key, std::string_view sealed) {
  static constexpr std::string_view kTag = "smppguard consent seal v2";
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::string key_len;
  append_be64(key_len, key.size());
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, kTag.data(), kTag.size()) == 1 &&
                  EVP_DigestUpdate(ctx, key_len.data(), key_len.size()) == 1 &&
                  EVP_DigestUpdate(ctx, key.data(), key.size()) == 1 &&
                  EVP_DigestUpdate(ctx, sealed.data(), sealed.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, md, &len) == 1 && len >= kConsentSealBytes;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("store: SHA-256 failed");
  return std::string(reinterpret_cast<const char*>(md), kConsentSealBytes);
}

}  // namespace

bool decode(std::string_view in, ConsentRecord& r) {
  Decoder d(in);
  return d.version() && consent_fields(d, r) && d.done();
}

void encode_consent(std::string_view key, const ConsentRecord& r, std::string& out) {
  encode(r, out);
  out[0] = static_cast<char>(kConsentSealedVersion);
  Encoder e(out);
  e.varint(r.audit_seq);
  out += consent_seal(key, out);
}

ConsentCheck check_consent(std::string_view key, std::string_view in, ConsentRecord& r) {
  if (in.empty()) return ConsentCheck::undecodable;
  if (static_cast<std::uint8_t>(in[0]) == kValueVersion) {
    r.audit_seq = 0;
    return decode(in, r) ? ConsentCheck::unsealed : ConsentCheck::undecodable;
  }
  if (static_cast<std::uint8_t>(in[0]) != kConsentSealedVersion ||
      in.size() < 1 + kConsentSealBytes)
    return ConsentCheck::undecodable;
  const auto body = in.substr(0, in.size() - kConsentSealBytes);
  Decoder d(body.substr(1));
  if (!consent_fields(d, r) || !d.varint(r.audit_seq) || !d.done()) {
    return ConsentCheck::undecodable;
  }
  if (consent_seal(key, body) != in.substr(body.size())) return ConsentCheck::bad_seal;
  return ConsentCheck::ok;
}

bool decode_consent(std::string_view key, std::string_view in, ConsentRecord& r) {
  return check_consent(key, in, r) == ConsentCheck::ok;
}

// ---- AuditEntry --------------------------------------------------------------------------------
void encode(const AuditEntry& a, std::string& out) {
  out.clear();
  Encoder e(out);
  e.u8(kValueVersion);
  e.varint(a.seq);
  e.svarint(a.time_ms);
  for (const std::string* s :
       {&a.program, &a.msisdn, &a.event, &a.old_state, &a.new_state, &a.source, &a.actor}) {
    e.str(*s);
  }
  e.evidence(a.evidence);
  for (const std::string* s :
       {&a.mo_text, &a.mo_normalized, &a.keyword, &a.rule, &a.detail, &a.prev_hash, &a.hash}) {
    e.str(*s);
  }
}

bool decode(std::string_view in, AuditEntry& a) {
  Decoder d(in);
  if (!d.version() || !d.varint(a.seq) || !d.svarint(a.time_ms)) return false;
  for (std::string* s :
       {&a.program, &a.msisdn, &a.event, &a.old_state, &a.new_state, &a.source, &a.actor}) {
    if (!d.str(*s)) return false;
  }
  if (!d.evidence(a.evidence)) return false;
  for (std::string* s :
       {&a.mo_text, &a.mo_normalized, &a.keyword, &a.rule, &a.detail, &a.prev_hash, &a.hash}) {
    if (!d.str(*s)) return false;
  }
  return d.done();
}

// ---- MessageRoute ------------------------------------------------------------------------------
void encode(const MessageRoute& r, std::string& out) {
  out.clear();
  Encoder e(out);
  e.u8(kValueVersion);
  e.fixed64(static_cast<std::uint64_t>(r.expires_at_ms));
  e.svarint(r.created_at_ms);
  for (const std::string* s : {&r.proxy_id, &r.account, &r.upstream, &r.upstream_id,
                               &r.upstream_key, &r.program, &r.msisdn, &r.template_name}) {
    e.str(*s);
  }
}

bool decode(std::string_view in, MessageRoute& r) {
  Decoder d(in);
  std::uint64_t expires;
  if (!d.version() || !d.fixed64(expires) || !d.svarint(r.created_at_ms)) return false;
  r.expires_at_ms = static_cast<std::int64_t>(expires);
  for (std::string* s : {&r.proxy_id, &r.account, &r.upstream, &r.upstream_id, &r.upstream_key,
                         &r.program, &r.msisdn, &r.template_name}) {
    if (!d.str(*s)) return false;
  }
  return d.done();
}

void encode_route_ref(std::int64_t expires_at_ms, std::string_view proxy_id, std::string& out) {
  out.clear();
  Encoder e(out);
  e.u8(kValueVersion);
  e.fixed64(static_cast<std::uint64_t>(expires_at_ms));
  e.str(proxy_id);
}

bool decode_route_ref(std::string_view in, std::int64_t& expires_at_ms, std::string& proxy_id) {
  Decoder d(in);
  std::uint64_t expires;
  if (!d.version() || !d.fixed64(expires) || !d.str(proxy_id)) return false;
  expires_at_ms = static_cast<std::int64_t>(expires);
  return d.done();
}

bool route_expiry(std::string_view in, std::int64_t& expires_at_ms) {
  Decoder d(in);
  std::uint64_t expires;
  if (!d.version() || !d.fixed64(expires)) return false;
  expires_at_ms = static_cast<std::int64_t>(expires);
  return true;
}

// ---- DeliveryItem ------------------------------------------------------------------------------
void encode(const DeliveryItem& item, std::string& out) {
  out.clear();
  Encoder e(out);
  e.u8(kValueVersion);
  e.varint(item.seq);
  e.str(item.target);
  e.u8(static_cast<std::uint8_t>(item.kind));
  e.str(item.pdu);
  e.svarint(item.created_at_ms);
  e.svarint(item.expires_at_ms);
  e.svarint(item.next_attempt_at_ms);
  e.varint(item.attempts);
}

bool decode(std::string_view in, DeliveryItem& item) {
  Decoder d(in);
  std::uint64_t attempts;
  if (!d.version() || !d.varint(item.seq) || !d.str(item.target) || !d.enum8(item.kind, 1, 3) ||
      !d.str(item.pdu) || !d.svarint(item.created_at_ms) || !d.svarint(item.expires_at_ms) ||
      !d.svarint(item.next_attempt_at_ms) || !d.varint(attempts) ||
      attempts > std::numeric_limits<std::uint32_t>::max())
    return false;
  item.attempts = static_cast<std::uint32_t>(attempts);
  return d.done();
}

// ---- HeldMessage -------------------------------------------------------------------------------
void encode(const HeldMessage& m, std::string& out) {
  out.clear();
  Encoder e(out);
  e.u8(kValueVersion);
  e.varint(m.seq);
  for (const std::string* s : {&m.program, &m.msisdn, &m.account, &m.proxy_id, &m.pdu}) e.str(*s);
  e.u8(static_cast<std::uint8_t>(m.reason));
  e.svarint(m.held_at_ms);
  e.svarint(m.release_at_ms);
  e.svarint(m.expires_at_ms);
  e.u8(m.wants_receipt ? 1 : 0);
}

bool decode(std::string_view in, HeldMessage& m) {
  Decoder d(in);
  if (!d.version() || !d.varint(m.seq)) return false;
  for (std::string* s : {&m.program, &m.msisdn, &m.account, &m.proxy_id, &m.pdu}) {
    if (!d.str(*s)) return false;
  }
  std::uint8_t wants;
  if (!d.enum8(m.reason, 1, 2) || !d.svarint(m.held_at_ms) || !d.svarint(m.release_at_ms) ||
      !d.svarint(m.expires_at_ms) || !d.u8(wants) || wants > 1)
    return false;
  m.wants_receipt = wants == 1;
  return d.done();
}

// ---- MoPart ------------------------------------------------------------------------------------
void encode(const MoPart& p, std::string& out) {
  out.clear();
  Encoder e(out);
  e.u8(kValueVersion);
  e.fixed64(static_cast<std::uint64_t>(p.expires_at_ms));
  e.u8(p.seq);
  e.u8(p.data_coding);
  e.u8(p.esm_class);
  e.str(p.payload);
  e.u8(p.has_sar ? 1 : 0);
  e.varint(p.sar_ref);
  e.u8(p.sar_total);
  e.u8(p.sar_seq);
  e.svarint(p.received_at_ms);
}

bool decode(std::string_view in, MoPart& p) {
  Decoder d(in);
  std::uint64_t expires, ref;
  std::uint8_t sar;
  if (!d.version() || !d.fixed64(expires) || !d.u8(p.seq) || !d.u8(p.data_coding) ||
      !d.u8(p.esm_class) || !d.str(p.payload) || !d.u8(sar) || sar > 1 || !d.varint(ref) ||
      ref > 0xffff || !d.u8(p.sar_total) || !d.u8(p.sar_seq) || !d.svarint(p.received_at_ms))
    return false;
  p.expires_at_ms = static_cast<std::int64_t>(expires);
  p.has_sar = sar == 1;
  p.sar_ref = static_cast<std::uint16_t>(ref);
  return d.done();
}

// ---- outbox -----------------------------------------------------------------------------------
}  // namespace smppguard::store::detail

namespace smppguard::store {

std::string encode_outbox(const OutboxMessage& m) {
  std::string out;
  detail::Encoder e(out);
  e.u8(detail::kValueVersion);
  e.u8(static_cast<std::uint8_t>(m.kind));
  for (const std::string* s : {&m.program, &m.msisdn, &m.from_number, &m.template_name, &m.text})
    e.str(*s);
  std::string held;
  detail::encode(m.held, held);
  e.str(held);
  return out;
}

bool decode_outbox(std::string_view in, OutboxMessage& m) {
  detail::Decoder d(in);
  if (!d.version() || !d.enum8(m.kind, 1, 2)) return false;
  for (std::string* s : {&m.program, &m.msisdn, &m.from_number, &m.template_name, &m.text}) {
    if (!d.str(*s)) return false;
  }
  std::string held;
  if (!d.str(held) || !d.done()) return false;
  return detail::decode(held, m.held);
}

// ---- replicated changes (cluster mode) ---------------------------------------------------------
std::string encode_change(const ReplicatedChange& c) {
  std::string out;
  detail::Encoder e(out);
  e.u8(detail::kValueVersion);
  e.varint(c.version);
  e.varint(c.consents.size());
  std::string value;
  for (const auto& r : c.consents) {
    e.u8(r.tenant ? 1 : 0);
    e.str(r.owner);
    e.str(r.msisdn);
    e.varint(r.record.audit_seq);  // not in the v1 record encoding
    detail::encode(r.record, value);
    e.str(value);
  }
  e.varint(c.audit.size());
  for (const auto& a : c.audit) {
    detail::encode(a, value);
    e.str(value);
  }
  return out;
}

bool decode_change(std::string_view in, ReplicatedChange& c) {
  detail::Decoder d(in);
  std::uint64_t n = 0;
  if (!d.version() || !d.varint(c.version) || !d.varint(n) || n > in.size()) return false;
  c.consents.assign(static_cast<std::size_t>(n), {});
  std::string value;
  for (auto& r : c.consents) {
    std::uint8_t tenant = 0;
    std::uint64_t audit_seq = 0;
    if (!d.u8(tenant) || tenant > 1 || !d.str(r.owner) || !d.str(r.msisdn) ||
        !d.varint(audit_seq) || !d.str(value) || !detail::decode(value, r.record)) {
      return false;
    }
    r.tenant = tenant == 1;
    r.record.audit_seq = audit_seq;
  }
  if (!d.varint(n) || n > in.size()) return false;
  c.audit.assign(static_cast<std::size_t>(n), {});
  for (auto& a : c.audit) {
    if (!d.str(value) || !detail::decode(value, a)) return false;
  }
  return d.done();
}

}  // namespace smppguard::store

namespace smppguard::store::detail {

// ---- freq --------------------------------------------------------------------------------------
void encode_sent_times(const std::vector<std::int64_t>& times, std::string& out) {
  out.clear();
  Encoder e(out);
  e.u8(kValueVersion);
  e.varint(times.size());
  for (auto t : times) e.svarint(t);
}

bool decode_sent_times(std::string_view in, std::vector<std::int64_t>& times) {
  Decoder d(in);
  std::uint64_t n;
  if (!d.version() || !d.varint(n) || n > in.size()) return false;
  times.clear();
  times.reserve(static_cast<std::size_t>(n));
  for (std::uint64_t i = 0; i < n; ++i) {
    std::int64_t t;
    if (!d.svarint(t)) return false;
    times.push_back(t);
  }
  return d.done();
}

// ---- meta --------------------------------------------------------------------------------------
void encode_audit_head(std::uint64_t seq, std::string_view hash, std::string& out) {
  out.clear();
  append_be64(out, seq);
  out.append(hash);
}

bool decode_audit_head(std::string_view in, std::uint64_t& seq, std::string& hash) {
  if (in.size() != 8 + 64) return false;
  seq = read_be64(in.substr(0, 8));
  hash.assign(in.substr(8));
  return true;
}

}  // namespace smppguard::store::detail
