#include "policy/numbers.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace smppguard::policy {
namespace {

constexpr std::size_t kE164MaxDigits = 15;
constexpr std::size_t kE164MinDigits = 7;  // the shortest numbering plans (+290, +683) give 7
constexpr std::size_t kShortCodeMin = 3;
constexpr std::size_t kShortCodeMax = 8;
constexpr std::size_t kAlphanumericMax = 20;  // source_addr is a 21-octet C-string

// Public numbering-plan facts (ITU-T E.164 assignments and national plans). National significant
// number ranges are kept generous: they only reject national numbers that cannot be right.
// NANP members share +1 and the NANP rules; their zone comes from the area code.
// clang-format off
constexpr std::array kCountries = {
    //          alpha2 cc     trunk  intl    nsn      short zone
    CountryInfo{"US", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"CA", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"PR", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"VI", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"GU", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"MP", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"AS", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"AG", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"AI", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"BB", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"BM", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"BS", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"DM", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"DO", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"GD", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"JM", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"KN", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"KY", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"LC", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"MS", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"SX", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"TC", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"TT", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"VC", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"VG", "1",   "1",  "011",  10, 10, 8, ""},
    CountryInfo{"GB", "44",  "0",  "00",    7, 10, 8, "Europe/London"},
    CountryInfo{"IE", "353", "0",  "00",    7,  9, 8, "Europe/Dublin"},
    CountryInfo{"DE", "49",  "0",  "00",    5, 13, 8, "Europe/Berlin"},
    CountryInfo{"FR", "33",  "0",  "00",    9,  9, 8, "Europe/Paris"},
    CountryInfo{"ES", "34",  "",   "00",    9,  9, 8, "Europe/Madrid"},
    CountryInfo{"IT", "39",  "",   "00",    6, 11, 8, "Europe/Rome"},
    CountryInfo{"PT", "351", "",   "00",    9,  9, 8, "Europe/Lisbon"},
    CountryInfo{"NL", "31",  "0",  "00",    9,  9, 8, "Europe/Amsterdam"},
    CountryInfo{"BE", "32",  "0",  "00",    8,  9, 6, "Europe/Brussels"},
    CountryInfo{"LU", "352", "",   "00",    4, 11, 6, "Europe/Luxembourg"},
    CountryInfo{"CH", "41",  "0",  "00",    9,  9, 8, "Europe/Zurich"},
    CountryInfo{"AT", "43",  "0",  "00",    4, 13, 8, "Europe/Vienna"},
    CountryInfo{"SE", "46",  "0",  "00",    7, 13, 8, "Europe/Stockholm"},
    CountryInfo{"NO", "47",  "",   "00",    8,  8, 5, "Europe/Oslo"},
    CountryInfo{"DK", "45",  "",   "00",    8,  8, 5, "Europe/Copenhagen"},
    CountryInfo{"FI", "358", "0",  "00",    5, 12, 8, "Europe/Helsinki"},
    CountryInfo{"PL", "48",  "",   "00",    9,  9, 8, "Europe/Warsaw"},
    CountryInfo{"CZ", "420", "",   "00",    9,  9, 8, "Europe/Prague"},
    CountryInfo{"SK", "421", "0",  "00",    9,  9, 8, "Europe/Bratislava"},
    CountryInfo{"HU", "36",  "06", "00",    8,  9, 6, "Europe/Budapest"},
    CountryInfo{"RO", "40",  "0",  "00",    9,  9, 8, "Europe/Bucharest"},
    CountryInfo{"GR", "30",  "",   "00",   10, 10, 8, "Europe/Athens"},
    CountryInfo{"TR", "90",  "0",  "00",   10, 10, 8, "Europe/Istanbul"},
    CountryInfo{"UA", "380", "0",  "00",    9,  9, 8, "Europe/Kyiv"},
    CountryInfo{"RU", "7",   "8",  "810",  10, 10, 8, "Europe/Moscow"},
    CountryInfo{"IL", "972", "0",  "00",    8,  9, 6, "Asia/Jerusalem"},
    CountryInfo{"AE", "971", "0",  "00",    8,  9, 6, "Asia/Dubai"},
    CountryInfo{"SA", "966", "0",  "00",    8,  9, 6, "Asia/Riyadh"},
    CountryInfo{"EG", "20",  "0",  "00",    8, 10, 6, "Africa/Cairo"},
    CountryInfo{"ZA", "27",  "0",  "00",    9,  9, 8, "Africa/Johannesburg"},
    CountryInfo{"NG", "234", "0",  "009",   8, 10, 6, "Africa/Lagos"},
    CountryInfo{"KE", "254", "0",  "000",   9,  9, 8, "Africa/Nairobi"},
    CountryInfo{"IN", "91",  "0",  "00",   10, 10, 8, "Asia/Kolkata"},
    CountryInfo{"PK", "92",  "0",  "00",    9, 10, 8, "Asia/Karachi"},
    CountryInfo{"BD", "880", "0",  "00",    8, 10, 6, "Asia/Dhaka"},
    CountryInfo{"CN", "86",  "0",  "00",    9, 11, 8, "Asia/Shanghai"},
    CountryInfo{"JP", "81",  "0",  "010",   9, 10, 8, "Asia/Tokyo"},
    CountryInfo{"KR", "82",  "0",  "001",   8, 10, 6, "Asia/Seoul"},
    CountryInfo{"TW", "886", "0",  "002",   8,  9, 6, "Asia/Taipei"},
    CountryInfo{"HK", "852", "",   "001",   8,  8, 6, "Asia/Hong_Kong"},
    CountryInfo{"SG", "65",  "",   "000",   8,  8, 6, "Asia/Singapore"},
    CountryInfo{"MY", "60",  "0",  "00",    8, 10, 6, "Asia/Kuala_Lumpur"},
    CountryInfo{"TH", "66",  "0",  "001",   8,  9, 6, "Asia/Bangkok"},
    CountryInfo{"VN", "84",  "0",  "00",    9, 10, 8, "Asia/Ho_Chi_Minh"},
    CountryInfo{"PH", "63",  "0",  "00",    8, 10, 6, "Asia/Manila"},
    CountryInfo{"ID", "62",  "0",  "001",   8, 12, 6, "Asia/Jakarta"},
    CountryInfo{"AU", "61",  "0",  "0011",  9,  9, 8, "Australia/Sydney"},
    CountryInfo{"NZ", "64",  "0",  "00",    8, 10, 6, "Pacific/Auckland"},
    CountryInfo{"BR", "55",  "0",  "00",   10, 11, 8, "America/Sao_Paulo"},
    CountryInfo{"MX", "52",  "",   "00",   10, 10, 8, "America/Mexico_City"},
    CountryInfo{"AR", "54",  "0",  "00",   10, 11, 8, "America/Argentina/Buenos_Aires"},
    CountryInfo{"CL", "56",  "",   "00",    9,  9, 8, "America/Santiago"},
    CountryInfo{"CO", "57",  "",   "00",   10, 10, 8, "America/Bogota"},
    CountryInfo{"PE", "51",  "0",  "00",    8,  9, 6, "America/Lima"},
};
// clang-format on

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view s) { return std::all_of(s.begin(), s.end(), is_digit); }

