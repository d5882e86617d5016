#include "smppguard/proto/encode.hpp"

#include <string>
#include <variant>

#include "wire.hpp"

namespace smppguard::proto {
namespace {

class EncodeCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "smpp.encode"; }
  std::string message(int ev) const override {
    switch (static_cast<EncodeErrc>(ev)) {
      case EncodeErrc::unknown_command:
        return "unknown command_id";
      case EncodeErrc::body_mismatch:
        return "body does not fit the command_id";
      case EncodeErrc::field_too_long:
        return "field longer than its maximum";
      case EncodeErrc::embedded_nul:
        return "C-octet string contains a NUL";
      case EncodeErrc::bad_sm_length:
        return "short_message longer than 254 octets";
      case EncodeErrc::bad_value:
        return "invalid field value";
      case EncodeErrc::tlv_length:
        return "TLV value of invalid length";
      case EncodeErrc::too_large:
        return "PDU larger than the maximum PDU size";
    }
    return "unknown encode error";
  }
};

// Appends fields to `out`, checking each against what decode accepts. The first failure is kept
// and later writes are no-ops.
class Writer {
 public:
  Writer(std::vector<std::uint8_t>& out, const Limits& limits) : out_(out), limits_(limits) {}

  bool ok() const noexcept { return !failed_; }
  const EncodeError& error() const noexcept { return error_; }

  void u8(std::uint8_t v) { detail::put_u8(out_, v); }
  void u32(std::uint32_t v) { detail::put_u32(out_, v); }

  void cstring(const std::string& s, Field f, std::size_t max) {
    if (failed_) return;
    if (s.size() + 1 > max) return fail(EncodeErrc::field_too_long, f);
    if (s.find('\0') != std::string::npos) return fail(EncodeErrc::embedded_nul, f);
    out_.insert(out_.end(), s.begin(), s.end());
    out_.push_back(0);
  }

  void time(const std::string& s, Field f) {
    if (failed_) return;
    if (!s.empty() && s.size() != field_size::kTimeChars) return fail(EncodeErrc::bad_value, f);
    cstring(s, f, field_size::kTime);
  }

