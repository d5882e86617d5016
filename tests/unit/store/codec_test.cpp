// Value encodings, key layouts and the audit hash rule (store/codec.hpp, store/audit_chain.hpp).
#include "store/codec.hpp"

#include <doctest/doctest.h>

#include <random>

#include "store/audit_chain.hpp"
#include "store_fixture.hpp"

using namespace smppguard::store;
using namespace smppguard::store::detail;
using smppguard::store::test::sample_audit;
using smppguard::store::test::sample_record;

namespace {

// The outbox payload codec, under the names the check below calls (beside the detail ones).
using smppguard::store::detail::decode;
using smppguard::store::detail::encode;
void encode(const OutboxMessage& m, std::string& out) { out = encode_outbox(m); }
bool decode(std::string_view in, OutboxMessage& m) { return decode_outbox(in, m); }

template <typename T>
void check_roundtrip_and_rejects_damage(const T& value) {
  std::string bytes;
  encode(value, bytes);
  T back;
  REQUIRE(decode(bytes, back));
  CHECK(back == value);
  // Every truncation, and any trailing byte, is an error and never a crash.
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    T partial;
    CHECK_FALSE(decode(std::string_view(bytes).substr(0, n), partial));
  }
  T extra;
  CHECK_FALSE(decode(bytes + '\0', extra));
  std::string wrong_version = bytes;
  wrong_version[0] = 9;
  CHECK_FALSE(decode(wrong_version, extra));
}

}  // namespace

TEST_CASE("records round-trip and damaged values are rejected") {
  check_roundtrip_and_rejects_damage(sample_record(1'700'000'000'000));
  check_roundtrip_and_rejects_damage(ConsentRecord{});

  auto audit = sample_audit("acme", "+15551234567", 1'700'000'000'000);
  audit.seq = 42;
  audit.prev_hash = kGenesisHash;
  audit.hash = audit_hash(audit);
  check_roundtrip_and_rejects_damage(audit);

  MessageRoute route{
      "gw1-1-a",      "app1",          "carrierA",        "0A1B",           "a1b", "acme",
      "+15551234567", "optin_request", 1'700'000'000'000, 1'700'000'360'000};
  check_roundtrip_and_rejects_damage(route);

  DeliveryItem item{7, "tenant:acme", DeliveryKind::receipt, std::string("\x00\x01pdu", 5), 1, 2, 3,
                    4};
  check_roundtrip_and_rejects_damage(item);

  HeldMessage held{9,
                   "acme",
                   "+15551234567",
                   "app1",
                   "gw1-2-3",
                   std::string("\x00\x00\x00\x10", 4),
                   HoldReason::quiet_hours,
                   10,
                   20,
                   30,
                   true};
  check_roundtrip_and_rejects_damage(held);

  MoPart part{2,
              8,
              0x40,
              std::string("\x05\x00\x03\x2a\x02\x02\x00S", 8),
              true,
              0x1234,
              2,
              2,
              1'700'000'000'000,
              1'700'000'600'000};
  check_roundtrip_and_rejects_damage(part);
  std::int64_t expires = 0;
  std::string bytes;
  encode(part, bytes);
  REQUIRE(route_expiry(bytes, expires));  // the expiry filter reads it as it reads idmap values
  CHECK(expires == part.expires_at_ms);
}

TEST_CASE("enum values out of range are corruption") {
  ConsentRecord r;
  std::string bytes;
  encode(r, bytes);
  bytes[1] = 7;  // state
  CHECK_FALSE(decode(bytes, r));
  DeliveryItem d;
  d.kind = DeliveryKind::mo;
  encode(d, bytes);
  // version, seq(1 byte), target(len 0), kind
  bytes[3] = 4;
  CHECK_FALSE(decode(bytes, d));
}

TEST_CASE("a sealed consent record decodes only with its key and every byte as written") {
  auto record = sample_record(1'700'000'000'000);
  record.audit_seq = 4242;
  std::string key, other_key, value;
  consent_key(key, kConsentProgramTag, "acme", "+15551234567");
  consent_key(other_key, kConsentProgramTag, "acme", "+15551234568");
  encode_consent(key, record, value);
  ConsentRecord back;
  REQUIRE(check_consent(key, value, back) == ConsentCheck::ok);
  CHECK(back == record);
  CHECK(decode_consent(key, value, back));
  // Moved under another key, or any byte changed: the seal no longer matches.
  CHECK(check_consent(other_key, value, back) == ConsentCheck::bad_seal);
  for (std::size_t i = 1; i < value.size(); ++i) {
    std::string edited = value;
    edited[i] = static_cast<char>(edited[i] ^ 0x01);
    CHECK_FALSE(decode_consent(key, edited, back));
  }
  for (std::size_t n = 0; n < value.size(); ++n) {
    CHECK_FALSE(decode_consent(key, std::string_view(value).substr(0, n), back));
  }
  // A version 1 value (schema 1) decodes, but is not trusted.
  std::string v1;
  encode(record, v1);
  CHECK(check_consent(key, v1, back) == ConsentCheck::unsealed);
  CHECK(back.audit_seq == 0);
  CHECK_FALSE(decode_consent(key, v1, back));
}

