// Malformed input (SPEC 7 and 8): each kind of bad PDU gets the answer the spec names, only the
// offending socket is ever closed, and the daemon and the other sessions carry on.
#include <doctest/doctest.h>

#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/status.hpp>

#include "harness.hpp"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;
namespace st = smppguard::proto::status;

void put32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}

// A frame from a header and raw body octets; command_length = 16 + body unless given.
Bytes raw_pdu(std::uint32_t id, std::uint32_t seq, const Bytes& body,
              std::optional<std::uint32_t> length = std::nullopt) {
  Bytes b;
  put32(b, length.value_or(static_cast<std::uint32_t>(16 + body.size())));
  put32(b, id);
  put32(b, 0);
  put32(b, seq);
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

// A valid submit_sm body (no TLVs) up to and including sm_length and short_message.
Bytes submit_body(std::string_view message) {
  Bytes b;
  b.push_back(0);                                    // service_type ""
  b.push_back(1), b.push_back(1);                    // source ton/npi
  for (char c : std::string_view(cfg::kAcmeNumber)) b.push_back(static_cast<std::uint8_t>(c));
  b.push_back(0);
  b.push_back(1), b.push_back(1);                    // dest ton/npi
  for (char c : std::string_view(cfg::kSubscriber)) b.push_back(static_cast<std::uint8_t>(c));
  b.push_back(0);
  b.push_back(0), b.push_back(0), b.push_back(0);    // esm_class, protocol_id, priority_flag
  b.push_back(0), b.push_back(0);                    // schedule, validity ""
  b.push_back(0), b.push_back(0), b.push_back(0), b.push_back(0);  // reg, replace, dcs, default id
  b.push_back(static_cast<std::uint8_t>(message.size()));
  b.insert(b.end(), message.begin(), message.end());
  return b;
}

// Expects `c` still works: an enquire_link gets its response.
void check_alive(SmppClient& c) {
  auto r = c.request(proto::Pdu{.command_id = cmd::kEnquireLink});
  CHECK(r.id() == cmd::kEnquireLinkResp);
  CHECK_FALSE(c.closed());
}

}  // namespace

