// Command ids, command_status values and field names against the SMPP v3.4 / v5.0 tables.
#include <doctest/doctest.h>

#include <cstdint>
#include <string_view>

#include "smppguard/proto/pdu.hpp"

using namespace smppguard::proto;

TEST_CASE("command ids and names") {
  struct Row {
    std::uint32_t id;
    std::string_view name;
  };
  const Row rows[] = {
      {0x80000000, "generic_nack"},          {0x00000001, "bind_receiver"},
      {0x80000001, "bind_receiver_resp"},    {0x00000002, "bind_transmitter"},
      {0x80000002, "bind_transmitter_resp"}, {0x00000003, "query_sm"},
      {0x80000003, "query_sm_resp"},         {0x00000004, "submit_sm"},
      {0x80000004, "submit_sm_resp"},        {0x00000005, "deliver_sm"},
      {0x80000005, "deliver_sm_resp"},       {0x00000006, "unbind"},
      {0x80000006, "unbind_resp"},           {0x00000007, "replace_sm"},
      {0x80000007, "replace_sm_resp"},       {0x00000008, "cancel_sm"},
      {0x80000008, "cancel_sm_resp"},        {0x00000009, "bind_transceiver"},
      {0x80000009, "bind_transceiver_resp"}, {0x0000000B, "outbind"},
      {0x00000015, "enquire_link"},          {0x80000015, "enquire_link_resp"},
      {0x00000021, "submit_multi"},          {0x80000021, "submit_multi_resp"},
      {0x00000102, "alert_notification"},    {0x00000103, "data_sm"},
      {0x80000103, "data_sm_resp"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.name);
    CHECK(command_name(r.id) == r.name);
    CHECK(is_known_command(r.id));
    CHECK(is_response(r.id) == ((r.id & 0x80000000u) != 0));
  }
  CHECK(command_name(0x0000000A) == "unknown");
  CHECK(command_name(0x80000102) == "unknown");  // alert_notification has no _resp
  CHECK(command_name(0x00000111) == "unknown");  // v5.0 broadcast_sm is not v3.4
  CHECK_FALSE(is_known_command(0x8000000B));

  CHECK(response_id_for(cmd::kSubmitSm) == cmd::kSubmitSmResp);
  CHECK(response_id_for(cmd::kBindTransceiver) == cmd::kBindTransceiverResp);
  CHECK(response_id_for(cmd::kEnquireLink) == cmd::kEnquireLinkResp);
  CHECK(response_id_for(cmd::kDataSm) == cmd::kDataSmResp);
  CHECK(response_id_for(cmd::kOutbind) == cmd::kGenericNack);
  CHECK(response_id_for(cmd::kAlertNotification) == cmd::kGenericNack);
  CHECK(response_id_for(cmd::kSubmitSmResp) == cmd::kGenericNack);
  CHECK(response_id_for(0x42) == cmd::kGenericNack);
  CHECK(has_response(cmd::kQuerySm));
  CHECK_FALSE(has_response(cmd::kGenericNack));
  CHECK(is_bind(cmd::kBindReceiver));
  CHECK_FALSE(is_bind(cmd::kOutbind));
}

