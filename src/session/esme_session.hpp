#pragma once
// EsmeSession: one connection from an application (ESME) that binds to the proxy.
//
// Flow:
//   open      — only bind_* (and enquire_link) are legal; bind_timeout closes an idle socket.
//               A bind is checked (system_id, password, allowed_ips, max_binds, interface_version),
//               slowed down after repeated failures from one IP (BindGuard), answered, and on
//               failure the socket is closed after the response.
//   bound     — each MT request (submit_sm, data_sm, submit_multi, replace_sm, query_sm, cancel_sm)
//               is throttled per account, decoded, counted in the bind's window and handled in its
//               own coroutine (mt_flow): policy chain -> router -> upstream -> id map -> response.
//               When the window is full the reader pauses: back-pressure, never dropping.
//               deliver() sends queued MOs and receipts to receivers and transceivers.
//   unbinding — after an unbind either way; then closed.
// All members run on the session's strand; deliver() and request_unbind() may be called from any
// thread.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "session/bind_state.hpp"
#include "session/connection.hpp"
#include "session/services.hpp"

namespace smppguard::session {

class EsmeSession final : public Connection {
 public:
  /// Result of deliver(): the ESME's command_status, or an error (timeout, connection_closed).
  using DeliverHandler = std::function<void(std::error_code, std::uint32_t status)>;

  EsmeSession(tcp::socket socket, Services& services);
  ~EsmeSession() override;

  /// Starts the session's coroutines on its strand.
  void start();
  /// Sends a deliver_sm/data_sm frame (its sequence number is replaced). Any thread.
  void deliver(std::vector<std::uint8_t> frame, DeliverHandler done);
  /// Asks the ESME to unbind (shutdown) once its requests in flight are answered; closes when it
  /// answers or after a deadline. Any thread.
  void request_unbind();

  BindState state() const { return state_; }
  std::uint64_t id() const { return id_; }
  /// Requests from this bind in flight (for /v1/sessions and metrics).
  std::size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  /// MT requests received on this bind since it was bound (for /v1/sessions). Any thread.
  std::uint64_t submitted() const { return submitted_.load(std::memory_order_relaxed); }

 protected:
  void on_request(const proto::Header& header, std::span<const std::uint8_t> frame) override;
  void on_tick(SteadyTime now) override;
  void on_closed() override;
  bool keepalive_enabled() const override;

 private:
  struct MtJob;
  void handle_bind(const proto::Header& header, std::span<const std::uint8_t> frame);
  asio::awaitable<void> bind_flow(proto::Pdu request);
  void reject_request(const proto::Header& header, std::uint32_t status);
  void start_mt(const proto::Header& header, std::span<const std::uint8_t> frame);
  asio::awaitable<void> mt_flow(std::shared_ptr<MtJob> job);
  asio::awaitable<void> forward_mt(MtJob& job, const std::string& upstream,
                                   std::vector<std::uint8_t> frame);
  void respond(MtJob& job, proto::Pdu response);
  void finish_request();
  void send_unbind();
  std::shared_ptr<EsmeSession> self();

  Services& services_;
  BindState state_ = BindState::open;
  std::string account_;
  std::string tenant_;
  std::uint32_t window_ = 64;
  std::atomic<std::size_t> in_flight_{0};  // read by /v1/sessions from other threads
  std::atomic<std::uint64_t> submitted_{0};
  std::uint64_t id_;
  SteadyTime unbind_deadline_{};
  bool unbind_requested_ = false;
  bool unbind_sent_ = false;
};

}  // namespace smppguard::session
