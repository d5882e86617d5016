#include "smppguard/proto/decode.hpp"

#include <cstring>
#include <string>

#include "wire.hpp"

namespace smppguard::proto {
namespace {

class DecodeCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "smpp.decode"; }
  std::string message(int ev) const override {
    switch (static_cast<DecodeErrc>(ev)) {
      case DecodeErrc::truncated:
        return "PDU truncated";
      case DecodeErrc::command_length_too_small:
        return "command_length below 16";
      case DecodeErrc::command_length_too_large:
        return "command_length above the maximum PDU size";
      case DecodeErrc::length_mismatch:
        return "command_length does not match the frame";
      case DecodeErrc::missing_nul:
        return "C-octet string without terminating NUL";
      case DecodeErrc::field_too_long:
        return "field longer than its maximum";
      case DecodeErrc::bad_sm_length:
        return "sm_length invalid";
      case DecodeErrc::tlv_truncated:
        return "truncated TLV header";
      case DecodeErrc::tlv_overrun:
        return "TLV length runs past the end of the PDU";
      case DecodeErrc::tlv_length:
        return "TLV with a wrong length";
      case DecodeErrc::bad_value:
        return "invalid field value";
      case DecodeErrc::unknown_command:
        return "unknown command_id";
      case DecodeErrc::trailing_data:
        return "unexpected octets after the PDU body";
    }
    return "unknown decode error";
  }
};

// Reads a PDU body field by field. The first failure is kept and every later read is a no-op,
// so body readers are straight lists of fields with one check at the end.
class Reader {
 public:
  Reader(std::span<const std::uint8_t> body, const Limits& limits)
      : p_(body.data()), end_(body.data() + body.size()), limits_(limits) {}

  bool ok() const noexcept { return !failed_; }
  const DecodeError& error() const noexcept { return error_; }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }

  void u8(std::uint8_t& v, Field f) {
    if (failed_) return;
    if (remaining() < 1) return fail(DecodeErrc::truncated, f, status::kEsmeRinvcmdlen);
    v = *p_++;
  }

  void u32(std::uint32_t& v, Field f) {
    if (failed_) return;
    if (remaining() < 4) return fail(DecodeErrc::truncated, f, status::kEsmeRinvcmdlen);
    v = detail::load_u32(p_);
    p_ += 4;
  }

  // A C-octet string of at most `max` octets including its NUL.
  void cstring(std::string& s, Field f, std::size_t max) {
    if (failed_) return;
    const std::size_t scan = remaining() < max ? remaining() : max;
    const void* nul = scan ? std::memchr(p_, 0, scan) : nullptr;
    if (nul == nullptr) {
      // No NUL within the maximum: too long if the data went on, else the string is unterminated.
      return fail(remaining() >= max ? DecodeErrc::field_too_long : DecodeErrc::missing_nul, f,
                  field_status(f));
    }
    const auto len = static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - p_);
    s.assign(reinterpret_cast<const char*>(p_), len);
    p_ += len + 1;
  }

  // schedule_delivery_time, validity_period, final_date: "" or exactly 16 characters.
  void time(std::string& s, Field f) {
    cstring(s, f, field_size::kTime);
    if (!failed_ && !s.empty() && s.size() != field_size::kTimeChars) {
      fail(DecodeErrc::bad_value, f, field_status(f));
    }
  }

  // sm_length followed by that many octets of short_message.
  void short_message(std::string& s) {
    std::uint8_t n = 0;
    u8(n, Field::sm_length);
    if (failed_) return;
    if (n > field_size::kShortMessage || n > remaining()) {
      return fail(DecodeErrc::bad_sm_length, Field::sm_length, status::kEsmeRinvmsglen);
    }
    s.assign(reinterpret_cast<const char*>(p_), n);
    p_ += n;
  }

  // The optional part: TLVs up to the end of the body.
  void tlvs(TlvList& list) {
    if (failed_) return;
    std::size_t count = 0;
    for (const std::uint8_t* q = p_; q != end_;) {
      const auto left = static_cast<std::size_t>(end_ - q);
      if (left < 4)
        return fail(DecodeErrc::tlv_truncated, Field::tlv, status::kEsmeRinvoptparstream);
      const std::uint16_t tag = detail::load_u16(q);
      const std::uint16_t len = detail::load_u16(q + 2);
      error_.tlv_tag = tag;
      if (len > left - 4)
        return fail(DecodeErrc::tlv_overrun, Field::tlv, status::kEsmeRinvoptparstream);
      if (limits_.strict_tlv_lengths) {
        const TlvLength want = tlv_length(tag);
        if (len < want.min || len > want.max) {
          return fail(DecodeErrc::tlv_length, Field::tlv, status::kEsmeRinvparlen);
        }
      }
      q += 4 + len;
      ++count;
    }
    error_.tlv_tag = 0;
    list.reserve(count);
    while (p_ != end_) {
      const std::uint16_t tag = detail::load_u16(p_);
      const std::uint16_t len = detail::load_u16(p_ + 2);
      list.add(tag, std::string(reinterpret_cast<const char*>(p_ + 4), len));
      p_ += 4 + len;
    }
  }

  void end_of_body() {
    if (!failed_ && p_ != end_)
      fail(DecodeErrc::trailing_data, Field::body, status::kEsmeRinvcmdlen);
  }

  void fail(DecodeErrc code, Field f, std::uint32_t command_status) {
    failed_ = true;
    error_.code = code;
    error_.field = f;
    error_.command_status = command_status;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  const Limits& limits_;
  bool failed_ = false;
  DecodeError error_;
};

