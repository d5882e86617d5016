// Value types, enum names and lookups of config.hpp. The YAML loader is in loader.cpp.
#include "config/config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace smppguard::config {
namespace {

template <typename E, std::size_t N>
std::optional<E> find_name(const std::array<std::string_view, N>& names, std::string_view text) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 3> kCategoryNames = {"conversational", "informational",
                                                            "promotional"};
constexpr std::array<std::string_view, 3> kOptInModeNames = {"strict", "confirm", "disclaimer"};
constexpr std::array<std::string_view, 2> kRefuseWithNames = {"response", "receipt"};
constexpr std::array<std::string_view, 2> kBindModeNames = {"transceiver", "transmitter_receiver"};
constexpr std::array<std::string_view, 3> kMessageIdFormatNames = {"as_is", "hex", "decimal"};
constexpr std::array<std::string_view, 2> kStopScopeNames = {"program", "tenant"};
constexpr std::array<std::string_view, 2> kQuietActionNames = {"reject", "hold"};

// Parses an IPv4 or IPv6 literal into 4 or 16 bytes; returns the byte count, 0 when invalid.
std::size_t parse_ip(std::string_view text, std::array<std::uint8_t, 16>& out) {
  if (text.empty() || text.size() > 45) return 0;
  const std::string s(text);
  if (s.find(':') != std::string::npos) {
    return ::inet_pton(AF_INET6, s.c_str(), out.data()) == 1 ? 16 : 0;
  }
  return ::inet_pton(AF_INET, s.c_str(), out.data()) == 1 ? 4 : 0;
}

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_v4_mapped(std::span<const std::uint8_t> ip) {
  return ip.size() == 16 && std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), ip.begin());
}

// Whether the first `bits` bits of a and b are equal.
bool prefix_equal(const std::uint8_t* a, const std::uint8_t* b, unsigned bits) {
  const unsigned bytes = bits / 8;
  if (!std::equal(a, a + bytes, b)) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[bytes] & mask) == (b[bytes] & mask);
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

template <typename T>
const T* at_index(const ConfigIndex::Map& map, const std::vector<T>& items, std::string_view key) {
  const auto it = map.find(key);
  if (it == map.end() || it->second >= items.size()) return nullptr;
  return &items[it->second];
}

}  // namespace

std::string_view to_string(Category v) { return kCategoryNames.at(static_cast<std::size_t>(v)); }
std::string_view to_string(OptInMode v) { return kOptInModeNames.at(static_cast<std::size_t>(v)); }
std::string_view to_string(RefuseWith v) {
  return kRefuseWithNames.at(static_cast<std::size_t>(v));
}
std::string_view to_string(BindMode v) { return kBindModeNames.at(static_cast<std::size_t>(v)); }
std::string_view to_string(MessageIdFormat v) {
  return kMessageIdFormatNames.at(static_cast<std::size_t>(v));
}
std::string_view to_string(StopScope v) { return kStopScopeNames.at(static_cast<std::size_t>(v)); }
std::string_view to_string(QuietAction v) {
  return kQuietActionNames.at(static_cast<std::size_t>(v));
}

template <>
std::optional<Category> parse_enum<Category>(std::string_view text) {
  return find_name<Category>(kCategoryNames, text);
}
template <>
std::optional<OptInMode> parse_enum<OptInMode>(std::string_view text) {
  return find_name<OptInMode>(kOptInModeNames, text);
}
template <>
std::optional<RefuseWith> parse_enum<RefuseWith>(std::string_view text) {
  return find_name<RefuseWith>(kRefuseWithNames, text);
}
template <>
std::optional<BindMode> parse_enum<BindMode>(std::string_view text) {
  return find_name<BindMode>(kBindModeNames, text);
}
template <>
std::optional<MessageIdFormat> parse_enum<MessageIdFormat>(std::string_view text) {
  return find_name<MessageIdFormat>(kMessageIdFormatNames, text);
}
template <>
std::optional<StopScope> parse_enum<StopScope>(std::string_view text) {
  return find_name<StopScope>(kStopScopeNames, text);
}
template <>
std::optional<QuietAction> parse_enum<QuietAction>(std::string_view text) {
  return find_name<QuietAction>(kQuietActionNames, text);
}

