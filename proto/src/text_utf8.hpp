#pragma once
// UTF-8 helpers shared by the text codecs (private to smppguard_proto).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace smppguard::proto::detail {

inline constexpr char32_t kReplacementChar = 0xFFFD;

/// Reads the code point at s[i] and advances i past it. On an ill-formed sequence returns nullopt
/// and advances i by one byte. Precondition: i < s.size().
std::optional<char32_t> utf8_next(std::string_view s, std::size_t& i);

/// Appends `cp` (a Unicode scalar value) as UTF-8.
void utf8_append(std::string& out, char32_t cp);

}  // namespace smppguard::proto::detail
