// Malformed input: every decode error names its code, its field, the command_status an SMSC
// answers with, and the header (for the sequence number) when it could be read. Also the checks
// encode makes before writing.
#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bytes.hpp"
#include "smppguard/proto/decode.hpp"
#include "smppguard/proto/encode.hpp"

using namespace smppguard::proto;

namespace {

using smppguard::test::Bytes;
using smppguard::test::Octets;

std::string str(std::size_t n, char c = 'a') { return std::string(n, c); }

// submit_sm body up to (excluding) sm_length, with the given addresses and times.
Bytes submit_head(std::string_view service_type = "", std::string_view src = "1555",
                  std::string_view dst = "1666", std::string_view sched = "",
                  std::string_view validity = "") {
  Bytes b;
  b.cstr(service_type).u8(1).u8(1).cstr(src).u8(1).u8(1).cstr(dst);
  b.u8(0).u8(0).u8(0).cstr(sched).cstr(validity).u8(0).u8(0).u8(0).u8(0);
  return b;
}

Bytes submit_sm(std::string_view service_type = "", std::string_view src = "1555",
                std::string_view dst = "1666", std::string_view sched = "",
                std::string_view validity = "") {
  Bytes b = submit_head(service_type, src, dst, sched, validity);
  b.u8(2).raw("hi");
  return b;
}

Bytes bind_body(std::string_view id, std::string_view pw = "pw", std::string_view type = "",
                std::string_view range = "") {
  Bytes b;
  b.cstr(id).cstr(pw).cstr(type).u8(0x34).u8(0).u8(0).cstr(range);
  return b;
}

Bytes submit_multi_with(std::uint8_t flag, std::string_view addr) {
  Bytes b;
  b.cstr("").u8(0).u8(0).cstr("1555").u8(1).u8(flag);
  if (flag == 1) b.u8(1).u8(1);
  b.cstr(addr);
  b.u8(0).u8(0).u8(0).cstr("").cstr("").u8(0).u8(0).u8(0).u8(0).u8(0);
  return b;
}

// Decodes `wire` expecting failure; checks code, field, status and the sequence in the header.
DecodeError expect_error(const Octets& wire, DecodeErrc code, Field field, std::uint32_t status,
                         const Limits& limits = {}) {
  auto r = decode(wire, limits);
  REQUIRE_FALSE(r.has_value());
  const DecodeError& e = r.error();
  CHECK(e.code == code);
  CHECK(field_name(e.field) == field_name(field));
  CHECK(status_name(e.command_status) == status_name(status));
  CHECK((e.error_code() == make_error_code(code)));
  return e;
}

}  // namespace

TEST_CASE("frames shorter than a header") {
  for (std::size_t n : {0, 3, 4, 15}) {
    CAPTURE(n);
    Octets wire(n, 0);
    if (n >= 4) wire[3] = 16;  // a sane command_length, but the header is cut short
    DecodeError e =
        expect_error(wire, DecodeErrc::truncated, Field::command_length, status::kEsmeRinvcmdlen);
    CHECK_FALSE(e.header.has_value());
    Pdu nack = error_response(e);
    CHECK(nack.command_id == cmd::kGenericNack);
    CHECK(nack.command_status == status::kEsmeRinvcmdlen);
    CHECK(nack.sequence_number == 0);
  }
}

TEST_CASE("command_length below 16: generic_nack ESME_RINVCMDLEN with sequence 0, fatal") {
  Octets wire = Bytes{}.frame(cmd::kEnquireLink, 55);
  wire[3] = 15;
  DecodeError e = expect_error(wire, DecodeErrc::command_length_too_small, Field::command_length,
                               status::kEsmeRinvcmdlen);
  REQUIRE(e.header);
  CHECK(e.header->sequence_number == 55);
  CHECK(e.fatal());
  Pdu nack = error_response(e);
  CHECK(nack.command_id == cmd::kGenericNack);
  CHECK(nack.sequence_number == 0);
  CHECK(*encode(nack) == Octets{0, 0, 0, 16, 0x80, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0});
}

