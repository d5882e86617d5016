// Message ids (SPEC 2 and 8): query_sm, cancel_sm and replace_sm carry the proxy id from the
// ESME and the carrier's id to the carrier; unknown ids and other accounts' ids are refused;
// receipts come back to the account with the proxy id in the text and in receipted_message_id,
// whatever id format the carrier uses in receipts; every part of a multipart MT is mapped.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/status.hpp>
#include <smppguard/proto/tlv.hpp>

#include "harness.hpp"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;
namespace st = smppguard::proto::status;

std::string submit_ok(SmppClient& c, proto::Pdu pdu) {
  auto r = c.request(std::move(pdu));
  REQUIRE(r.id() == cmd::kSubmitSmResp);
  REQUIRE(r.status() == st::kEsmeRok);
  return r.pdu().as<proto::MessageIdResp>()->message_id;
}

// The carrier's message_id of the newest message of `command` received (waits for it).
std::string carrier_id_of_last(Simulator& sim, const std::string& command, std::size_t count) {
  REQUIRE(eventually([&] { return sim.messages(command).size() >= count; }, 5s));
  return json_string(sim.messages(command).back(), "message_id");
}

// The `id:` value of a receipt text.
std::string text_id(const std::string& text) {
  const auto p = text.find("id:");
  if (p == std::string::npos) return "";
  const auto end = text.find(' ', p);
  return text.substr(p + 3, end == std::string::npos ? std::string::npos : end - p - 3);
}

struct Receipt {
  std::string text_id;
  std::string tlv_id;
  std::string text;
  std::uint8_t esm_class = 0;
};

Receipt read_receipt(const Frame& f) {
  auto pdu = f.pdu();
  const auto* d = pdu.as<proto::SubmitSm>();
  REQUIRE(d != nullptr);
  Receipt r;
  r.text = d->short_message;
  r.text_id = text_id(d->short_message);
  r.tlv_id = std::string(d->tlvs.get_cstring(proto::tlv::kReceiptedMessageId).value_or("<none>"));
  r.esm_class = d->esm_class;
  return r;
}

}  // namespace

