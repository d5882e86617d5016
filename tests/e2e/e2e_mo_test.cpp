// MO routing (SPEC 5 and 8): an MO to a program number goes to that program's tenant's bound
// receivers and transceivers, round robin, byte for byte apart from the sequence number; an MO
// to a number of no program is refused to the carrier with ESME_RINVDSTADR.
#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/parse.hpp>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/status.hpp>
#include <smppguard/proto/tlv.hpp>

#include "harness.hpp"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;
namespace st = smppguard::proto::status;

json::object mo(const std::string& to, const std::string& text) {
  json::object o;
  o["from"] = cfg::kSubscriber;
  o["to"] = to;
  o["text"] = text;
  return o;
}

// POSTs an MO and returns the command_status the proxy answered the carrier with.
std::int64_t post_mo(Simulator& sim, const json::object& body) {
  const auto r = sim.post_mo(body);
  REQUIRE_MESSAGE(r.status == 200, "POST /mo -> " << r.status << " " << r.error << r.body);
  return json_int(json::parse(r.body).as_object(), "status");
}

std::string text_of(const Frame& f) {
  auto pdu = f.pdu();
  if (const auto* d = pdu.as<proto::SubmitSm>()) return d->short_message;
  return "";
}

}  // namespace

TEST_SUITE("mo") {

TEST_CASE("an MO reaches the tenant's receiver byte for byte") {
  Harness h;
  auto rx = h.bind(cmd::kBindReceiver);
  auto globex = h.bind(cmd::kBindReceiver, cfg::kApp2, cfg::kApp2Password);

  SUBCASE("exact bytes, TLVs included") {
    proto::SubmitSm d;
    d.service_type = "";
    d.source_addr_ton = 1;
    d.source_addr_npi = 1;
    d.source_addr = cfg::kSubscriber;
    d.dest_addr_ton = 1;
    d.dest_addr_npi = 1;
    d.destination_addr = cfg::kAcmeNumber;
    d.data_coding = 0;
    d.short_message = "Hello from the handset";
    d.tlvs.add(0x1401, "abc");
    d.tlvs.add(proto::tlv::kSourcePort, std::string("\x00\x10", 2));
    d.tlvs.add(proto::tlv::kSourceNetworkId, std::string("carrier-x\0", 10));  // v5.0
    const Bytes sent = encode_pdu(proto::Pdu{.command_id = cmd::kDeliverSm,
                                             .sequence_number = 1, .body = d});
    auto body = mo(cfg::kAcmeNumber, "");
    body["pdu_hex"] = to_hex(sent);
    CHECK(post_mo(h.sim(), body) == st::kEsmeRok);
    auto f = rx->receive_deliver(st::kEsmeRok, 10s);
    REQUIRE(f);
    CHECK(to_hex(without_sequence(f->bytes)) == to_hex(without_sequence(sent)));
    CHECK_FALSE(globex->expect(cmd::kDeliverSm, 300ms));
  }

  SUBCASE("text MO to the short code; data_sm MO arrives as data_sm") {
    CHECK(post_mo(h.sim(), mo(cfg::kAcmeShortCode, "to the short code")) == st::kEsmeRok);
    auto f = rx->receive_deliver(st::kEsmeRok, 10s);
    REQUIRE(f);
    CHECK(text_of(*f) == "to the short code");

    auto body = mo(cfg::kAcmeNumber, "as data_sm");
    body["command"] = "data_sm";
    CHECK(post_mo(h.sim(), body) == st::kEsmeRok);
    auto d = rx->expect(cmd::kDataSm, 10s);
    REQUIRE(d);
    rx->answer(*d, st::kEsmeRok);
    auto pdu = d->pdu();
    const auto* dsm = pdu.as<proto::DataSm>();
    REQUIRE(dsm != nullptr);
    CHECK(dsm->destination_addr == cfg::kAcmeNumber);
  }

  SUBCASE("the other tenant's MO goes to the other tenant only") {
    CHECK(post_mo(h.sim(), mo(cfg::kGlobexNumber, "for globex")) == st::kEsmeRok);
    auto f = globex->receive_deliver(st::kEsmeRok, 10s);
    REQUIRE(f);
    CHECK(text_of(*f) == "for globex");
    CHECK_FALSE(rx->expect(cmd::kDeliverSm, 300ms));
  }

  SUBCASE("an MO to a number of no program is refused with ESME_RINVDSTADR") {
    CHECK(post_mo(h.sim(), mo(cfg::kUnknownNumber, "who is this")) == st::kEsmeRinvdstadr);
    CHECK_FALSE(rx->expect(cmd::kDeliverSm, 300ms));
    CHECK_FALSE(globex->expect(cmd::kDeliverSm, 100ms));
  }
}

TEST_CASE("two receivers of a tenant get its MOs round robin") {
  Harness h;
  auto a = h.bind(cmd::kBindReceiver);
  auto b = h.bind(cmd::kBindTransceiver);
  for (int i = 0; i < 6; ++i) {
    CHECK(post_mo(h.sim(), mo(cfg::kAcmeNumber, "rr " + std::to_string(i))) == st::kEsmeRok);
  }
  std::vector<std::string> got_a, got_b;
  // Both clients answer what they get until all six arrived.
  CHECK(eventually([&] {
    if (auto f = a->receive_deliver(st::kEsmeRok, 50ms)) got_a.push_back(text_of(*f));
    if (auto f = b->receive_deliver(st::kEsmeRok, 50ms)) got_b.push_back(text_of(*f));
    return got_a.size() + got_b.size() == 6;
  }, 15s));
  CHECK(got_a.size() == 3);
  CHECK(got_b.size() == 3);
  // Each receiver sees its share in order.
  CHECK(std::is_sorted(got_a.begin(), got_a.end()));
  CHECK(std::is_sorted(got_b.begin(), got_b.end()));
}

}  // TEST_SUITE