TEST_CASE("command_length above max_pdu_size: fatal") {
  Bytes b;
  b.raw(str(1024 - 16));
  const Octets ok = b.frame(cmd::kSubmitSmResp, 1);
  Limits small;
  small.max_pdu_size = 1024;
  // 1024 octets is allowed (the body then fails as a message_id without NUL).
  CHECK(decode(ok, small).error().code == DecodeErrc::field_too_long);
  b.raw("x");
  DecodeError e = expect_error(b.frame(cmd::kSubmitSmResp, 1), DecodeErrc::command_length_too_large,
                               Field::command_length, status::kEsmeRinvcmdlen, small);
  CHECK(e.fatal());
  // The length field alone is enough to tell.
  expect_error(Octets{0x00, 0x01, 0x00, 0x01}, DecodeErrc::command_length_too_large,
               Field::command_length, status::kEsmeRinvcmdlen);
}

TEST_CASE("command_length that does not match the frame") {
  Octets wire = submit_sm().frame(cmd::kSubmitSm, 3);
  Octets longer = wire;
  longer.push_back(0);
  expect_error(longer, DecodeErrc::length_mismatch, Field::command_length, status::kEsmeRinvcmdlen);
  Octets shorter(wire.begin(), wire.end() - 1);
  DecodeError e = expect_error(shorter, DecodeErrc::length_mismatch, Field::command_length,
                               status::kEsmeRinvcmdlen);
  CHECK_FALSE(e.fatal());
  CHECK(error_response(e).sequence_number == 0);
}

TEST_CASE("unknown command id: ESME_RINVCMDID with the PDU's sequence number") {
  for (std::uint32_t id : {0x00000099u, 0x80000099u, 0x00000111u, 0x0000000Au}) {
    CAPTURE(id);
    Bytes b;
    b.raw("whatever");
    DecodeError e = expect_error(b.frame(id, 0x1234), DecodeErrc::unknown_command,
                                 Field::command_id, status::kEsmeRinvcmdid);
    REQUIRE(e.header);
    CHECK(e.header->command_id == id);
    CHECK(e.header->sequence_number == 0x1234);
    Pdu nack = error_response(e);
    CHECK(nack.command_id == cmd::kGenericNack);
    CHECK(nack.command_status == status::kEsmeRinvcmdid);
    CHECK(nack.sequence_number == 0x1234);
  }
}

TEST_CASE("C-octet strings without their NUL") {
  Bytes sm;
  sm.cstr("").u8(1).u8(1).raw("1555");  // source_addr runs to the end of the PDU
  DecodeError e = expect_error(sm.frame(cmd::kSubmitSm, 77), DecodeErrc::missing_nul,
                               Field::source_addr, status::kEsmeRinvsrcadr);
  REQUIRE(e.header);
  CHECK(e.header->sequence_number == 77);
  Pdu resp = error_response(e);
  CHECK(resp.command_id == cmd::kSubmitSmResp);
  CHECK(resp.command_status == status::kEsmeRinvsrcadr);
  CHECK(resp.sequence_number == 77);
  CHECK(std::holds_alternative<Empty>(resp.body));

  Bytes bnd;
  bnd.raw("abc");
  expect_error(bnd.frame(cmd::kBindTransmitter, 1), DecodeErrc::missing_nul, Field::system_id,
               status::kEsmeRinvsysid);
  Bytes resp_body;
  resp_body.raw("12AB");
  expect_error(resp_body.frame(cmd::kSubmitSmResp, 1), DecodeErrc::missing_nul, Field::message_id,
               status::kEsmeRinvmsgid);
}

