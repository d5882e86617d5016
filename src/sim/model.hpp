#pragma once
// The carrier simulator's I/O-free parts: message id formats, delivery receipt text and PDU,
// failure rules, MO PDU building, the JSON shapes of its HTTP API, and its command-line options.
// Simulator (simulator.hpp) does the networking on top of these.
// Thread-safety: plain value types and pure functions.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <smppguard/proto/expected.hpp>
#include <smppguard/proto/pdu.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.hpp"
#include "config/config.hpp"

namespace smppguard::sim {

template <typename T>
using Result = proto::Expected<T, std::string>;  // the error is a message for an HTTP 400 / CLI

/// How the simulator writes the message ids it gives in submit_sm_resp.
enum class IdFormat : std::uint8_t {
  hex,      // 8 upper-case hex digits, zero-padded: "0000001F"
  decimal,  // no padding: "31"
};
/// How the `id:` field of a receipt's text is written.
enum class ReceiptIdFormat : std::uint8_t {
  same,     // exactly the submit_sm_resp id
  decimal,  // the id's numeric value in decimal, zero-padded to 10 digits: "0000000031"
};

std::optional<IdFormat> parse_id_format(std::string_view text);
std::optional<ReceiptIdFormat> parse_receipt_id_format(std::string_view text);

/// The id for the n-th accepted message (n counts from 1).
std::string format_message_id(std::uint64_t n, IdFormat format);
/// The inverse of format_message_id (hex is read in either case); nullopt when it is not one.
std::optional<std::uint64_t> parse_message_id(std::string_view id, IdFormat format);
/// The `id:` value of a receipt's text for the message numbered n.
std::string receipt_text_id(std::uint64_t n, IdFormat format, ReceiptIdFormat receipt_format);

/// The message_state (SMPP v3.4 5.2.28) of a receipt stat word: ENROUTE 1, DELIVRD 2, EXPIRED 3,
/// DELETED 4, UNDELIV 5, ACCEPTD 6, UNKNOWN 7, REJECTD 8; nullopt for other words.
std::optional<std::uint8_t> message_state_for_stat(std::string_view stat);
inline constexpr std::uint8_t kStateEnroute = 1;

/// "YYMMDDhhmm" in UTC.
std::string format_receipt_date(TimePoint t);

/// An SMPP address as carried in a PDU.
struct Address {
  std::uint8_t ton = 0;
  std::uint8_t npi = 0;
  std::string addr;
  bool operator==(const Address&) const = default;
};

/// What the simulator keeps of an accepted MT, for its receipt and query_sm.
struct SubmittedMessage {
  std::uint64_t number = 0;  // the counter behind message_id
  std::string message_id;    // as given in the response
  std::string system_id;     // the bind that sent it: receipts go to a receiver of this id
  Address source;
  Address destination;
  std::string text;  // the message's text, UTF-8 (only its first 20 characters are kept)
  TimePoint submitted;
  std::uint8_t registered_delivery = 0;
  std::uint8_t final_state = 0;  // message_state of the receipt once sent; 0 before
};

/// What an accepted submit_sm, data_sm or submit_multi (its first SME destination) says about its
/// receipt: addresses, registered_delivery, the text's first 20 characters. nullopt for other PDUs.
/// The caller fills number, message_id, system_id and submitted.
std::optional<SubmittedMessage> submitted_message(const proto::Pdu& pdu);

/// Appendix B receipt text: `id:<id> sub:001 dlvrd:001 submit date:<YYMMDDhhmm> done
/// date:<YYMMDDhhmm> stat:<stat> err:000 text:<first 20 characters of text>`. Characters outside
/// printable ASCII are written as '?' (the text travels with data_coding 0).
std::string receipt_text(std::string_view id, TimePoint submitted, TimePoint done,
                         std::string_view stat, std::string_view text);

/// The receipt deliver_sm for `message` (sequence number 0; the connection sets it): esm_class
/// 0x04, addresses swapped, data_coding 0, the text above with `text_id`, and the TLVs
/// receipted_message_id (message.message_id) and message_state (from stat; UNKNOWN when the
/// word is not known).
proto::Pdu build_receipt(const SubmittedMessage& message, std::string_view text_id,
                         std::string_view stat, TimePoint done);

// ---- failure rules ----------------------------------------------------------------------------

enum class RuleAction : std::uint8_t {
  status,     // answer with `status`
  no_answer,  // never answer
  delay,      // answer normally after `delay`
  drop,       // close the connection without answering
};

/// One failure rule, matched by destination prefix (first match wins).
struct Rule {
  std::string prefix;
  RuleAction action = RuleAction::status;
  std::uint32_t status = 0;
  std::chrono::milliseconds delay{0};
  bool operator==(const Rule&) const = default;
};

/// The form rules compare against: "+" and the digits for TON 1 (a '+' already there is not
/// doubled), else the address as written.
std::string e164_form(std::uint8_t ton, std::string_view addr);
/// The first rule whose prefix starts the destination's e164_form; a prefix without '+' also
/// matches the address's bare digits (so "1555" matches TON 1 "15550001"). "" matches everything.
const Rule* match_rule(std::span<const Rule> rules, std::uint8_t ton, std::string_view addr);

/// Reads `{"prefix":..,"action":"status","status":88}` (status may be a number or a "0x58" string)
/// / `{"action":"no_answer"}` / `{"action":"delay","delay_ms":500}` / `{"action":"drop"}`.
Result<Rule> parse_rule(const boost::json::value& json);
boost::json::object rule_to_json(const Rule& rule);

// ---- MOs ----------------------------------------------------------------------------------------

/// The body of POST /mo.
struct MoRequest {
  std::string from;
  std::string to;
  std::string text;
  std::optional<std::uint8_t> data_coding;  // 0, 1, 3 or 8; default: 0 when GSM fits, else 8
  bool data_sm = false;                     // "command":"data_sm": text in message_payload
  std::optional<std::uint8_t> source_ton, source_npi, dest_ton, dest_npi;
  bool parts = false;  // cut a long text into UDH-concatenated parts
  std::optional<std::uint8_t> esm_class;
  std::string system_id;                         // "" = any bound receiver
  std::optional<std::vector<std::uint8_t>> pdu;  // "pdu_hex": send these bytes as they are
};

/// Parses the JSON body of POST /mo.
Result<MoRequest> parse_mo_request(std::string_view body);

/// The default TON/NPI for a number: "+digits" -> 1/1 without the '+'; 3 to 8 digits (a short
/// code) -> 3/0; other digit strings -> 1/1; anything else (alphanumeric) -> 5/0.
Address default_address(std::string_view number);

/// The PDUs for an MO (sequence numbers 0): one deliver_sm, or with `parts` and a text longer
/// than one SMS one deliver_sm per part with the UDH 05 00 03 reference total seq; a text over 254
/// octets without `parts` goes in message_payload. data_sm always carries message_payload.
Result<std::vector<proto::Pdu>> build_mo(const MoRequest& request, std::uint8_t reference);

// ---- records --------------------------------------------------------------------------------

/// A PDU received from a bound ESME (the proxy), as it came.
struct Record {
  std::uint64_t index = 0;  // 1-based, in arrival order
  std::string system_id;
  std::string message_id;  // the id given in the response; "" when none (yet)
  std::vector<std::uint8_t> frame;
};

/// The object GET /messages lists for one record: the decoded fields plus "pdu_hex".
boost::json::object record_to_json(const Record& record);

/// Lower-case hex of bytes; and back (either case, no separators).
std::string to_hex(std::span<const std::uint8_t> bytes);
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex);

