#include "sim/model.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/decode.hpp>
#include <smppguard/proto/gsm7.hpp>
#include <smppguard/proto/text.hpp>
#include <smppguard/proto/udh.hpp>

namespace smppguard::sim {

namespace json = boost::json;
namespace cmd = proto::cmd;

namespace {

constexpr std::size_t kReceiptTextChars = 20;
constexpr std::size_t kSingleSeptets = 160;  // one GSM SMS, unpacked septets
constexpr std::size_t kPartSeptets = 153;    // after the 6-octet UDH
constexpr std::size_t kSingleOctets = 140;   // one 8-bit or UCS2 SMS
constexpr std::size_t kPartOctets = 134;
constexpr std::size_t kMaxParts = 255;

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// Length of the UTF-8 sequence starting with `lead` (1 for a stray continuation byte).
std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// The first `n` characters of UTF-8 text (a truncated sequence at the end is kept as is).
std::string utf8_prefix(std::string_view text, std::size_t n) {
  std::size_t pos = 0;
  for (std::size_t chars = 0; chars < n && pos < text.size(); ++chars) {
    pos += utf8_length(static_cast<unsigned char>(text[pos]));
  }
  return std::string(text.substr(0, std::min(pos, text.size())));
}

// Each character of UTF-8 text as printable ASCII, '?' for anything else.
std::string ascii_only(std::string_view text) {
  std::string out;
  for (std::size_t pos = 0; pos < text.size();) {
    const auto c = static_cast<unsigned char>(text[pos]);
    const std::size_t len = utf8_length(c);
    out.push_back(len == 1 && c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
    pos += len;
  }
  return out;
}

std::string as_string(std::span<const std::uint8_t> bytes) {
  return std::string(bytes.begin(), bytes.end());
}

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// ---- JSON readers -------------------------------------------------------------------------------

Result<std::uint64_t> read_uint(const json::value& v, std::string_view key, std::uint64_t max) {
  std::uint64_t n = 0;
  if (v.is_uint64()) {
    n = v.get_uint64();
  } else if (v.is_int64() && v.get_int64() >= 0) {
    n = static_cast<std::uint64_t>(v.get_int64());
  } else if (v.is_string()) {
    std::string_view s = v.get_string();
    int base = 10;
    if (s.starts_with("0x") || s.starts_with("0X")) {
      s.remove_prefix(2);
      base = 16;
    }
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n, base);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
      return proto::Unexpected{std::string(key) + " must be a number"};
    }
  } else {
    return proto::Unexpected{std::string(key) + " must be a non-negative number"};
  }
  if (n > max) return proto::Unexpected{std::string(key) + " is out of range"};
  return n;
}

Result<std::string> read_string(const json::value& v, std::string_view key) {
  if (!v.is_string()) return proto::Unexpected{std::string(key) + " must be a string"};
  return std::string(v.get_string());
}

// ---- MO text encoding ---------------------------------------------------------------------------

Result<proto::EncodedText> encode_mo_text(const MoRequest& r) {
  if (!r.data_coding) {
    auto e = proto::encode_text_for_sms(r.text);
    if (!e) return proto::Unexpected{std::string("text is not valid UTF-8")};
    return std::move(*e);
  }
  proto::TextResult<std::vector<std::uint8_t>> bytes =
      proto::text_error(proto::TextErrc::unencodable);
  switch (*r.data_coding) {
    case 0:
      bytes = proto::gsm7_encode(r.text);
      break;
    case 1:
      bytes = proto::ia5_encode(r.text);
      break;
    case 3:
      bytes = proto::latin1_encode(r.text);
      break;
    case 8:
      bytes = proto::ucs2_encode(r.text);
      break;
    default:
      break;
  }
  if (!bytes) {
    return proto::Unexpected{"text cannot be written with data_coding " +
                             std::to_string(*r.data_coding)};
  }
  return proto::EncodedText{*r.data_coding, std::move(*bytes)};
}

// Cuts encoded text into parts of at most `size` units, never splitting a GSM escape pair or a
// UTF-16 surrogate pair.
std::vector<std::vector<std::uint8_t>> cut(const proto::EncodedText& text, std::size_t size) {
  std::vector<std::vector<std::uint8_t>> parts;
  const auto& b = text.bytes;
  std::size_t pos = 0;
  while (pos < b.size()) {
    std::size_t end = std::min(pos + size, b.size());
    if (end < b.size()) {
      if (text.data_coding == 0 && b[end - 1] == proto::kGsm7Escape) --end;
      if (text.data_coding == 8 && end - pos >= 2 && (b[end - 2] & 0xFC) == 0xD8) end -= 2;
    }
    parts.emplace_back(b.begin() + static_cast<std::ptrdiff_t>(pos),
                       b.begin() + static_cast<std::ptrdiff_t>(end));
    pos = end;
  }
  return parts;
}

void add_address(json::object& o, std::string_view prefix, std::uint8_t ton, std::uint8_t npi,
                 std::string_view addr, std::string_view addr_key) {
  o[std::string(prefix) + "_ton"] = ton;
  o[std::string(prefix) + "_npi"] = npi;
  o[addr_key] = addr;
}

json::array tlvs_to_json(const proto::TlvList& tlvs) {
  json::array out;
  for (const auto& t : tlvs) {
    json::object o;
    o["tag"] = t.tag;
    o["value_hex"] = to_hex(as_bytes(t.value));
    out.push_back(std::move(o));
  }
  return out;
}

// The text of a PDU: message_payload when present, else short_message without its UDH.
std::string pdu_text(std::uint8_t data_coding, std::uint8_t esm_class,
                     std::string_view short_message, const proto::TlvList& tlvs) {
  if (auto payload = tlvs.get_bytes(proto::tlv::kMessagePayload)) {
    return proto::decode_text(data_coding, as_bytes(*payload));
  }
  auto bytes = as_bytes(short_message);
  if ((esm_class & proto::kEsmClassUdhi) != 0) {
    if (auto udh = proto::parse_udh(bytes)) bytes = udh->payload;
  }
  return proto::decode_text(data_coding, bytes);
}

void add_message(json::object& o, std::uint8_t data_coding, std::uint8_t esm_class,
                 const std::string& short_message, const proto::TlvList& tlvs) {
  o["short_message_hex"] = to_hex(as_bytes(short_message));
  o["text"] = pdu_text(data_coding, esm_class, short_message, tlvs);
  o["tlvs"] = tlvs_to_json(tlvs);
}

}  // namespace