TEST_CASE("every C-octet string over its maximum") {
  struct Case {
    const char* name;
    std::uint32_t command_id;
    std::function<Bytes(const std::string&)> make;
    std::size_t max_chars;
    Field field;
    std::uint32_t status;
  };
  const std::vector<Case> cases{
      {"bind system_id", cmd::kBindTransmitter, [](auto& s) { return bind_body(s); }, 15,
       Field::system_id, status::kEsmeRinvsysid},
      {"bind password", cmd::kBindReceiver, [](auto& s) { return bind_body("id", s); }, 8,
       Field::password, status::kEsmeRinvpaswd},
      {"bind system_type", cmd::kBindTransceiver, [](auto& s) { return bind_body("id", "pw", s); },
       12, Field::system_type, status::kEsmeRinvsystyp},
      {"bind address_range", cmd::kBindTransceiver,
       [](auto& s) { return bind_body("id", "pw", "", s); }, 40, Field::address_range,
       status::kEsmeRbindfail},
      {"bind_resp system_id", cmd::kBindTransceiverResp, [](auto& s) { return Bytes{}.cstr(s); },
       15, Field::system_id, status::kEsmeRinvsysid},
      {"outbind system_id", cmd::kOutbind, [](auto& s) { return Bytes{}.cstr(s).cstr(""); }, 15,
       Field::system_id, status::kEsmeRinvsysid},
      {"outbind password", cmd::kOutbind, [](auto& s) { return Bytes{}.cstr("id").cstr(s); }, 8,
       Field::password, status::kEsmeRinvpaswd},
      {"submit_sm service_type", cmd::kSubmitSm, [](auto& s) { return submit_sm(s); }, 5,
       Field::service_type, status::kEsmeRinvsertyp},
      {"submit_sm source_addr", cmd::kSubmitSm, [](auto& s) { return submit_sm("", s); }, 20,
       Field::source_addr, status::kEsmeRinvsrcadr},
      {"submit_sm destination_addr", cmd::kSubmitSm, [](auto& s) { return submit_sm("", "1", s); },
       20, Field::destination_addr, status::kEsmeRinvdstadr},
      {"deliver_sm source_addr", cmd::kDeliverSm, [](auto& s) { return submit_sm("", s); }, 20,
       Field::source_addr, status::kEsmeRinvsrcadr},
      {"submit_sm schedule_delivery_time", cmd::kSubmitSm,
       [](auto& s) { return submit_sm("", "1", "2", s); }, 16, Field::schedule_delivery_time,
       status::kEsmeRinvsched},
      {"submit_sm validity_period", cmd::kSubmitSm,
       [](auto& s) { return submit_sm("", "1", "2", "", s); }, 16, Field::validity_period,
       status::kEsmeRinvexpiry},
      {"submit_sm_resp message_id", cmd::kSubmitSmResp, [](auto& s) { return Bytes{}.cstr(s); }, 64,
       Field::message_id, status::kEsmeRinvmsgid},
      {"data_sm source_addr", cmd::kDataSm,
       [](auto& s) {
         return Bytes{}.cstr("").u8(0).u8(0).cstr(s).u8(0).u8(0).cstr("1").u8(0).u8(0).u8(0);
       },
       64, Field::source_addr, status::kEsmeRinvsrcadr},
      {"data_sm destination_addr", cmd::kDataSm,
       [](auto& s) {
         return Bytes{}.cstr("").u8(0).u8(0).cstr("1").u8(0).u8(0).cstr(s).u8(0).u8(0).u8(0);
       },
       64, Field::destination_addr, status::kEsmeRinvdstadr},
      {"alert_notification source_addr", cmd::kAlertNotification,
       [](auto& s) { return Bytes{}.u8(0).u8(0).cstr(s).u8(0).u8(0).cstr("1"); }, 64,
       Field::source_addr, status::kEsmeRinvsrcadr},
      {"alert_notification esme_addr", cmd::kAlertNotification,
       [](auto& s) { return Bytes{}.u8(0).u8(0).cstr("1").u8(0).u8(0).cstr(s); }, 64,
       Field::esme_addr, status::kEsmeRinvdstadr},
      {"submit_multi destination_addr", cmd::kSubmitMulti,
       [](auto& s) { return submit_multi_with(1, s); }, 20, Field::destination_addr,
       status::kEsmeRinvdstadr},
      {"submit_multi dl_name", cmd::kSubmitMulti, [](auto& s) { return submit_multi_with(2, s); },
       20, Field::dl_name, status::kEsmeRinvdlname},
      {"submit_multi_resp destination_addr", cmd::kSubmitMultiResp,
       [](auto& s) { return Bytes{}.cstr("m").u8(1).u8(1).u8(1).cstr(s).u32(0x0B); }, 20,
       Field::destination_addr, status::kEsmeRinvdstadr},
      {"query_sm message_id", cmd::kQuerySm,
       [](auto& s) { return Bytes{}.cstr(s).u8(0).u8(0).cstr("1"); }, 64, Field::message_id,
       status::kEsmeRinvmsgid},
      {"query_sm source_addr", cmd::kQuerySm,
       [](auto& s) { return Bytes{}.cstr("m").u8(0).u8(0).cstr(s); }, 20, Field::source_addr,
       status::kEsmeRinvsrcadr},
      {"query_sm_resp final_date", cmd::kQuerySmResp,
       [](auto& s) { return Bytes{}.cstr("m").cstr(s).u8(0).u8(0); }, 16, Field::final_date,
       status::kEsmeRunknownerr},
      {"cancel_sm service_type", cmd::kCancelSm,
       [](auto& s) {
         return Bytes{}.cstr(s).cstr("m").u8(0).u8(0).cstr("1").u8(0).u8(0).cstr("2");
       },
       5, Field::service_type, status::kEsmeRinvsertyp},
      {"cancel_sm destination_addr", cmd::kCancelSm,
       [](auto& s) { return Bytes{}.cstr("").cstr("m").u8(0).u8(0).cstr("1").u8(0).u8(0).cstr(s); },
       20, Field::destination_addr, status::kEsmeRinvdstadr},
      {"replace_sm message_id", cmd::kReplaceSm,
       [](auto& s) {
         return Bytes{}.cstr(s).u8(0).u8(0).cstr("1").cstr("").cstr("").u8(0).u8(0).u8(0);
       },
       64, Field::message_id, status::kEsmeRinvmsgid},
      {"replace_sm validity_period", cmd::kReplaceSm,
       [](auto& s) {
         return Bytes{}.cstr("m").u8(0).u8(0).cstr("1").cstr("").cstr(s).u8(0).u8(0).u8(0);
       },
       16, Field::validity_period, status::kEsmeRinvexpiry},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    // At the maximum: decodes, and re-encodes to the same bytes.
    const Octets ok = c.make(str(c.max_chars, '7')).frame(c.command_id, 21);
    auto good = decode(ok);
    REQUIRE(good.has_value());
    CHECK(*encode(*good) == ok);
    // One over: field_too_long with the field's status and the sequence number.
    DecodeError e = expect_error(c.make(str(c.max_chars + 1, '7')).frame(c.command_id, 21),
                                 DecodeErrc::field_too_long, c.field, c.status);
    REQUIRE(e.header);
    CHECK(e.header->sequence_number == 21);
    CHECK(e.header->command_id == c.command_id);
  }
}

