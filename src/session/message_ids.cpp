#include "session/message_ids.hpp"

#include <smppguard/proto/tlv.hpp>

namespace smppguard::session {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\0')) s.remove_suffix(1);
  return s;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string strip_zeros(std::string_view s) {
  while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
  return std::string(s);
}

// Decimal digits (any length) to lower-case hex, by long division; nullopt for non-digits.
std::optional<std::string> decimal_to_hex(std::string_view dec) {
  std::string digits = strip_zeros(dec);
  for (char c : digits)
    if (c < '0' || c > '9') return std::nullopt;
  if (digits == "0") return "0";
  std::string hex;
  while (!(digits.size() == 1 && digits[0] == '0')) {
    std::string quotient;
    int rem = 0;
    for (char c : digits) {
      const int cur = rem * 10 + (c - '0');
      const int q = cur / 16;
      rem = cur % 16;
      if (!quotient.empty() || q != 0) quotient.push_back(static_cast<char>('0' + q));
    }
    hex.insert(hex.begin(), "0123456789abcdef"[rem]);
    digits = quotient.empty() ? "0" : quotient;
  }
  return hex;
}

std::vector<std::string> ids_from(const proto::TlvList& tlvs, std::string_view text) {
  std::vector<std::string> ids;
  if (auto v = tlvs.get_cstring(proto::tlv::kReceiptedMessageId); v && !trim(*v).empty()) {
    ids.emplace_back(trim(*v));
  }
  // `id:` at the start of the text or after a space.
  for (std::size_t pos = 0; (pos = text.find("id:", pos)) != std::string_view::npos; pos += 3) {
    if (pos != 0 && text[pos - 1] != ' ') continue;
    std::size_t end = pos + 3;
    while (end < text.size() && text[end] != ' ') ++end;
    const auto id = trim(text.substr(pos + 3, end - pos - 3));
    if (!id.empty()) ids.emplace_back(id);
    break;
  }
  return ids;
}

}  // namespace

std::optional<std::string> normalize_message_id(std::string_view id, config::MessageIdFormat fmt) {
  id = trim(id);
  if (id.empty()) return std::nullopt;
  switch (fmt) {
    case config::MessageIdFormat::as_is:
      return std::string(id);
    case config::MessageIdFormat::hex: {
      std::string out;
      for (char c : id) {
        if (!is_hex(c)) return std::nullopt;
        out.push_back(static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c));
      }
      return strip_zeros(out);
    }
    case config::MessageIdFormat::decimal: {
      for (char c : id)
        if (c < '0' || c > '9') return std::nullopt;
      return strip_zeros(id);
    }
  }
  return std::nullopt;
}

std::vector<std::string> receipt_keys(std::string_view id, config::MessageIdFormat fmt) {
  std::vector<std::string> keys;
  if (auto k = normalize_message_id(id, fmt)) keys.push_back(*k);
  if (fmt == config::MessageIdFormat::hex) {
    if (auto h = decimal_to_hex(trim(id)); h && (keys.empty() || keys.front() != *h)) {
      keys.push_back(*h);
    }
  }
  return keys;
}

bool is_receipt(std::uint8_t esm_class) {
  const std::uint8_t type = esm_class & proto::esm_class::kMessageTypeMask;
  return type == 0x04 || type == 0x08 || type == 0x10 || type == 0x20;
}

std::vector<std::string> receipt_ids(const proto::SubmitSm& deliver) {
  return ids_from(deliver.tlvs, deliver.short_message);
}

std::vector<std::string> receipt_ids(const proto::DataSm& data) {
  std::string_view text;
  if (auto p = data.tlvs.get_bytes(proto::tlv::kMessagePayload)) text = *p;
  return ids_from(data.tlvs, text);
}

bool rewrite_receipt_text(std::string& text, std::string_view new_id) {
  for (std::size_t pos = 0; (pos = text.find("id:", pos)) != std::string::npos; pos += 3) {
    if (pos != 0 && text[pos - 1] != ' ') continue;
    std::size_t end = pos + 3;
    while (end < text.size() && text[end] != ' ') ++end;
    text.replace(pos + 3, end - pos - 3, new_id);
    return true;
  }
  return false;
}

void rewrite_receipt(proto::SubmitSm& deliver, std::string_view new_id) {
  std::string text = deliver.short_message;
  if (rewrite_receipt_text(text, new_id)) {
    // A longer id may push the text over 254 octets: the end of a receipt is its `text:` excerpt
    // of the message, the part that can be cut.
    if (text.size() > proto::field_size::kShortMessage) text.resize(proto::field_size::kShortMessage);
    deliver.short_message = std::move(text);
  }
  if (deliver.tlvs.contains(proto::tlv::kReceiptedMessageId)) {
    deliver.tlvs.set_cstring(proto::tlv::kReceiptedMessageId, new_id);
  }
}

void rewrite_receipt(proto::DataSm& data, std::string_view new_id) {
  if (auto p = data.tlvs.get_bytes(proto::tlv::kMessagePayload)) {
    std::string text(*p);
    if (rewrite_receipt_text(text, new_id)) data.tlvs.set(proto::tlv::kMessagePayload, text);
  }
  if (data.tlvs.contains(proto::tlv::kReceiptedMessageId)) {
    data.tlvs.set_cstring(proto::tlv::kReceiptedMessageId, new_id);
  }
}

}  // namespace smppguard::session