// ---- ids ----------------------------------------------------------------------------------------

std::optional<IdFormat> parse_id_format(std::string_view text) {
  if (text == "hex") return IdFormat::hex;
  if (text == "decimal") return IdFormat::decimal;
  return std::nullopt;
}

std::optional<ReceiptIdFormat> parse_receipt_id_format(std::string_view text) {
  if (text == "same") return ReceiptIdFormat::same;
  if (text == "decimal") return ReceiptIdFormat::decimal;
  return std::nullopt;
}

std::string format_message_id(std::uint64_t n, IdFormat format) {
  char buf[32];
  if (format == IdFormat::hex) {
    std::snprintf(buf, sizeof buf, "%08llX", static_cast<unsigned long long>(n));
  } else {
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  }
  return buf;
}

std::optional<std::uint64_t> parse_message_id(std::string_view id, IdFormat format) {
  const int base = format == IdFormat::hex ? 16 : 10;
  const std::size_t max_digits = format == IdFormat::hex ? 16 : 20;
  if (id.empty() || id.size() > max_digits) return std::nullopt;
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n, base);
  if (ec != std::errc() || end != id.data() + id.size() || n == 0) return std::nullopt;
  return n;
}

std::string receipt_text_id(std::uint64_t n, IdFormat format, ReceiptIdFormat receipt_format) {
  if (receipt_format == ReceiptIdFormat::same) return format_message_id(n, format);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%010llu", static_cast<unsigned long long>(n));
  return buf;
}

std::optional<std::uint8_t> message_state_for_stat(std::string_view stat) {
  static constexpr std::pair<std::string_view, std::uint8_t> kStates[] = {
      {"ENROUTE", 1}, {"DELIVRD", 2}, {"EXPIRED", 3}, {"DELETED", 4},
      {"UNDELIV", 5}, {"ACCEPTD", 6}, {"UNKNOWN", 7}, {"REJECTD", 8}};
  for (const auto& [word, state] : kStates) {
    if (word == stat) return state;
  }
  return std::nullopt;
}

