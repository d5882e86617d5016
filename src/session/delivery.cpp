#include "session/delivery.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <map>
#include <smppguard/proto/status.hpp>

#include "common/log.hpp"
#include "session/esme_session.hpp"
#include "session/registry.hpp"
#include "session/store_ops.hpp"

namespace smppguard::session {

class DeliveryManager::Lane : public std::enable_shared_from_this<Lane> {
 public:
  Lane(Services& services, std::string target)
      : services_(services),
        target_(std::move(target)),
        strand_(asio::make_strand(services.io)),
        event_(strand_) {}

  void start() {
    auto me = shared_from_this();
    asio::co_spawn(
        strand_, [me]() -> asio::awaitable<void> { co_await me->run(); }, asio::detached);
  }
  void wake() {
    auto me = shared_from_this();
    asio::post(strand_, [me] {
      me->exhausted_ = false;
      me->event_.notify();
    });
  }
  void stop() {
    auto me = shared_from_this();
    asio::post(strand_, [me] {
      me->stopped_ = true;
      me->event_.notify();
    });
  }

 private:
  std::string_view kind_name(const store::DeliveryItem& item) const {
    return item.kind == store::DeliveryKind::mo ? "mo" : "receipt";
  }

  asio::awaitable<void> run() {
    auto me = shared_from_this();
    while (!stopped_) {
      co_await pump();
      co_await event_.wait(next_wait());
    }
  }

  // How long to sleep when nothing happens: until the first retry is due.
  std::chrono::steady_clock::duration next_wait() const {
    if (retry_.empty()) return std::chrono::hours(1);
    const auto now = to_unix_ms(services_.clock.now());
    std::int64_t first = retry_.begin()->second.next_attempt_at_ms;
    for (const auto& [seq, item] : retry_) first = std::min(first, item.next_attempt_at_ms);
    return std::chrono::milliseconds(std::max<std::int64_t>(1, first - now));
  }

  asio::awaitable<void> pump() {
    auto sessions = services_.registry.receivers(target_);
    if (sessions.empty()) co_return;
    const auto now_ms = to_unix_ms(services_.clock.now());

    // Retries that are due.
    for (auto it = retry_.begin(); it != retry_.end();) {
      if (it->second.next_attempt_at_ms <= now_ms && in_flight_.size() < kMaxInFlight) {
        auto item = std::move(it->second);
        it = retry_.erase(it);
        send(std::move(item), sessions);
      } else {
        ++it;
      }
    }
    // New items from the store, read off the network threads.
    while (!exhausted_ && !stopped_ && in_flight_.size() + retry_.size() < kMaxInFlight) {
      const std::size_t want = kMaxInFlight - in_flight_.size() - retry_.size();
      auto page = co_await async_callback<Result<std::vector<store::DeliveryItem>>>(
          [this, want](auto done) {
            asio::post(services_.blocking, [this, want, done = std::move(done)]() mutable {
              done(services_.store.deliveries(target_, cursor_, want));
            });
          });
      if (!page) {
        services_.metrics.store_error("read_queue");
        SG_LOG(error, "queue_read_failed")
            .kv("target", target_)
            .kv("error", page.error().message());
        co_return;  // the next wake-up tries again
      }
      if (page->size() < want) exhausted_ = true;
      for (auto& item : *page) {
        cursor_ = std::max(cursor_, item.seq);
        if (item.next_attempt_at_ms > now_ms) {
          retry_.emplace(item.seq, std::move(item));
        } else {
          send(std::move(item), sessions);
        }
      }
      if (page->empty()) break;
    }
  }

  void send(store::DeliveryItem item, const std::vector<std::shared_ptr<EsmeSession>>& sessions) {
    const auto now_ms = to_unix_ms(services_.clock.now());
    if (now_ms >= item.expires_at_ms) {
      drop(item, "expired");
      return;
    }
    auto& session = sessions[next_session_++ % sessions.size()];
    const auto seq = item.seq;
    std::vector<std::uint8_t> frame(item.pdu.begin(), item.pdu.end());
    in_flight_.emplace(seq, std::move(item));
    auto me = shared_from_this();
    session->deliver(std::move(frame), [me, seq](std::error_code ec, std::uint32_t status) {
      asio::post(me->strand_, [me, seq, ec, status] { me->on_result(seq, ec, status); });
    });
  }