TEST_CASE("time fields must be empty or exactly 16 characters") {
  expect_error(submit_sm("", "1", "2", "2501011200").frame(cmd::kSubmitSm, 1),
               DecodeErrc::bad_value, Field::schedule_delivery_time, status::kEsmeRinvsched);
  expect_error(submit_sm("", "1", "2", "", str(15, '0')).frame(cmd::kSubmitSm, 1),
               DecodeErrc::bad_value, Field::validity_period, status::kEsmeRinvexpiry);
  expect_error(Bytes{}.cstr("m").cstr("1").u8(0).u8(0).frame(cmd::kQuerySmResp, 1),
               DecodeErrc::bad_value, Field::final_date, status::kEsmeRunknownerr);
}

TEST_CASE("sm_length over 254 or disagreeing with the data") {
  Bytes over = submit_head();
  over.u8(255).raw(str(255));
  DecodeError e = expect_error(over.frame(cmd::kSubmitSm, 8), DecodeErrc::bad_sm_length,
                               Field::sm_length, status::kEsmeRinvmsglen);
  CHECK(error_response(e).command_status == status::kEsmeRinvmsglen);

  Bytes past = submit_head();
  past.u8(10).raw("hello");  // five octets short
  expect_error(past.frame(cmd::kSubmitSm, 8), DecodeErrc::bad_sm_length, Field::sm_length,
               status::kEsmeRinvmsglen);

  Bytes under = submit_head();
  under.u8(2).raw("hello");  // three octets left over: not a TLV
  expect_error(under.frame(cmd::kSubmitSm, 8), DecodeErrc::tlv_truncated, Field::tlv,
               status::kEsmeRinvoptparstream);

  Bytes replace;
  replace.cstr("m").u8(0).u8(0).cstr("1").cstr("").cstr("").u8(0).u8(0).u8(200).raw("x");
  expect_error(replace.frame(cmd::kReplaceSm, 8), DecodeErrc::bad_sm_length, Field::sm_length,
               status::kEsmeRinvmsglen);
}

