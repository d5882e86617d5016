#include "policy/numbers.hpp"

#include <doctest/doctest.h>

#include <ostream>
#include <string>

using namespace smppguard::policy;
using smppguard::Result;

namespace {

Address e164(const char* v) { return {AddressKind::e164, v}; }
Address short_code(const char* v) { return {AddressKind::short_code, v}; }

Result<Address> dest(std::uint8_t t, std::string_view digits, std::string_view country = "US") {
  return normalize_address(t, npi::kIsdn, digits, country, AddressRole::destination);
}

// The error a normalisation gives, or no error.
std::error_code error_of(const Result<Address>& r) { return r.error(); }

}  // namespace

TEST_CASE("TON 1: international digits with or without '+' or '00'") {
  CHECK(*dest(ton::kInternational, "15551234567") == e164("+15551234567"));
  CHECK(*dest(ton::kInternational, "+15551234567") == e164("+15551234567"));
  CHECK(*dest(ton::kInternational, "447700900123") == e164("+447700900123"));
  CHECK(*dest(ton::kInternational, "00447700900123") == e164("+447700900123"));
  CHECK(*dest(ton::kInternational, "+33 6 12 34 56 78") == e164("+33612345678"));
  CHECK(*dest(ton::kInternational, "+1 (555) 123-4567") == e164("+15551234567"));
  CHECK(*dest(ton::kInternational, "919876543210", "GB") == e164("+919876543210"));
  // A short code mislabelled as international.
  CHECK(*dest(ton::kInternational, "12345") == short_code("12345"));
}

TEST_CASE("TON 0 and 2: national numbers in default_country") {
  // United States (NANP): 10 digits, or 11 with the trunk prefix 1.
  CHECK(*dest(ton::kNational, "5551234567") == e164("+15551234567"));
  CHECK(*dest(ton::kUnknown, "15551234567") == e164("+15551234567"));
  CHECK(*dest(ton::kUnknown, "2125550100", "us") == e164("+12125550100"));
  CHECK(*dest(ton::kUnknown, "4165550100", "CA") == e164("+14165550100"));
  CHECK(*dest(ton::kUnknown, "011447700900123") == e164("+447700900123"));
  // United Kingdom: trunk prefix 0.
  CHECK(*dest(ton::kNational, "07700900123", "GB") == e164("+447700900123"));
  CHECK(*dest(ton::kNational, "7700900123", "GB") == e164("+447700900123"));
  CHECK(*dest(ton::kUnknown, "00447700900123", "GB") == e164("+447700900123"));
  CHECK(*dest(ton::kUnknown, "0015551234567", "GB") == e164("+15551234567"));
  // Germany: variable length.
  CHECK(*dest(ton::kNational, "015112345678", "DE") == e164("+4915112345678"));
  CHECK(*dest(ton::kNational, "030123456", "DE") == e164("+4930123456"));
  // France.
  CHECK(*dest(ton::kNational, "0612345678", "FR") == e164("+33612345678"));
  // India.
  CHECK(*dest(ton::kNational, "09876543210", "IN") == e164("+919876543210"));
  CHECK(*dest(ton::kUnknown, "9876543210", "IN") == e164("+919876543210"));
  // Singapore: 8-digit national numbers are not short codes there.
  CHECK(*dest(ton::kUnknown, "91234567", "SG") == e164("+6591234567"));
  CHECK(*dest(ton::kUnknown, "72000", "SG") == short_code("72000"));
  // Russia: trunk prefix 8, international prefix 810.
  CHECK(*dest(ton::kNational, "89161234567", "RU") == e164("+79161234567"));
  CHECK(*dest(ton::kUnknown, "810447700900123", "RU") == e164("+447700900123"));
  // Hungary: trunk prefix 06.
  CHECK(*dest(ton::kNational, "06201234567", "HU") == e164("+36201234567"));
  // Australia: international prefix 0011.
  CHECK(*dest(ton::kNational, "0412345678", "AU") == e164("+61412345678"));
  CHECK(*dest(ton::kUnknown, "001115551234567", "AU") == e164("+15551234567"));
  // TON 4 (subscriber number) reads like a national number.
  CHECK(*dest(ton::kSubscriber, "5551234567") == e164("+15551234567"));
  // A leading '+' is international whatever the TON says.
  CHECK(*dest(ton::kUnknown, "+447700900123") == e164("+447700900123"));
  CHECK(*dest(ton::kNational, "+447700900123") == e164("+447700900123"));
}