TEST_CASE("command_status values and names (v3.4 5.1.3 and v5.0)") {
  struct Row {
    std::uint32_t value;
    std::string_view name;
  };
  const Row rows[] = {
      {0x00, "ESME_ROK"},
      {0x01, "ESME_RINVMSGLEN"},
      {0x02, "ESME_RINVCMDLEN"},
      {0x03, "ESME_RINVCMDID"},
      {0x04, "ESME_RINVBNDSTS"},
      {0x05, "ESME_RALYBND"},
      {0x06, "ESME_RINVPRTFLG"},
      {0x07, "ESME_RINVREGDLVFLG"},
      {0x08, "ESME_RSYSERR"},
      {0x0A, "ESME_RINVSRCADR"},
      {0x0B, "ESME_RINVDSTADR"},
      {0x0C, "ESME_RINVMSGID"},
      {0x0D, "ESME_RBINDFAIL"},
      {0x0E, "ESME_RINVPASWD"},
      {0x0F, "ESME_RINVSYSID"},
      {0x11, "ESME_RCANCELFAIL"},
      {0x13, "ESME_RREPLACEFAIL"},
      {0x14, "ESME_RMSGQFUL"},
      {0x15, "ESME_RINVSERTYP"},
      {0x33, "ESME_RINVNUMDESTS"},
      {0x34, "ESME_RINVDLNAME"},
      {0x40, "ESME_RINVDESTFLAG"},
      {0x42, "ESME_RINVSUBREP"},
      {0x43, "ESME_RINVESMCLASS"},
      {0x44, "ESME_RCNTSUBDL"},
      {0x45, "ESME_RSUBMITFAIL"},
      {0x48, "ESME_RINVSRCTON"},
      {0x49, "ESME_RINVSRCNPI"},
      {0x50, "ESME_RINVDSTTON"},
      {0x51, "ESME_RINVDSTNPI"},
      {0x53, "ESME_RINVSYSTYP"},
      {0x54, "ESME_RINVREPFLAG"},
      {0x55, "ESME_RINVNUMMSGS"},
      {0x58, "ESME_RTHROTTLED"},
      {0x61, "ESME_RINVSCHED"},
      {0x62, "ESME_RINVEXPIRY"},
      {0x63, "ESME_RINVDFTMSGID"},
      {0x64, "ESME_RX_T_APPN"},
      {0x65, "ESME_RX_P_APPN"},
      {0x66, "ESME_RX_R_APPN"},
      {0x67, "ESME_RQUERYFAIL"},
      {0xC0, "ESME_RINVOPTPARSTREAM"},
      {0xC1, "ESME_ROPTPARNOTALLWD"},
      {0xC2, "ESME_RINVPARLEN"},
      {0xC3, "ESME_RMISSINGOPTPARAM"},
      {0xC4, "ESME_RINVOPTPARAMVAL"},
      {0xFE, "ESME_RDELIVERYFAILURE"},
      {0xFF, "ESME_RUNKNOWNERR"},
      {0x100, "ESME_RSERTYPUNAUTH"},
      {0x101, "ESME_RPROHIBITED"},
      {0x102, "ESME_RSERTYPUNAVAIL"},
      {0x103, "ESME_RSERTYPDENIED"},
      {0x104, "ESME_RINVDCS"},
      {0x105, "ESME_RINVSRCADDRSUBUNIT"},
      {0x106, "ESME_RINVDSTADDRSUBUNIT"},
      {0x107, "ESME_RINVBCASTFREQINT"},
      {0x108, "ESME_RINVBCASTALIAS_NAME"},
      {0x109, "ESME_RINVBCASTAREAFMT"},
      {0x10A, "ESME_RINVNUMBCAST_AREAS"},
      {0x10B, "ESME_RINVBCASTCNTTYPE"},
      {0x10C, "ESME_RINVBCASTMSGCLASS"},
      {0x10D, "ESME_RBCASTFAIL"},
      {0x10E, "ESME_RBCASTQUERYFAIL"},
      {0x10F, "ESME_RBCASTCANCELFAIL"},
      {0x110, "ESME_RINVBCAST_REP"},
      {0x111, "ESME_RINVBCASTSRVGRP"},
      {0x112, "ESME_RINVBCASTCHANIND"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.name);
    CHECK(status_name(r.value) == r.name);
  }
  CHECK(status::kEsmeRinvpaswd == 0x0E);
  CHECK(status::kEsmeRinvoptparstream == 0xC0);
  CHECK(status::kEsmeRinvparlen == 0xC2);
  for (std::uint32_t v : {0x400u, 0x401u, 0x406u, 0x4FFu}) {
    CHECK(status_name(v) == "vendor");
    CHECK(is_vendor_status(v));
  }
  for (std::uint32_t v :
       {0x09u, 0x10u, 0x12u, 0x16u, 0x68u, 0xC5u, 0x113u, 0x3FFu, 0x500u, 0xFFFFFFFFu}) {
    CAPTURE(v);
    CHECK(status_name(v) == "unknown");
  }
}

TEST_CASE("field names and the status each field answers with") {
  CHECK(field_name(Field::source_addr) == "source_addr");
  CHECK(field_name(Field::schedule_delivery_time) == "schedule_delivery_time");
  CHECK(field_name(Field::tlv) == "tlv");
  CHECK(field_status(Field::source_addr) == status::kEsmeRinvsrcadr);
  CHECK(field_status(Field::destination_addr) == status::kEsmeRinvdstadr);
  CHECK(field_status(Field::short_message) == status::kEsmeRinvmsglen);
  CHECK(field_status(Field::sm_length) == status::kEsmeRinvmsglen);
  CHECK(field_status(Field::service_type) == status::kEsmeRinvsertyp);
  CHECK(field_status(Field::system_id) == status::kEsmeRinvsysid);
  CHECK(field_status(Field::password) == status::kEsmeRinvpaswd);
  CHECK(field_status(Field::number_of_dests) == status::kEsmeRinvnumdests);
  CHECK(field_status(Field::dest_flag) == status::kEsmeRinvdestflag);
  CHECK(field_status(Field::esm_class) == status::kEsmeRinvesmclass);
  CHECK(field_status(Field::schedule_delivery_time) == status::kEsmeRinvsched);
  CHECK(field_status(Field::validity_period) == status::kEsmeRinvexpiry);
  CHECK(field_status(Field::tlv) == status::kEsmeRinvoptparstream);
}