std::string format_receipt_date(TimePoint t) {
  const std::time_t secs = SysClock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%y%m%d%H%M", &tm);
  return buf;
}

// ---- receipts -----------------------------------------------------------------------------------

std::optional<SubmittedMessage> submitted_message(const proto::Pdu& pdu) {
  SubmittedMessage m;
  if (const auto* sm = pdu.as<proto::SubmitSm>(); sm && pdu.command_id == cmd::kSubmitSm) {
    m.source = {sm->source_addr_ton, sm->source_addr_npi, sm->source_addr};
    m.destination = {sm->dest_addr_ton, sm->dest_addr_npi, sm->destination_addr};
    m.registered_delivery = sm->registered_delivery;
    m.text = pdu_text(sm->data_coding, sm->esm_class, sm->short_message, sm->tlvs);
  } else if (const auto* dsm = pdu.as<proto::DataSm>()) {
    m.source = {dsm->source_addr_ton, dsm->source_addr_npi, dsm->source_addr};
    m.destination = {dsm->dest_addr_ton, dsm->dest_addr_npi, dsm->destination_addr};
    m.registered_delivery = dsm->registered_delivery;
    m.text = pdu_text(dsm->data_coding, dsm->esm_class, "", dsm->tlvs);
  } else if (const auto* multi = pdu.as<proto::SubmitMulti>()) {
    m.source = {multi->source_addr_ton, multi->source_addr_npi, multi->source_addr};
    for (const auto& d : multi->dest_addresses) {
      if (d.dest_flag != proto::kDestFlagSmeAddress) continue;
      m.destination = {d.dest_addr_ton, d.dest_addr_npi, d.destination_addr};
      break;
    }
    m.registered_delivery = multi->registered_delivery;
    m.text = pdu_text(multi->data_coding, multi->esm_class, multi->short_message, multi->tlvs);
  } else {
    return std::nullopt;
  }
  m.text = utf8_prefix(m.text, kReceiptTextChars);
  return m;
}

std::string receipt_text(std::string_view id, TimePoint submitted, TimePoint done,
                         std::string_view stat, std::string_view text) {
  std::string out;
  out.reserve(120);
  out.append("id:").append(id);
  out.append(" sub:001 dlvrd:001 submit date:").append(format_receipt_date(submitted));
  out.append(" done date:").append(format_receipt_date(done));
  out.append(" stat:").append(stat);
  out.append(" err:000 text:").append(ascii_only(utf8_prefix(text, kReceiptTextChars)));
  return out;
}

proto::Pdu build_receipt(const SubmittedMessage& message, std::string_view text_id,
                         std::string_view stat, TimePoint done) {
  proto::DeliverSm sm;
  sm.source_addr_ton = message.destination.ton;
  sm.source_addr_npi = message.destination.npi;
  sm.source_addr = message.destination.addr;
  sm.dest_addr_ton = message.source.ton;
  sm.dest_addr_npi = message.source.npi;
  sm.destination_addr = message.source.addr;
  sm.esm_class = proto::esm_class::kDeliveryReceipt;
  sm.data_coding = 0;
  sm.short_message = receipt_text(text_id, message.submitted, done, stat, message.text);
  sm.tlvs.set_cstring(proto::tlv::kReceiptedMessageId, message.message_id);
  sm.tlvs.set_u8(proto::tlv::kMessageState, message_state_for_stat(stat).value_or(7));
  return proto::Pdu{.command_id = cmd::kDeliverSm, .body = std::move(sm)};
}

// ---- rules --------------------------------------------------------------------------------------

std::string e164_form(std::uint8_t ton, std::string_view addr) {
  if (ton == 1 && !addr.starts_with('+')) return "+" + std::string(addr);
  return std::string(addr);
}