TEST_SUITE("ids") {

TEST_CASE("query_sm, replace_sm and cancel_sm are rewritten both ways") {
  HarnessOptions o;
  o.opt_in = {{cfg::kSubscriber, cfg::kAcmeNumber}};  // consent is enforced (SPEC 4)
  o.sim_args = {"--id-format", "hex"};
  Harness h(o);
  auto c = h.bind(cmd::kBindTransceiver);
  const auto proxy_id = submit_ok(*c, make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "track me"));
  const auto carrier_id = carrier_id_of_last(h.sim(), "submit_sm", 1);
  REQUIRE_FALSE(carrier_id.empty());
  CHECK(carrier_id != proxy_id);

  SUBCASE("query_sm") {
    proto::QuerySm q{.message_id = proxy_id, .source_addr_ton = 1, .source_addr_npi = 1,
                     .source_addr = cfg::kAcmeNumber};
    auto r = c->request(proto::Pdu{.command_id = cmd::kQuerySm, .body = q});
    CHECK(r.id() == cmd::kQuerySmResp);
    CHECK(r.status() == st::kEsmeRok);
    CHECK(r.pdu().as<proto::QuerySmResp>()->message_id == proxy_id);
    CHECK(carrier_id_of_last(h.sim(), "query_sm", 1) == carrier_id);
  }
  SUBCASE("replace_sm") {
    proto::ReplaceSm rep{.message_id = proxy_id, .source_addr_ton = 1, .source_addr_npi = 1,
                         .source_addr = cfg::kAcmeNumber, .short_message = "replaced"};
    auto r = c->request(proto::Pdu{.command_id = cmd::kReplaceSm, .body = rep});
    CHECK(r.id() == cmd::kReplaceSmResp);
    CHECK(r.status() == st::kEsmeRok);
    CHECK(carrier_id_of_last(h.sim(), "replace_sm", 1) == carrier_id);
  }
  SUBCASE("cancel_sm") {
    proto::CancelSm can{.message_id = proxy_id, .source_addr_ton = 1, .source_addr_npi = 1,
                        .source_addr = cfg::kAcmeNumber, .dest_addr_ton = 1, .dest_addr_npi = 1,
                        .destination_addr = cfg::kSubscriber};
    auto r = c->request(proto::Pdu{.command_id = cmd::kCancelSm, .body = can});
    CHECK(r.id() == cmd::kCancelSmResp);
    CHECK(r.status() == st::kEsmeRok);
    CHECK(carrier_id_of_last(h.sim(), "cancel_sm", 1) == carrier_id);
  }
  SUBCASE("unknown ids and other accounts' ids are ESME_RINVMSGID, and never reach the carrier") {
    for (const std::string& id : {std::string("e2e-0-zzzz"), carrier_id, std::string("nonsense")}) {
      CAPTURE(id);
      proto::QuerySm q{.message_id = id, .source_addr_ton = 1, .source_addr_npi = 1,
                       .source_addr = cfg::kAcmeNumber};
      auto r = c->request(proto::Pdu{.command_id = cmd::kQuerySm, .body = q});
      CHECK(r.id() == cmd::kQuerySmResp);
      CHECK(r.status() == st::kEsmeRinvmsgid);
    }
    auto other = h.bind(cmd::kBindTransceiver, cfg::kApp2, cfg::kApp2Password);
    proto::QuerySm q{.message_id = proxy_id, .source_addr_ton = 1, .source_addr_npi = 1,
                     .source_addr = cfg::kAcmeNumber};
    auto r = other->request(proto::Pdu{.command_id = cmd::kQuerySm, .body = q});
    CHECK(r.status() == st::kEsmeRinvmsgid);
    proto::CancelSm can{.message_id = proxy_id, .source_addr_ton = 1, .source_addr_npi = 1,
                        .source_addr = cfg::kAcmeNumber, .dest_addr_ton = 1, .dest_addr_npi = 1,
                        .destination_addr = cfg::kSubscriber};
    r = other->request(proto::Pdu{.command_id = cmd::kCancelSm, .body = can});
    CHECK(r.status() == st::kEsmeRinvmsgid);
    proto::ReplaceSm rep{.message_id = proxy_id, .source_addr_ton = 1, .source_addr_npi = 1,
                         .source_addr = cfg::kAcmeNumber, .short_message = "hijack"};
    r = other->request(proto::Pdu{.command_id = cmd::kReplaceSm, .body = rep});
    CHECK(r.status() == st::kEsmeRinvmsgid);
    CHECK(h.sim().messages("query_sm").empty());
    CHECK(h.sim().messages("cancel_sm").empty());
    CHECK(h.sim().messages("replace_sm").empty());
  }
}

TEST_CASE("receipts reach the sending account's receiver under the proxy id") {
  HarnessOptions o;
  o.opt_in = {{cfg::kSubscriber, cfg::kAcmeNumber}};  // consent is enforced (SPEC 4)
  o.sim_args = {"--receipt-delay", "100ms"};
  Harness h(o);
  auto tx = h.bind(cmd::kBindTransmitter);
  auto rx = h.bind(cmd::kBindReceiver);
  auto other = h.bind(cmd::kBindReceiver, cfg::kApp2, cfg::kApp2Password);

  const auto proxy_id =
      submit_ok(*tx, make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "receipt please", 1));
  auto f = rx->expect(cmd::kDeliverSm, 10s);
  REQUIRE(f);
  rx->answer(*f, st::kEsmeRok);
  const auto receipt = read_receipt(*f);
  CHECK((receipt.esm_class & 0x3C) == 0x04);
  CHECK(receipt.text_id == proxy_id);
  CHECK(receipt.tlv_id == proxy_id);
  CHECK(receipt.text.find("stat:DELIVRD") != std::string::npos);
  // The carrier's id appears nowhere in what the ESME got.
  const auto carrier_id = carrier_id_of_last(h.sim(), "submit_sm", 1);
  CHECK(receipt.text.find(carrier_id) == std::string::npos);

  // No receipt for a message without registered_delivery, and none to another account.
  submit_ok(*tx, make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "no receipt", 0));
  CHECK_FALSE(rx->expect(cmd::kDeliverSm, 700ms));
  CHECK_FALSE(other->expect(cmd::kDeliverSm, 100ms));

  // The queue drained: the carrier's deliver_sm was acknowledged and the ESME's answer removed it.
  CHECK(eventually([&] {
    return h.metric("smppguard_queue_depth", {{"queue", "receipt"}}) == std::optional<double>(0);
  }, 5s));
  CHECK(h.daemon_log().find("event=receipt_unmatched") == std::string::npos);
  CHECK(h.daemon_log().find("event=delivery_retry") == std::string::npos);

  // A receipt that comes while the account has no receiver: the carrier is answered OK (the
  // receipt is queued durably) and the next receiver of the account gets it.
  rx.reset();
  CHECK(eventually([&] {
    return h.metric("smppguard_binds", {{"side", "esme"}, {"name", cfg::kApp1}}) ==
           std::optional<double>(1);
  }, 5s));
  boost::json::object req;
  req["message_id"] = carrier_id;
  req["stat"] = "UNDELIV";
  const auto posted = http_post(h.sim().http_port(), "/receipt", boost::json::serialize(req));
  REQUIRE_MESSAGE(posted.status == 200, posted.body);
  CHECK(json_int(boost::json::parse(posted.body).as_object(), "status") == st::kEsmeRok);
  CHECK_FALSE(tx->expect(cmd::kDeliverSm, 200ms));  // a transmitter receives nothing
  auto rx2 = h.bind(cmd::kBindReceiver);
  auto late = rx2->receive_deliver(st::kEsmeRok, 10s);
  REQUIRE(late);
  const auto undeliv = read_receipt(*late);
  CHECK(undeliv.text_id == proxy_id);
  CHECK(undeliv.tlv_id == proxy_id);
  CHECK(undeliv.text.find("stat:UNDELIV") != std::string::npos);
}

