#pragma once
// OutboxSender: gets what the proxy itself must send to the carrier there, durably.
//
// Proxy messages (confirmations, HELP answers, opt-in requests, reminders) and held MTs released
// by YES or by the end of quiet hours are staged in the store's outbox (the queue target
// store::kOutboxTarget) in the same synced mutation as the change that caused them, so they are
// as durable as the STOP or the YES itself. An item leaves the outbox only once the carrier has
// accepted it (its submit_sm_resp), or was refused for good, or expired; an item in flight at a
// crash is sent again after the restart (at least once: a duplicate is possible, a loss is not).
//
// Flow: wake() (after staging, and at start) -> pump reads the outbox from its cursor in pages ->
// each item goes to one of kLanes lanes by subscriber, so one subscriber's items go out in their
// staged order (the confirmation before the released MTs) while other subscribers' go in
// parallel -> a lane sends its head item (Outbound / ConsentServices) and, on a transient failure
// (no upstream bound, timeout), retries it with back-off (1 s doubling to 30 s) until it expires
// -> done: the item is removed.
// Runs on its own strand; wake() and stop() may be called from any thread.
#include <boost/asio/awaitable.hpp>
#include <deque>
#include <memory>
#include <set>
#include <string>

#include "session/connection.hpp"
#include "session/services.hpp"
#include "store/types.hpp"

namespace smppguard::session {

class ConsentServices;

/// What became of one outbox item.
enum class OutboxResult : std::uint8_t {
  done,   // accepted by the carrier, or settled otherwise (refused, held again): remove it
  retry,  // not sent (no upstream, timeout): keep it and try again later
};

class OutboxSender : public std::enable_shared_from_this<OutboxSender> {
 public:
  OutboxSender(Services& services, ConsentServices& consent);
  void start();
  void wake();
  void stop();

  /// How long an item is tried before it is dropped (logged and counted).
  static constexpr std::chrono::hours kTtl{72};
  static constexpr std::size_t kLanes = 16;

 private:
  struct Lane {
    std::deque<store::DeliveryItem> items;
    bool running = false;
  };
  asio::awaitable<void> run();
  asio::awaitable<void> pump();
  asio::awaitable<void> run_lane(std::size_t index);
  asio::awaitable<OutboxResult> send(const store::DeliveryItem& item);
  void finish(const store::DeliveryItem& item, std::string_view reason);

  Services& services_;
  ConsentServices& consent_;
  Strand strand_;
  Event event_;
  std::uint64_t cursor_ = 0;
  std::vector<Lane> lanes_;
  bool stopped_ = false;
};

/// Stages an outbox item for `message` in `batch` (inside a mutation).
void stage_outbox(store::Batch& batch, const store::OutboxMessage& message);
/// Stages one of the program's own messages to `msisdn`, sent from `from_number`.
void stage_proxy_message(store::Batch& batch, const std::string& program, const std::string& msisdn,
                         const std::string& from_number, const std::string& template_name,
                         const std::string& text);
/// Stages a held MT that is released (YES, or quiet hours over): it is decided again when sent.
void stage_released(store::Batch& batch, const store::HeldMessage& held);

}  // namespace smppguard::session