TEST_SUITE("malformed") {

TEST_CASE("malformed PDUs get the right answer; only the offending socket closes") {
  HarnessOptions o;
  o.simulator = false;  // nothing here needs the carrier
  Harness h(o);
  auto bystander = h.bind(cmd::kBindTransceiver, cfg::kApp2, cfg::kApp2Password);

  SUBCASE("command_length 8: generic_nack ESME_RINVCMDLEN with sequence 0, then close") {
    auto c = h.bind(cmd::kBindTransmitter);
    c->send_bytes(raw_pdu(cmd::kSubmitSm, 99, {}, 8));
    auto r = c->next(5s);
    REQUIRE(r);
    CHECK(r->id() == cmd::kGenericNack);
    CHECK(r->status() == st::kEsmeRinvcmdlen);
    CHECK(r->seq() == 0);
    CHECK(r->bytes.size() == 16);
    CHECK(c->wait_closed(5s));
  }

  SUBCASE("command_length 8 before any bind") {
    auto c = h.connect();
    c->send_bytes(raw_pdu(cmd::kBindTransmitter, 1, {}, 8));
    auto r = c->next(5s);
    REQUIRE(r);
    CHECK(r->id() == cmd::kGenericNack);
    CHECK(r->status() == st::kEsmeRinvcmdlen);
    CHECK(c->wait_closed(5s));
  }

  SUBCASE("command_length over max_pdu_size (4096) closes the socket") {
    auto c = h.bind(cmd::kBindTransmitter);
    c->send_bytes(raw_pdu(cmd::kSubmitSm, 7, text("partial body"), 5000));
    CHECK(c->wait_closed(5s));
    // A generic_nack first is allowed; a submit_sm_resp is not.
    for (const auto& f : c->kept()) CHECK(f.id() == cmd::kGenericNack);
  }

  SUBCASE("unknown command_id: generic_nack ESME_RINVCMDID with its sequence; the session goes on") {
    auto c = h.bind(cmd::kBindTransmitter);
    c->send_bytes(raw_pdu(0x00000077, 4711, {}));
    auto r = c->response_to(4711);
    REQUIRE(r);
    CHECK(r->id() == cmd::kGenericNack);
    CHECK(r->status() == st::kEsmeRinvcmdid);
    c->send_bytes(raw_pdu(0x00000077, 4712, text("with a body")));
    r = c->response_to(4712);
    REQUIRE(r);
    CHECK(r->status() == st::kEsmeRinvcmdid);
    check_alive(*c);
  }

  SUBCASE("unknown command_id before bind: generic_nack, socket stays open") {
    auto c = h.connect();
    c->send_bytes(raw_pdu(0x00000077, 3, {}));
    auto r = c->response_to(3);
    REQUIRE(r);
    CHECK(r->id() == cmd::kGenericNack);
    CHECK(r->status() == st::kEsmeRinvcmdid);
    c->bind_ok(cmd::kBindTransmitter, cfg::kApp1, cfg::kApp1Password);
  }

  SUBCASE("source_addr without its NUL: submit_sm_resp ESME_RINVSRCADR") {
    auto c = h.bind(cmd::kBindTransmitter);
    Bytes body = {0, 1, 1};
    for (int i = 0; i < 30; ++i) body.push_back('1');  // runs on with no terminator
    c->send_bytes(raw_pdu(cmd::kSubmitSm, 21, body));
    auto r = c->response_to(21);
    REQUIRE(r);
    CHECK(r->id() == cmd::kSubmitSmResp);
    CHECK(r->status() == st::kEsmeRinvsrcadr);
    check_alive(*c);
  }

  SUBCASE("sm_length larger than the octets left: submit_sm_resp ESME_RINVMSGLEN") {
    auto c = h.bind(cmd::kBindTransmitter);
    Bytes body = submit_body("hello");
    body[body.size() - 6] = 200;  // sm_length says 200, 5 octets follow
    c->send_bytes(raw_pdu(cmd::kSubmitSm, 22, body));
    auto r = c->response_to(22);
    REQUIRE(r);
    CHECK(r->id() == cmd::kSubmitSmResp);
    CHECK(r->status() == st::kEsmeRinvmsglen);
    check_alive(*c);
  }

  SUBCASE("a TLV running past the end of the PDU: ESME_RINVOPTPARSTREAM") {
    auto c = h.bind(cmd::kBindTransmitter);
    Bytes body = submit_body("hello");
    body.insert(body.end(), {0x14, 0x01, 0x00, 0x0A, 'a', 'b', 'c'});  // length 10, 3 octets
    c->send_bytes(raw_pdu(cmd::kSubmitSm, 23, body));
    auto r = c->response_to(23);
    REQUIRE(r);
    CHECK(r->id() == cmd::kSubmitSmResp);
    CHECK(r->status() == st::kEsmeRinvoptparstream);
    check_alive(*c);
  }

  SUBCASE("a bind whose system_id runs past its maximum: bind_resp with an error, then close") {
    auto c = h.connect("127.0.0.5");
    Bytes body;
    for (int i = 0; i < 40; ++i) body.push_back('x');
    body.push_back(0);
    c->send_bytes(raw_pdu(cmd::kBindTransmitter, 8, body));
    auto r = c->response_to(8);
    REQUIRE(r);
    CHECK(r->id() == cmd::kBindTransmitterResp);
    CHECK(r->status() != st::kEsmeRok);
    CHECK(c->wait_closed(5s));
  }

  SUBCASE("random garbage after a valid bind") {
    auto c = h.bind(cmd::kBindTransmitter);
    Bytes junk;
    for (int i = 0; i < 64; ++i) junk.push_back(static_cast<std::uint8_t>(i * 37 + 11));
    c->send_bytes(junk);  // command_length 0x0b30557c: far over max_pdu_size
    CHECK(c->wait_closed(5s));
  }

  // Whatever happened above, the daemon is up and the other session unaffected.
  CHECK(h.daemon_get("/healthz").status == 200);
  check_alive(*bystander);
  auto fresh = h.bind(cmd::kBindTransmitter);
  check_alive(*fresh);
}

}  // TEST_SUITE
