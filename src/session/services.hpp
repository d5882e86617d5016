#pragma once
// Services: the long-lived parts every session uses, owned by the app and passed by reference.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/metrics.hpp"
#include "common/time.hpp"
#include "session/rate.hpp"
#include "session/runtime.hpp"
#include "store/store.hpp"

namespace smppguard::session {

class SessionRegistry;
class Upstreams;
class DeliveryManager;
class RouteGate;

/// Per-account submit rate limits, kept across reloads (rates updated in place). Thread-safe.
class AccountThrottles {
 public:
  /// The bucket of an account with this throughput (0 = unlimited), created on first use.
  TokenBucket& bucket(const std::string& system_id, std::uint32_t throughput) {
    std::lock_guard lock(mu_);
    auto& b = buckets_[system_id];
    if (!b) {
      b = std::make_unique<TokenBucket>(throughput, throughput);
    } else if (b->rate() != throughput) {
      b->set_rate(throughput, throughput);
    }
    return *b;
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<TokenBucket>> buckets_;
};

struct Services {
  boost::asio::io_context& io;
  store::Store& store;
  metrics::Metrics& metrics;
  RuntimeHolder& runtime;
  SessionRegistry& registry;
  Upstreams& upstreams;
  DeliveryManager& delivery;
  BindGuard& bind_guard;
  AccountThrottles& throttles;
  boost::asio::thread_pool& blocking;  // store scans and other blocking calls
  const Clock& clock;
  std::atomic<bool>& stopping;  // set at SIGTERM: refuse new work
  RouteGate& routes;            // id-map routes on their way to the store
};

}  // namespace smppguard::session