  void on_result(std::uint64_t seq, std::error_code ec, std::uint32_t status) {
    auto node = in_flight_.extract(seq);
    if (node.empty()) return;
    auto item = std::move(node.mapped());
    if (!ec && status == proto::status::kEsmeRok) {
      remove(item);
    } else if (!ec && status == proto::status::kEsmeRxPAppn) {
      drop(item, "rejected");
    } else {
      const bool attempted = ec != SessionErrc::connection_closed;
      if (attempted) ++item.attempts;
      const auto now_ms = to_unix_ms(services_.clock.now());
      if (item.attempts >= kMaxAttempts) {
        drop(item, "attempts");
      } else if (now_ms >= item.expires_at_ms) {
        drop(item, "expired");
      } else {
        // 1 s, 2 s, 4 s ... capped at 5 minutes.
        const std::int64_t backoff =
            attempted ? std::min<std::int64_t>(
                            300'000, 1000LL << std::min<std::uint32_t>(item.attempts - 1, 9))
                      : 0;
        item.next_attempt_at_ms = now_ms + backoff;
        SG_LOG(info, "delivery_retry")
            .kv("target", target_)
            .kv("kind", kind_name(item))
            .kv("attempts", item.attempts)
            .kv("error", ec ? ec.message() : std::string(proto::status_name(status)));
        services_.store.submit([item](store::Batch& b) { b.update_delivery(item); }, false,
                               [](std::error_code) {});
        retry_.emplace(item.seq, std::move(item));
      }
    }
    event_.notify();
  }

  void remove(const store::DeliveryItem& item) {
    auto target = item.target;
    auto seq = item.seq;
    auto kind = item.kind;
    auto& metrics = services_.metrics;
    auto& store = services_.store;
    store.submit([target, seq](store::Batch& b) { b.remove_delivery(target, seq); }, false,
                 [&metrics, &store, kind](std::error_code) {
                   metrics.queue_depth(kind == store::DeliveryKind::mo ? "mo" : "receipt")
                       .Set(static_cast<double>(store.queued_deliveries(kind)));
                 });
  }

  void drop(const store::DeliveryItem& item, std::string_view reason) {
    SG_LOG(warn, "delivery_dropped")
        .kv("target", target_)
        .kv("kind", kind_name(item))
        .kv("reason", reason)
        .kv("attempts", item.attempts);
    services_.metrics.delivery_dropped(kind_name(item), reason);
    remove(item);
  }

  Services& services_;
  const std::string target_;
  Strand strand_;
  Event event_;
  std::uint64_t cursor_ = 0;  // last seq read from the store
  bool exhausted_ = false;    // the store had nothing after cursor_ at the last read
  bool stopped_ = false;
  std::size_t next_session_ = 0;
  std::map<std::uint64_t, store::DeliveryItem> in_flight_;
  std::map<std::uint64_t, store::DeliveryItem> retry_;
};

DeliveryManager::~DeliveryManager() { stop(); }

void DeliveryManager::start() {
  auto targets = services_->store.delivery_targets();
  if (!targets) {
    SG_LOG(error, "queue_scan_failed").kv("error", targets.error().message());
    return;
  }
  for (const auto& t : *targets) {
    // The carrier outbox shares the delivery keyspace but is drained by OutboxSender, not by a lane
    // towards ESMEs.
    if (t != store::kOutboxTarget) notify(t);
  }
}

void DeliveryManager::notify(const std::string& target) {
  std::shared_ptr<Lane> lane;
  {
    std::lock_guard lock(mu_);
    if (stopped_ || services_ == nullptr) return;
    auto& slot = lanes_[target];
    if (!slot) {
      slot = std::make_shared<Lane>(*services_, target);
      slot->start();
    }
    lane = slot;
  }
  lane->wake();
}

void DeliveryManager::stop() {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  for (auto& [t, lane] : lanes_) lane->stop();
}

}  // namespace smppguard::session
