#pragma once
// Optional parameters (TLVs, SMPP v3.4 section 5.3): tag constants, names, and TlvList, an
// ordered list that keeps every TLV as it arrived (unknown tags and duplicates included) so that
// a decoded PDU re-encodes byte for byte.
// Thread-safety: TlvList is a plain value type (no internal synchronisation); the free functions
// are pure.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smppguard::proto {

namespace tlv {
// SMPP v3.4
inline constexpr std::uint16_t kDestAddrSubunit = 0x0005;
inline constexpr std::uint16_t kDestNetworkType = 0x0006;
inline constexpr std::uint16_t kDestBearerType = 0x0007;
inline constexpr std::uint16_t kDestTelematicsId = 0x0008;
inline constexpr std::uint16_t kSourceAddrSubunit = 0x000D;
inline constexpr std::uint16_t kSourceNetworkType = 0x000E;
inline constexpr std::uint16_t kSourceBearerType = 0x000F;
inline constexpr std::uint16_t kSourceTelematicsId = 0x0010;
inline constexpr std::uint16_t kQosTimeToLive = 0x0017;
inline constexpr std::uint16_t kPayloadType = 0x0019;
inline constexpr std::uint16_t kAdditionalStatusInfoText = 0x001D;
inline constexpr std::uint16_t kReceiptedMessageId = 0x001E;
inline constexpr std::uint16_t kMsMsgWaitFacilities = 0x0030;
inline constexpr std::uint16_t kPrivacyIndicator = 0x0201;
inline constexpr std::uint16_t kSourceSubaddress = 0x0202;
inline constexpr std::uint16_t kDestSubaddress = 0x0203;
inline constexpr std::uint16_t kUserMessageReference = 0x0204;
inline constexpr std::uint16_t kUserResponseCode = 0x0205;
inline constexpr std::uint16_t kSourcePort = 0x020A;
inline constexpr std::uint16_t kDestinationPort = 0x020B;
inline constexpr std::uint16_t kSarMsgRefNum = 0x020C;
inline constexpr std::uint16_t kLanguageIndicator = 0x020D;
inline constexpr std::uint16_t kSarTotalSegments = 0x020E;
inline constexpr std::uint16_t kSarSegmentSeqnum = 0x020F;
inline constexpr std::uint16_t kScInterfaceVersion = 0x0210;
inline constexpr std::uint16_t kCallbackNumPresInd = 0x0302;
inline constexpr std::uint16_t kCallbackNumAtag = 0x0303;
inline constexpr std::uint16_t kNumberOfMessages = 0x0304;
inline constexpr std::uint16_t kCallbackNum = 0x0381;
inline constexpr std::uint16_t kDpfResult = 0x0420;
inline constexpr std::uint16_t kSetDpf = 0x0421;
inline constexpr std::uint16_t kMsAvailabilityStatus = 0x0422;
inline constexpr std::uint16_t kNetworkErrorCode = 0x0423;
inline constexpr std::uint16_t kMessagePayload = 0x0424;
inline constexpr std::uint16_t kDeliveryFailureReason = 0x0425;
inline constexpr std::uint16_t kMoreMessagesToSend = 0x0426;
inline constexpr std::uint16_t kMessageState = 0x0427;
inline constexpr std::uint16_t kUssdServiceOp = 0x0501;
inline constexpr std::uint16_t kDisplayTime = 0x1201;
inline constexpr std::uint16_t kSmsSignal = 0x1203;
inline constexpr std::uint16_t kMsValidity = 0x1204;
inline constexpr std::uint16_t kAlertOnMessageDelivery = 0x130C;
inline constexpr std::uint16_t kItsReplyType = 0x1380;
inline constexpr std::uint16_t kItsSessionInfo = 0x1383;
// SMPP v5.0 additions
inline constexpr std::uint16_t kCongestionState = 0x0428;
inline constexpr std::uint16_t kBroadcastChannelIndicator = 0x0600;
inline constexpr std::uint16_t kBroadcastContentType = 0x0601;
inline constexpr std::uint16_t kBroadcastContentTypeInfo = 0x0602;
inline constexpr std::uint16_t kBroadcastMessageClass = 0x0603;
inline constexpr std::uint16_t kBroadcastRepNum = 0x0604;
inline constexpr std::uint16_t kBroadcastFrequencyInterval = 0x0605;
inline constexpr std::uint16_t kBroadcastAreaIdentifier = 0x0606;
inline constexpr std::uint16_t kBroadcastErrorStatus = 0x0607;
inline constexpr std::uint16_t kBroadcastAreaSuccess = 0x0608;
inline constexpr std::uint16_t kBroadcastEndTime = 0x0609;
inline constexpr std::uint16_t kBroadcastServiceGroup = 0x060A;
inline constexpr std::uint16_t kBillingIdentification = 0x060B;
inline constexpr std::uint16_t kSourceNetworkId = 0x060D;
inline constexpr std::uint16_t kDestNetworkId = 0x060E;
inline constexpr std::uint16_t kSourceNodeId = 0x060F;
inline constexpr std::uint16_t kDestNodeId = 0x0610;
inline constexpr std::uint16_t kDestAddrNpResolution = 0x0611;
inline constexpr std::uint16_t kDestAddrNpInformation = 0x0612;
inline constexpr std::uint16_t kDestAddrNpCountry = 0x0613;
// smppguard's own vendor TLV (vendor range 0x1400-0x3FFF): message category, 1 octet,
// 0 conversational, 1 informational, 2 promotional (SPEC section 4).
inline constexpr std::uint16_t kSmppguardCategory = 0x1400;
}  // namespace tlv