TEST_CASE("receipts whose text id is decimal are still routed (message_id_format hex)") {
  HarnessOptions o;
  o.opt_in = {{cfg::kSubscriber, cfg::kAcmeNumber}};  // consent is enforced (SPEC 4)
  o.sim_args = {"--id-format", "hex", "--receipt-id-format", "decimal", "--receipt-delay", "50ms"};
  o.config.message_id_format = "hex";
  Harness h(o);
  auto trx = h.bind(cmd::kBindTransceiver);
  std::set<std::string> sent;
  for (int i = 0; i < 3; ++i) {
    sent.insert(submit_ok(*trx, make_submit(cfg::kAcmeNumber, cfg::kSubscriber,
                                            "dec " + std::to_string(i), 1)));
  }
  std::set<std::string> got_text, got_tlv;
  for (int i = 0; i < 3; ++i) {
    auto f = trx->receive_deliver(st::kEsmeRok, 10s);
    REQUIRE(f);
    const auto r = read_receipt(*f);
    got_text.insert(r.text_id);
    got_tlv.insert(r.tlv_id);
  }
  CHECK(got_text == sent);
  CHECK(got_tlv == sent);
  CHECK(h.daemon_log().find("event=receipt_unmatched") == std::string::npos);
}

TEST_CASE("a multipart MT: every part gets its own proxy id and its receipt") {
  HarnessOptions o;
  o.opt_in = {{cfg::kSubscriber, cfg::kAcmeNumber}};  // consent is enforced (SPEC 4)
  o.sim_args = {"--receipt-delay", "50ms"};
  Harness h(o);
  auto trx = h.bind(cmd::kBindTransceiver);
  std::vector<std::string> ids;
  for (std::uint8_t part = 1; part <= 2; ++part) {
    auto pdu = make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "", 1);
    auto& sm = *pdu.as<proto::SubmitSm>();
    sm.esm_class = 0x40;  // UDHI
    sm.short_message = std::string("\x05\x00\x03\x2a\x02", 5) + static_cast<char>(part) +
                       (part == 1 ? "first half of a long text, " : "and the second half.");
    ids.push_back(submit_ok(*trx, std::move(pdu)));
  }
  CHECK(ids[0] != ids[1]);
  std::set<std::string> receipts;
  for (int i = 0; i < 2; ++i) {
    auto f = trx->receive_deliver(st::kEsmeRok, 10s);
    REQUIRE(f);
    const auto r = read_receipt(*f);
    CHECK(r.text_id == r.tlv_id);
    receipts.insert(r.tlv_id);
  }
  CHECK(receipts == std::set<std::string>(ids.begin(), ids.end()));
}

}  // TEST_SUITE
