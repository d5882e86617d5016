#pragma once
// The carrier side: the proxy binds to each upstream SMSC as an ESME.
//
//   Upstreams     — every configured upstream by name; forward() is the router's entry point.
//   UpstreamPool  — one upstream: its binds (slots), shared throughput bucket, slot choice.
//   UpstreamSlot  — one bind kept up: connect, bind, run, and on loss reconnect with exponential
//                   back-off and jitter. Holds the queue of requests waiting for window space
//                   and paces sends to the upstream's throughput.
//   UpstreamLink  — the Connection of one slot's current TCP connection; answers enquire_link and
//                   unbind, and hands deliver_sm/data_sm to the Intake.
// Flow of an MT: Upstreams::forward -> pool picks the bound transmit slot with the least load ->
// slot queues it -> pump() sends while the window has room and the bucket allows -> the response
// (or a timeout, or the link's loss) completes the request on the slot's strand.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "session/connection.hpp"
#include "session/rate.hpp"
#include "session/route_gate.hpp"
#include "session/services.hpp"

namespace smppguard::session {

/// The outcome of forwarding a request upstream.
struct ForwardResult {
  std::error_code error;            // timeout, connection_closed, no_upstream
  std::vector<std::uint8_t> frame;  // the response PDU when !error
  std::string upstream;             // which upstream answered
  // Held until the route of an accepted message is written: receipts wait for it (RouteGate).
  std::shared_ptr<RouteGate::Ticket> route_ticket;
};
using ForwardHandler = std::function<void(ForwardResult)>;

class Intake;
class UpstreamPool;
class UpstreamSlot;

/// The role of one bind of an upstream.
enum class LinkRole : std::uint8_t { transceiver, transmitter, receiver };
std::string_view to_string(LinkRole role);

/// A snapshot of one upstream bind for /v1/sessions.
struct LinkInfo {
  std::string upstream;
  int index = 0;
  LinkRole role = LinkRole::transceiver;
  bool bound = false;
  std::int64_t since_ms = 0;  // when it entered its current state (Unix ms)
  std::uint64_t reconnects = 0;
  std::size_t in_flight = 0;
  std::size_t queued = 0;
};

class UpstreamLink final : public Connection {
 public:
  UpstreamLink(tcp::socket socket, Options options, Services& services, Intake& intake,
               const config::Upstream& upstream, std::function<void()> on_closed);
  void set_bound(bool bound) { bound_ = bound; }
  void set_closed_callback(std::function<void()> fn) { closed_callback_ = std::move(fn); }

 protected:
  void on_request(const proto::Header& header, std::span<const std::uint8_t> frame) override;
  void on_closed() override;
  bool keepalive_enabled() const override { return bound_; }

 private:
  asio::awaitable<void> deliver_flow(std::shared_ptr<UpstreamLink> self, proto::Pdu pdu);
  Services& services_;
  Intake& intake_;
  const config::Upstream& upstream_;
  std::function<void()> closed_callback_;
  bool bound_ = false;
};

class UpstreamSlot : public std::enable_shared_from_this<UpstreamSlot> {
 public:
  UpstreamSlot(Services& services, Intake& intake, UpstreamPool& pool, int index, LinkRole role);
  void start();
  /// Unbinds and stops reconnecting. Any thread.
  void stop();
  /// Queues a request (any thread); completes with no_upstream if the slot cannot send.
  void submit(std::vector<std::uint8_t> frame, ForwardHandler done);

  bool bound() const { return bound_.load(std::memory_order_acquire); }
  bool can_transmit() const { return role_ != LinkRole::receiver; }
  /// Requests queued or in flight (for slot choice).
  int load() const { return load_.load(std::memory_order_relaxed); }
  LinkInfo info() const;

 private:
  struct Outbound {
    std::vector<std::uint8_t> frame;
    ForwardHandler done;
  };
  asio::awaitable<void> run();
  asio::awaitable<bool> connect_and_bind();
  void pump();
  void pump_one();
  void fail_queue(std::error_code ec);
  /// The RouteGate ticket of an accepted submit_sm/data_sm/submit_multi response; null otherwise.
  std::shared_ptr<RouteGate::Ticket> expect_route(const Response& response);
  void set_state(bool bound);

  Services& services_;
  Intake& intake_;
  UpstreamPool& pool_;
  const int index_;
  const LinkRole role_;
  Strand strand_;
  std::shared_ptr<UpstreamLink> link_;
  std::deque<Outbound> queue_;
  std::size_t in_flight_ = 0;
  asio::steady_timer pace_timer_;
  bool pace_armed_ = false;
  Event link_closed_;
  Event stop_event_;
  Backoff backoff_;
  std::atomic<bool> bound_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<int> load_{0};
  std::atomic<std::int64_t> since_ms_{0};
  std::atomic<std::uint64_t> reconnects_{0};
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> in_flight_count_{0};
};

class UpstreamPool {
 public:
  UpstreamPool(Services& services, Intake& intake, config::Upstream config);
  void start();
  void stop();
  /// Sends a request to the least loaded bound transmit slot; no_upstream when none is bound.
  void forward(std::vector<std::uint8_t> frame, ForwardHandler done);
  bool any_bound() const;
  const config::Upstream& config() const { return config_; }
  TokenBucket& throughput() { return bucket_; }
  std::vector<LinkInfo> links() const;
  /// Called by slots when their bound state changes (metrics).
  void slot_state_changed();

 private:
  Services& services_;
  const config::Upstream config_;
  TokenBucket bucket_;
  std::vector<std::shared_ptr<UpstreamSlot>> slots_;
  std::atomic<std::size_t> next_{0};
};

class Upstreams {
 public:
  Upstreams() = default;
  void add(std::unique_ptr<UpstreamPool> pool);
  void start();
  void stop();
  /// Forwards to the named upstream; no_upstream when it does not exist or has no bind.
  void forward(std::string_view upstream, std::vector<std::uint8_t> frame, ForwardHandler done);
  bool any_bound() const;
  UpstreamPool* find(std::string_view name) const;
  std::vector<LinkInfo> links() const;

 private:
  std::vector<std::unique_ptr<UpstreamPool>> pools_;
};

}  // namespace smppguard::session
