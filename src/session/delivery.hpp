#pragma once
// DeliveryManager: drains the durable queue of MOs and receipts towards ESMEs.
//
// One Lane per target ("account:<id>" for receipts, "tenant:<t>" for MOs), each on its own strand.
// Flow of a lane: woken (item queued, receiver bound, answer came, retry due) -> if a receiver of
// the target is bound: send due retries, then read the next items after its cursor from the store
// (on the blocking pool) -> send each to a receiver, round robin -> deliver_sm_resp OK removes the
// item; an error or a timeout schedules a retry with back-off; ESME_RX_P_APPN, too many tries or
// the item's expiry drop it (logged and counted). At most kMaxInFlight items per lane are held in
// memory (sent or waiting for a retry); the rest stay in RocksDB. After a restart every lane starts
// from the beginning of its queue, so nothing acknowledged to a carrier is lost (an item may be
// delivered twice if the daemon dies between the ESME's response and the removal).
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "session/services.hpp"

namespace smppguard::session {

class DeliveryManager {
 public:
  DeliveryManager() = default;
  ~DeliveryManager();
  /// Services refers to the manager and the manager to Services: attach them before start().
  void init(Services& services) { services_ = &services; }
  /// Wakes a lane for every target that has queued items (start-up).
  void start();
  /// Something changed for `target` (new item, receiver bound). Any thread.
  void notify(const std::string& target);
  void stop();

  static constexpr std::size_t kMaxInFlight = 64;
  static constexpr std::uint32_t kMaxAttempts = 10;

 private:
  class Lane;
  Services* services_ = nullptr;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Lane>> lanes_;
  bool stopped_ = false;
};

}  // namespace smppguard::session