// ---- options ----------------------------------------------------------------------------------

/// Everything the simulator can be told at start. Defaults are the CLI's.
struct SimulatorOptions {
  config::HostPort smpp{"127.0.0.1", 2776};
  config::HostPort http{"127.0.0.1", 2777};
  std::string system_id;  // "" = any system_id may bind
  std::string password;   // checked only when system_id is set
  IdFormat id_format = IdFormat::hex;
  std::chrono::milliseconds receipt_delay{100};
  std::string receipt_status = "DELIVRD";
  ReceiptIdFormat receipt_id_format = ReceiptIdFormat::same;
  std::size_t max_records = 100000;    // GET /messages keeps the most recent this many PDUs
  std::size_t max_messages = 1000000;  // accepted messages remembered for receipts/query_sm
  std::chrono::milliseconds response_timeout{5000};  // for MOs and receipts sent to the ESME
};

/// Reads the `smppguard smsc-sim` flags (names without "--"): smpp, http, system-id, password,
/// id-format, receipt-delay, receipt-status, receipt-id-format, max-records. `ports-file` is
/// accepted and left to the caller. An unknown flag or a bad value is an error naming it.
Result<SimulatorOptions> parse_simulator_flags(const std::map<std::string, std::string>& flags);

}  // namespace smppguard::sim
