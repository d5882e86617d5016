#include "smppguard/proto/tlv.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "wire.hpp"

namespace smppguard::proto {
namespace {

struct TlvInfo {
  std::uint16_t tag;
  std::string_view name;
  TlvLength length;
};

constexpr TlvLength kAny{};
constexpr TlvLength fixed(std::uint16_t n) { return {n, n}; }

// Sorted by tag. Lengths are enforced only where SMPP v3.4 fixes them (and congestion_state);
// variable-size and v5.0 broadcast/network TLVs pass with any length.
constexpr std::array kTlvs{
    TlvInfo{tlv::kDestAddrSubunit, "dest_addr_subunit", fixed(1)},
    TlvInfo{tlv::kDestNetworkType, "dest_network_type", fixed(1)},
    TlvInfo{tlv::kDestBearerType, "dest_bearer_type", fixed(1)},
    TlvInfo{tlv::kDestTelematicsId, "dest_telematics_id", fixed(2)},
    TlvInfo{tlv::kSourceAddrSubunit, "source_addr_subunit", fixed(1)},
    TlvInfo{tlv::kSourceNetworkType, "source_network_type", fixed(1)},
    TlvInfo{tlv::kSourceBearerType, "source_bearer_type", fixed(1)},
    // v3.4 gives 1 octet here but 2 for dest_telematics_id; peers differ, accept both.
    TlvInfo{tlv::kSourceTelematicsId, "source_telematics_id", {1, 2}},
    TlvInfo{tlv::kQosTimeToLive, "qos_time_to_live", fixed(4)},
    TlvInfo{tlv::kPayloadType, "payload_type", fixed(1)},
    TlvInfo{tlv::kAdditionalStatusInfoText, "additional_status_info_text", kAny},
    TlvInfo{tlv::kReceiptedMessageId, "receipted_message_id", kAny},
    TlvInfo{tlv::kMsMsgWaitFacilities, "ms_msg_wait_facilities", fixed(1)},
    TlvInfo{tlv::kPrivacyIndicator, "privacy_indicator", fixed(1)},
    TlvInfo{tlv::kSourceSubaddress, "source_subaddress", kAny},
    TlvInfo{tlv::kDestSubaddress, "dest_subaddress", kAny},
    TlvInfo{tlv::kUserMessageReference, "user_message_reference", fixed(2)},
    TlvInfo{tlv::kUserResponseCode, "user_response_code", fixed(1)},
    TlvInfo{tlv::kSourcePort, "source_port", fixed(2)},
    TlvInfo{tlv::kDestinationPort, "destination_port", fixed(2)},
    TlvInfo{tlv::kSarMsgRefNum, "sar_msg_ref_num", fixed(2)},
    TlvInfo{tlv::kLanguageIndicator, "language_indicator", fixed(1)},
    TlvInfo{tlv::kSarTotalSegments, "sar_total_segments", fixed(1)},
    TlvInfo{tlv::kSarSegmentSeqnum, "sar_segment_seqnum", fixed(1)},
    TlvInfo{tlv::kScInterfaceVersion, "sc_interface_version", fixed(1)},
    TlvInfo{tlv::kCallbackNumPresInd, "callback_num_pres_ind", fixed(1)},
    TlvInfo{tlv::kCallbackNumAtag, "callback_num_atag", kAny},
    TlvInfo{tlv::kNumberOfMessages, "number_of_messages", fixed(1)},
    TlvInfo{tlv::kCallbackNum, "callback_num", kAny},
    TlvInfo{tlv::kDpfResult, "dpf_result", fixed(1)},
    TlvInfo{tlv::kSetDpf, "set_dpf", fixed(1)},
    TlvInfo{tlv::kMsAvailabilityStatus, "ms_availability_status", fixed(1)},
    TlvInfo{tlv::kNetworkErrorCode, "network_error_code", fixed(3)},
    TlvInfo{tlv::kMessagePayload, "message_payload", kAny},
    TlvInfo{tlv::kDeliveryFailureReason, "delivery_failure_reason", fixed(1)},
    TlvInfo{tlv::kMoreMessagesToSend, "more_messages_to_send", fixed(1)},
    TlvInfo{tlv::kMessageState, "message_state", fixed(1)},
    TlvInfo{tlv::kCongestionState, "congestion_state", fixed(1)},
    TlvInfo{tlv::kUssdServiceOp, "ussd_service_op", fixed(1)},
    TlvInfo{tlv::kBroadcastChannelIndicator, "broadcast_channel_indicator", kAny},
    TlvInfo{tlv::kBroadcastContentType, "broadcast_content_type", kAny},
    TlvInfo{tlv::kBroadcastContentTypeInfo, "broadcast_content_type_info", kAny},
    TlvInfo{tlv::kBroadcastMessageClass, "broadcast_message_class", kAny},
    TlvInfo{tlv::kBroadcastRepNum, "broadcast_rep_num", kAny},
    TlvInfo{tlv::kBroadcastFrequencyInterval, "broadcast_frequency_interval", kAny},
    TlvInfo{tlv::kBroadcastAreaIdentifier, "broadcast_area_identifier", kAny},
    TlvInfo{tlv::kBroadcastErrorStatus, "broadcast_error_status", kAny},
    TlvInfo{tlv::kBroadcastAreaSuccess, "broadcast_area_success", kAny},
    TlvInfo{tlv::kBroadcastEndTime, "broadcast_end_time", kAny},
    TlvInfo{tlv::kBroadcastServiceGroup, "broadcast_service_group", kAny},
    TlvInfo{tlv::kBillingIdentification, "billing_identification", kAny},
    TlvInfo{tlv::kSourceNetworkId, "source_network_id", kAny},
    TlvInfo{tlv::kDestNetworkId, "dest_network_id", kAny},
    TlvInfo{tlv::kSourceNodeId, "source_node_id", kAny},
    TlvInfo{tlv::kDestNodeId, "dest_node_id", kAny},
    TlvInfo{tlv::kDestAddrNpResolution, "dest_addr_np_resolution", kAny},
    TlvInfo{tlv::kDestAddrNpInformation, "dest_addr_np_information", kAny},
    TlvInfo{tlv::kDestAddrNpCountry, "dest_addr_np_country", kAny},
    TlvInfo{tlv::kDisplayTime, "display_time", fixed(1)},
    TlvInfo{tlv::kSmsSignal, "sms_signal", fixed(2)},
    // v3.4: 1 octet; v5.0 adds a 4-octet form.
    TlvInfo{tlv::kMsValidity, "ms_validity", {1, 4}},
    // v3.4: no value; v5.0 adds a 1-octet form.
    TlvInfo{tlv::kAlertOnMessageDelivery, "alert_on_message_delivery", {0, 1}},
    TlvInfo{tlv::kItsReplyType, "its_reply_type", fixed(1)},
    TlvInfo{tlv::kItsSessionInfo, "its_session_info", fixed(2)},
    // Ours, but the vendor range is shared: other vendors' 0x1400 must pass, so no length check
    // here; the policy reads it with get_u8.
    TlvInfo{tlv::kSmppguardCategory, "smppguard_category", kAny},
};

static_assert(std::is_sorted(kTlvs.begin(), kTlvs.end(),
                             [](const TlvInfo& a, const TlvInfo& b) { return a.tag < b.tag; }));

const TlvInfo* info(std::uint16_t tag) noexcept {
  auto it = std::lower_bound(kTlvs.begin(), kTlvs.end(), tag,
                             [](const TlvInfo& a, std::uint16_t t) { return a.tag < t; });
  return (it != kTlvs.end() && it->tag == tag) ? &*it : nullptr;
}

}  // namespace

std::string_view tlv_name(std::uint16_t tag) noexcept {
  const TlvInfo* i = info(tag);
  return i ? i->name : "unknown";
}

TlvLength tlv_length(std::uint16_t tag) noexcept {
  const TlvInfo* i = info(tag);
  return i ? i->length : kAny;
}

const Tlv* TlvList::find(std::uint16_t tag) const noexcept {
  for (const Tlv& t : items_) {
    if (t.tag == tag) return &t;
  }
  return nullptr;
}

std::optional<std::uint8_t> TlvList::get_u8(std::uint16_t tag) const noexcept {
  const Tlv* t = find(tag);
  if (!t || t->value.size() != 1) return std::nullopt;
  return static_cast<std::uint8_t>(t->value[0]);
}

std::optional<std::uint16_t> TlvList::get_u16(std::uint16_t tag) const noexcept {
  const Tlv* t = find(tag);
  if (!t || t->value.size() != 2) return std::nullopt;
  return detail::load_u16(reinterpret_cast<const std::uint8_t*>(t->value.data()));
}

std::optional<std::uint32_t> TlvList::get_u32(std::uint16_t tag) const noexcept {
  const Tlv* t = find(tag);
  if (!t || t->value.size() != 4) return std::nullopt;
  return detail::load_u32(reinterpret_cast<const std::uint8_t*>(t->value.data()));
}

std::optional<std::string_view> TlvList::get_cstring(std::uint16_t tag) const noexcept {
  const Tlv* t = find(tag);
  if (!t || t->value.empty()) return std::nullopt;
  std::string_view v = t->value;
  if (v.find('\0') != v.size() - 1) return std::nullopt;
  return v.substr(0, v.size() - 1);
}

std::optional<std::string_view> TlvList::get_bytes(std::uint16_t tag) const noexcept {
  const Tlv* t = find(tag);
  if (!t) return std::nullopt;
  return std::string_view(t->value);
}

void TlvList::add(std::uint16_t tag, std::string value) {
  items_.push_back(Tlv{tag, std::move(value)});
}

void TlvList::set(std::uint16_t tag, std::string value) {
  auto first =
      std::find_if(items_.begin(), items_.end(), [&](const Tlv& t) { return t.tag == tag; });
  if (first == items_.end()) {
    add(tag, std::move(value));
    return;
  }
  first->value = std::move(value);
  items_.erase(std::remove_if(first + 1, items_.end(), [&](const Tlv& t) { return t.tag == tag; }),
               items_.end());
}

void TlvList::set_u8(std::uint16_t tag, std::uint8_t v) {
  set(tag, std::string(1, static_cast<char>(v)));
}

void TlvList::set_u16(std::uint16_t tag, std::uint16_t v) {
  std::string s(2, '\0');
  s[0] = static_cast<char>(v >> 8);
  s[1] = static_cast<char>(v);
  set(tag, std::move(s));
}

void TlvList::set_u32(std::uint16_t tag, std::uint32_t v) {
  std::string s(4, '\0');
  detail::store_u32(reinterpret_cast<std::uint8_t*>(s.data()), v);
  set(tag, std::move(s));
}

void TlvList::set_cstring(std::uint16_t tag, std::string_view s) {
  std::string v;
  v.reserve(s.size() + 1);
  v.append(s);
  v.push_back('\0');
  set(tag, std::move(v));
}

std::size_t TlvList::remove(std::uint16_t tag) {
  auto it =
      std::remove_if(items_.begin(), items_.end(), [&](const Tlv& t) { return t.tag == tag; });
  std::size_t n = static_cast<std::size_t>(items_.end() - it);
  items_.erase(it, items_.end());
  return n;
}

std::size_t TlvList::encoded_size() const noexcept {
  std::size_t n = 0;
  for (const Tlv& t : items_) n += 4 + t.value.size();
  return n;
}

}  // namespace smppguard::proto