// ---------------------------------------------------------------------------------------------

std::string HostPort::to_string() const {
  const bool bracket = host.find(':') != std::string::npos;
  return (bracket ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<HostPort> HostPort::parse(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<HostPort> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  HostPort out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return fail("missing ']' after the IPv6 address");
    out.host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return fail("expected host:port, e.g. [::1]:2775");
    }
    port_text = text.substr(close + 2);
    std::array<std::uint8_t, 16> ip{};
    if (parse_ip(out.host, ip) != 16) return fail("bad IPv6 address in brackets");
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("expected host:port, e.g. 127.0.0.1:2775");
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      return fail("IPv6 addresses need brackets, e.g. [::1]:2775");
    }
    port_text = text.substr(colon + 1);
  }
  if (out.host.empty()) return fail("the host is empty (use 0.0.0.0 for every interface)");
  if (out.host.find_first_of(" \t/") != std::string::npos) return fail("bad host name");
  if (port_text.empty() || port_text.size() > 5 || !all_digits(port_text)) {
    return fail("the port must be a number from 0 to 65535");
  }
  unsigned port = 0;
  std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port > 65535) return fail("the port must be a number from 0 to 65535");
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

// ---------------------------------------------------------------------------------------------

bool Cidr::matches(std::span<const std::uint8_t> ip) const {
  if (ip.size() == 4) {
    if (!ipv6) return prefix_equal(ip.data(), network.data(), prefix_len);
    std::array<std::uint8_t, 16> mapped{};
    std::copy(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), mapped.begin());
    std::copy(ip.begin(), ip.end(), mapped.begin() + 12);
    return prefix_equal(mapped.data(), network.data(), prefix_len);
  }
  if (ip.size() == 16) {
    if (ipv6) return prefix_equal(ip.data(), network.data(), prefix_len);
    return is_v4_mapped(ip) && prefix_equal(ip.data() + 12, network.data(), prefix_len);
  }
  return false;
}

bool Cidr::matches(std::string_view ip) const {
  std::array<std::uint8_t, 16> bytes{};
  const std::size_t n = parse_ip(ip, bytes);
  return n != 0 && matches(std::span<const std::uint8_t>(bytes.data(), n));
}

std::optional<Cidr> Cidr::parse(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Cidr> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  Cidr out;
  out.text = std::string(text);
  const auto slash = text.find('/');
  const std::string_view addr = text.substr(0, slash);
  const std::size_t n = parse_ip(addr, out.network);
  if (n == 0) return fail("bad IP address \"" + std::string(addr) + "\"");
  out.ipv6 = n == 16;
  const unsigned max_len = out.ipv6 ? 128 : 32;
  unsigned len = max_len;
  if (slash != std::string_view::npos) {
    const std::string_view mask = text.substr(slash + 1);
    if (mask.empty() || mask.size() > 3 || !all_digits(mask)) {
      return fail("bad mask \"/" + std::string(mask) + "\": expected /0 to /" +
                  std::to_string(max_len));
    }
    std::from_chars(mask.data(), mask.data() + mask.size(), len);
    if (len > max_len) {
      return fail("mask /" + std::to_string(len) + " is longer than /" + std::to_string(max_len));
    }
  }
  out.prefix_len = static_cast<std::uint8_t>(len);
  std::array<std::uint8_t, 16> masked{};
  for (unsigned bit = 0; bit < len; ++bit) {
    masked[bit / 8] |= static_cast<std::uint8_t>(out.network[bit / 8] & (0x80 >> (bit % 8)));
  }
  if (masked != out.network) {
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(out.ipv6 ? AF_INET6 : AF_INET, masked.data(), buf, sizeof buf);
    return fail("host bits are set; the network is " + std::string(buf) + "/" +
                std::to_string(len));
  }
  return out;
}

bool is_e164(std::string_view number) {
  return number.size() >= 8 && number.size() <= 16 && number[0] == '+' && number[1] >= '1' &&
         number[1] <= '9' && all_digits(number.substr(1));
}

bool is_short_code(std::string_view number) {
  return number.size() >= 3 && number.size() <= 8 && all_digits(number);
}

