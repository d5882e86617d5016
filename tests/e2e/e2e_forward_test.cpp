// Forwarding byte for byte (SPEC 2): every optional TLV, unknown and v5.0 ones included, reaches
// the carrier exactly as the ESME sent it (only the sequence number differs), and the ESME is
// answered with the proxy's own message id, never the carrier's.
#include <doctest/doctest.h>

#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/status.hpp>
#include <smppguard/proto/tlv.hpp>

#include <set>

#include "harness.hpp"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;
namespace st = smppguard::proto::status;

// A proxy id is "<node_id>-<boot>-<counter>".
bool is_proxy_id(const std::string& id) {
  const std::string prefix = std::string(cfg::kNodeId) + "-";
  if (id.rfind(prefix, 0) != 0) return false;
  const auto dash = id.find('-', prefix.size());
  return dash != std::string::npos && dash + 1 < id.size() && dash > prefix.size();
}

// The one message of `command` the carrier received since the last clear.
boost::json::object only_message(Simulator& sim, const std::string& command) {
  REQUIRE(eventually([&] { return sim.messages(command).size() == 1; }, 5s));
  return sim.messages(command).front();
}

void check_same_bytes(const Bytes& sent, const boost::json::object& carrier) {
  const auto got = from_hex(json_string(carrier, "pdu_hex"));
  CHECK(got.size() == sent.size());
  CHECK(to_hex(without_sequence(got)) == to_hex(without_sequence(sent)));
}

std::string tlv_hex(const boost::json::object& carrier, std::uint16_t tag) {
  auto it = carrier.find("tlvs");
  if (it == carrier.end()) return "<none>";
  for (const auto& t : it->value().as_array()) {
    const auto& o = t.as_object();
    if (json_int(o, "tag") == tag) return json_string(o, "value_hex");
  }
  return "<absent>";
}

// Consent is enforced (SPEC 4): both subscribers these tests send to have texted START.
HarnessOptions opted_in() {
  HarnessOptions o;
  o.opt_in = {{cfg::kSubscriber, cfg::kAcmeNumber}, {"15557654321", cfg::kAcmeNumber}};
  return o;
}

}  // namespace

