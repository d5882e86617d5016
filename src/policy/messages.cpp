// The proxy's own messages: templates, submit_sm parts, and delivery receipts.
#include <chrono>
#include <cstdio>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/concat.hpp>
#include <smppguard/proto/text.hpp>
#include <smppguard/proto/udh.hpp>
#include <span>

#include "policy/engine.hpp"
#include "policy/numbers.hpp"

namespace smppguard::policy {

std::string render(std::string_view tmpl, const config::Program& program, std::string_view number) {
  std::string out;
  out.reserve(tmpl.size() + 32);
  std::size_t i = 0;
  while (i < tmpl.size()) {
    const std::size_t open = tmpl.find('{', i);
    if (open == std::string_view::npos) break;
    out.append(tmpl.substr(i, open - i));
    const std::size_t close = tmpl.find('}', open + 1);
    if (close == std::string_view::npos) {
      i = open;
      break;
    }
    const std::string_view name = tmpl.substr(open + 1, close - open - 1);
    if (name == "program") {
      out += program.name;
    } else if (name == "help_contact") {
      out += program.help_contact;
    } else if (name == "number") {
      out += number;
    } else {
      out.append(tmpl.substr(open, close - open + 1));
    }
    i = close + 1;
  }
  out.append(tmpl.substr(std::min(i, tmpl.size())));
  return out;
}

std::string_view template_text(const config::Program& program, std::string_view template_name) {
  const auto& m = program.messages;
  if (template_name == "help") return m.help;
  if (template_name == "opt_out_confirm") return m.opt_out_confirm;
  if (template_name == "opt_in_request") return m.opt_in_request;
  if (template_name == "opt_in_confirm") return m.opt_in_confirm;
  if (template_name == "disclaimer") return m.disclaimer;
  if (template_name == "still_opted_out") return m.still_opted_out;
  return {};
}

std::vector<proto::Pdu> build_proxy_message(std::string_view from_number, std::string_view msisdn,
                                            std::string_view text, std::uint8_t reference) {
  const auto from = parse_config_number(from_number);
  const auto to = parse_e164(msisdn);
  if (!from || !to) return {};
  auto parts = proto::split_for_sms(text, proto::SplitOptions{reference});
  if (!parts) return {};

  const SmppAddress source = to_smpp_address(*from);
  std::vector<proto::Pdu> out;
  out.reserve(parts->parts.size());
  for (auto& part : parts->parts) {
    proto::SubmitSm sm;
    sm.source_addr_ton = source.ton;
    sm.source_addr_npi = source.npi;
    sm.source_addr = source.digits;
    sm.dest_addr_ton = ton::kInternational;
    sm.dest_addr_npi = npi::kIsdn;
    sm.destination_addr = to->substr(1);
    sm.esm_class = parts->esm_class_udhi;
    sm.registered_delivery = 1;
    sm.data_coding = parts->data_coding;
    sm.short_message.assign(part.begin(), part.end());
    out.push_back(proto::Pdu{proto::cmd::kSubmitSm, 0, 0, std::move(sm)});
  }
  return out;
}

namespace {

struct MtView {
  std::uint8_t src_ton = 0, src_npi = 0, dst_ton = 0, dst_npi = 0;
  std::string_view src, dst;
  std::uint8_t esm_class = 0, data_coding = 0;
  std::string_view short_message;
  const proto::TlvList* tlvs = nullptr;
};

MtView view_of(const proto::Pdu& pdu) {
  MtView v;
  if (const auto* s = pdu.as<proto::SubmitSm>()) {
    v = {
        s->source_addr_ton,  s->source_addr_npi, s->dest_addr_ton, s->dest_addr_npi, s->source_addr,
        s->destination_addr, s->esm_class,       s->data_coding,   s->short_message, &s->tlvs};
  } else if (const auto* d = pdu.as<proto::DataSm>()) {
    v = {d->source_addr_ton,
         d->source_addr_npi,
         d->dest_addr_ton,
         d->dest_addr_npi,
         d->source_addr,
         d->destination_addr,
         d->esm_class,
         d->data_coding,
         {},
         &d->tlvs};
  } else if (const auto* m = pdu.as<proto::SubmitMulti>()) {
    v.src_ton = m->source_addr_ton;
    v.src_npi = m->source_addr_npi;
    v.src = m->source_addr;
    for (const auto& dest : m->dest_addresses) {
      if (dest.dest_flag != proto::kDestFlagSmeAddress) continue;
      v.dst_ton = dest.dest_addr_ton;
      v.dst_npi = dest.dest_addr_npi;
      v.dst = dest.destination_addr;
      break;
    }
    v.esm_class = m->esm_class;
    v.data_coding = m->data_coding;
    v.short_message = m->short_message;
    v.tlvs = &m->tlvs;
  }
  return v;
}

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The first `n` characters of the MT's text, printable ASCII only ('?' for anything else).
std::string text_head(const MtView& v, std::size_t n) {
  std::span<const std::uint8_t> payload = bytes_of(v.short_message);
  if (payload.empty() && v.tlvs != nullptr) {
    if (const auto p = v.tlvs->get_bytes(proto::tlv::kMessagePayload)) payload = bytes_of(*p);
  } else if ((v.esm_class & proto::kEsmClassUdhi) != 0) {
    if (const auto udh = proto::parse_udh(payload)) payload = udh->payload;
  }
  const std::string utf8 = proto::decode_text(v.data_coding, payload);
  std::string out;
  for (std::size_t i = 0; i < utf8.size() && out.size() < n;) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    std::size_t len = 1;
    if (c >= 0xF0) {
      len = 4;
    } else if (c >= 0xE0) {
      len = 3;
    } else if (c >= 0xC0) {
      len = 2;
    }
    out.push_back(len == 1 && c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
    i += len;
  }
  return out;
}

std::string receipt_time(TimePoint t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<minutes>(t - day)};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d%02u%02u%02d%02d", static_cast<int>(ymd.year()) % 100,
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()));
  return buf;
}