const Rule* match_rule(std::span<const Rule> rules, std::uint8_t ton, std::string_view addr) {
  const std::string e164 = e164_form(ton, addr);
  std::string_view bare = addr;
  if (bare.starts_with('+')) bare.remove_prefix(1);
  for (const auto& rule : rules) {
    if (e164.starts_with(rule.prefix)) return &rule;
    if (!rule.prefix.starts_with('+') && bare.starts_with(rule.prefix)) return &rule;
  }
  return nullptr;
}

Result<Rule> parse_rule(const json::value& value) {
  if (!value.is_object()) return proto::Unexpected{std::string("the rule must be a JSON object")};
  const auto& o = value.get_object();
  Rule rule;
  for (const auto& [key, v] : o) {
    if (key == "prefix") {
      auto s = read_string(v, "prefix");
      if (!s) return proto::Unexpected{s.error()};
      rule.prefix = std::move(*s);
    } else if (key != "action" && key != "status" && key != "delay_ms") {
      return proto::Unexpected{"unknown key " + std::string(key)};
    }
  }
  const auto* action = o.if_contains("action");
  if (action == nullptr || !action->is_string()) {
    return proto::Unexpected{std::string("action must be status, no_answer, delay or drop")};
  }
  const std::string_view a = action->get_string();
  if (a == "status") {
    rule.action = RuleAction::status;
    const auto* status = o.if_contains("status");
    if (status == nullptr) return proto::Unexpected{std::string("status is required")};
    auto n = read_uint(*status, "status", 0xFFFFFFFFu);
    if (!n) return proto::Unexpected{n.error()};
    rule.status = static_cast<std::uint32_t>(*n);
  } else if (a == "no_answer") {
    rule.action = RuleAction::no_answer;
  } else if (a == "delay") {
    rule.action = RuleAction::delay;
    const auto* delay = o.if_contains("delay_ms");
    if (delay == nullptr) return proto::Unexpected{std::string("delay_ms is required")};
    auto n = read_uint(*delay, "delay_ms", 3'600'000);
    if (!n) return proto::Unexpected{n.error()};
    rule.delay = std::chrono::milliseconds(*n);
  } else if (a == "drop") {
    rule.action = RuleAction::drop;
  } else {
    return proto::Unexpected{std::string("action must be status, no_answer, delay or drop")};
  }
  return rule;
}

json::object rule_to_json(const Rule& rule) {
  json::object o;
  o["prefix"] = rule.prefix;
  switch (rule.action) {
    case RuleAction::status:
      o["action"] = "status";
      o["status"] = rule.status;
      break;
    case RuleAction::no_answer:
      o["action"] = "no_answer";
      break;
    case RuleAction::delay:
      o["action"] = "delay";
      o["delay_ms"] = rule.delay.count();
      break;
    case RuleAction::drop:
      o["action"] = "drop";
      break;
  }
  return o;
}

// ---- MOs ----------------------------------------------------------------------------------------

Result<MoRequest> parse_mo_request(std::string_view body) {
  boost::system::error_code ec;
  const json::value value = json::parse(body, ec);
  if (ec || !value.is_object()) {
    return proto::Unexpected{std::string("the body must be a JSON object")};
  }
  MoRequest r;
  bool has_text = false;
  for (const auto& [key, v] : value.get_object()) {
    auto octet = [&](std::optional<std::uint8_t>& out) -> std::optional<std::string> {
      auto n = read_uint(v, key, 255);
      if (!n) return n.error();
      out = static_cast<std::uint8_t>(*n);
      return std::nullopt;
    };
    auto text = [&](std::string& out) -> std::optional<std::string> {
      auto s = read_string(v, key);
      if (!s) return s.error();
      out = std::move(*s);
      return std::nullopt;
    };
    std::optional<std::string> error;
    if (key == "from") {
      error = text(r.from);
    } else if (key == "to") {
      error = text(r.to);
    } else if (key == "text") {
      error = text(r.text);
      has_text = true;
    } else if (key == "system_id") {
      error = text(r.system_id);
    } else if (key == "data_coding") {
      error = octet(r.data_coding);
      if (!error && *r.data_coding != 0 && *r.data_coding != 1 && *r.data_coding != 3 &&
          *r.data_coding != 8) {
        error = "data_coding must be 0, 1, 3 or 8";
      }
    } else if (key == "source_addr_ton") {
      error = octet(r.source_ton);
    } else if (key == "source_addr_npi") {
      error = octet(r.source_npi);
    } else if (key == "dest_addr_ton") {
      error = octet(r.dest_ton);
    } else if (key == "dest_addr_npi") {
      error = octet(r.dest_npi);
    } else if (key == "esm_class") {
      error = octet(r.esm_class);
    } else if (key == "command") {
      std::string c;
      error = text(c);
      if (!error && c != "deliver_sm" && c != "data_sm")
        error = "command must be deliver_sm or data_sm";
      r.data_sm = c == "data_sm";
    } else if (key == "parts") {
      if (!v.is_bool())
        error = "parts must be true or false";
      else
        r.parts = v.get_bool();
    } else if (key == "pdu_hex") {
      std::string hex;
      error = text(hex);
      if (!error) {
        r.pdu = from_hex(hex);
        if (!r.pdu)
          error = "pdu_hex is not hex";
        else if (r.pdu->size() < proto::kHeaderSize)
          error = "pdu_hex needs at least 16 octets";
      }
    } else {
      error = "unknown key " + std::string(key);
    }
    if (error) return proto::Unexpected{std::move(*error)};
  }
  if (!r.pdu && (r.from.empty() || r.to.empty() || !has_text)) {
    return proto::Unexpected{std::string("from, to and text are required (or pdu_hex)")};
  }
  return r;
}