void read(Reader& r, Bind& b) {
  r.cstring(b.system_id, Field::system_id, field_size::kSystemId);
  r.cstring(b.password, Field::password, field_size::kPassword);
  r.cstring(b.system_type, Field::system_type, field_size::kSystemType);
  r.u8(b.interface_version, Field::interface_version);
  r.u8(b.addr_ton, Field::addr_ton);
  r.u8(b.addr_npi, Field::addr_npi);
  r.cstring(b.address_range, Field::address_range, field_size::kAddressRange);
  r.end_of_body();
}

void read(Reader& r, BindResp& b) {
  r.cstring(b.system_id, Field::system_id, field_size::kSystemId);
  r.tlvs(b.tlvs);
}

void read(Reader& r, Outbind& b) {
  r.cstring(b.system_id, Field::system_id, field_size::kSystemId);
  r.cstring(b.password, Field::password, field_size::kPassword);
  r.end_of_body();
}

void read(Reader& r, SubmitSm& b) {
  r.cstring(b.service_type, Field::service_type, field_size::kServiceType);
  r.u8(b.source_addr_ton, Field::source_addr_ton);
  r.u8(b.source_addr_npi, Field::source_addr_npi);
  r.cstring(b.source_addr, Field::source_addr, field_size::kAddress);
  r.u8(b.dest_addr_ton, Field::dest_addr_ton);
  r.u8(b.dest_addr_npi, Field::dest_addr_npi);
  r.cstring(b.destination_addr, Field::destination_addr, field_size::kAddress);
  r.u8(b.esm_class, Field::esm_class);
  r.u8(b.protocol_id, Field::protocol_id);
  r.u8(b.priority_flag, Field::priority_flag);
  r.time(b.schedule_delivery_time, Field::schedule_delivery_time);
  r.time(b.validity_period, Field::validity_period);
  r.u8(b.registered_delivery, Field::registered_delivery);
  r.u8(b.replace_if_present_flag, Field::replace_if_present_flag);
  r.u8(b.data_coding, Field::data_coding);
  r.u8(b.sm_default_msg_id, Field::sm_default_msg_id);
  r.short_message(b.short_message);
  r.tlvs(b.tlvs);
}

void read(Reader& r, MessageIdResp& b) {
  r.cstring(b.message_id, Field::message_id, field_size::kMessageId);
  r.tlvs(b.tlvs);
}