// "message_payload", "smppguard_category", ...; "unknown" for other tags.
std::string_view tlv_name(std::uint16_t tag) noexcept;

// The value length a TLV must have, as [min, max] octets; {0, 65535} for tags of variable or
// unknown length. Fixed-size standard v3.4 tags (e.g. sar_msg_ref_num: 2) and congestion_state
// (1) are checked by decode and encode against this (Limits::strict_tlv_lengths).
struct TlvLength {
  std::uint16_t min = 0;
  std::uint16_t max = 0xFFFF;
};
TlvLength tlv_length(std::uint16_t tag) noexcept;

// One optional parameter: its tag and its raw value octets (length = value.size()).
struct Tlv {
  std::uint16_t tag = 0;
  std::string value;
  bool operator==(const Tlv&) const = default;
};

// The optional part of a PDU, in arrival order. Lookups find the first TLV with a tag.
class TlvList {
 public:
  using const_iterator = std::vector<Tlv>::const_iterator;

  TlvList() = default;
  TlvList(std::initializer_list<Tlv> items) : items_(items) {}

  // The first TLV with this tag, or nullptr.
  const Tlv* find(std::uint16_t tag) const noexcept;
  bool contains(std::uint16_t tag) const noexcept { return find(tag) != nullptr; }

  // Typed reads of the first TLV with this tag: big-endian integers of exactly 1, 2 or 4 octets,
  // a C-octet string (value ends with its only NUL; returned without it), or the raw octets.
  // nullopt when the tag is absent or the value does not have that form.
  std::optional<std::uint8_t> get_u8(std::uint16_t tag) const noexcept;
  std::optional<std::uint16_t> get_u16(std::uint16_t tag) const noexcept;
  std::optional<std::uint32_t> get_u32(std::uint16_t tag) const noexcept;
  std::optional<std::string_view> get_cstring(std::uint16_t tag) const noexcept;
  std::optional<std::string_view> get_bytes(std::uint16_t tag) const noexcept;

  // Appends a TLV at the end (duplicates allowed, as the wire allows them).
  void add(std::uint16_t tag, std::string value);
  // Replaces the value of the first TLV with this tag, in place, and removes any later TLVs with
  // the same tag; appends when the tag is absent.
  void set(std::uint16_t tag, std::string value);
  void set_u8(std::uint16_t tag, std::uint8_t v);
  void set_u16(std::uint16_t tag, std::uint16_t v);
  void set_u32(std::uint16_t tag, std::uint32_t v);
  // Stores s followed by a NUL octet.
  void set_cstring(std::uint16_t tag, std::string_view s);
  // Removes every TLV with this tag; returns how many were removed.
  std::size_t remove(std::uint16_t tag);
  void clear() noexcept { items_.clear(); }

  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  const_iterator begin() const noexcept { return items_.begin(); }
  const_iterator end() const noexcept { return items_.end(); }
  const std::vector<Tlv>& items() const noexcept { return items_; }
  // Octets on the wire: 4 + value size per TLV.
  std::size_t encoded_size() const noexcept;
  void reserve(std::size_t n) { items_.reserve(n); }

  bool operator==(const TlvList&) const = default;

 private:
  std::vector<Tlv> items_;
};

}  // namespace smppguard::proto
