#pragma once
// Encoding a Pdu to its wire bytes. Produces exactly the bytes decode read (round trip) and
// refuses to produce a PDU that decode would reject. No exceptions (other than std::bad_alloc).
// Thread-safety: pure functions.
#include <cstddef>
#include <cstdint>
#include <system_error>
#include <vector>

#include "smppguard/proto/expected.hpp"
#include "smppguard/proto/pdu.hpp"

namespace smppguard::proto {

// Why a Pdu could not be encoded. Category "smpp.encode".
enum class EncodeErrc {
  unknown_command = 1,  // command_id is not an SMPP v3.4 command
  body_mismatch,        // the body alternative does not fit command_id (body_fits)
  field_too_long,       // a C-octet string over its maximum
  embedded_nul,         // a C-octet string containing a NUL octet
  bad_sm_length,        // short_message longer than 254 octets
  bad_value,            // dest_flag not 1/2, 0 or > 254 dest_addresses, > 255 unsuccess_smes,
                        // a time that is not "" or 16 chars
  tlv_length,           // a TLV value over 65535 octets, or a fixed-size TLV of the wrong length
  too_large,            // the PDU would exceed Limits::max_pdu_size
};
const std::error_category& encode_category() noexcept;
std::error_code make_error_code(EncodeErrc e) noexcept;

struct EncodeError {
  EncodeErrc code = EncodeErrc::bad_value;
  Field field = Field::none;
  std::error_code error_code() const noexcept { return make_error_code(code); }
  bool operator==(const EncodeError&) const = default;
};

// Appends the PDU to `out`, command_length filled in; returns the number of octets appended.
// On error nothing is appended (out keeps its size).
// Error responses: encode writes the body the Pdu holds (Empty = bare header); make_response()
// applies the SMPP v3.4 rule for which error responses carry no body.
[[nodiscard]] Expected<std::size_t, EncodeError> encode(const Pdu& pdu,
                                                        std::vector<std::uint8_t>& out,
                                                        const Limits& limits = {});

// Convenience: the PDU's bytes in a new vector.
[[nodiscard]] Expected<std::vector<std::uint8_t>, EncodeError> encode(const Pdu& pdu,
                                                                      const Limits& limits = {});

}  // namespace smppguard::proto

template <>
struct std::is_error_code_enum<smppguard::proto::EncodeErrc> : std::true_type {};