bool is_separator(char c) { return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'; }

// The text without separators; '+' is kept only in front.
Result<std::string> clean_number(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_separator(c)) continue;
    if (c == '+' && out.empty()) {
      out.push_back(c);
      continue;
    }
    if (!is_digit(c)) return NumberErrc::invalid_character;
    out.push_back(c);
  }
  if (out.empty() || out == "+") return NumberErrc::empty;
  return out;
}

// NXX-NXX-XXXX with N = 2..9. The exchange of area code 555 is not checked: 555 is not a real
// area code, and "+1555..." is the example number of the spec, docs and tests.
bool nanp_shape(std::string_view ten) {
  if (ten.size() != 10 || !all_digits(ten) || ten[0] < '2') return false;
  return ten.substr(0, 3) == "555" || ten[3] >= '2';
}

// International digits (no '+', no prefix) -> "+digits", validated.
Result<Address> make_e164(std::string_view digits) {
  if (digits.empty()) return NumberErrc::empty;
  if (digits[0] == '0') return NumberErrc::bad_country_code;
  if (digits.size() > kE164MaxDigits) return NumberErrc::too_long;
  if (digits[0] == '1' && !(digits.size() == 11 && nanp_shape(digits.substr(1)))) {
    return NumberErrc::bad_nanp;
  }
  if (digits.size() < kE164MinDigits) return NumberErrc::too_short;
  return Address{AddressKind::e164, "+" + std::string(digits)};
}