  void short_message(const std::string& s) {
    if (failed_) return;
    if (s.size() > field_size::kShortMessage) {
      return fail(EncodeErrc::bad_sm_length, Field::short_message);
    }
    u8(static_cast<std::uint8_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
  }

  void tlvs(const TlvList& list) {
    if (failed_) return;
    for (const Tlv& t : list) {
      if (t.value.size() > 0xFFFF) return fail(EncodeErrc::tlv_length, Field::tlv);
      if (limits_.strict_tlv_lengths) {
        const TlvLength want = tlv_length(t.tag);
        if (t.value.size() < want.min || t.value.size() > want.max) {
          return fail(EncodeErrc::tlv_length, Field::tlv);
        }
      }
      detail::put_u16(out_, t.tag);
      detail::put_u16(out_, static_cast<std::uint16_t>(t.value.size()));
      out_.insert(out_.end(), t.value.begin(), t.value.end());
    }
  }

  void fail(EncodeErrc code, Field f) {
    if (failed_) return;
    failed_ = true;
    error_ = EncodeError{code, f};
  }

 private:
  std::vector<std::uint8_t>& out_;
  const Limits& limits_;
  bool failed_ = false;
  EncodeError error_;
};

void write(Writer&, const Empty&) {}

void write(Writer& w, const Bind& b) {
  w.cstring(b.system_id, Field::system_id, field_size::kSystemId);
  w.cstring(b.password, Field::password, field_size::kPassword);
  w.cstring(b.system_type, Field::system_type, field_size::kSystemType);
  w.u8(b.interface_version);
  w.u8(b.addr_ton);
  w.u8(b.addr_npi);
  w.cstring(b.address_range, Field::address_range, field_size::kAddressRange);
}

void write(Writer& w, const BindResp& b) {
  w.cstring(b.system_id, Field::system_id, field_size::kSystemId);
  w.tlvs(b.tlvs);
}

void write(Writer& w, const Outbind& b) {
  w.cstring(b.system_id, Field::system_id, field_size::kSystemId);
  w.cstring(b.password, Field::password, field_size::kPassword);
}

void write(Writer& w, const SubmitSm& b) {
  w.cstring(b.service_type, Field::service_type, field_size::kServiceType);
  w.u8(b.source_addr_ton);
  w.u8(b.source_addr_npi);
  w.cstring(b.source_addr, Field::source_addr, field_size::kAddress);
  w.u8(b.dest_addr_ton);
  w.u8(b.dest_addr_npi);
  w.cstring(b.destination_addr, Field::destination_addr, field_size::kAddress);
  w.u8(b.esm_class);
  w.u8(b.protocol_id);
  w.u8(b.priority_flag);
  w.time(b.schedule_delivery_time, Field::schedule_delivery_time);
  w.time(b.validity_period, Field::validity_period);
  w.u8(b.registered_delivery);
  w.u8(b.replace_if_present_flag);
  w.u8(b.data_coding);
  w.u8(b.sm_default_msg_id);
  w.short_message(b.short_message);
  w.tlvs(b.tlvs);
}

void write(Writer& w, const MessageIdResp& b) {
  w.cstring(b.message_id, Field::message_id, field_size::kMessageId);
  w.tlvs(b.tlvs);
}

void write(Writer& w, const SubmitMulti& b) {
  w.cstring(b.service_type, Field::service_type, field_size::kServiceType);
  w.u8(b.source_addr_ton);
  w.u8(b.source_addr_npi);
  w.cstring(b.source_addr, Field::source_addr, field_size::kAddress);
  const std::size_t n = b.dest_addresses.size();
  if (n == 0 || n > field_size::kMaxDests)
    return w.fail(EncodeErrc::bad_value, Field::number_of_dests);
  w.u8(static_cast<std::uint8_t>(n));
  for (const DestAddress& d : b.dest_addresses) {
    w.u8(d.dest_flag);
    if (d.dest_flag == kDestFlagSmeAddress) {
      if (!d.dl_name.empty()) return w.fail(EncodeErrc::bad_value, Field::dl_name);
      w.u8(d.dest_addr_ton);
      w.u8(d.dest_addr_npi);
      w.cstring(d.destination_addr, Field::destination_addr, field_size::kAddress);
    } else if (d.dest_flag == kDestFlagDistributionList) {
      if (d.dest_addr_ton != 0 || d.dest_addr_npi != 0 || !d.destination_addr.empty()) {
        return w.fail(EncodeErrc::bad_value, Field::destination_addr);
      }
      w.cstring(d.dl_name, Field::dl_name, field_size::kDlName);
    } else {
      return w.fail(EncodeErrc::bad_value, Field::dest_flag);
    }
  }
  w.u8(b.esm_class);
  w.u8(b.protocol_id);
  w.u8(b.priority_flag);
  w.time(b.schedule_delivery_time, Field::schedule_delivery_time);
  w.time(b.validity_period, Field::validity_period);
  w.u8(b.registered_delivery);
  w.u8(b.replace_if_present_flag);
  w.u8(b.data_coding);
  w.u8(b.sm_default_msg_id);
  w.short_message(b.short_message);
  w.tlvs(b.tlvs);
}

void write(Writer& w, const SubmitMultiResp& b) {
  w.cstring(b.message_id, Field::message_id, field_size::kMessageId);
  if (b.unsuccess_smes.size() > 255) return w.fail(EncodeErrc::bad_value, Field::no_unsuccess);
  w.u8(static_cast<std::uint8_t>(b.unsuccess_smes.size()));
  for (const UnsuccessSme& u : b.unsuccess_smes) {
    w.u8(u.dest_addr_ton);
    w.u8(u.dest_addr_npi);
    w.cstring(u.destination_addr, Field::destination_addr, field_size::kAddress);
    w.u32(u.error_status_code);
  }
  w.tlvs(b.tlvs);
}

void write(Writer& w, const DataSm& b) {
  w.cstring(b.service_type, Field::service_type, field_size::kServiceType);
  w.u8(b.source_addr_ton);
  w.u8(b.source_addr_npi);
  w.cstring(b.source_addr, Field::source_addr, field_size::kDataSmAddress);
  w.u8(b.dest_addr_ton);
  w.u8(b.dest_addr_npi);
  w.cstring(b.destination_addr, Field::destination_addr, field_size::kDataSmAddress);
  w.u8(b.esm_class);
  w.u8(b.registered_delivery);
  w.u8(b.data_coding);
  w.tlvs(b.tlvs);
}

void write(Writer& w, const QuerySm& b) {
  w.cstring(b.message_id, Field::message_id, field_size::kMessageId);
  w.u8(b.source_addr_ton);
  w.u8(b.source_addr_npi);
  w.cstring(b.source_addr, Field::source_addr, field_size::kAddress);
}

void write(Writer& w, const QuerySmResp& b) {
  w.cstring(b.message_id, Field::message_id, field_size::kMessageId);
  w.time(b.final_date, Field::final_date);
  w.u8(b.message_state);
  w.u8(b.error_code);
}

void write(Writer& w, const CancelSm& b) {
  w.cstring(b.service_type, Field::service_type, field_size::kServiceType);
  w.cstring(b.message_id, Field::message_id, field_size::kMessageId);
  w.u8(b.source_addr_ton);
  w.u8(b.source_addr_npi);
  w.cstring(b.source_addr, Field::source_addr, field_size::kAddress);
  w.u8(b.dest_addr_ton);
  w.u8(b.dest_addr_npi);
  w.cstring(b.destination_addr, Field::destination_addr, field_size::kAddress);
}

void write(Writer& w, const ReplaceSm& b) {
  w.cstring(b.message_id, Field::message_id, field_size::kMessageId);
  w.u8(b.source_addr_ton);
  w.u8(b.source_addr_npi);
  w.cstring(b.source_addr, Field::source_addr, field_size::kAddress);
  w.time(b.schedule_delivery_time, Field::schedule_delivery_time);
  w.time(b.validity_period, Field::validity_period);
  w.u8(b.registered_delivery);
  w.u8(b.sm_default_msg_id);
  w.short_message(b.short_message);
  w.tlvs(b.tlvs);
}

void write(Writer& w, const AlertNotification& b) {
  w.u8(b.source_addr_ton);
  w.u8(b.source_addr_npi);
  w.cstring(b.source_addr, Field::source_addr, field_size::kDataSmAddress);
  w.u8(b.esme_addr_ton);
  w.u8(b.esme_addr_npi);
  w.cstring(b.esme_addr, Field::esme_addr, field_size::kDataSmAddress);
  w.tlvs(b.tlvs);
}

// Room for the fixed fields plus the variable parts, so that encoding allocates once.
std::size_t size_hint(const Body& body) {
  return std::visit(
      [](const auto& b) -> std::size_t {
        std::size_t n = kHeaderSize + 96;
        if constexpr (requires { b.tlvs; }) n += b.tlvs.encoded_size();
        if constexpr (requires { b.short_message; }) n += b.short_message.size();
        if constexpr (requires { b.dest_addresses; }) n += 24 * b.dest_addresses.size();
        if constexpr (requires { b.unsuccess_smes; }) n += 28 * b.unsuccess_smes.size();
        return n;
      },
      body);
}

}  // namespace

