#pragma once
// Subscriber and sender numbers (SPEC 8 "Addresses"): SMPP (TON, NPI, digits) to the keys the
// consent store uses (E.164 "+15551234567", short code "12345", or an alphanumeric sender id) and
// back. Pure functions over constant tables; thread-safe.
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "common/result.hpp"

namespace smppguard::policy {

/// SMPP type_of_number values.
namespace ton {
inline constexpr std::uint8_t kUnknown = 0;
inline constexpr std::uint8_t kInternational = 1;
inline constexpr std::uint8_t kNational = 2;
inline constexpr std::uint8_t kNetworkSpecific = 3;
inline constexpr std::uint8_t kSubscriber = 4;
inline constexpr std::uint8_t kAlphanumeric = 5;
inline constexpr std::uint8_t kAbbreviated = 6;
}  // namespace ton

/// SMPP numbering_plan_indicator values the proxy writes.
namespace npi {
inline constexpr std::uint8_t kUnknown = 0;
inline constexpr std::uint8_t kIsdn = 1;
}  // namespace npi

enum class NumberErrc {
  empty = 1,
  invalid_character,
  too_short,
  too_long,
  bad_country_code,
  bad_nanp,
  bad_short_code,
  bad_alphanumeric,
  alphanumeric_destination,
  unknown_country,
  unsupported_ton,
  not_e164,
};
/// The category of NumberErrc; message() explains what is wrong with the number.
const std::error_category& number_category();
std::error_code make_error_code(NumberErrc e);

enum class AddressKind { e164, short_code, alphanumeric };
/// "e164", "short_code", "alphanumeric".
std::string_view to_string(AddressKind kind);

/// A normalised address: "+15551234567" (e164), "12345" (short_code) or a sender id kept as it
/// came (alphanumeric, sources only).
struct Address {
  AddressKind kind = AddressKind::e164;
  std::string value;

  bool operator==(const Address&) const = default;
};

/// Which side of a PDU an address is on: alphanumeric sender ids are valid only as sources.
enum class AddressRole { source, destination };

/// An SMPP address triple.
struct SmppAddress {
  std::uint8_t ton = 0;
  std::uint8_t npi = 0;
  std::string digits;

  bool operator==(const SmppAddress&) const = default;
};

/// Reads an SMPP address.
/// - A leading '+' makes the number international whatever the TON (except 5).
/// - TON 1: international digits; a leading "00" international prefix is tolerated. Digits of 3 to
///   8 without '+' are a short code (carriers mislabel short codes as international).
/// - TON 0, 2 and 4: national numbers of default_country (ISO 3166 alpha-2, any case): the
///   country's international prefix ("00", "011", ...) makes the rest international; the trunk
///   prefix ("0"; "1" for NANP when 11 digits) is dropped. 3 to 8 digits are a short code unless
///   they start with the trunk prefix and are long enough to be a national number; in countries
///   with 8-digit national numbers (SG, HK, NO, DK, ...) short codes are shorter.
/// - TON 3 and 6: a short code of 3 to 8 digits.
/// - TON 5: an alphanumeric sender id (1 to 20 printable characters), kept as is; an error as a
///   destination.
/// Spaces, '-', '.', '(' and ')' between digits are ignored; NPI is not used (carriers set it
/// inconsistently). E.164 results have at most 15 digits, a country code not starting with 0, and
/// for +1 the NANP shape NXX-NXX-XXXX (N = 2..9; the exchange is not checked for the example
/// area code 555).
Result<Address> normalize_address(std::uint8_t ton, std::uint8_t npi, std::string_view digits,
                                  std::string_view default_country, AddressRole role);

/// The SMPP fields the proxy uses for its own messages: E.164 -> TON 1 / NPI 1 digits without '+';
/// short code -> TON 3 / NPI 0; alphanumeric -> TON 5 / NPI 0.
SmppAddress to_smpp_address(const Address& address);

/// A number written in config: E.164 with '+', or a short code of 3 to 8 digits.
Result<Address> parse_config_number(std::string_view text);
/// An E.164 number with or without '+' (the admin API's {msisdn}); returns "+digits".
Result<std::string> parse_e164(std::string_view text);

/// What the number rules know about a country.
struct CountryInfo {
  std::string_view alpha2;        // "US"
  std::string_view calling_code;  // "1"
  std::string_view trunk_prefix;  // national prefix dropped from national numbers; "" when none
  std::string_view intl_prefix;   // dialled before an international number: "00", "011"
  std::uint8_t nsn_min;           // national significant number length, without trunk prefix
  std::uint8_t nsn_max;
  std::uint8_t short_code_max;  // longest digit string read as a short code for TON 0/2
  std::string_view zone;        // IANA zone of most subscribers; "" when the number decides
};

/// The country for an ISO 3166 alpha-2 code (any case), or nullptr when not in the table.
const CountryInfo* find_country(std::string_view alpha2);
/// The country of an E.164 number by its calling code, or nullptr when unknown. Calling codes
/// shared by several countries give the first in the table (+1: US; the area code tells NANP
/// countries apart, see zone_for_number).
const CountryInfo* find_country_for_e164(std::string_view e164);

}  // namespace smppguard::policy

template <>
struct std::is_error_code_enum<smppguard::policy::NumberErrc> : std::true_type {};
