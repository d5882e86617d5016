#pragma once
// Concatenated SMS: splitting the proxy's own long messages into parts, and putting incoming parts
// back together. A message that arrives whole in the message_payload TLV needs neither: callers
// pass the TLV's value to decode_text (text.hpp) directly.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <vector>

#include "smppguard/proto/text.hpp"
#include "smppguard/proto/udh.hpp"

namespace smppguard::proto {

inline constexpr std::size_t kGsm7SingleSeptets = 160;  ///< one GSM SMS, no UDH
inline constexpr std::size_t kGsm7PartSeptets = 153;    ///< per part after a 6-octet UDH
inline constexpr std::size_t kUcs2SingleUnits = 70;     ///< one UCS2 SMS, in UTF-16 code units
inline constexpr std::size_t kUcs2PartUnits = 67;       ///< per part after a 6-octet UDH
inline constexpr std::size_t kMaxParts = 255;

/// How split_for_sms lays out GSM 7-bit parts.
struct SplitOptions {
  std::uint8_t reference = 0;  ///< the 8-bit concatenation reference shared by the parts
  /// false: septets one per octet, as SMPP carries data_coding 0 (the usual form).
  /// true: packed 8 to 7 after the UDH's fill bits, for SMSCs that want packed user data. A
  /// part ending in '@' or CR exactly in its last octet's top 7 bits reads as padding to a
  /// receiver without a septet count (see gsm7_unpack).
  bool pack_gsm7 = false;
};

/// A message cut into short_message values. Send each part with `data_coding` and, when
/// `esm_class_udhi` is not 0, with esm_class |= esm_class_udhi.
struct SmsParts {
  std::uint8_t data_coding = 0;                  ///< 0 (GSM 7-bit) or 8 (UCS2)
  std::uint8_t esm_class_udhi = 0;               ///< kEsmClassUdhi when there is more than one part
  std::vector<std::vector<std::uint8_t>> parts;  ///< each part's short_message, UDH included
};

/// Splits `utf8` for sending. GSM 7-bit when every character fits (160 septets in one part, else
/// 153 per part, an escape pair never split), otherwise UCS2 (70 code units in one part, else 67
/// per part, a surrogate pair never split). When there is more than one part, every part starts
/// with the 8-bit-reference UDH 05 00 03 ref total seq. Empty text gives one empty part.
/// Errors: invalid_utf8, message_too_long (more than 255 parts). Pure and thread-safe.
TextResult<SmsParts> split_for_sms(std::string_view utf8, const SplitOptions& options = {});

/// Segmentation from the sar_msg_ref_num, sar_total_segments and sar_segment_seqnum TLVs.
struct SarInfo {
  std::uint16_t ref = 0;
  std::uint8_t total = 0;
  std::uint8_t seq = 0;
};

/// One incoming short message (deliver_sm / data_sm / submit_sm body), possibly a part.
struct IncomingPart {
  std::string_view key;  ///< parts join only under the same key, e.g. source + " " + destination
  std::uint8_t data_coding = 0;
  std::uint8_t esm_class = 0;             ///< only the UDHI bit (0x40) is read
  std::span<const std::uint8_t> payload;  ///< short_message (or message_payload) as it came
  std::optional<SarInfo> sar;             ///< from the sar_* TLVs, when present
};

/// Where a part sits in its message, and its user data.
struct PartLayout {
  std::span<const std::uint8_t> payload;  ///< the user data after the UDH (views the part's)
  std::size_t header_octets = 0;          ///< the UDH's size (for gsm7_fill_bits); 0 without
  std::optional<ConcatInfo> position;     ///< nullopt: a whole message
};

/// The layout of `part`: the concatenation IE of its UDH when esm_class has UDHI, else its sar_*
/// values. Errors: parse_udh's, and sar_invalid (total 0, seq 0 or seq > total). Pure.
TextResult<PartLayout> part_layout(const IncomingPart& part);

/// Settings of a Reassembler.
struct ReassemblerConfig {
  std::size_t max_pending_messages = 1024;  ///< incomplete messages kept; the oldest go first
  std::chrono::milliseconds max_age{std::chrono::minutes(10)};  ///< since a message's first part
  bool gsm7_packed = false;  ///< GSM 7-bit parts carry packed septets (default: one per octet)
};

/// What Reassembler::add did with a part.
enum class PartStatus {
  complete,   ///< the message is whole: `text` holds it
  stored,     ///< kept, waiting for the other parts
  duplicate,  ///< this part was already held: ignored
  invalid,    ///< malformed UDH or sar_* values: `error` says which
};

struct PartResult {
  PartStatus status = PartStatus::invalid;
  std::string text;  ///< when complete: decode_text of the whole message (UTF-8 for text codings)
  std::uint8_t data_coding = 0;  ///< when complete: the first part's data_coding
  std::error_code error;         ///< when invalid
  bool evicted_oldest = false;   ///< storing this part dropped the oldest incomplete message
};

/// Puts incoming multipart messages back together. Parts are identified by the concatenation IE of
/// their UDH (IEI 0x00 or 0x08) when esm_class has UDHI, else by the sar_* values; a message with
/// neither is complete at once. Parts may come in any order; a repeated part is ignored.
///
/// Flow: add() each part as it arrives -> stored (held under key, reference, total) ... -> the last
/// missing part gives complete with the decoded text and frees the entry. expire(now) drops entries
/// older than max_age; storing a new message when max_pending_messages are held drops the oldest.
/// No clock inside: callers pass "now".
///
/// Not thread-safe: one instance per session strand (or guarded by the caller).
class Reassembler {
 public:
  using Time = std::chrono::system_clock::time_point;

  explicit Reassembler(ReassemblerConfig config);

  /// Adds one part received at `now`.
  PartResult add(const IncomingPart& part, Time now);

  /// Drops the incomplete messages whose first part arrived max_age or more before `now`; returns
  /// how many were dropped.
  std::size_t expire(Time now);

  /// Incomplete messages held.
  std::size_t pending() const { return entries_.size(); }

 private:
  struct Part {
    std::uint8_t data_coding = 0;
    std::vector<std::uint8_t> units;  // septets (unpacked) for GSM 7-bit, else the payload bytes
  };
  struct Entry {
    Time first_seen;
    std::uint64_t order = 0;
    std::size_t received = 0;
    std::vector<std::optional<Part>> parts;  // index seq - 1
  };
  using Key = std::tuple<std::string, std::uint16_t, std::uint8_t>;  // key, ref, total

  ReassemblerConfig config_;
  std::map<Key, Entry> entries_;
  std::map<std::uint64_t, Key> by_order_;  // arrival order of each entry's first part
  std::uint64_t next_order_ = 0;
};

}  // namespace smppguard::proto