TEST_CASE("a body that ends inside a fixed-size field") {
  Bytes b;
  b.cstr("").u8(1).u8(1).cstr("1555").u8(1).u8(1).cstr("1666");  // stops before esm_class
  DecodeError e = expect_error(b.frame(cmd::kSubmitSm, 9), DecodeErrc::truncated, Field::esm_class,
                               status::kEsmeRinvcmdlen);
  CHECK(e.header->sequence_number == 9);
  Bytes multi;
  multi.cstr("m").u8(1).u8(1).u8(1).cstr("1555").u16(0);  // error_status_code cut short
  expect_error(multi.frame(cmd::kSubmitMultiResp, 9), DecodeErrc::truncated,
               Field::error_status_code, status::kEsmeRinvcmdlen);
  // A request with no body at all.
  expect_error(Bytes{}.frame(cmd::kSubmitSm, 9), DecodeErrc::missing_nul, Field::service_type,
               status::kEsmeRinvsertyp);
}

TEST_CASE("TLV stream errors") {
  Bytes overrun = submit_sm();
  overrun.u16(tlv::kMessagePayload).u16(10).raw("short");
  DecodeError e = expect_error(overrun.frame(cmd::kSubmitSm, 10), DecodeErrc::tlv_overrun,
                               Field::tlv, status::kEsmeRinvoptparstream);
  CHECK(e.tlv_tag == tlv::kMessagePayload);
  CHECK(error_response(e).command_id == cmd::kSubmitSmResp);
  CHECK(error_response(e).command_status == status::kEsmeRinvoptparstream);

  Bytes header_cut = submit_sm();
  header_cut.tlv(tlv::kSarMsgRefNum, "\x01\x02").u16(0x020E);  // 2 octets of a second TLV
  expect_error(header_cut.frame(cmd::kSubmitSm, 10), DecodeErrc::tlv_truncated, Field::tlv,
               status::kEsmeRinvoptparstream);

  Bytes one = submit_sm();
  one.u8(0x02);
  expect_error(one.frame(cmd::kSubmitSm, 10), DecodeErrc::tlv_truncated, Field::tlv,
               status::kEsmeRinvoptparstream);

  Bytes resp;
  resp.cstr("id").u16(0x0425).u16(5);
  expect_error(resp.frame(cmd::kDataSmResp, 10), DecodeErrc::tlv_overrun, Field::tlv,
               status::kEsmeRinvoptparstream);
}

TEST_CASE("fixed-size TLVs with the wrong length: ESME_RINVPARLEN") {
  struct Case {
    std::uint16_t tag;
    std::size_t bad_len;
  };
  for (Case c : {Case{tlv::kSarMsgRefNum, 1}, Case{tlv::kSarTotalSegments, 2},
                 Case{tlv::kSarSegmentSeqnum, 0}, Case{tlv::kScInterfaceVersion, 2},
                 Case{tlv::kMessageState, 4}, Case{tlv::kNetworkErrorCode, 2},
                 Case{tlv::kUserMessageReference, 4}, Case{tlv::kQosTimeToLive, 2},
                 Case{tlv::kCongestionState, 2}}) {
    CAPTURE(tlv_name(c.tag));
    Bytes b = submit_sm();
    b.tlv(c.tag, str(c.bad_len, '\x01'));
    const Octets wire = b.frame(cmd::kSubmitSm, 11);
    DecodeError e = expect_error(wire, DecodeErrc::tlv_length, Field::tlv, status::kEsmeRinvparlen);
    CHECK(e.tlv_tag == c.tag);
    // Relaxed limits let it through untouched.
    Limits relaxed;
    relaxed.strict_tlv_lengths = false;
    auto r = decode(wire, relaxed);
    REQUIRE(r);
    CHECK(*encode(*r, relaxed) == wire);
  }
  // Variable-length and vendor TLVs take any length.
  Bytes b = submit_sm();
  b.tlv(tlv::kMessagePayload, "").tlv(tlv::kSmppguardCategory, "\x01\x02").tlv(0x4000, "");
  CHECK(decode(b.frame(cmd::kSubmitSm, 1)).has_value());
}

