#pragma once
// Runtime: the configuration snapshot and the policy chain built from it. Sessions load the
// current snapshot for each PDU; SIGHUP builds a new one and swaps it in atomically, so binds stay
// up and pick up new accounts, programs and templates with their next PDU.
#include <atomic>
#include <memory>

#include "config/config.hpp"
#include "session/policy_chain.hpp"

namespace smppguard::session {

struct Runtime {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<PolicyChain> chain;
};

/// Holds the current Runtime. Thread-safe.
class RuntimeHolder {
 public:
  explicit RuntimeHolder(std::shared_ptr<const Runtime> initial) : current_(std::move(initial)) {}
  std::shared_ptr<const Runtime> load() const { return current_.load(std::memory_order_acquire); }
  void store(std::shared_ptr<const Runtime> next) {
    current_.store(std::move(next), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const Runtime>> current_;
};

}  // namespace smppguard::session