Address default_address(std::string_view number) {
  if (number.starts_with('+') && all_digits(number.substr(1))) {
    return {1, 1, std::string(number.substr(1))};
  }
  if (all_digits(number)) {
    if (number.size() >= 3 && number.size() <= 8) return {3, 0, std::string(number)};
    return {1, 1, std::string(number)};
  }
  return {5, 0, std::string(number)};
}

Result<std::vector<proto::Pdu>> build_mo(const MoRequest& request, std::uint8_t reference) {
  Address source = default_address(request.from);
  Address dest = default_address(request.to);
  auto strip_plus = [](Address& a) {
    if (a.addr.starts_with('+')) a.addr.erase(0, 1);
  };
  if (request.source_ton) source.ton = *request.source_ton, strip_plus(source);
  if (request.source_npi) source.npi = *request.source_npi;
  if (request.dest_ton) dest.ton = *request.dest_ton, strip_plus(dest);
  if (request.dest_npi) dest.npi = *request.dest_npi;
  const std::size_t max_addr =
      (request.data_sm ? proto::field_size::kDataSmAddress : proto::field_size::kAddress) - 1;
  if (source.addr.size() > max_addr || dest.addr.size() > max_addr) {
    return proto::Unexpected{"addresses are limited to " + std::to_string(max_addr) +
                             " characters"};
  }
  auto encoded = encode_mo_text(request);
  if (!encoded) return proto::Unexpected{encoded.error()};
  const std::uint8_t esm_class = request.esm_class.value_or(0);

  std::vector<proto::Pdu> pdus;
  if (request.data_sm) {
    proto::DataSm sm;
    sm.source_addr_ton = source.ton, sm.source_addr_npi = source.npi, sm.source_addr = source.addr;
    sm.dest_addr_ton = dest.ton, sm.dest_addr_npi = dest.npi, sm.destination_addr = dest.addr;
    sm.esm_class = esm_class;
    sm.data_coding = encoded->data_coding;
    sm.tlvs.add(proto::tlv::kMessagePayload, as_string(encoded->bytes));
    pdus.push_back(proto::Pdu{.command_id = cmd::kDataSm, .body = std::move(sm)});
    return pdus;
  }

  proto::DeliverSm base;
  base.source_addr_ton = source.ton, base.source_addr_npi = source.npi,
  base.source_addr = source.addr;
  base.dest_addr_ton = dest.ton, base.dest_addr_npi = dest.npi, base.destination_addr = dest.addr;
  base.esm_class = esm_class;
  base.data_coding = encoded->data_coding;

  const bool septets = encoded->data_coding == 0;
  const std::size_t single = septets ? kSingleSeptets : kSingleOctets;
  if (request.parts && encoded->bytes.size() > single) {
    const auto chunks = cut(*encoded, septets ? kPartSeptets : kPartOctets);
    if (chunks.size() > kMaxParts)
      return proto::Unexpected{std::string("text needs more than 255 parts")};
    const auto total = static_cast<std::uint8_t>(chunks.size());
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      proto::DeliverSm part = base;
      part.esm_class |= proto::kEsmClassUdhi;
      part.short_message = {'\x05',
                            '\x00',
                            '\x03',
                            static_cast<char>(reference),
                            static_cast<char>(total),
                            static_cast<char>(i + 1)};
      part.short_message += as_string(chunks[i]);
      pdus.push_back(proto::Pdu{.command_id = cmd::kDeliverSm, .body = std::move(part)});
    }
    return pdus;
  }
  if (encoded->bytes.size() > proto::field_size::kShortMessage) {
    base.tlvs.add(proto::tlv::kMessagePayload, as_string(encoded->bytes));
  } else {
    base.short_message = as_string(encoded->bytes);
  }
  pdus.push_back(proto::Pdu{.command_id = cmd::kDeliverSm, .body = std::move(base)});
  return pdus;
}