TEST_CASE("an outbox message keeps every field and rejects damage") {
  OutboxMessage m;
  m.kind = OutboxMessage::Kind::released_mt;
  m.program = "acme";
  m.msisdn = "+15551234567";
  m.held = HeldMessage{9,
                       "acme",
                       "+15551234567",
                       "app1",
                       "gw1-2-3",
                       std::string("\x00\x01", 2),
                       HoldReason::pending_consent,
                       10,
                       0,
                       30,
                       true};
  OutboxMessage reply;
  reply.program = "acme";
  reply.msisdn = "+15551234567";
  reply.from_number = "+15550001111";
  reply.template_name = "opt_out_confirm";
  reply.text = "You are unsubscribed. No more messages.";
  check_roundtrip_and_rejects_damage(m);
  check_roundtrip_and_rejects_damage(reply);
  auto bad_kind = encode_outbox(reply);
  bad_kind[1] = 3;
  OutboxMessage back;
  CHECK_FALSE(decode_outbox(bad_kind, back));
}

TEST_CASE("random bytes never crash a decoder") {
  std::mt19937 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    if (!bytes.empty() && rng() % 2) bytes[0] = static_cast<char>(kValueVersion);
    ConsentRecord c;
    AuditEntry a;
    MessageRoute m;
    DeliveryItem d;
    HeldMessage h;
    std::vector<std::int64_t> t;
    std::int64_t expires;
    std::string proxy;
    (void)decode(bytes, c);
    (void)decode(bytes, a);
    (void)decode(bytes, m);
    (void)decode(bytes, d);
    (void)decode(bytes, h);
    OutboxMessage o;
    (void)decode_outbox(bytes, o);
    MoPart part;
    (void)decode(bytes, part);
    (void)decode_sent_times(bytes, t);
    (void)decode_route_ref(bytes, expires, proxy);
  }
  // A huge declared length must not allocate or read past the end.
  std::string huge{static_cast<char>(kValueVersion),
                   '\0',
                   '\0',
                   '\0',
                   '\0',
                   '\0',
                   '\0',
                   '\0',
                   '\0',
                   '\xff',
                   '\xff',
                   '\xff',
                   '\xff',
                   '\x0f'};
  MessageRoute m;
  CHECK_FALSE(decode(huge, m));
}

TEST_CASE("keys sort in the order the scans need") {
  CHECK(held_time_key(-5, 1) < held_time_key(0, 1));
  CHECK(held_time_key(0, 2) < held_time_key(1, 1));
  CHECK(held_time_key(1000, 1) < held_time_key(1000, 2));
  CHECK(read_time_key(held_time_key(-123, 0).substr(0, 8)) == -123);
  CHECK(queue_key("t", 255) < queue_key("t", 256));
  CHECK(queue_key("t", UINT64_MAX) < queue_key("t\x01", 0));
  CHECK(audit_key(255) < audit_key(256));
  CHECK(prefix_end("ab\xff") == "ac");
  CHECK(prefix_end("\xff\xff").empty());

  std::string program_key, tenant_key;
  consent_key(program_key, kConsentProgramTag, "acme", "+1555");
  consent_key(tenant_key, kConsentTenantTag, "acme", "+1555");
  CHECK(program_key == std::string("pacme\0+1555", 11));
  CHECK(tenant_key == std::string("tacme\0+1555", 11));

  HeldMessage m;
  m.expires_at_ms = 500;
  CHECK(held_due_ms(m) == 500);
  m.release_at_ms = 200;
  CHECK(held_due_ms(m) == 200);
  m.expires_at_ms = 0;
  CHECK(held_due_ms(m) == 200);
  m.release_at_ms = 0;
  CHECK(held_due_ms(m) == INT64_MAX);
}

TEST_CASE("audit hash: SHA-256 over the documented canonical JSON") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(kGenesisHash == std::string(64, '0'));

  AuditEntry e = sample_audit("acme", "+15551234567", 1700000000123);
  e.seq = 3;
  e.evidence = {{"z", "1"}, {"a", "tab\there"}};
  e.prev_hash = std::string(64, 'a');
  e.hash = "ignored: the hash is not part of its own input";
  const std::string expected =
      R"({"seq":3,"time_ms":1700000000123,"program":"acme","msisdn":"+15551234567",)"
      R"("event":"opted_out","old_state":"opted_in","new_state":"opted_out","source":"keyword",)"
      R"("actor":"keyword:STOP:mo-17","evidence":{"a":"tab\there","z":"1"},)"
      "\"mo_text\":\"Stop \\\"please\\\"\\n\xc3\xa9\",\"mo_normalized\":\"stop please e\","
      R"("keyword":"STOP","rule":"phrase","detail":"","prev_hash":")" +
      std::string(64, 'a') + "\"}";
  CHECK(canonical_audit_json(e) == expected);
  CHECK(audit_hash(e) == sha256_hex(expected));

  AuditEntry changed = e;
  changed.hash = "other";
  CHECK(audit_hash(changed) == audit_hash(e));
  changed.evidence["a"] = "tab";
  CHECK(audit_hash(changed) != audit_hash(e));
  AuditEntry control = e;
  control.detail = std::string("\x01", 1);
  CHECK(canonical_audit_json(control).find(R"("detail":"\u0001")") != std::string::npos);
}
