#pragma once
// AcceptBackoff: what a listener does after a failed accept. Out of file descriptors (EMFILE,
// ENFILE) or memory, the pending connection stays in the backlog and an immediate retry fails
// again at once: the loop would spin and log millions of lines. Instead accepting pauses, 10 ms
// doubling to 1 s while failures go on, and a failure is logged at most once every 10 s with the
// number of failures since the last line.
// Flow: failed(now) -> pause before the next accept (and whether to log now); succeeded() resets.
// Not thread-safe: one per accept loop.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/log.hpp"

namespace smppguard {

class AcceptBackoff {
 public:
  using Clock = std::chrono::steady_clock;
  struct Step {
    std::chrono::milliseconds pause;
    bool log = false;            // log this failure
    std::uint64_t failures = 0;  // failures since the last log line (this one included)
  };

  Step failed(Clock::time_point now) {
    ++unlogged_;
    pause_ = pause_.count() == 0 ? kFirst : std::min(pause_ * 2, kMax);
    Step step{pause_};
    if (last_log_ == Clock::time_point{} || now - last_log_ >= kLogEvery) {
      step.log = true;
      step.failures = unlogged_;
      unlogged_ = 0;
      last_log_ = now;
    }
    return step;
  }
  void succeeded() { pause_ = std::chrono::milliseconds(0); }

  /// failed(now), and the `accept_failed` log line when one is due; the pause to wait.
  std::chrono::milliseconds failed_and_log(std::string_view listener, const std::string& error) {
    const auto step = failed(Clock::now());
    if (step.log) {
      SG_LOG(warn, "accept_failed")
          .kv("listener", listener)
          .kv("error", error)
          .kv("failures", step.failures)
          .kv("pause_ms", step.pause.count());
    }
    return step.pause;
  }

  /// A short label for the metric from accept's errno: fd_limit, no_memory or other.
  static std::string_view kind(int errno_value) {
    if (errno_value == EMFILE || errno_value == ENFILE) return "fd_limit";
    if (errno_value == ENOBUFS || errno_value == ENOMEM) return "no_memory";
    return "other";
  }

  static constexpr std::chrono::milliseconds kFirst{10};
  static constexpr std::chrono::milliseconds kMax{1000};
  static constexpr std::chrono::seconds kLogEvery{10};

 private:
  std::chrono::milliseconds pause_{0};
  std::uint64_t unlogged_ = 0;
  Clock::time_point last_log_{};
};

}  // namespace smppguard
