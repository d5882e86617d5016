#include "smppguard/proto/commands.hpp"

namespace smppguard::proto {

std::string_view command_name(std::uint32_t id) noexcept {
  switch (id) {
    case cmd::kGenericNack:
      return "generic_nack";
    case cmd::kBindReceiver:
      return "bind_receiver";
    case cmd::kBindReceiverResp:
      return "bind_receiver_resp";
    case cmd::kBindTransmitter:
      return "bind_transmitter";
    case cmd::kBindTransmitterResp:
      return "bind_transmitter_resp";
    case cmd::kQuerySm:
      return "query_sm";
    case cmd::kQuerySmResp:
      return "query_sm_resp";
    case cmd::kSubmitSm:
      return "submit_sm";
    case cmd::kSubmitSmResp:
      return "submit_sm_resp";
    case cmd::kDeliverSm:
      return "deliver_sm";
    case cmd::kDeliverSmResp:
      return "deliver_sm_resp";
    case cmd::kUnbind:
      return "unbind";
    case cmd::kUnbindResp:
      return "unbind_resp";
    case cmd::kReplaceSm:
      return "replace_sm";
    case cmd::kReplaceSmResp:
      return "replace_sm_resp";
    case cmd::kCancelSm:
      return "cancel_sm";
    case cmd::kCancelSmResp:
      return "cancel_sm_resp";
    case cmd::kBindTransceiver:
      return "bind_transceiver";
    case cmd::kBindTransceiverResp:
      return "bind_transceiver_resp";
    case cmd::kOutbind:
      return "outbind";
    case cmd::kEnquireLink:
      return "enquire_link";
    case cmd::kEnquireLinkResp:
      return "enquire_link_resp";
    case cmd::kSubmitMulti:
      return "submit_multi";
    case cmd::kSubmitMultiResp:
      return "submit_multi_resp";
    case cmd::kAlertNotification:
      return "alert_notification";
    case cmd::kDataSm:
      return "data_sm";
    case cmd::kDataSmResp:
      return "data_sm_resp";
    default:
      return "unknown";
  }
}

bool is_known_command(std::uint32_t id) noexcept { return command_name(id) != "unknown"; }

bool has_response(std::uint32_t id) noexcept {
  return !is_response(id) && is_known_command(id) && id != cmd::kOutbind &&
         id != cmd::kAlertNotification;
}

std::uint32_t response_id_for(std::uint32_t request_id) noexcept {
  return has_response(request_id) ? (request_id | 0x80000000u) : cmd::kGenericNack;
}

}  // namespace smppguard::proto