void read(Reader& r, SubmitMulti& b) {
  r.cstring(b.service_type, Field::service_type, field_size::kServiceType);
  r.u8(b.source_addr_ton, Field::source_addr_ton);
  r.u8(b.source_addr_npi, Field::source_addr_npi);
  r.cstring(b.source_addr, Field::source_addr, field_size::kAddress);
  std::uint8_t n = 0;
  r.u8(n, Field::number_of_dests);
  if (r.ok() && (n == 0 || n > field_size::kMaxDests)) {
    return r.fail(DecodeErrc::bad_value, Field::number_of_dests, status::kEsmeRinvnumdests);
  }
  // Each dest_address takes at least 2 octets: do not reserve more than the body can hold.
  if (r.ok() && n <= r.remaining() / 2) b.dest_addresses.reserve(n);
  for (std::uint8_t i = 0; i < n && r.ok(); ++i) {
    DestAddress& d = b.dest_addresses.emplace_back();
    r.u8(d.dest_flag, Field::dest_flag);
    if (!r.ok()) break;
    if (d.dest_flag == kDestFlagSmeAddress) {
      r.u8(d.dest_addr_ton, Field::dest_addr_ton);
      r.u8(d.dest_addr_npi, Field::dest_addr_npi);
      r.cstring(d.destination_addr, Field::destination_addr, field_size::kAddress);
    } else if (d.dest_flag == kDestFlagDistributionList) {
      r.cstring(d.dl_name, Field::dl_name, field_size::kDlName);
    } else {
      r.fail(DecodeErrc::bad_value, Field::dest_flag, status::kEsmeRinvdestflag);
    }
  }
  r.u8(b.esm_class, Field::esm_class);
  r.u8(b.protocol_id, Field::protocol_id);
  r.u8(b.priority_flag, Field::priority_flag);
  r.time(b.schedule_delivery_time, Field::schedule_delivery_time);
  r.time(b.validity_period, Field::validity_period);
  r.u8(b.registered_delivery, Field::registered_delivery);
  r.u8(b.replace_if_present_flag, Field::replace_if_present_flag);
  r.u8(b.data_coding, Field::data_coding);
  r.u8(b.sm_default_msg_id, Field::sm_default_msg_id);
  r.short_message(b.short_message);
  r.tlvs(b.tlvs);
}

void read(Reader& r, SubmitMultiResp& b) {
  r.cstring(b.message_id, Field::message_id, field_size::kMessageId);
  std::uint8_t n = 0;
  r.u8(n, Field::no_unsuccess);
  // Each unsuccess_sme takes at least 7 octets.
  if (r.ok() && n <= r.remaining() / 7) b.unsuccess_smes.reserve(n);
  for (std::uint8_t i = 0; i < n && r.ok(); ++i) {
    UnsuccessSme& u = b.unsuccess_smes.emplace_back();
    r.u8(u.dest_addr_ton, Field::dest_addr_ton);
    r.u8(u.dest_addr_npi, Field::dest_addr_npi);
    r.cstring(u.destination_addr, Field::destination_addr, field_size::kAddress);
    r.u32(u.error_status_code, Field::error_status_code);
  }
  r.tlvs(b.tlvs);
}

void read(Reader& r, DataSm& b) {
  r.cstring(b.service_type, Field::service_type, field_size::kServiceType);
  r.u8(b.source_addr_ton, Field::source_addr_ton);
  r.u8(b.source_addr_npi, Field::source_addr_npi);
  r.cstring(b.source_addr, Field::source_addr, field_size::kDataSmAddress);
  r.u8(b.dest_addr_ton, Field::dest_addr_ton);
  r.u8(b.dest_addr_npi, Field::dest_addr_npi);
  r.cstring(b.destination_addr, Field::destination_addr, field_size::kDataSmAddress);
  r.u8(b.esm_class, Field::esm_class);
  r.u8(b.registered_delivery, Field::registered_delivery);
  r.u8(b.data_coding, Field::data_coding);
  r.tlvs(b.tlvs);
}

void read(Reader& r, QuerySm& b) {
  r.cstring(b.message_id, Field::message_id, field_size::kMessageId);
  r.u8(b.source_addr_ton, Field::source_addr_ton);
  r.u8(b.source_addr_npi, Field::source_addr_npi);
  r.cstring(b.source_addr, Field::source_addr, field_size::kAddress);
  r.end_of_body();
}

