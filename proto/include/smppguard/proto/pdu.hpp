#pragma once
// The decoded form of an SMPP v3.4 PDU: header, one body struct per PDU layout (fields named as
// in the spec, section 4), and the limits the codec enforces.
// Thread-safety: plain value types and pure functions.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "smppguard/proto/commands.hpp"
#include "smppguard/proto/status.hpp"
#include "smppguard/proto/tlv.hpp"

namespace smppguard::proto {

inline constexpr std::size_t kHeaderSize = 16;

// The 16-octet PDU header (section 3.2), all fields big-endian on the wire.
struct Header {
  std::uint32_t command_length = 0;
  std::uint32_t command_id = 0;
  std::uint32_t command_status = 0;
  std::uint32_t sequence_number = 0;
  bool operator==(const Header&) const = default;
};

// What the codec accepts; a constructor argument of FrameReader and an argument of decode/encode.
struct Limits {
  // Largest command_length accepted (and produced), header included.
  std::size_t max_pdu_size = 65536;
  // Reject standard fixed-size TLVs whose length is wrong (tlv_length(); ESME_RINVPARLEN).
  bool strict_tlv_lengths = true;
};

// Maximum sizes of C-octet strings in octets, terminating NUL included (SMPP v3.4 section 4).
namespace field_size {
inline constexpr std::size_t kSystemId = 16;
inline constexpr std::size_t kPassword = 9;
inline constexpr std::size_t kSystemType = 13;
inline constexpr std::size_t kAddressRange = 41;
inline constexpr std::size_t kServiceType = 6;
inline constexpr std::size_t kAddress = 21;        // source_addr, destination_addr
inline constexpr std::size_t kDataSmAddress = 65;  // data_sm and alert_notification addresses
inline constexpr std::size_t kTime = 17;  // schedule_delivery_time, validity_period, final_date
inline constexpr std::size_t kTimeChars = 16;  // a time is "" or exactly 16 characters
inline constexpr std::size_t kMessageId = 65;
inline constexpr std::size_t kDlName = 21;
inline constexpr std::size_t kShortMessage = 254;  // octets of short_message (no NUL)
inline constexpr std::size_t kMaxDests = 254;      // submit_multi number_of_dests
}  // namespace field_size

// interface_version values.
inline constexpr std::uint8_t kInterfaceVersion33 = 0x33;
inline constexpr std::uint8_t kInterfaceVersion34 = 0x34;
inline constexpr std::uint8_t kInterfaceVersion50 = 0x50;

// submit_multi dest_flag values.
inline constexpr std::uint8_t kDestFlagSmeAddress = 1;
inline constexpr std::uint8_t kDestFlagDistributionList = 2;

// esm_class bits (section 5.2.12).
namespace esm_class {
inline constexpr std::uint8_t kMessageTypeMask = 0x3C;
inline constexpr std::uint8_t kDeliveryReceipt = 0x04;  // SMSC delivery receipt
inline constexpr std::uint8_t kIntermediateNotification = 0x20;
inline constexpr std::uint8_t kUdhi = 0x40;
inline constexpr std::uint8_t kReplyPath = 0x80;
}  // namespace esm_class

// A field of a PDU, named in decode and encode errors.
enum class Field : std::uint8_t {
  none,  // the error concerns no single field (frame length, command id, trailing data)
  command_length,
  command_id,
  system_id,
  password,
  system_type,
  interface_version,
  addr_ton,
  addr_npi,
  address_range,
  service_type,
  source_addr_ton,
  source_addr_npi,
  source_addr,
  dest_addr_ton,
  dest_addr_npi,
  destination_addr,
  esm_class,
  protocol_id,
  priority_flag,
  schedule_delivery_time,
  validity_period,
  registered_delivery,
  replace_if_present_flag,
  data_coding,
  sm_default_msg_id,
  sm_length,
  short_message,
  number_of_dests,
  dest_flag,
  dl_name,
  message_id,
  no_unsuccess,
  error_status_code,
  final_date,
  message_state,
  error_code,
  esme_addr_ton,
  esme_addr_npi,
  esme_addr,
  tlv,   // the optional part
  body,  // the body as a whole (e.g. its type does not fit the command id)
};

// The field's spec name ("source_addr"); "none", "tlv" and "body" for the three others.
std::string_view field_name(Field f) noexcept;

// The command_status an SMSC answers when this field is invalid: ESME_RINVSRCADR for
// source_addr, ESME_RINVMSGLEN for sm_length/short_message, ESME_RINVSYSID for system_id,
// ESME_RINVSCHED for schedule_delivery_time, ...; ESME_RUNKNOWNERR when the spec has no code.
std::uint32_t field_status(Field f) noexcept;

// ---- bodies -----------------------------------------------------------------------------------

// No body: generic_nack, unbind(_resp), enquire_link(_resp), cancel_sm_resp, replace_sm_resp,
// and any other response that came (or is to be sent) as a bare 16-octet header.
struct Empty {
  bool operator==(const Empty&) const = default;
};

// bind_transmitter, bind_receiver, bind_transceiver.
struct Bind {
  std::string system_id;    // <= 15 chars
  std::string password;     // <= 8 chars
  std::string system_type;  // <= 12 chars
  std::uint8_t interface_version = kInterfaceVersion34;
  std::uint8_t addr_ton = 0;
  std::uint8_t addr_npi = 0;
  std::string address_range;  // <= 40 chars
  bool operator==(const Bind&) const = default;
};

// bind_transmitter_resp, bind_receiver_resp, bind_transceiver_resp.
struct BindResp {
  std::string system_id;  // the SMSC's id, <= 15 chars
  TlvList tlvs;           // sc_interface_version
  bool operator==(const BindResp&) const = default;
};

// outbind.
struct Outbind {
  std::string system_id;
  std::string password;
  bool operator==(const Outbind&) const = default;
};

// submit_sm and deliver_sm (same layout; in deliver_sm schedule_delivery_time and
// validity_period are normally empty). sm_length is short_message.size().
struct SubmitSm {
  std::string service_type;  // <= 5 chars
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string source_addr;  // <= 20 chars
  std::uint8_t dest_addr_ton = 0;
  std::uint8_t dest_addr_npi = 0;
  std::string destination_addr;  // <= 20 chars
  std::uint8_t esm_class = 0;
  std::uint8_t protocol_id = 0;
  std::uint8_t priority_flag = 0;
  std::string schedule_delivery_time;  // "" or 16 chars
  std::string validity_period;         // "" or 16 chars
  std::uint8_t registered_delivery = 0;
  std::uint8_t replace_if_present_flag = 0;
  std::uint8_t data_coding = 0;
  std::uint8_t sm_default_msg_id = 0;
  std::string short_message;  // raw octets, <= 254
  TlvList tlvs;
  bool operator==(const SubmitSm&) const = default;
};
using DeliverSm = SubmitSm;

// submit_sm_resp, deliver_sm_resp, data_sm_resp (TLVs: v3.4 data_sm_resp, v5.0 all three).
struct MessageIdResp {
  std::string message_id;  // <= 64 chars; "" in deliver_sm_resp
  TlvList tlvs;
  bool operator==(const MessageIdResp&) const = default;
};
using SubmitSmResp = MessageIdResp;
using DeliverSmResp = MessageIdResp;
using DataSmResp = MessageIdResp;

// One dest_address of submit_multi: dest_flag 1 (SME address: dest_addr_ton, dest_addr_npi,
// destination_addr) or 2 (distribution list: dl_name). The fields of the other kind are not
// encoded and must be left empty/zero.
struct DestAddress {
  std::uint8_t dest_flag = kDestFlagSmeAddress;
  std::uint8_t dest_addr_ton = 0;
  std::uint8_t dest_addr_npi = 0;
  std::string destination_addr;  // flag 1, <= 20 chars
  std::string dl_name;           // flag 2, <= 20 chars
  bool operator==(const DestAddress&) const = default;
};

// submit_multi. number_of_dests is dest_addresses.size() (1..254).
struct SubmitMulti {
  std::string service_type;
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string source_addr;
  std::vector<DestAddress> dest_addresses;
  std::uint8_t esm_class = 0;
  std::uint8_t protocol_id = 0;
  std::uint8_t priority_flag = 0;
  std::string schedule_delivery_time;
  std::string validity_period;
  std::uint8_t registered_delivery = 0;
  std::uint8_t replace_if_present_flag = 0;
  std::uint8_t data_coding = 0;
  std::uint8_t sm_default_msg_id = 0;
  std::string short_message;
  TlvList tlvs;
  bool operator==(const SubmitMulti&) const = default;
};

// One unsuccess_sme of submit_multi_resp.
struct UnsuccessSme {
  std::uint8_t dest_addr_ton = 0;
  std::uint8_t dest_addr_npi = 0;
  std::string destination_addr;
  std::uint32_t error_status_code = 0;
  bool operator==(const UnsuccessSme&) const = default;
};

// submit_multi_resp. no_unsuccess is unsuccess_smes.size() (0..255). TLVs: v5.0.
struct SubmitMultiResp {
  std::string message_id;
  std::vector<UnsuccessSme> unsuccess_smes;
  TlvList tlvs;
  bool operator==(const SubmitMultiResp&) const = default;
};

// data_sm (addresses up to 64 chars).
struct DataSm {
  std::string service_type;
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string source_addr;
  std::uint8_t dest_addr_ton = 0;
  std::uint8_t dest_addr_npi = 0;
  std::string destination_addr;
  std::uint8_t esm_class = 0;
  std::uint8_t registered_delivery = 0;
  std::uint8_t data_coding = 0;
  TlvList tlvs;
  bool operator==(const DataSm&) const = default;
};

// query_sm.
struct QuerySm {
  std::string message_id;
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string source_addr;
  bool operator==(const QuerySm&) const = default;
};

// query_sm_resp.
struct QuerySmResp {
  std::string message_id;
  std::string final_date;  // "" or 16 chars
  std::uint8_t message_state = 0;
  std::uint8_t error_code = 0;
  bool operator==(const QuerySmResp&) const = default;
};

// cancel_sm.
struct CancelSm {
  std::string service_type;
  std::string message_id;
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string source_addr;
  std::uint8_t dest_addr_ton = 0;
  std::uint8_t dest_addr_npi = 0;
  std::string destination_addr;
  bool operator==(const CancelSm&) const = default;
};

// replace_sm (TLVs: v5.0 message_payload; carried through).
struct ReplaceSm {
  std::string message_id;
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string source_addr;
  std::string schedule_delivery_time;
  std::string validity_period;
  std::uint8_t registered_delivery = 0;
  std::uint8_t sm_default_msg_id = 0;
  std::string short_message;
  TlvList tlvs;
  bool operator==(const ReplaceSm&) const = default;
};

// alert_notification (addresses up to 64 chars; TLV ms_availability_status).
struct AlertNotification {
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string source_addr;
  std::uint8_t esme_addr_ton = 0;
  std::uint8_t esme_addr_npi = 0;
  std::string esme_addr;
  TlvList tlvs;
  bool operator==(const AlertNotification&) const = default;
};

using Body = std::variant<Empty, Bind, BindResp, Outbind, SubmitSm, MessageIdResp, SubmitMulti,
                          SubmitMultiResp, DataSm, QuerySm, QuerySmResp, CancelSm, ReplaceSm,
                          AlertNotification>;

// One PDU. command_length is not stored: encode computes it. The body alternative must fit
// command_id (body_fits); layout-identical commands share a struct and command_id tells them apart.
struct Pdu {
  std::uint32_t command_id = 0;
  std::uint32_t command_status = 0;
  std::uint32_t sequence_number = 0;
  Body body;