TEST_CASE("submit_multi: number_of_dests and dest_flag") {
  for (std::uint8_t n : {0, 255}) {
    CAPTURE(int{n});
    Bytes b;
    b.cstr("").u8(0).u8(0).cstr("1555").u8(n);
    for (int i = 0; i < n; ++i) b.u8(2).cstr("dl");
    b.u8(0).u8(0).u8(0).cstr("").cstr("").u8(0).u8(0).u8(0).u8(0).u8(0);
    DecodeError e = expect_error(b.frame(cmd::kSubmitMulti, 12), DecodeErrc::bad_value,
                                 Field::number_of_dests, status::kEsmeRinvnumdests);
    CHECK(e.header->sequence_number == 12);
    Pdu resp = error_response(e);
    CHECK(resp.command_id == cmd::kSubmitMultiResp);
    CHECK(resp.command_status == status::kEsmeRinvnumdests);
  }
  // 254 destinations is the maximum.
  Bytes max;
  max.cstr("").u8(0).u8(0).cstr("1555").u8(254);
  for (int i = 0; i < 254; ++i) max.u8(1).u8(1).u8(1).cstr("1555000");
  max.u8(0).u8(0).u8(0).cstr("").cstr("").u8(0).u8(0).u8(0).u8(0).u8(0);
  auto ok = decode(max.frame(cmd::kSubmitMulti, 1));
  REQUIRE(ok);
  CHECK(ok->as<SubmitMulti>()->dest_addresses.size() == 254);

  for (std::uint8_t flag : {0, 3, 0xFF}) {
    CAPTURE(int{flag});
    DecodeError e =
        expect_error(submit_multi_with(flag, "x").frame(cmd::kSubmitMulti, 13),
                     DecodeErrc::bad_value, Field::dest_flag, status::kEsmeRinvdestflag);
    CHECK(e.header->sequence_number == 13);
  }
}

TEST_CASE("octets after the body of PDUs that take no TLVs") {
  Bytes one;
  one.u8(0);
  for (std::uint32_t id : {cmd::kEnquireLink, cmd::kEnquireLinkResp, cmd::kUnbind, cmd::kUnbindResp,
                           cmd::kGenericNack, cmd::kCancelSmResp}) {
    CAPTURE(command_name(id));
    expect_error(one.frame(id, 14), DecodeErrc::trailing_data, Field::body,
                 status::kEsmeRinvcmdlen);
  }
  Bytes b = bind_body("id");
  b.u8(0);
  DecodeError e = expect_error(b.frame(cmd::kBindTransmitter, 14), DecodeErrc::trailing_data,
                               Field::body, status::kEsmeRinvcmdlen);
  Pdu resp = error_response(e);
  CHECK(resp.command_id == cmd::kBindTransmitterResp);
  CHECK(std::holds_alternative<Empty>(resp.body));
  Bytes q;
  q.cstr("m").u8(0).u8(0).cstr("1").tlv(0x1400, "\x01");
  expect_error(q.frame(cmd::kQuerySm, 14), DecodeErrc::trailing_data, Field::body,
               status::kEsmeRinvcmdlen);
}

TEST_CASE("error_response for responses and commands without a `_resp`") {
  Bytes bad;
  bad.raw("no nul");
  DecodeError e = expect_error(bad.frame(cmd::kDeliverSmResp, 15), DecodeErrc::missing_nul,
                               Field::message_id, status::kEsmeRinvmsgid);
  Pdu nack = error_response(e);
  CHECK(nack.command_id == cmd::kGenericNack);
  CHECK(nack.sequence_number == 15);
  CHECK(nack.command_status == status::kEsmeRinvmsgid);

  Bytes alert;
  alert.u8(0).u8(0).raw("1");
  e = expect_error(alert.frame(cmd::kAlertNotification, 16), DecodeErrc::missing_nul,
                   Field::source_addr, status::kEsmeRinvsrcadr);
  CHECK(error_response(e).command_id == cmd::kGenericNack);
  CHECK(error_response(e).sequence_number == 16);

  Bytes data;
  data.cstr(str(6)).u8(0);
  e = expect_error(data.frame(cmd::kDataSm, 17), DecodeErrc::field_too_long, Field::service_type,
                   status::kEsmeRinvsertyp);
  Pdu r = error_response(e);
  CHECK(r.command_id == cmd::kDataSmResp);
  CHECK(r.as<DataSmResp>() != nullptr);  // data_sm_resp keeps its body on errors
}