void read(Reader& r, QuerySmResp& b) {
  r.cstring(b.message_id, Field::message_id, field_size::kMessageId);
  r.time(b.final_date, Field::final_date);
  r.u8(b.message_state, Field::message_state);
  r.u8(b.error_code, Field::error_code);
  r.end_of_body();
}

void read(Reader& r, CancelSm& b) {
  r.cstring(b.service_type, Field::service_type, field_size::kServiceType);
  r.cstring(b.message_id, Field::message_id, field_size::kMessageId);
  r.u8(b.source_addr_ton, Field::source_addr_ton);
  r.u8(b.source_addr_npi, Field::source_addr_npi);
  r.cstring(b.source_addr, Field::source_addr, field_size::kAddress);
  r.u8(b.dest_addr_ton, Field::dest_addr_ton);
  r.u8(b.dest_addr_npi, Field::dest_addr_npi);
  r.cstring(b.destination_addr, Field::destination_addr, field_size::kAddress);
  r.end_of_body();
}

void read(Reader& r, ReplaceSm& b) {
  r.cstring(b.message_id, Field::message_id, field_size::kMessageId);
  r.u8(b.source_addr_ton, Field::source_addr_ton);
  r.u8(b.source_addr_npi, Field::source_addr_npi);
  r.cstring(b.source_addr, Field::source_addr, field_size::kAddress);
  r.time(b.schedule_delivery_time, Field::schedule_delivery_time);
  r.time(b.validity_period, Field::validity_period);
  r.u8(b.registered_delivery, Field::registered_delivery);
  r.u8(b.sm_default_msg_id, Field::sm_default_msg_id);
  r.short_message(b.short_message);
  r.tlvs(b.tlvs);
}

void read(Reader& r, AlertNotification& b) {
  r.u8(b.source_addr_ton, Field::source_addr_ton);
  r.u8(b.source_addr_npi, Field::source_addr_npi);
  r.cstring(b.source_addr, Field::source_addr, field_size::kDataSmAddress);
  r.u8(b.esme_addr_ton, Field::esme_addr_ton);
  r.u8(b.esme_addr_npi, Field::esme_addr_npi);
  r.cstring(b.esme_addr, Field::esme_addr, field_size::kDataSmAddress);
  r.tlvs(b.tlvs);
}

template <typename T>
void read_into(Reader& r, Body& body) {
  read(r, body.emplace<T>());
}

DecodeError header_error(DecodeErrc code, Field f, std::uint32_t st, std::optional<Header> h) {
  DecodeError e;
  e.code = code;
  e.field = f;
  e.command_status = st;
  e.header = h;
  return e;
}

}  // namespace

const std::error_category& decode_category() noexcept {
  static const DecodeCategory category;
  return category;
}

std::error_code make_error_code(DecodeErrc e) noexcept {
  return {static_cast<int>(e), decode_category()};
}

std::optional<Header> peek_header(std::span<const std::uint8_t> frame) noexcept {
  if (frame.size() < kHeaderSize) return std::nullopt;
  const std::uint8_t* p = frame.data();
  return Header{detail::load_u32(p), detail::load_u32(p + 4), detail::load_u32(p + 8),
                detail::load_u32(p + 12)};
}

bool set_sequence(std::span<std::uint8_t> frame, std::uint32_t sequence_number) noexcept {
  if (frame.size() < kHeaderSize) return false;
  detail::store_u32(frame.data() + 12, sequence_number);
  return true;
}

bool set_command_status(std::span<std::uint8_t> frame, std::uint32_t command_status) noexcept {
  if (frame.size() < kHeaderSize) return false;
  detail::store_u32(frame.data() + 8, command_status);
  return true;
}

