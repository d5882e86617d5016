#pragma once
// Message id handling between the proxy and carriers. Pure functions; thread-safe.
//
// Carriers write the same id differently in submit_sm_resp and in the delivery receipt (hex or
// decimal, leading zeros, letter case). Each upstream's message_id_format says how to bring both
// to one key:
//   as_is   — the id as given (surrounding spaces trimmed);
//   hex     — a hexadecimal number: lower case, leading zeros dropped ("000A1f" -> "a1f");
//   decimal — a decimal number: leading zeros dropped ("00042" -> "42").
// A receipt id that is not of the upstream's format yields its other readings as well (receipt_keys):
// SMPP v3.4 Appendix B writes the receipt's `id:` in decimal while many carriers answer
// submit_sm_resp in hex, so a decimal receipt id under `hex` is also tried as its hex value.
#include <optional>
#include <smppguard/proto/pdu.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace smppguard::session {

/// The map key of an upstream message id; nullopt when the id does not fit the format.
std::optional<std::string> normalize_message_id(std::string_view id, config::MessageIdFormat fmt);

/// Keys to try, in order, for an id read from a receipt (see the file comment).
std::vector<std::string> receipt_keys(std::string_view id, config::MessageIdFormat fmt);

/// True when esm_class marks a deliver_sm/data_sm as a delivery receipt or delivery acknowledgement
/// (message type bits 2-5: SMSC receipt, SME delivery ack, SME manual ack, intermediate notification).
bool is_receipt(std::uint8_t esm_class);

/// The ids a receipt carries: receipted_message_id TLV first, then `id:` of the receipt text.
std::vector<std::string> receipt_ids(const proto::SubmitSm& deliver);
std::vector<std::string> receipt_ids(const proto::DataSm& data);

/// Replaces the `id:` value of a receipt text (short_message octets; SMPP Appendix B format) with
/// `new_id`; returns false when the text has no `id:` field.
bool rewrite_receipt_text(std::string& short_message, std::string_view new_id);

/// Rewrites every id of a receipt (text and receipted_message_id TLV) to `new_id`.
void rewrite_receipt(proto::SubmitSm& deliver, std::string_view new_id);
void rewrite_receipt(proto::DataSm& data, std::string_view new_id);

}  // namespace smppguard::session