TEST_CASE("decode error category") {
  const std::error_code ec = make_error_code(DecodeErrc::tlv_overrun);
  CHECK(std::string(ec.category().name()) == "smpp.decode");
  CHECK_FALSE(ec.message().empty());
  const std::error_code ec2 = DecodeErrc::truncated;  // is_error_code_enum
  CHECK((ec2 == make_error_code(DecodeErrc::truncated)));
  CHECK(std::string(make_error_code(EncodeErrc::bad_value).category().name()) == "smpp.encode");
}

TEST_CASE("encode refuses what decode would reject, and appends nothing") {
  auto expect = [](const Pdu& pdu, EncodeErrc code, Field field, const Limits& limits = {}) {
    Octets out{1, 2, 3};
    auto r = encode(pdu, out, limits);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == code);
    CHECK(field_name(r.error().field) == field_name(field));
    CHECK(out == Octets{1, 2, 3});
  };
  SubmitSm sm;
  sm.short_message = str(255);
  expect(Pdu{cmd::kSubmitSm, 0, 1, sm}, EncodeErrc::bad_sm_length, Field::short_message);
  sm.short_message = "";
  sm.source_addr = str(21);
  expect(Pdu{cmd::kSubmitSm, 0, 1, sm}, EncodeErrc::field_too_long, Field::source_addr);
  sm.source_addr = std::string(
      "12\0"
      "3",
      4);
  expect(Pdu{cmd::kSubmitSm, 0, 1, sm}, EncodeErrc::embedded_nul, Field::source_addr);
  sm.source_addr = "";
  sm.validity_period = "12";
  expect(Pdu{cmd::kSubmitSm, 0, 1, sm}, EncodeErrc::bad_value, Field::validity_period);
  sm.validity_period = "";
  sm.tlvs.set(tlv::kSarMsgRefNum, "\x01");
  expect(Pdu{cmd::kSubmitSm, 0, 1, sm}, EncodeErrc::tlv_length, Field::tlv);
  sm.tlvs.clear();
  sm.tlvs.set(tlv::kMessagePayload, str(65536));
  expect(Pdu{cmd::kSubmitSm, 0, 1, sm}, EncodeErrc::tlv_length, Field::tlv, Limits{1 << 20, true});
  sm.tlvs.set(tlv::kMessagePayload, str(2000));
  expect(Pdu{cmd::kSubmitSm, 0, 1, sm}, EncodeErrc::too_large, Field::command_length,
         Limits{1024, true});

  expect(Pdu{cmd::kSubmitSm, 0, 1, DataSm{}}, EncodeErrc::body_mismatch, Field::body);
  expect(Pdu{cmd::kSubmitSm, 0, 1, Empty{}}, EncodeErrc::body_mismatch, Field::body);
  expect(Pdu{cmd::kEnquireLink, 0, 1, Bind{}}, EncodeErrc::body_mismatch, Field::body);
  expect(Pdu{0x99, 0, 1, Empty{}}, EncodeErrc::unknown_command, Field::command_id);

  SubmitMulti m;
  expect(Pdu{cmd::kSubmitMulti, 0, 1, m}, EncodeErrc::bad_value, Field::number_of_dests);
  m.dest_addresses.assign(255, DestAddress{});
  expect(Pdu{cmd::kSubmitMulti, 0, 1, m}, EncodeErrc::bad_value, Field::number_of_dests);
  m.dest_addresses = {DestAddress{3, 0, 0, "", ""}};
  expect(Pdu{cmd::kSubmitMulti, 0, 1, m}, EncodeErrc::bad_value, Field::dest_flag);
  m.dest_addresses = {DestAddress{kDestFlagDistributionList, 1, 1, "155", "dl"}};
  expect(Pdu{cmd::kSubmitMulti, 0, 1, m}, EncodeErrc::bad_value, Field::destination_addr);
  m.dest_addresses = {DestAddress{kDestFlagSmeAddress, 1, 1, "155", "dl"}};
  expect(Pdu{cmd::kSubmitMulti, 0, 1, m}, EncodeErrc::bad_value, Field::dl_name);

  SubmitMultiResp mr;
  mr.unsuccess_smes.resize(256);
  expect(Pdu{cmd::kSubmitMultiResp, 0, 1, mr}, EncodeErrc::bad_value, Field::no_unsuccess);
  Bind b;
  b.password = str(9);
  expect(Pdu{cmd::kBindTransmitter, 0, 1, b}, EncodeErrc::field_too_long, Field::password);
}