TEST_SUITE("forward") {

TEST_CASE("submit_sm, data_sm and submit_multi reach the carrier byte for byte") {
  Harness h(opted_in());
  auto c = h.bind(cmd::kBindTransceiver);

  SUBCASE("submit_sm with standard, unknown and v5.0 TLVs") {
    proto::Pdu pdu = make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "byte for byte");
    auto& sm = *pdu.as<proto::SubmitSm>();
    sm.service_type = "CMT";
    sm.esm_class = 0x03;
    sm.protocol_id = 0x00;
    sm.priority_flag = 1;
    sm.validity_period = "000001000000000R";
    sm.data_coding = 0x00;
    sm.tlvs.add(proto::tlv::kUserMessageReference, std::string("\x12\x34", 2));
    sm.tlvs.add(proto::tlv::kSourcePort, std::string("\x0b\x84", 2));
    sm.tlvs.add(0x1401, "abc");                                       // unknown vendor TLV
    sm.tlvs.add(proto::tlv::kBillingIdentification, std::string("\x01" "bill-7", 7));  // v5.0
    sm.tlvs.add(proto::tlv::kDestNetworkId, std::string("net-a\0", 6));                // v5.0
    pdu.sequence_number = 31337;
    const Bytes sent = encode_pdu(pdu);
    c->send_bytes(sent);
    auto resp = c->response_to(31337);
    REQUIRE(resp);
    CHECK(resp->id() == cmd::kSubmitSmResp);
    CHECK(resp->status() == st::kEsmeRok);
    const auto proxy_id = resp->pdu().as<proto::MessageIdResp>()->message_id;
    CHECK(is_proxy_id(proxy_id));

    const auto carrier = only_message(h.sim(), "submit_sm");
    check_same_bytes(sent, carrier);
    CHECK(tlv_hex(carrier, 0x1401) == "616263");
    CHECK(json_string(carrier, "system_id") == cfg::kSimSystemId);
    const auto carrier_id = json_string(carrier, "message_id");
    CHECK_FALSE(carrier_id.empty());
    CHECK(carrier_id != proxy_id);
  }

  SUBCASE("data_sm with message_payload and unknown TLVs") {
    proto::DataSm d;
    d.service_type = "";
    d.source_addr_ton = 1;
    d.source_addr_npi = 1;
    d.source_addr = cfg::kAcmeNumber;
    d.dest_addr_ton = 1;
    d.dest_addr_npi = 1;
    d.destination_addr = cfg::kSubscriber;
    d.registered_delivery = 0;
    d.data_coding = 0x08;  // UCS2
    d.tlvs.add(proto::tlv::kMessagePayload, std::string("\x00h\x00i\x20\xac", 6));
    d.tlvs.add(0x1401, "abc");
    d.tlvs.add(proto::tlv::kSourceNodeId, std::string("123456", 6));  // v5.0
    proto::Pdu pdu{.command_id = cmd::kDataSm, .sequence_number = 5, .body = d};
    const Bytes sent = encode_pdu(pdu);
    c->send_bytes(sent);
    auto resp = c->response_to(5);
    REQUIRE(resp);
    CHECK(resp->id() == cmd::kDataSmResp);
    CHECK(resp->status() == st::kEsmeRok);
    const auto proxy_id = resp->pdu().as<proto::MessageIdResp>()->message_id;
    CHECK(is_proxy_id(proxy_id));

    const auto carrier = only_message(h.sim(), "data_sm");
    check_same_bytes(sent, carrier);
    CHECK(json_string(carrier, "message_id") != proxy_id);
  }

  SUBCASE("submit_multi to two destinations") {
    proto::SubmitMulti m;
    m.source_addr_ton = 1;
    m.source_addr_npi = 1;
    m.source_addr = cfg::kAcmeNumber;
    m.dest_addresses.push_back({.dest_flag = 1, .dest_addr_ton = 1, .dest_addr_npi = 1,
                                .destination_addr = cfg::kSubscriber});
    m.dest_addresses.push_back({.dest_flag = 1, .dest_addr_ton = 1, .dest_addr_npi = 1,
                                .destination_addr = "15557654321"});
    m.short_message = "to two";
    m.tlvs.add(0x1401, "abc");
    proto::Pdu pdu{.command_id = cmd::kSubmitMulti, .sequence_number = 6, .body = m};
    const Bytes sent = encode_pdu(pdu);
    c->send_bytes(sent);
    auto resp = c->response_to(6);
    REQUIRE(resp);
    CHECK(resp->id() == cmd::kSubmitMultiResp);
    CHECK(resp->status() == st::kEsmeRok);
    const auto proxy_id = resp->pdu().as<proto::SubmitMultiResp>()->message_id;
    CHECK(is_proxy_id(proxy_id));

    const auto carrier = only_message(h.sim(), "submit_multi");
    check_same_bytes(sent, carrier);
    CHECK(json_string(carrier, "message_id") != proxy_id);
  }

  SUBCASE("many submit_sm pipelined: each answered once, with distinct proxy ids") {
    std::vector<std::uint32_t> seqs;
    for (int i = 0; i < 30; ++i) {
      seqs.push_back(c->send(make_submit(cfg::kAcmeNumber, cfg::kSubscriber, "n" + std::to_string(i))));
    }
    std::set<std::string> ids;
    for (auto seq : seqs) {
      auto r = c->response_to(seq, 10s);
      REQUIRE(r);
      CHECK(r->status() == st::kEsmeRok);
      ids.insert(r->pdu().as<proto::MessageIdResp>()->message_id);
    }
    CHECK(ids.size() == 30);
    CHECK(eventually([&] { return h.sim().messages("submit_sm").size() == 30; }, 5s));
  }
}

}  // TEST_SUITE
