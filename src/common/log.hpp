#pragma once
// Structured logging: one line per event, `ts=... level=... event=... key=value ...` on stderr.
// Thread-safe: each line is formatted privately and written with a single write(2).
// Never log message text or passwords at info level.
#include <cstdint>
#include <string>
#include <string_view>

namespace smppguard::log {

enum class Level : int { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

void set_level(Level level);
Level level();
inline bool enabled(Level l) { return static_cast<int>(l) >= static_cast<int>(level()); }
/// Parses "debug|info|warn|error|off"; returns false for anything else.
bool parse_level(std::string_view text, Level& out);

/// One log line; written when destroyed. Use through SG_LOG so disabled levels cost nothing.
class Line {
 public:
  Line(Level level, std::string_view event);
  ~Line();
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  Line& kv(std::string_view key, std::string_view value);
  Line& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  Line& kv(std::string_view key, const std::string& value) { return kv(key, std::string_view(value)); }
  Line& kv(std::string_view key, std::int64_t value);
  Line& kv(std::string_view key, std::uint64_t value);
  Line& kv(std::string_view key, int value) { return kv(key, static_cast<std::int64_t>(value)); }
  Line& kv(std::string_view key, unsigned value) { return kv(key, static_cast<std::uint64_t>(value)); }
  Line& kv(std::string_view key, double value);
  Line& kv(std::string_view key, bool value) { return kv(key, std::string_view(value ? "true" : "false")); }

 private:
  std::string buf_;
};

}  // namespace smppguard::log

#define SG_LOG(lvl, event)                                         \
  if (!::smppguard::log::enabled(::smppguard::log::Level::lvl)) { \
  } else                                                           \
    ::smppguard::log::Line(::smppguard::log::Level::lvl, event)
