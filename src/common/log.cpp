#include "common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdio>

#include "common/time.hpp"

namespace smppguard::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};

constexpr std::string_view kNames[] = {"debug", "info", "warn", "error", "off"};

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20)
      return true;
  }
  return false;
}
}  // namespace

void set_level(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }
Level level() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

bool parse_level(std::string_view text, Level& out) {
  for (int i = 0; i < 5; ++i) {
    if (text == kNames[i]) {
      out = static_cast<Level>(i);
      return true;
    }
  }
  return false;
}

Line::Line(Level level, std::string_view event) {
  buf_.reserve(160);
  buf_ += "ts=";
  buf_ += format_rfc3339(std::chrono::system_clock::now(), /*millis=*/true);
  buf_ += " level=";
  buf_ += kNames[static_cast<int>(level)];
  kv("event", event);
}

Line::~Line() {
  buf_ += '\n';
  // One write per line so that concurrent lines never interleave.
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, buf_.data(), buf_.size());
}

Line& Line::kv(std::string_view key, std::string_view value) {
  buf_ += ' ';
  buf_ += key;
  buf_ += '=';
  if (!needs_quotes(value)) {
    buf_ += value;
    return *this;
  }
  buf_ += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') {
      buf_ += '\\';
      buf_ += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char tmp[8];
      std::snprintf(tmp, sizeof tmp, "\\x%02x", static_cast<unsigned char>(c));
      buf_ += tmp;
    } else {
      buf_ += c;
    }
  }
  buf_ += '"';
  return *this;
}

Line& Line::kv(std::string_view key, std::int64_t value) {
  char tmp[24];
  auto [end, ec] = std::to_chars(tmp, tmp + sizeof tmp, value);
  return kv(key, std::string_view(tmp, static_cast<std::size_t>(end - tmp)));
}

Line& Line::kv(std::string_view key, std::uint64_t value) {
  char tmp[24];
  auto [end, ec] = std::to_chars(tmp, tmp + sizeof tmp, value);
  return kv(key, std::string_view(tmp, static_cast<std::size_t>(end - tmp)));
}

Line& Line::kv(std::string_view key, double value) {
  char tmp[32];
  std::snprintf(tmp, sizeof tmp, "%.6g", value);
  return kv(key, std::string_view(tmp));
}

}  // namespace smppguard::log
