#pragma once
// Connection: one SMPP TCP connection, either side. Owns the socket, the frame reader, the output
// buffer, sequence numbers and the requests it sent that wait for a response (with timeouts).
// Subclasses (EsmeSession, UpstreamLink) decide what requests from the peer mean.
//
// Flow: run() joins three coroutines with `||` on the connection's strand, so the first to end
// cancels the others:
//   reader  — reads into the FrameReader, hands each request to on_request() and matches each
//             response to its pending request; stops reading while paused (window back-pressure)
//             or while the output buffer is over its limit (a peer that does not read);
//   writer  — writes the output buffer (double-buffered: frames appended while a write is in
//             flight go out in the next write, so many frames share one syscall);
//   ticker  — every 100 ms fails timed-out requests, closes a connection whose started PDU is
//             not whole within partial_pdu_timeout, runs enquire_link (send one after an idle
//             interval, close after two silent intervals) and on_tick().
// Every member function must be called on the strand.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <smppguard/proto/frame_reader.hpp>
#include <smppguard/proto/pdu.hpp>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/async.hpp"
#include "common/metrics.hpp"
#include "session/errors.hpp"

namespace smppguard::session {

using tcp = asio::ip::tcp;
/// A connection's executor: a strand (sockets are created on one: asio::make_strand(io)).
using Strand = asio::any_io_executor;
using SteadyTime = std::chrono::steady_clock::time_point;

/// The outcome of a request this side sent. `frame` is valid only during the handler call.
struct Response {
  std::error_code error;                // timeout, connection_closed, ...
  proto::Header header;                 // when !error
  std::span<const std::uint8_t> frame;  // the whole response PDU when !error
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  struct Options {
    metrics::Side side = metrics::Side::esme;
    std::size_t max_pdu_size = 65536;
    std::chrono::milliseconds response_timeout{10'000};
    std::chrono::milliseconds enquire_link{30'000};  // 0 = never
    std::size_t max_output_bytes = 4u << 20;         // stop reading while more is unsent
    // A PDU whose first octets have arrived must be whole within this, or the connection closes:
    // a peer that trickles a PDU a byte at a time cannot hold a session (and its window) open.
    std::chrono::milliseconds partial_pdu_timeout{10'000};
  };
  using ResponseHandler = std::function<void(const Response&)>;

  /// `socket` must have been created on a strand; the connection runs on it.
  Connection(tcp::socket socket, Options options, metrics::Metrics& metrics);
  virtual ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const Strand& strand() const { return strand_; }
  /// Runs the connection until it closes; then fails pending requests and calls on_closed().
  asio::awaitable<void> run();

  /// Queues a whole frame for writing (copied). Counts it in smppguard_pdus_total.
  void send(std::span<const std::uint8_t> frame);
  /// Encodes and queues a PDU; false when it does not encode (a bug; logged).
  bool send_pdu(const proto::Pdu& pdu);
  /// Sends a request with a fresh sequence number patched into `frame` and calls `handler` once
  /// with its response, a timeout, or connection_closed. Returns the sequence number used.
  std::uint32_t send_request(std::span<const std::uint8_t> frame, ResponseHandler handler);
  std::uint32_t send_request(const proto::Pdu& pdu, ResponseHandler handler);
  /// Requests sent and not yet answered.
  std::size_t outstanding() const { return pending_.size(); }

  /// Closes now (pending output is dropped).
  void close();
  /// Writes what is queued, then closes (e.g. after a failed bind's response).
  void close_after_flush();
  bool is_closed() const { return closed_; }

  const std::string& peer_ip() const { return peer_ip_; }
  const std::string& peer() const { return peer_; }
  SteadyTime connected_at() const { return connected_at_; }

 protected:
  /// A request from the peer (any command that is not a response). `frame` is valid only during
  /// the call; copy what must outlive it.
  virtual void on_request(const proto::Header& header, std::span<const std::uint8_t> frame) = 0;
  /// Called every tick (100 ms) on the strand.
  virtual void on_tick(SteadyTime /*now*/) {}
  /// Called once when the connection has ended.
  virtual void on_closed() {}
  /// Whether the enquire_link watchdog runs (sessions enable it once bound).
  virtual bool keepalive_enabled() const { return true; }

  /// Back-pressure: while paused, no further request is read or handled.
  void pause_reading() { paused_ = true; }
  void resume_reading();
  bool reading_paused() const { return paused_; }

  std::uint32_t next_sequence();
  metrics::Metrics& metrics() { return metrics_; }
  const Options& options() const { return options_; }
  void set_response_timeout(std::chrono::milliseconds t) { options_.response_timeout = t; }
  void set_enquire_link(std::chrono::milliseconds t) { options_.enquire_link = t; }

 private:
  struct Pending {
    ResponseHandler handler;
    SteadyTime deadline;
    std::uint32_t command_id;
  };

  asio::awaitable<void> reader();
  asio::awaitable<void> writer();
  asio::awaitable<void> ticker();
  void handle_frame(std::span<const std::uint8_t> frame);
  void handle_response(const proto::Header& header, std::span<const std::uint8_t> frame);
  void expire_pending(SteadyTime now);
  void keepalive(SteadyTime now);
  /// Closes the connection when a started PDU has waited for its rest too long.
  void check_partial_pdu(SteadyTime now);
  void fail_all_pending();
  bool output_full() const { return out_.size() > options_.max_output_bytes; }

  tcp::socket socket_;
  Strand strand_;
  Options options_;
  metrics::Metrics& metrics_;
  proto::FrameReader reader_;
  std::vector<std::uint8_t> out_;      // frames waiting for the writer
  std::vector<std::uint8_t> writing_;  // the frames of the write in flight
  Event write_event_;
  Event resume_event_;
  std::unordered_map<std::uint32_t, Pending> pending_;
  std::deque<std::pair<SteadyTime, std::uint32_t>> deadlines_;  // send order = deadline order
  std::uint32_t sequence_ = 0;
  SteadyTime last_received_;
  // Since when the reader has waited for the rest of a started PDU; unset (max) otherwise.
  SteadyTime partial_since_ = SteadyTime::max();
  bool enquire_outstanding_ = false;
  bool paused_ = false;
  bool closed_ = false;
  bool close_after_flush_ = false;
  std::string peer_ip_;
  std::string peer_;
  SteadyTime connected_at_;
};

}  // namespace smppguard::session