  // Convenience: the body as T, or nullptr.
  template <typename T>
  T* as() noexcept {
    return std::get_if<T>(&body);
  }
  template <typename T>
  const T* as() const noexcept {
    return std::get_if<T>(&body);
  }
  bool operator==(const Pdu&) const = default;
};

// True when body's alternative is the layout of command_id. Empty fits every response (a
// response may be a bare header) and the body-less commands; nothing fits an unknown id.
bool body_fits(std::uint32_t command_id, const Body& body) noexcept;

// True for the responses that SMPP v3.4 says are sent without a body when command_status is
// non-zero: bind_transmitter_resp (4.1.2), bind_receiver_resp (4.1.4) and submit_sm_resp
// (4.4.2); and bind_transceiver_resp (4.1.6), treated like its two siblings (sources differ on
// whether its section says so).
bool error_response_has_no_body(std::uint32_t response_id) noexcept;

// The response to a request, with the request's sequence number. The rule for error responses
// (the one place it lives): with a non-zero status, the four PDUs of error_response_has_no_body()
// get an Empty body (a bare 16-octet header); every other response gets its full default body
// (deliver_sm_resp and data_sm_resp a NUL message_id, so that data_sm_resp TLVs such as
// delivery_failure_reason can follow; query_sm_resp and submit_multi_resp their empty fields).
// With status 0 every response gets its default body for the caller to fill in.
// For requests that have no response (outbind, alert_notification), responses and unknown ids
// the result is a generic_nack with that status.
Pdu make_response(const Header& request, std::uint32_t command_status);
inline Pdu make_response(const Pdu& request, std::uint32_t command_status) {
  return make_response(Header{0, request.command_id, 0, request.sequence_number}, command_status);
}

// A generic_nack with this status and sequence number.
Pdu make_generic_nack(std::uint32_t command_status, std::uint32_t sequence_number);

}  // namespace smppguard::proto