Result<Address> make_short_code(std::string_view digits) {
  if (digits.size() < kShortCodeMin || digits.size() > kShortCodeMax) {
    return NumberErrc::bad_short_code;
  }
  return Address{AddressKind::short_code, std::string(digits)};
}

bool is_short_code_length(std::size_t n, std::size_t max) { return n >= kShortCodeMin && n <= max; }

Result<Address> national(std::string_view digits, const CountryInfo& c) {
  if (!c.intl_prefix.empty() && digits.starts_with(c.intl_prefix) &&
      digits.size() > c.intl_prefix.size()) {
    return make_e164(digits.substr(c.intl_prefix.size()));
  }
  // NANP's trunk prefix "1" only prefixes 11-digit numbers.
  const bool has_trunk = !c.trunk_prefix.empty() && digits.starts_with(c.trunk_prefix) &&
                         (c.calling_code != "1" || digits.size() == 11);
  std::string_view nsn = digits;
  if (has_trunk) nsn.remove_prefix(c.trunk_prefix.size());
  const bool national_plausible = has_trunk && nsn.size() >= c.nsn_min;
  if (!national_plausible && is_short_code_length(digits.size(), c.short_code_max)) {
    return make_short_code(digits);
  }
  if (nsn.size() < c.nsn_min) return NumberErrc::too_short;
  if (nsn.size() > c.nsn_max) return NumberErrc::too_long;
  return make_e164(std::string(c.calling_code) + std::string(nsn));
}

Result<Address> alphanumeric(std::string_view text, AddressRole role) {
  if (role == AddressRole::destination) return NumberErrc::alphanumeric_destination;
  const bool printable = std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u != 0x7F;
  });
  if (text.empty() || text.size() > kAlphanumericMax || !printable) {
    return NumberErrc::bad_alphanumeric;
  }
  return Address{AddressKind::alphanumeric, std::string(text)};
}

class NumberCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "smppguard.number"; }
  std::string message(int ev) const override {
    switch (static_cast<NumberErrc>(ev)) {
      case NumberErrc::empty:
        return "the address is empty";
      case NumberErrc::invalid_character:
        return "the address has characters other than digits and a leading '+'";
      case NumberErrc::too_short:
        return "the number is too short for its numbering plan";
      case NumberErrc::too_long:
        return "the number is too long (E.164 allows at most 15 digits)";
      case NumberErrc::bad_country_code:
        return "a country calling code cannot start with 0";
      case NumberErrc::bad_nanp:
        return "not a North American number: +1 must be followed by NXX-NXX-XXXX with N = 2-9";
      case NumberErrc::bad_short_code:
        return "a short code has 3 to 8 digits";
      case NumberErrc::bad_alphanumeric:
        return "an alphanumeric sender id has 1 to 20 printable characters";
      case NumberErrc::alphanumeric_destination:
        return "an alphanumeric address (TON 5) cannot be a destination";
      case NumberErrc::unknown_country:
        return "default_country is not a known ISO 3166 alpha-2 code";
      case NumberErrc::unsupported_ton:
        return "unsupported SMPP type_of_number";
      case NumberErrc::not_e164:
        return "expected an E.164 number with '+' or a short code of 3 to 8 digits";
    }
    return "unknown number error";
  }
};

}  // namespace