// SMPP v3.4 section 5.2.28 message_state for a receipt's stat.
std::uint8_t message_state(std::string_view stat) {
  if (stat == "ENROUTE") return 1;
  if (stat == "DELIVRD") return 2;
  if (stat == "EXPIRED") return 3;
  if (stat == "DELETED") return 4;
  if (stat == "UNDELIV") return 5;
  if (stat == "ACCEPTD") return 6;
  if (stat == "REJECTD") return 8;
  return 7;  // UNKNOWN
}

}  // namespace

proto::Pdu build_receipt(std::string_view message_id, const proto::Pdu& original_mt,
                         std::string_view stat, std::uint32_t error, TimePoint submitted,
                         TimePoint done) {
  const MtView v = view_of(original_mt);
  char err[16];
  std::snprintf(err, sizeof err, "%03X", static_cast<unsigned>(error & 0xFFF));

  std::string text = "id:" + std::string(message_id) +
                     " sub:001 dlvrd:000 submit date:" + receipt_time(submitted) +
                     " done date:" + receipt_time(done) + " stat:" + std::string(stat) +
                     " err:" + err + " text:" + text_head(v, 20);

  proto::DeliverSm sm;
  sm.source_addr_ton = v.dst_ton;
  sm.source_addr_npi = v.dst_npi;
  sm.source_addr = std::string(v.dst);
  sm.dest_addr_ton = v.src_ton;
  sm.dest_addr_npi = v.src_npi;
  sm.destination_addr = std::string(v.src);
  sm.esm_class = proto::esm_class::kDeliveryReceipt;
  sm.short_message = std::move(text);
  sm.tlvs.set_cstring(proto::tlv::kReceiptedMessageId, message_id);
  sm.tlvs.set_u8(proto::tlv::kMessageState, message_state(stat));
  return proto::Pdu{proto::cmd::kDeliverSm, 0, 0, std::move(sm)};
}

}  // namespace smppguard::policy
