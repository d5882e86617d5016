#pragma once
// SMPP v3.4 command ids (section 5.1.2.1) and small predicates over them.
// Thread-safety: constants and pure functions only.
#include <cstdint>
#include <string_view>

namespace smppguard::proto {

namespace cmd {
inline constexpr std::uint32_t kGenericNack = 0x80000000;
inline constexpr std::uint32_t kBindReceiver = 0x00000001;
inline constexpr std::uint32_t kBindReceiverResp = 0x80000001;
inline constexpr std::uint32_t kBindTransmitter = 0x00000002;
inline constexpr std::uint32_t kBindTransmitterResp = 0x80000002;
inline constexpr std::uint32_t kQuerySm = 0x00000003;
inline constexpr std::uint32_t kQuerySmResp = 0x80000003;
inline constexpr std::uint32_t kSubmitSm = 0x00000004;
inline constexpr std::uint32_t kSubmitSmResp = 0x80000004;
inline constexpr std::uint32_t kDeliverSm = 0x00000005;
inline constexpr std::uint32_t kDeliverSmResp = 0x80000005;
inline constexpr std::uint32_t kUnbind = 0x00000006;
inline constexpr std::uint32_t kUnbindResp = 0x80000006;
inline constexpr std::uint32_t kReplaceSm = 0x00000007;
inline constexpr std::uint32_t kReplaceSmResp = 0x80000007;
inline constexpr std::uint32_t kCancelSm = 0x00000008;
inline constexpr std::uint32_t kCancelSmResp = 0x80000008;
inline constexpr std::uint32_t kBindTransceiver = 0x00000009;
inline constexpr std::uint32_t kBindTransceiverResp = 0x80000009;
inline constexpr std::uint32_t kOutbind = 0x0000000B;
inline constexpr std::uint32_t kEnquireLink = 0x00000015;
inline constexpr std::uint32_t kEnquireLinkResp = 0x80000015;
inline constexpr std::uint32_t kSubmitMulti = 0x00000021;
inline constexpr std::uint32_t kSubmitMultiResp = 0x80000021;
inline constexpr std::uint32_t kAlertNotification = 0x00000102;
inline constexpr std::uint32_t kDataSm = 0x00000103;
inline constexpr std::uint32_t kDataSmResp = 0x80000103;
}  // namespace cmd

// "submit_sm", "bind_transceiver_resp", ...; "unknown" for ids that are not SMPP v3.4 commands.
std::string_view command_name(std::uint32_t command_id) noexcept;

// True for the 27 command ids above.
bool is_known_command(std::uint32_t command_id) noexcept;

// True when bit 31 is set (generic_nack and every `_resp`).
constexpr bool is_response(std::uint32_t command_id) noexcept {
  return (command_id & 0x80000000u) != 0;
}

// True for a known request that is answered by its own `_resp` (everything but outbind and
// alert_notification, which have none).
bool has_response(std::uint32_t command_id) noexcept;

// The `_resp` id for a request that has one; cmd::kGenericNack for anything else (outbind,
// alert_notification, responses, unknown ids): that is what a peer answers those with.
std::uint32_t response_id_for(std::uint32_t request_id) noexcept;

// True for bind_transmitter, bind_receiver and bind_transceiver.
constexpr bool is_bind(std::uint32_t command_id) noexcept {
  return command_id == cmd::kBindTransmitter || command_id == cmd::kBindReceiver ||
         command_id == cmd::kBindTransceiver;
}

}  // namespace smppguard::proto