// ---- records ------------------------------------------------------------------------------------

json::object record_to_json(const Record& record) {
  json::object o;
  o["index"] = record.index;
  const auto header = proto::peek_header(record.frame);
  o["command"] = proto::command_name(header ? header->command_id : 0);
  o["sequence_number"] = header ? header->sequence_number : 0;
  o["system_id"] = record.system_id;
  o["message_id"] = record.message_id;

  auto decoded = proto::decode(record.frame);
  if (!decoded) {
    o["decode_error"] = proto::field_name(decoded.error().field);
  } else if (const auto* sm = decoded->as<proto::SubmitSm>()) {
    o["service_type"] = sm->service_type;
    add_address(o, "source_addr", sm->source_addr_ton, sm->source_addr_npi, sm->source_addr,
                "source_addr");
    add_address(o, "dest_addr", sm->dest_addr_ton, sm->dest_addr_npi, sm->destination_addr,
                "destination_addr");
    o["esm_class"] = sm->esm_class;
    o["protocol_id"] = sm->protocol_id;
    o["priority_flag"] = sm->priority_flag;
    o["schedule_delivery_time"] = sm->schedule_delivery_time;
    o["validity_period"] = sm->validity_period;
    o["registered_delivery"] = sm->registered_delivery;
    o["data_coding"] = sm->data_coding;
    add_message(o, sm->data_coding, sm->esm_class, sm->short_message, sm->tlvs);
  } else if (const auto* dsm = decoded->as<proto::DataSm>()) {
    o["service_type"] = dsm->service_type;
    add_address(o, "source_addr", dsm->source_addr_ton, dsm->source_addr_npi, dsm->source_addr,
                "source_addr");
    add_address(o, "dest_addr", dsm->dest_addr_ton, dsm->dest_addr_npi, dsm->destination_addr,
                "destination_addr");
    o["esm_class"] = dsm->esm_class;
    o["registered_delivery"] = dsm->registered_delivery;
    o["data_coding"] = dsm->data_coding;
    add_message(o, dsm->data_coding, dsm->esm_class, "", dsm->tlvs);
  } else if (const auto* multi = decoded->as<proto::SubmitMulti>()) {
    o["service_type"] = multi->service_type;
    add_address(o, "source_addr", multi->source_addr_ton, multi->source_addr_npi,
                multi->source_addr, "source_addr");
    json::array destinations;
    json::array dest_addresses;
    for (const auto& d : multi->dest_addresses) {
      const bool sme = d.dest_flag == proto::kDestFlagSmeAddress;
      destinations.emplace_back(sme ? d.destination_addr : d.dl_name);
      json::object da;
      da["dest_flag"] = d.dest_flag;
      if (sme) {
        add_address(da, "dest_addr", d.dest_addr_ton, d.dest_addr_npi, d.destination_addr,
                    "destination_addr");
      } else {
        da["dl_name"] = d.dl_name;
      }
      dest_addresses.push_back(std::move(da));
    }
    o["destinations"] = std::move(destinations);
    o["dest_addresses"] = std::move(dest_addresses);
    o["esm_class"] = multi->esm_class;
    o["protocol_id"] = multi->protocol_id;
    o["priority_flag"] = multi->priority_flag;
    o["schedule_delivery_time"] = multi->schedule_delivery_time;
    o["validity_period"] = multi->validity_period;
    o["registered_delivery"] = multi->registered_delivery;
    o["data_coding"] = multi->data_coding;
    add_message(o, multi->data_coding, multi->esm_class, multi->short_message, multi->tlvs);
  } else if (const auto* q = decoded->as<proto::QuerySm>()) {
    o["message_id"] = q->message_id;
    add_address(o, "source_addr", q->source_addr_ton, q->source_addr_npi, q->source_addr,
                "source_addr");
  } else if (const auto* c = decoded->as<proto::CancelSm>()) {
    o["service_type"] = c->service_type;
    o["message_id"] = c->message_id;
    add_address(o, "source_addr", c->source_addr_ton, c->source_addr_npi, c->source_addr,
                "source_addr");
    add_address(o, "dest_addr", c->dest_addr_ton, c->dest_addr_npi, c->destination_addr,
                "destination_addr");
  } else if (const auto* rep = decoded->as<proto::ReplaceSm>()) {
    o["message_id"] = rep->message_id;
    add_address(o, "source_addr", rep->source_addr_ton, rep->source_addr_npi, rep->source_addr,
                "source_addr");
    o["schedule_delivery_time"] = rep->schedule_delivery_time;
    o["validity_period"] = rep->validity_period;
    o["registered_delivery"] = rep->registered_delivery;
    o["sm_default_msg_id"] = rep->sm_default_msg_id;
    add_message(o, 0, 0, rep->short_message, rep->tlvs);
  }
  o["pdu_hex"] = to_hex(record.frame);
  return o;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const auto b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0F]);
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<std::uint8_t> out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return out;
}