bool is_plain_identifier(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  const auto lower = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
  return lower(name[0]) && std::all_of(name.begin(), name.end(),
                                       [&](char c) { return lower(c) || (c >= '0' && c <= '9'); });
}

// ---------------------------------------------------------------------------------------------

bool Account::ip_allowed(std::string_view ip) const {
  return allowed_ips.empty() || std::any_of(allowed_ips.begin(), allowed_ips.end(),
                                            [&](const Cidr& c) { return c.matches(ip); });
}

bool Account::ip_allowed(std::span<const std::uint8_t> ip) const {
  return allowed_ips.empty() || std::any_of(allowed_ips.begin(), allowed_ips.end(),
                                            [&](const Cidr& c) { return c.matches(ip); });
}

bool QuietHours::contains(std::chrono::minutes t) const {
  if (start <= end) return t >= start && t < end;
  return t >= start || t < end;
}

bool FrequencyCap::applies_to(Category c) const {
  return std::find(categories.begin(), categories.end(), c) != categories.end();
}

// ---------------------------------------------------------------------------------------------

void Config::build_index() {
  index = ConfigIndex{};
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    index.account_by_system_id.emplace(accounts[i].system_id, i);
  }
  for (std::size_t i = 0; i < programs.size(); ++i) {
    index.program_by_id.emplace(programs[i].id, i);
    for (const auto& number : programs[i].numbers) index.program_by_number.emplace(number, i);
  }
  for (std::size_t i = 0; i < upstreams.size(); ++i) {
    index.upstream_by_name.emplace(upstreams[i].name, i);
  }
  for (std::size_t i = 0; i < routes.size(); ++i) {
    index.route_by_prefix.emplace(routes[i].prefix, i);  // keeps the first route of a prefix
    index.longest_prefix = std::max(index.longest_prefix, routes[i].prefix.size());
  }
}

const Account* Config::find_account(std::string_view system_id) const {
  return at_index(index.account_by_system_id, accounts, system_id);
}

const Program* Config::find_program(std::string_view id) const {
  return at_index(index.program_by_id, programs, id);
}

const Program* Config::program_for_number(std::string_view number) const {
  return at_index(index.program_by_number, programs, number);
}

const Upstream* Config::find_upstream(std::string_view name) const {
  return at_index(index.upstream_by_name, upstreams, name);
}

const Route* Config::route_for(std::string_view destination) const {
  std::size_t best = routes.size();
  const std::size_t longest = std::min(index.longest_prefix, destination.size());
  for (std::size_t len = 0; len <= longest; ++len) {
    const auto it = index.route_by_prefix.find(destination.substr(0, len));
    if (it != index.route_by_prefix.end()) best = std::min(best, it->second);
  }
  return best < routes.size() ? &routes[best] : nullptr;
}

const Upstream* Config::upstream_for(std::string_view destination) const {
  const Route* route = route_for(destination);
  return route ? find_upstream(route->upstream) : nullptr;
}

const AdminToken* Config::find_token(std::string_view bearer) const {
  const AdminToken* found = nullptr;
  for (const auto& t : admin.tokens) {
    // Constant time for equal lengths; a length mismatch only reveals the length.
    unsigned diff = t.token.size() == bearer.size() ? 0U : 1U;
    const std::size_t n = std::min(t.token.size(), bearer.size());
    for (std::size_t i = 0; i < n; ++i) {
      diff |= static_cast<unsigned char>(t.token[i]) ^ static_cast<unsigned char>(bearer[i]);
    }
    if (diff == 0 && !found) found = &t;
  }
  return found;
}

bool Config::has_tenant(std::string_view tenant) const {
  return std::any_of(accounts.begin(), accounts.end(),
                     [&](const Account& a) { return a.tenant == tenant; });
}

// ---------------------------------------------------------------------------------------------

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  if (severity == Severity::warning) out += "warning: ";
  out += message;
  return out;
}

namespace {
std::string join_diagnostics(const std::vector<Diagnostic>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += '\n';
    out += e.to_string();
  }
  return out;
}
}  // namespace

ConfigErrors::ConfigErrors(std::vector<Diagnostic> errors)
    : std::runtime_error(join_diagnostics(errors)), errors_(std::move(errors)) {}

}  // namespace smppguard::config
