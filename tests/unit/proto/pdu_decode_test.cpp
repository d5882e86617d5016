// Decoding hand-built byte vectors laid out as in the SMPP v3.4 spec (section 4), field by
// field; and the hot-path header helpers.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "smppguard/proto/decode.hpp"
#include "smppguard/proto/encode.hpp"

using namespace smppguard::proto;

namespace {
using Octets = std::vector<std::uint8_t>;
}  // namespace

TEST_CASE("bind_transmitter as laid out in v3.4 4.1.1") {
  const Octets wire{
      0x00, 0x00, 0x00, 0x2F,                                   // command_length 47
      0x00, 0x00, 0x00, 0x02,                                   // bind_transmitter
      0x00, 0x00, 0x00, 0x00,                                   // command_status
      0x00, 0x00, 0x00, 0x01,                                   // sequence_number
      'S',  'M',  'P',  'P',  '3', 'T', 'E', 'S',  'T',  0x00,  // system_id
      's',  'e',  'c',  'r',  'e', 't', '0', '8',  0x00,        // password
      'S',  'U',  'B',  'M',  'I', 'T', '1', 0x00,              // system_type
      0x34,                                                     // interface_version
      0x01,                                                     // addr_ton
      0x01,                                                     // addr_npi
      0x00,                                                     // address_range
  };
  auto r = decode(wire);
  REQUIRE(r);
  CHECK(r->command_id == cmd::kBindTransmitter);
  CHECK(r->command_status == 0);
  CHECK(r->sequence_number == 1);
  const Bind* b = r->as<Bind>();
  REQUIRE(b != nullptr);
  CHECK(b->system_id == "SMPP3TEST");
  CHECK(b->password == "secret08");
  CHECK(b->system_type == "SUBMIT1");
  CHECK(b->interface_version == 0x34);
  CHECK(b->addr_ton == 1);
  CHECK(b->addr_npi == 1);
  CHECK(b->address_range.empty());
}

TEST_CASE("submit_sm as laid out in v3.4 4.4.1, with a concatenation UDH") {
  Octets wire{0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0x01, 0x00};  // length patched below
  auto add = [&](std::initializer_list<std::uint8_t> v) { wire.insert(wire.end(), v); };
  auto add_str = [&](std::string s) {
    wire.insert(wire.end(), s.begin(), s.end());
    wire.push_back(0);
  };
  add_str("CMT");                 // service_type
  add({0x01, 0x01});              // source_addr_ton, source_addr_npi
  add_str("447700900123");        // source_addr
  add({0x01, 0x01});              // dest_addr_ton, dest_addr_npi
  add_str("15551234567");         // destination_addr
  add({0x40, 0x00, 0x00});        // esm_class (UDHI), protocol_id, priority_flag
  add_str("");                    // schedule_delivery_time
  add_str("");                    // validity_period
  add({0x11, 0x00, 0x00, 0x00});  // registered_delivery, replace_if_present, data_coding, msg id
  add({0x0A, 0x05, 0x00, 0x03, 0x7F, 0x02, 0x01, 'S', 'T', 'O', 'P'});  // sm_length + message
  wire[3] = static_cast<std::uint8_t>(wire.size());

  auto r = decode(wire);
  REQUIRE(r);
  CHECK(r->sequence_number == 0x0100);
  const SubmitSm* sm = r->as<SubmitSm>();
  REQUIRE(sm != nullptr);
  CHECK(sm->service_type == "CMT");
  CHECK(sm->source_addr_ton == 1);
  CHECK(sm->source_addr_npi == 1);
  CHECK(sm->source_addr == "447700900123");
  CHECK(sm->dest_addr_ton == 1);
  CHECK(sm->dest_addr_npi == 1);
  CHECK(sm->destination_addr == "15551234567");
  CHECK(sm->esm_class == esm_class::kUdhi);
  CHECK(sm->schedule_delivery_time.empty());
  CHECK(sm->validity_period.empty());
  CHECK(sm->registered_delivery == 0x11);
  CHECK(sm->data_coding == 0);
  CHECK(sm->short_message == std::string("\x05\x00\x03\x7F\x02\x01STOP", 10));
  CHECK(sm->tlvs.empty());
  CHECK(*encode(*r) == wire);
}

