#pragma once
// Rate control for sessions, I/O-free and driven by an explicit "now" so it is tested without clocks.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>

namespace smppguard::session {

using SteadyClock = std::chrono::steady_clock;

/// Token bucket: `rate` tokens per second, holding at most `burst`. rate 0 = unlimited.
/// Thread-safe (an account's binds live on different strands).
class TokenBucket {
 public:
  TokenBucket(double rate, double burst);
  /// Takes one token if one is there (ESME side: refuse with ESME_RTHROTTLED otherwise).
  bool try_take(SteadyClock::time_point now);
  /// Takes one token, going into debt if needed, and returns how long the caller must wait before
  /// using it (upstream side: pace sends instead of refusing). Zero when a token was available.
  SteadyClock::duration reserve(SteadyClock::time_point now);
  void set_rate(double rate, double burst);
  double rate() const;

 private:
  void refill(SteadyClock::time_point now);
  mutable std::mutex mu_;
  double rate_;
  double burst_;
  double tokens_;
  SteadyClock::time_point last_{};
  bool started_ = false;
};

/// Slows down password guessing (SPEC 8): after 3 failed binds from one IP within 60 s, each
/// further bind response to that IP waits 1 s, doubling to 8 s. Other IPs are not slowed.
/// Thread-safe; memory bounded by `max_ips` (the stalest IP is forgotten first).
class BindGuard {
 public:
  explicit BindGuard(std::size_t max_ips = 10000) : max_ips_(max_ips) {}
  /// How long to hold the bind response for a bind from `ip`.
  SteadyClock::duration delay_for(const std::string& ip, SteadyClock::time_point now);
  /// Records a failed bind from `ip`.
  void record_failure(const std::string& ip, SteadyClock::time_point now);

  static constexpr std::chrono::seconds kWindow{60};
  static constexpr int kFreeFailures = 3;
  static constexpr std::chrono::seconds kFirstDelay{1};
  static constexpr std::chrono::seconds kMaxDelay{8};

 private:
  void prune(std::deque<SteadyClock::time_point>& q, SteadyClock::time_point now);
  std::mutex mu_;
  std::size_t max_ips_;
  std::unordered_map<std::string, std::deque<SteadyClock::time_point>> failures_;
};

/// Exponential back-off with jitter for reconnects: each delay is drawn from [d/2, d] where d
/// doubles from `min` up to `max`. Not thread-safe (one per upstream session).
class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, std::uint64_t seed = 0);
  std::chrono::milliseconds next();
  void reset() { current_ = min_; }

 private:
  std::chrono::milliseconds min_, max_, current_;
  std::mt19937_64 rng_;
};

}  // namespace smppguard::session