const std::error_category& encode_category() noexcept {
  static const EncodeCategory category;
  return category;
}

std::error_code make_error_code(EncodeErrc e) noexcept {
  return {static_cast<int>(e), encode_category()};
}

Expected<std::size_t, EncodeError> encode(const Pdu& pdu, std::vector<std::uint8_t>& out,
                                          const Limits& limits) {
  if (!is_known_command(pdu.command_id)) {
    return Unexpected{EncodeError{EncodeErrc::unknown_command, Field::command_id}};
  }
  if (!body_fits(pdu.command_id, pdu.body)) {
    return Unexpected{EncodeError{EncodeErrc::body_mismatch, Field::body}};
  }
  const std::size_t start = out.size();
  out.reserve(start + size_hint(pdu.body));
  detail::put_u32(out, 0);  // command_length, patched below
  detail::put_u32(out, pdu.command_id);
  detail::put_u32(out, pdu.command_status);
  detail::put_u32(out, pdu.sequence_number);

  Writer w(out, limits);
  std::visit([&w](const auto& b) { write(w, b); }, pdu.body);
  if (!w.ok()) {
    out.resize(start);
    return Unexpected{w.error()};
  }
  const std::size_t length = out.size() - start;
  if (length > limits.max_pdu_size) {
    out.resize(start);
    return Unexpected{EncodeError{EncodeErrc::too_large, Field::command_length}};
  }
  detail::store_u32(out.data() + start, static_cast<std::uint32_t>(length));
  return length;
}

Expected<std::vector<std::uint8_t>, EncodeError> encode(const Pdu& pdu, const Limits& limits) {
  std::vector<std::uint8_t> out;
  auto r = encode(pdu, out, limits);
  if (!r) return Unexpected{r.error()};
  return out;
}

}  // namespace smppguard::proto