// ---- options ------------------------------------------------------------------------------------

Result<SimulatorOptions> parse_simulator_flags(const std::map<std::string, std::string>& flags) {
  SimulatorOptions o;
  for (const auto& [name, value] : flags) {
    auto bad = [&](std::string_view why) {
      return proto::Unexpected{"--" + name + " " + value + ": " + std::string(why)};
    };
    if (name == "smpp" || name == "http") {
      std::string why;
      auto hp = config::HostPort::parse(value, &why);
      if (!hp) return bad(why);
      (name == "smpp" ? o.smpp : o.http) = *hp;
    } else if (name == "system-id") {
      if (value.size() >= proto::field_size::kSystemId) return bad("longer than 15 characters");
      o.system_id = value;
    } else if (name == "password") {
      if (value.size() >= proto::field_size::kPassword) return bad("longer than 8 characters");
      o.password = value;
    } else if (name == "id-format") {
      auto f = parse_id_format(value);
      if (!f) return bad("expected hex or decimal");
      o.id_format = *f;
    } else if (name == "receipt-id-format") {
      auto f = parse_receipt_id_format(value);
      if (!f) return bad("expected same or decimal");
      o.receipt_id_format = *f;
    } else if (name == "receipt-delay") {
      std::optional<Millis> d;
      if (all_digits(value) && value.size() <= 12)
        d = Millis(std::stoll(value));
      else
        d = parse_duration(value);
      if (!d || d->count() < 0) return bad("expected a duration such as 100ms, 2s or 1h");
      o.receipt_delay = *d;
    } else if (name == "receipt-status") {
      std::string upper = value;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (!message_state_for_stat(upper)) {
        return bad(
            "expected DELIVRD, UNDELIV, REJECTD, EXPIRED, DELETED, ACCEPTD, UNKNOWN or ENROUTE");
      }
      o.receipt_status = upper;
    } else if (name == "max-records") {
      if (!all_digits(value) || value.size() > 9) return bad("expected a number");
      o.max_records = std::stoull(value);
    } else if (name != "ports-file") {
      return proto::Unexpected{"unknown option --" + name};
    }
  }
  if (o.system_id.empty() && !o.password.empty()) {
    return proto::Unexpected{std::string("--password needs --system-id")};
  }
  return o;
}

}  // namespace smppguard::sim