TEST_CASE("submit_multi as laid out in v3.4 4.5.1") {
  const Octets wire{
      0x00, 0x00, 0x00, 0x3B, 0x00, 0x00, 0x00, 0x21, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
      0x00,                                      // service_type
      0x05, 0x00, 'S',  'h',  'o',  'p',  0x00,  // source ton (alphanumeric), npi, source_addr
      0x02,                                      // number_of_dests
      0x01, 0x01, 0x01, '1',  '5',  '5',  '5',  '0',  '0',  '0',
      '0',  '0',  '0',  '1',  0x00, 0x02, 'v',  'i',  'p',  0x00,  // distribution list
      0x03, 0x00, 0x01,             // esm_class, protocol_id, priority_flag
      0x00, 0x00,                   // schedule_delivery_time, validity_period
      0x00, 0x00, 0x03, 0x00,       // registered_delivery .. sm_default_msg_id
      0x04, 'S',  'a',  'l',  'e',  // sm_length, short_message
  };
  REQUIRE(wire.size() == 0x3B);
  auto r = decode(wire);
  REQUIRE(r);
  const SubmitMulti* m = r->as<SubmitMulti>();
  REQUIRE(m != nullptr);
  CHECK(m->source_addr_ton == 5);
  CHECK(m->source_addr == "Shop");
  REQUIRE(m->dest_addresses.size() == 2);
  CHECK(m->dest_addresses[0] == DestAddress{1, 1, 1, "15550000001", ""});
  CHECK(m->dest_addresses[1] == DestAddress{2, 0, 0, "", "vip"});
  CHECK(m->esm_class == 3);
  CHECK(m->priority_flag == 1);
  CHECK(m->data_coding == 3);
  CHECK(m->short_message == "Sale");
  CHECK(*encode(*r) == wire);
}

TEST_CASE("query_sm_resp and alert_notification field by field") {
  const Octets q{0x00, 0x00, 0x00, 0x28, 0x80, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                 0x00, 0x05, 'a',  'b',  'c',  'd',  0x00, '2',  '4',  '1',  '2',  '3',  '1',  '2',
                 '3',  '5',  '9',  '5',  '9',  '0',  '0',  '0',  '+',  0x00, 0x05, 0x22};
  auto r = decode(q);
  REQUIRE(r);
  const QuerySmResp* qr = r->as<QuerySmResp>();
  REQUIRE(qr != nullptr);
  CHECK(qr->message_id == "abcd");
  CHECK(qr->final_date == "241231235959000+");
  CHECK(qr->message_state == 5);  // UNDELIVERABLE
  CHECK(qr->error_code == 0x22);

  const Octets a{0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00,
                 0x00, 0x00, 0x00, 0x00, 0x06, 0x01, 0x01, '1',  '5',  '5',  '5',
                 0x00, 0x00, 0x00, 'e',  's',  'm',  'e',  0x00, 0x00, 0x00};
  auto an = decode(a);
  REQUIRE_FALSE(an);  // two trailing octets: a truncated TLV header
  CHECK(an.error().code == DecodeErrc::tlv_truncated);
  Octets fixed(a.begin(), a.end() - 2);
  fixed[3] = 0x1E;
  an = decode(fixed);
  REQUIRE(an);
  const AlertNotification* al = an->as<AlertNotification>();
  REQUIRE(al != nullptr);
  CHECK(al->source_addr == "1555");
  CHECK(al->esme_addr_ton == 0);
  CHECK(al->esme_addr == "esme");
  CHECK(al->tlvs.empty());
}

TEST_CASE("a response without body, of any status, decodes as Empty") {
  const Octets bind_fail{0x00, 0x00, 0x00, 0x10, 0x80, 0x00, 0x00, 0x09,
                         0x00, 0x00, 0x00, 0x0E, 0x00, 0x00, 0x00, 0x03};
  auto r = decode(bind_fail);
  REQUIRE(r);
  CHECK(r->command_id == cmd::kBindTransceiverResp);
  CHECK(r->command_status == status::kEsmeRinvpaswd);
  CHECK(std::holds_alternative<Empty>(r->body));
  // Peers that omit deliver_sm_resp's NUL message_id even on success.
  const Octets dlr_ok{0x00, 0x00, 0x00, 0x10, 0x80, 0x00, 0x00, 0x05,
                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04};
  auto d = decode(dlr_ok);
  REQUIRE(d);
  CHECK(std::holds_alternative<Empty>(d->body));
  CHECK(*encode(*d) == dlr_ok);
}

TEST_CASE("decode takes the frame as a span into a larger buffer") {
  Octets buf{0xEE, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x15,
             0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0xEE};
  auto r = decode(std::span<const std::uint8_t>(buf).subspan(1, 16));
  REQUIRE(r);
  CHECK(r->command_id == cmd::kEnquireLink);
  CHECK(r->sequence_number == 7);
}

TEST_CASE("peek_header, set_sequence and set_command_status patch a frame in place") {
  Octets f{0x00, 0x00, 0x00, 0x11, 0x80, 0x00, 0x00, 0x04, 0x00,
           0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2A, 0x00};
  auto h = peek_header(f);
  REQUIRE(h);
  CHECK(*h == Header{17, cmd::kSubmitSmResp, 0, 42});
  CHECK(set_sequence(f, 0xA1B2C3D4));
  CHECK(set_command_status(f, 0x00000401));
  CHECK(f == Octets{0x00, 0x00, 0x00, 0x11, 0x80, 0x00, 0x00, 0x04, 0x00, 0x00, 0x04, 0x01, 0xA1,
                    0xB2, 0xC3, 0xD4, 0x00});
  CHECK(decode(f)->sequence_number == 0xA1B2C3D4);
  Octets short_frame(15, 0);
  CHECK_FALSE(peek_header(short_frame).has_value());
  CHECK_FALSE(set_sequence(short_frame, 1));
  CHECK(short_frame == Octets(15, 0));
}