TEST_CASE("short codes: TON 3, TON 6, or 3 to 8 digits") {
  CHECK(*dest(ton::kNetworkSpecific, "12345") == short_code("12345"));
  CHECK(*dest(ton::kAbbreviated, "611") == short_code("611"));
  CHECK(*dest(ton::kUnknown, "12345") == short_code("12345"));
  CHECK(*dest(ton::kUnknown, "123456") == short_code("123456"));
  CHECK(*dest(ton::kNational, "87654321") == short_code("87654321"));
  CHECK(*dest(ton::kUnknown, "60060", "GB") == short_code("60060"));
  CHECK(*dest(ton::kUnknown, "8800", "RU") == short_code("8800"));
  CHECK(error_of(dest(ton::kNetworkSpecific, "12")) == NumberErrc::bad_short_code);
  CHECK(error_of(dest(ton::kNetworkSpecific, "123456789")) == NumberErrc::bad_short_code);
}

TEST_CASE("TON 5: alphanumeric sender ids are sources only") {
  const auto src = normalize_address(ton::kAlphanumeric, 0, "ACME Bank", "US", AddressRole::source);
  REQUIRE(src.has_value());
  CHECK(*src == Address{AddressKind::alphanumeric, "ACME Bank"});
  CHECK(error_of(dest(ton::kAlphanumeric, "ACME")) == NumberErrc::alphanumeric_destination);
  CHECK(error_of(normalize_address(ton::kAlphanumeric, 0, "", "US", AddressRole::source)) ==
        NumberErrc::bad_alphanumeric);
  CHECK(error_of(normalize_address(ton::kAlphanumeric, 0, "ABCDEFGHIJKLMNOPQRSTU", "US",
                                   AddressRole::source)) == NumberErrc::bad_alphanumeric);
  CHECK(error_of(normalize_address(ton::kAlphanumeric, 0, "AC\nME", "US", AddressRole::source)) ==
        NumberErrc::bad_alphanumeric);
}

TEST_CASE("bad numbers give typed errors with clear messages") {
  CHECK(error_of(dest(ton::kInternational, "")) == NumberErrc::empty);
  CHECK(error_of(dest(ton::kInternational, "+")) == NumberErrc::empty);
  CHECK(error_of(dest(ton::kInternational, " - ")) == NumberErrc::empty);
  CHECK(error_of(dest(ton::kInternational, "1555CALLNOW")) == NumberErrc::invalid_character);
  CHECK(error_of(dest(ton::kInternational, "1555+1234567")) == NumberErrc::invalid_character);
  CHECK(error_of(dest(ton::kInternational, "++15551234567")) == NumberErrc::invalid_character);
  CHECK(error_of(dest(ton::kInternational, "4477009001234567")) == NumberErrc::too_long);
  CHECK(error_of(dest(ton::kInternational, "+0447700900123")) == NumberErrc::bad_country_code);
  CHECK(error_of(dest(ton::kInternational, "+4412")) == NumberErrc::too_short);
  CHECK(error_of(dest(ton::kInternational, "+12120123456")) == NumberErrc::bad_nanp);  // 0XX
  CHECK(error_of(dest(ton::kInternational, "+12121234567")) == NumberErrc::bad_nanp);  // 1XX
  CHECK(error_of(dest(ton::kInternational, "+10125551234")) == NumberErrc::bad_nanp);  // area 0XX
  CHECK(*dest(ton::kInternational, "+15550100999") == e164("+15550100999"));  // example area code
  CHECK(error_of(dest(ton::kInternational, "+11551234567")) == NumberErrc::bad_nanp);  // area 1XX
  CHECK(error_of(dest(ton::kInternational, "+1555123456")) == NumberErrc::bad_nanp);   // 9 digits
  CHECK(error_of(dest(ton::kInternational, "+155512345678")) == NumberErrc::bad_nanp);
  CHECK(error_of(dest(ton::kNational, "555123456")) == NumberErrc::too_short);
  CHECK(error_of(dest(ton::kNational, "25551234567")) == NumberErrc::too_long);
  CHECK(error_of(dest(ton::kNational, "0612345678", "XX")) == NumberErrc::unknown_country);
  CHECK(error_of(dest(ton::kNational, "0612345678", "")) == NumberErrc::unknown_country);
  CHECK(error_of(dest(ton::kNational, "061234567", "FR")) == NumberErrc::too_short);
  CHECK(error_of(dest(7, "15551234567")) == NumberErrc::unsupported_ton);

  const std::error_code ec = NumberErrc::too_long;
  CHECK(ec.category().name() == std::string("smppguard.number"));
  CHECK(ec.message().find("15 digits") != std::string::npos);
  CHECK(std::error_code(NumberErrc::bad_nanp).message().find("NXX") != std::string::npos);
}

