#pragma once
// systemd notification protocol (sd_notify(3)), written directly against $NOTIFY_SOCKET so the
// daemon needs no libsystemd. Thread-safe; a no-op when not started by systemd.
#include <chrono>
#include <optional>
#include <string_view>

namespace smppguard::app {

/// Sends `state` (e.g. "READY=1", "STOPPING=1", "RELOADING=1", "WATCHDOG=1", "STATUS=...").
/// Returns false when there is no NOTIFY_SOCKET or the send failed.
bool sd_notify(std::string_view state);

/// The watchdog interval systemd expects pings within ($WATCHDOG_USEC for this pid), if any.
std::optional<std::chrono::microseconds> sd_watchdog_interval();

}  // namespace smppguard::app
