#pragma once
// Decoding one complete SMPP frame into a Pdu, and header helpers for the proxy's hot path.
// No exceptions, no I/O. Thread-safety: pure functions; decode may run concurrently on
// different frames.
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>

#include "smppguard/proto/expected.hpp"
#include "smppguard/proto/pdu.hpp"

namespace smppguard::proto {

// Why a frame did not decode. Category "smpp.decode".
enum class DecodeErrc {
  truncated = 1,             // frame shorter than 16 octets, or the body ends inside a field
  command_length_too_small,  // command_length < 16
  command_length_too_large,  // command_length > Limits::max_pdu_size
  length_mismatch,           // command_length != the frame's size
  missing_nul,               // C-octet string without its terminating NUL
  field_too_long,            // C-octet string longer than the spec's maximum
  bad_sm_length,             // sm_length > 254 or more than the octets left
  tlv_truncated,             // fewer than 4 octets left for a TLV tag and length
  tlv_overrun,               // a TLV length runs past the end of the PDU
  tlv_length,                // a fixed-size TLV with the wrong length
  bad_value,                 // number_of_dests 0 or > 254, dest_flag not 1/2, time not 0/16 chars
  unknown_command,           // command_id is not an SMPP v3.4 command
  trailing_data,             // octets after the body of a PDU that takes no TLVs
};
const std::error_category& decode_category() noexcept;
std::error_code make_error_code(DecodeErrc e) noexcept;

// A decode failure with everything needed to answer it.
struct DecodeError {
  DecodeErrc code = DecodeErrc::truncated;
  Field field = Field::none;  // which field it concerns
  std::uint16_t tlv_tag = 0;  // field == Field::tlv: the offending TLV's tag, when it was read
  // The command_status to answer with: ESME_RINVCMDLEN for framing and truncation,
  // ESME_RINVCMDID for unknown_command, ESME_RINVOPTPARSTREAM for a broken TLV stream,
  // ESME_RINVPARLEN for tlv_length, and field_status(field) for a bad field.
  std::uint32_t command_status = status::kEsmeRinvcmdlen;
  // The 16-octet header as read, when the frame had one. For command_length errors the
  // stream cannot be trusted: answer with sequence 0 (error_response does).
  std::optional<Header> header;

  std::error_code error_code() const noexcept { return make_error_code(code); }
  // True for errors after which the byte stream cannot be trusted (close the connection).
  bool fatal() const noexcept {
    return code == DecodeErrc::command_length_too_small ||
           code == DecodeErrc::command_length_too_large;
  }
  bool operator==(const DecodeError&) const = default;
};

// Decodes exactly one complete PDU (frame = command_length octets, e.g. from FrameReader).
// A response whose body is absent (command_length 16) decodes with an Empty body, whatever its
// status, as peers send error responses both with and without a body. Unknown TLVs and
// duplicates are kept in order. The result re-encodes to exactly `frame`.
[[nodiscard]] Expected<Pdu, DecodeError> decode(std::span<const std::uint8_t> frame,
                                                const Limits& limits = {});

// The PDU an SMSC answers a failed decode with: the request's `_resp` (make_response rule) with
// error.command_status and its sequence number; generic_nack for unknown commands, responses,
// outbind and alert_notification; generic_nack with sequence 0 when there is no trustworthy
// header (frame under 16 octets, command_length errors, length mismatch).
Pdu error_response(const DecodeError& error);

// The header of a frame without decoding the body (no validation); nullopt under 16 octets.
std::optional<Header> peek_header(std::span<const std::uint8_t> frame) noexcept;

// Patches the sequence number (or command_status) of an encoded frame in place; false (and
// nothing written) when the frame is shorter than 16 octets.
bool set_sequence(std::span<std::uint8_t> frame, std::uint32_t sequence_number) noexcept;
bool set_command_status(std::span<std::uint8_t> frame, std::uint32_t command_status) noexcept;

}  // namespace smppguard::proto

template <>
struct std::is_error_code_enum<smppguard::proto::DecodeErrc> : std::true_type {};