TEST_CASE("the proxy's own messages use TON 1/NPI 1 or TON 3/NPI 0") {
  CHECK(to_smpp_address(e164("+15551234567")) == SmppAddress{1, 1, "15551234567"});
  CHECK(to_smpp_address(short_code("12345")) == SmppAddress{3, 0, "12345"});
  CHECK(to_smpp_address(Address{AddressKind::alphanumeric, "ACME"}) == SmppAddress{5, 0, "ACME"});
  // Round trips through the SMPP fields.
  for (const Address& a : {e164("+15551234567"), e164("+447700900123"), e164("+6591234567"),
                           short_code("12345"), short_code("611")}) {
    const SmppAddress s = to_smpp_address(a);
    const auto back = normalize_address(s.ton, s.npi, s.digits, "DE", AddressRole::destination);
    REQUIRE(back.has_value());
    CHECK(*back == a);
  }
}

TEST_CASE("config and admin API numbers") {
  CHECK(*parse_config_number("+15551234567") == e164("+15551234567"));
  CHECK(*parse_config_number("12345") == short_code("12345"));
  CHECK(parse_config_number("15551234567").error() == NumberErrc::not_e164);
  CHECK(parse_config_number("+1555").error() == NumberErrc::bad_nanp);
  CHECK(*parse_e164("+15551234567") == "+15551234567");
  CHECK(*parse_e164("15551234567") == "+15551234567");
  CHECK(*parse_e164("447700900123") == "+447700900123");
  CHECK(parse_e164("abc").error() == NumberErrc::invalid_character);
  CHECK(parse_e164("").error() == NumberErrc::empty);
  CHECK(to_string(AddressKind::e164) == "e164");
  CHECK(to_string(AddressKind::short_code) == "short_code");
  CHECK(to_string(AddressKind::alphanumeric) == "alphanumeric");
}

TEST_CASE("the country table") {
  const CountryInfo* us = find_country("us");
  REQUIRE(us != nullptr);
  CHECK(us->calling_code == "1");
  CHECK(find_country("GB")->trunk_prefix == "0");
  CHECK(find_country("ZZ") == nullptr);
  CHECK(find_country("USA") == nullptr);
  for (const char* nanp : {"US", "CA", "PR", "JM", "BS", "DO", "TT", "BM"}) {
    REQUIRE(find_country(nanp) != nullptr);
    CHECK(find_country(nanp)->calling_code == "1");
  }
  int countries = 0;
  for (const char* c :
       {"GB", "IE", "DE", "FR", "ES", "IT", "PT", "NL", "BE", "LU", "CH", "AT", "SE", "NO",
        "DK", "FI", "PL", "CZ", "SK", "HU", "RO", "GR", "TR", "UA", "RU", "IL", "AE", "SA",
        "EG", "ZA", "NG", "KE", "IN", "PK", "BD", "CN", "JP", "KR", "TW", "HK", "SG", "MY",
        "TH", "VN", "PH", "ID", "AU", "NZ", "BR", "MX", "AR", "CL", "CO", "PE", "US", "CA"}) {
    CAPTURE(c);
    CHECK(find_country(c) != nullptr);
    ++countries;
  }
  CHECK(countries >= 40);
  CHECK(find_country_for_e164("+447700900123")->alpha2 == "GB");
  CHECK(find_country_for_e164("+353851234567")->alpha2 == "IE");
  CHECK(find_country_for_e164("+919876543210")->alpha2 == "IN");
  CHECK(find_country_for_e164("+15551234567")->alpha2 == "US");
  CHECK(find_country_for_e164("+999123456789") == nullptr);
}
