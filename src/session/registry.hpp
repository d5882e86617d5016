#pragma once
// SessionRegistry: the bound ESME sessions, by account and tenant. Used for max_binds, for picking
// the session that receives a queued MO or receipt (round robin), for /v1/sessions and shutdown.
// Thread-safe (sessions bind and close on their own strands).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "session/bind_state.hpp"

namespace smppguard::session {

class EsmeSession;

/// What the registry knows of one bound session (a copy, for listings).
struct BindInfo {
  std::string account;
  std::string tenant;
  BindState state = BindState::open;
  std::string peer;
  std::uint64_t id = 0;
  std::int64_t since_ms = 0;  // bound at (Unix ms)
  std::uint32_t window = 0;   // the account's window when it bound
};

class SessionRegistry {
 public:
  /// Adds a bound session unless the account already has `max_binds`; false when full.
  bool add(const std::shared_ptr<EsmeSession>& session, const BindInfo& info,
           std::uint32_t max_binds);
  void remove(const EsmeSession* session);
  std::size_t binds_of(std::string_view account) const;

  /// The sessions that may receive for a delivery target ("account:<id>" or "tenant:<t>"), in a
  /// stable order (by bind id); the caller rotates over them (round robin per item, not per call).
  std::vector<std::shared_ptr<EsmeSession>> receivers(std::string_view target);
  /// Every bound session.
  std::vector<std::pair<std::shared_ptr<EsmeSession>, BindInfo>> all() const;

  /// Called (outside the lock) with the delivery targets a newly bound receiver serves.
  void on_receiver_bound(std::function<void(const std::string& target)> fn) {
    on_receiver_bound_ = std::move(fn);
  }

  static std::string account_target(std::string_view account) {
    return "account:" + std::string(account);
  }
  static std::string tenant_target(std::string_view tenant) { return "tenant:" + std::string(tenant); }

 private:
  struct Entry {
    std::weak_ptr<EsmeSession> session;
    BindInfo info;
  };
  mutable std::mutex mu_;
  std::unordered_map<const EsmeSession*, Entry> entries_;
  std::function<void(const std::string&)> on_receiver_bound_;
};

}  // namespace smppguard::session