const std::error_category& number_category() {
  static const NumberCategory category;
  return category;
}

std::error_code make_error_code(NumberErrc e) { return {static_cast<int>(e), number_category()}; }

std::string_view to_string(AddressKind kind) {
  switch (kind) {
    case AddressKind::short_code:
      return "short_code";
    case AddressKind::alphanumeric:
      return "alphanumeric";
    case AddressKind::e164:
      break;
  }
  return "e164";
}

Result<Address> normalize_address(std::uint8_t ton_value, std::uint8_t /*npi*/,
                                  std::string_view digits, std::string_view default_country,
                                  AddressRole role) {
  if (ton_value == ton::kAlphanumeric) return alphanumeric(digits, role);
  if (ton_value > ton::kAbbreviated) return NumberErrc::unsupported_ton;

  auto cleaned = clean_number(digits);
  if (!cleaned) return cleaned.error();
  std::string_view number = *cleaned;
  if (number.front() == '+') return make_e164(number.substr(1));

  switch (ton_value) {
    case ton::kNetworkSpecific:
    case ton::kAbbreviated:
      return make_short_code(number);
    case ton::kInternational:
      if (is_short_code_length(number.size(), kShortCodeMax)) return make_short_code(number);
      if (number.starts_with("00")) number.remove_prefix(2);
      return make_e164(number);
    default: {
      const CountryInfo* country = find_country(default_country);
      if (country == nullptr) return NumberErrc::unknown_country;
      return national(number, *country);
    }
  }
}

SmppAddress to_smpp_address(const Address& address) {
  switch (address.kind) {
    case AddressKind::e164: {
      std::string_view v = address.value;
      if (v.starts_with('+')) v.remove_prefix(1);
      return {ton::kInternational, npi::kIsdn, std::string(v)};
    }
    case AddressKind::short_code:
      return {ton::kNetworkSpecific, npi::kUnknown, address.value};
    case AddressKind::alphanumeric:
      break;
  }
  return {ton::kAlphanumeric, npi::kUnknown, address.value};
}

Result<Address> parse_config_number(std::string_view text) {
  auto cleaned = clean_number(text);
  if (!cleaned) return cleaned.error();
  const std::string_view number = *cleaned;
  if (number.front() == '+') return make_e164(number.substr(1));
  if (is_short_code_length(number.size(), kShortCodeMax)) return make_short_code(number);
  return NumberErrc::not_e164;
}

Result<std::string> parse_e164(std::string_view text) {
  auto cleaned = clean_number(text);
  if (!cleaned) return cleaned.error();
  std::string_view number = *cleaned;
  if (number.front() == '+') number.remove_prefix(1);
  auto e164 = make_e164(number);
  if (!e164) return e164.error();
  return std::move(e164->value);
}

const CountryInfo* find_country(std::string_view alpha2) {
  if (alpha2.size() != 2) return nullptr;
  const char upper[2] = {static_cast<char>(std::toupper(static_cast<unsigned char>(alpha2[0]))),
                         static_cast<char>(std::toupper(static_cast<unsigned char>(alpha2[1])))};
  const std::string_view key(upper, 2);
  const auto it = std::find_if(kCountries.begin(), kCountries.end(),
                               [&](const CountryInfo& c) { return c.alpha2 == key; });
  return it == kCountries.end() ? nullptr : &*it;
}

const CountryInfo* find_country_for_e164(std::string_view e164) {
  if (e164.starts_with('+')) e164.remove_prefix(1);
  // Calling codes are prefix-free, so at most one length matches.
  for (std::size_t len = 1; len <= 3 && len < e164.size(); ++len) {
    const std::string_view cc = e164.substr(0, len);
    const auto it = std::find_if(kCountries.begin(), kCountries.end(),
                                 [&](const CountryInfo& c) { return c.calling_code == cc; });
    if (it != kCountries.end()) return &*it;
  }
  return nullptr;
}

}  // namespace smppguard::policy
