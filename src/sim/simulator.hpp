#pragma once
// Simulator: the carrier simulator behind `smppguard smsc-sim` and `smppguard demo`. An SMPP
// server that plays an SMSC (accepts binds, answers submit_sm/data_sm/submit_multi with its own
// ids, sends delivery receipts, injects MOs) and a small HTTP control port that tests use to
// inject MOs and receipts, set failure rules and read every PDU it received. docs/simulator.md
// describes the API.
//
// Flow: construct (binds both listening sockets; throws std::system_error naming the address) ->
// start() (accepting, receipt timer running) -> ... -> stop(done) (stop accepting, unbind every
// bind, close what does not answer within a second, then call done) -> destroy.
// It runs on the caller's io_context, which may be run by several threads: each SMPP connection
// has its own strand and the shared state is guarded by one mutex.
// Thread-safety: start(), stop(), smpp_port() and http_port() may be called from any thread.
// Destroy the Simulator only while its io_context is not running handlers (stopped, or run()
// returned): its pending operations refer to it.
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "sim/model.hpp"

namespace smppguard::sim {

class Simulator {
 public:
  Simulator(boost::asio::io_context& io, SimulatorOptions options);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  void start();
  /// Stops accepting SMPP and HTTP connections and unbinds every SMPP connection; `done` (if any)
  /// runs on the io_context once they are all closed (at most about a second later).
  void stop(std::function<void()> done = {});

  unsigned short smpp_port() const;
  unsigned short http_port() const;
  const SimulatorOptions& options() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// Writes `{"smpp":P,"http":P}` to `path` atomically (a temporary file, then rename). Throws
/// std::system_error when it cannot.
void write_ports_file(const std::string& path, unsigned short smpp, unsigned short http);

}  // namespace smppguard::sim
