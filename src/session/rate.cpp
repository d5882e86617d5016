#include "session/rate.hpp"

#include <algorithm>

namespace smppguard::session {

TokenBucket::TokenBucket(double rate, double burst)
    : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(std::max(burst, 1.0)) {}

void TokenBucket::refill(SteadyClock::time_point now) {
  if (!started_) {
    started_ = true;
    last_ = now;
    return;
  }
  if (now <= last_) return;
  const double secs = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + secs * rate_);
  last_ = now;
}

bool TokenBucket::try_take(SteadyClock::time_point now) {
  std::lock_guard lock(mu_);
  if (rate_ <= 0) return true;
  refill(now);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  return false;
}

SteadyClock::duration TokenBucket::reserve(SteadyClock::time_point now) {
  std::lock_guard lock(mu_);
  if (rate_ <= 0) return SteadyClock::duration::zero();
  refill(now);
  tokens_ -= 1.0;
  if (tokens_ >= 0) return SteadyClock::duration::zero();
  return std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::duration<double>(-tokens_ / rate_));
}

void TokenBucket::set_rate(double rate, double burst) {
  std::lock_guard lock(mu_);
  rate_ = rate;
  burst_ = std::max(burst, 1.0);
  tokens_ = std::min(tokens_, burst_);
}

double TokenBucket::rate() const {
  std::lock_guard lock(mu_);
  return rate_;
}

void BindGuard::prune(std::deque<SteadyClock::time_point>& q, SteadyClock::time_point now) {
  while (!q.empty() && now - q.front() >= kWindow) q.pop_front();
}

SteadyClock::duration BindGuard::delay_for(const std::string& ip, SteadyClock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = failures_.find(ip);
  if (it == failures_.end()) return SteadyClock::duration::zero();
  prune(it->second, now);
  const auto n = static_cast<int>(it->second.size());
  if (n == 0) {
    failures_.erase(it);
    return SteadyClock::duration::zero();
  }
  if (n < kFreeFailures) return SteadyClock::duration::zero();
  const int doublings = std::min(n - kFreeFailures, 3);  // 1 s, 2 s, 4 s, 8 s
  return std::min<SteadyClock::duration>(kFirstDelay * (1 << doublings), kMaxDelay);
}

void BindGuard::record_failure(const std::string& ip, SteadyClock::time_point now) {
  std::lock_guard lock(mu_);
  if (failures_.size() >= max_ips_ && !failures_.contains(ip)) {
    // Forget the IP whose newest failure is oldest.
    auto stalest = failures_.begin();
    for (auto it = failures_.begin(); it != failures_.end(); ++it) {
      if (it->second.empty() || (!stalest->second.empty() && it->second.back() < stalest->second.back()))
        stalest = it;
    }
    failures_.erase(stalest);
  }
  auto& q = failures_[ip];
  prune(q, now);
  q.push_back(now);
  // Only the count inside the window matters; keep the deque short.
  while (q.size() > static_cast<std::size_t>(kFreeFailures + 8)) q.pop_front();
}

Backoff::Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, std::uint64_t seed)
    : min_(std::max(min, std::chrono::milliseconds(1))),
      max_(std::max(max, min_)),
      current_(min_),
      rng_(seed ? seed : std::random_device{}()) {}

std::chrono::milliseconds Backoff::next() {
  const auto d = current_;
  current_ = std::min(current_ * 2, max_);
  std::uniform_int_distribution<std::int64_t> dist(d.count() / 2, d.count());
  return std::chrono::milliseconds(dist(rng_));
}

}  // namespace smppguard::session
