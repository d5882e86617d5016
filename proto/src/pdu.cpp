#include "smppguard/proto/pdu.hpp"

namespace smppguard::proto {

std::string_view field_name(Field f) noexcept {
  switch (f) {
    case Field::none:
      return "none";
    case Field::command_length:
      return "command_length";
    case Field::command_id:
      return "command_id";
    case Field::system_id:
      return "system_id";
    case Field::password:
      return "password";
    case Field::system_type:
      return "system_type";
    case Field::interface_version:
      return "interface_version";
    case Field::addr_ton:
      return "addr_ton";
    case Field::addr_npi:
      return "addr_npi";
    case Field::address_range:
      return "address_range";
    case Field::service_type:
      return "service_type";
    case Field::source_addr_ton:
      return "source_addr_ton";
    case Field::source_addr_npi:
      return "source_addr_npi";
    case Field::source_addr:
      return "source_addr";
    case Field::dest_addr_ton:
      return "dest_addr_ton";
    case Field::dest_addr_npi:
      return "dest_addr_npi";
    case Field::destination_addr:
      return "destination_addr";
    case Field::esm_class:
      return "esm_class";
    case Field::protocol_id:
      return "protocol_id";
    case Field::priority_flag:
      return "priority_flag";
    case Field::schedule_delivery_time:
      return "schedule_delivery_time";
    case Field::validity_period:
      return "validity_period";
    case Field::registered_delivery:
      return "registered_delivery";
    case Field::replace_if_present_flag:
      return "replace_if_present_flag";
    case Field::data_coding:
      return "data_coding";
    case Field::sm_default_msg_id:
      return "sm_default_msg_id";
    case Field::sm_length:
      return "sm_length";
    case Field::short_message:
      return "short_message";
    case Field::number_of_dests:
      return "number_of_dests";
    case Field::dest_flag:
      return "dest_flag";
    case Field::dl_name:
      return "dl_name";
    case Field::message_id:
      return "message_id";
    case Field::no_unsuccess:
      return "no_unsuccess";
    case Field::error_status_code:
      return "error_status_code";
    case Field::final_date:
      return "final_date";
    case Field::message_state:
      return "message_state";
    case Field::error_code:
      return "error_code";
    case Field::esme_addr_ton:
      return "esme_addr_ton";
    case Field::esme_addr_npi:
      return "esme_addr_npi";
    case Field::esme_addr:
      return "esme_addr";
    case Field::tlv:
      return "tlv";
    case Field::body:
      return "body";
  }
  return "none";
}

std::uint32_t field_status(Field f) noexcept {
  using namespace status;
  switch (f) {
    case Field::command_length:
      return kEsmeRinvcmdlen;
    case Field::command_id:
      return kEsmeRinvcmdid;
    case Field::system_id:
      return kEsmeRinvsysid;
    case Field::password:
      return kEsmeRinvpaswd;
    case Field::system_type:
      return kEsmeRinvsystyp;
    case Field::interface_version:
    case Field::addr_ton:
    case Field::addr_npi:
    case Field::address_range:
      return kEsmeRbindfail;
    case Field::service_type:
      return kEsmeRinvsertyp;
    case Field::source_addr_ton:
      return kEsmeRinvsrcton;
    case Field::source_addr_npi:
      return kEsmeRinvsrcnpi;
    case Field::source_addr:
      return kEsmeRinvsrcadr;
    case Field::dest_addr_ton:
      return kEsmeRinvdstton;
    case Field::dest_addr_npi:
      return kEsmeRinvdstnpi;
    case Field::destination_addr:
      return kEsmeRinvdstadr;
    case Field::esm_class:
      return kEsmeRinvesmclass;
    case Field::priority_flag:
      return kEsmeRinvprtflg;
    case Field::schedule_delivery_time:
      return kEsmeRinvsched;
    case Field::validity_period:
      return kEsmeRinvexpiry;
    case Field::registered_delivery:
      return kEsmeRinvregdlvflg;
    case Field::replace_if_present_flag:
      return kEsmeRinvrepflag;
    case Field::sm_default_msg_id:
      return kEsmeRinvdftmsgid;
    case Field::sm_length:
    case Field::short_message:
      return kEsmeRinvmsglen;
    case Field::number_of_dests:
      return kEsmeRinvnumdests;
    case Field::dest_flag:
      return kEsmeRinvdestflag;
    case Field::dl_name:
      return kEsmeRinvdlname;
    case Field::message_id:
      return kEsmeRinvmsgid;
    case Field::esme_addr_ton:
      return kEsmeRinvdstton;
    case Field::esme_addr_npi:
      return kEsmeRinvdstnpi;
    case Field::esme_addr:
      return kEsmeRinvdstadr;
    case Field::tlv:
      return kEsmeRinvoptparstream;
    case Field::none:
    case Field::body:
      return kEsmeRinvcmdlen;
    case Field::protocol_id:
    case Field::data_coding:
    case Field::no_unsuccess:
    case Field::error_status_code:
    case Field::final_date:
    case Field::message_state:
    case Field::error_code:
      return kEsmeRunknownerr;
  }
  return kEsmeRunknownerr;
}

bool body_fits(std::uint32_t id, const Body& body) noexcept {
  const bool empty = std::holds_alternative<Empty>(body);
  switch (id) {
    case cmd::kGenericNack:
    case cmd::kUnbind:
    case cmd::kUnbindResp:
    case cmd::kEnquireLink:
    case cmd::kEnquireLinkResp:
    case cmd::kCancelSmResp:
    case cmd::kReplaceSmResp:
      return empty;
    case cmd::kBindReceiver:
    case cmd::kBindTransmitter:
    case cmd::kBindTransceiver:
      return std::holds_alternative<Bind>(body);
    case cmd::kBindReceiverResp:
    case cmd::kBindTransmitterResp:
    case cmd::kBindTransceiverResp:
      return empty || std::holds_alternative<BindResp>(body);
    case cmd::kOutbind:
      return std::holds_alternative<Outbind>(body);
    case cmd::kSubmitSm:
    case cmd::kDeliverSm:
      return std::holds_alternative<SubmitSm>(body);
    case cmd::kSubmitSmResp:
    case cmd::kDeliverSmResp:
    case cmd::kDataSmResp:
      return empty || std::holds_alternative<MessageIdResp>(body);
    case cmd::kSubmitMulti:
      return std::holds_alternative<SubmitMulti>(body);
    case cmd::kSubmitMultiResp:
      return empty || std::holds_alternative<SubmitMultiResp>(body);
    case cmd::kDataSm:
      return std::holds_alternative<DataSm>(body);
    case cmd::kQuerySm:
      return std::holds_alternative<QuerySm>(body);
    case cmd::kQuerySmResp:
      return empty || std::holds_alternative<QuerySmResp>(body);
    case cmd::kCancelSm:
      return std::holds_alternative<CancelSm>(body);
    case cmd::kReplaceSm:
      return std::holds_alternative<ReplaceSm>(body);
    case cmd::kAlertNotification:
      return std::holds_alternative<AlertNotification>(body);
    default:
      return false;
  }
}

bool error_response_has_no_body(std::uint32_t id) noexcept {
  return id == cmd::kBindTransmitterResp || id == cmd::kBindReceiverResp ||
         id == cmd::kBindTransceiverResp || id == cmd::kSubmitSmResp;
}

Pdu make_generic_nack(std::uint32_t command_status, std::uint32_t sequence_number) {
  return Pdu{cmd::kGenericNack, command_status, sequence_number, Empty{}};
}

Pdu make_response(const Header& request, std::uint32_t command_status) {
  const std::uint32_t id = response_id_for(request.command_id);
  Pdu r{id, command_status, request.sequence_number, Empty{}};
  if (id == cmd::kGenericNack) return r;
  if (command_status != status::kEsmeRok && error_response_has_no_body(id)) return r;
  switch (id) {
    case cmd::kBindReceiverResp:
    case cmd::kBindTransmitterResp:
    case cmd::kBindTransceiverResp:
      r.body = BindResp{};
      break;
    case cmd::kSubmitSmResp:
    case cmd::kDeliverSmResp:
    case cmd::kDataSmResp:
      r.body = MessageIdResp{};
      break;
    case cmd::kSubmitMultiResp:
      r.body = SubmitMultiResp{};
      break;
    case cmd::kQuerySmResp:
      r.body = QuerySmResp{};
      break;
    default:
      break;  // unbind_resp, enquire_link_resp, cancel_sm_resp, replace_sm_resp: Empty
  }
  return r;
}

}  // namespace smppguard::proto