Expected<Pdu, DecodeError> decode(std::span<const std::uint8_t> frame, const Limits& limits) {
  using status::kEsmeRinvcmdlen;
  if (frame.size() < 4) {
    return Unexpected{
        header_error(DecodeErrc::truncated, Field::command_length, kEsmeRinvcmdlen, std::nullopt)};
  }
  const std::optional<Header> header = peek_header(frame);
  const std::uint32_t length = detail::load_u32(frame.data());
  if (length < kHeaderSize) {
    return Unexpected{header_error(DecodeErrc::command_length_too_small, Field::command_length,
                                   kEsmeRinvcmdlen, header)};
  }
  if (length > limits.max_pdu_size) {
    return Unexpected{header_error(DecodeErrc::command_length_too_large, Field::command_length,
                                   kEsmeRinvcmdlen, header)};
  }
  if (!header) {
    return Unexpected{
        header_error(DecodeErrc::truncated, Field::command_length, kEsmeRinvcmdlen, std::nullopt)};
  }
  if (length != frame.size()) {
    return Unexpected{
        header_error(DecodeErrc::length_mismatch, Field::command_length, kEsmeRinvcmdlen, header)};
  }
  const std::uint32_t id = header->command_id;
  if (!is_known_command(id)) {
    return Unexpected{header_error(DecodeErrc::unknown_command, Field::command_id,
                                   status::kEsmeRinvcmdid, header)};
  }

  Pdu pdu{id, header->command_status, header->sequence_number, Empty{}};
  const std::span<const std::uint8_t> body = frame.subspan(kHeaderSize);
  // A response may come as a bare header (error responses per v3.4, and some peers' OKs).
  if (body.empty() && is_response(id)) return pdu;

  Reader r(body, limits);
  switch (id) {
    case cmd::kGenericNack:
    case cmd::kUnbind:
    case cmd::kUnbindResp:
    case cmd::kEnquireLink:
    case cmd::kEnquireLinkResp:
    case cmd::kCancelSmResp:
    case cmd::kReplaceSmResp:
      r.end_of_body();
      break;
    case cmd::kBindReceiver:
    case cmd::kBindTransmitter:
    case cmd::kBindTransceiver:
      read_into<Bind>(r, pdu.body);
      break;
    case cmd::kBindReceiverResp:
    case cmd::kBindTransmitterResp:
    case cmd::kBindTransceiverResp:
      read_into<BindResp>(r, pdu.body);
      break;
    case cmd::kOutbind:
      read_into<Outbind>(r, pdu.body);
      break;
    case cmd::kSubmitSm:
    case cmd::kDeliverSm:
      read_into<SubmitSm>(r, pdu.body);
      break;
    case cmd::kSubmitSmResp:
    case cmd::kDeliverSmResp:
    case cmd::kDataSmResp:
      read_into<MessageIdResp>(r, pdu.body);
      break;
    case cmd::kSubmitMulti:
      read_into<SubmitMulti>(r, pdu.body);
      break;
    case cmd::kSubmitMultiResp:
      read_into<SubmitMultiResp>(r, pdu.body);
      break;
    case cmd::kDataSm:
      read_into<DataSm>(r, pdu.body);
      break;
    case cmd::kQuerySm:
      read_into<QuerySm>(r, pdu.body);
      break;
    case cmd::kQuerySmResp:
      read_into<QuerySmResp>(r, pdu.body);
      break;
    case cmd::kCancelSm:
      read_into<CancelSm>(r, pdu.body);
      break;
    case cmd::kReplaceSm:
      read_into<ReplaceSm>(r, pdu.body);
      break;
    case cmd::kAlertNotification:
      read_into<AlertNotification>(r, pdu.body);
      break;
    default:
      break;  // unreachable: is_known_command() above
  }
  if (!r.ok()) {
    DecodeError e = r.error();
    e.header = header;
    return Unexpected{std::move(e)};
  }
  return pdu;
}

Pdu error_response(const DecodeError& e) {
  const bool untrusted = !e.header || e.code == DecodeErrc::command_length_too_small ||
                         e.code == DecodeErrc::command_length_too_large ||
                         e.code == DecodeErrc::length_mismatch;
  if (untrusted) return make_generic_nack(e.command_status, 0);
  if (e.code == DecodeErrc::unknown_command) {
    return make_generic_nack(status::kEsmeRinvcmdid, e.header->sequence_number);
  }
  return make_response(*e.header, e.command_status);
}

}  // namespace smppguard::proto
