#pragma once
// EsmeListener: accepts ESME connections on listen.smpp and starts an EsmeSession for each, on its
// own strand. Keeps weak references to every session it started, for shutdown.
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <mutex>
#include <vector>

#include "config/config.hpp"
#include "session/services.hpp"

namespace smppguard::session {

class EsmeSession;

class EsmeListener {
 public:
  /// Binds the listening socket; throws std::system_error when the address cannot be used.
  EsmeListener(Services& services, const config::HostPort& address);
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void start();
  /// Stops accepting (idempotent). Any thread.
  void stop();
  /// Every session still running.
  std::vector<std::shared_ptr<EsmeSession>> sessions();

 private:
  boost::asio::awaitable<void> accept_loop();
  Services& services_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::mutex mu_;
  std::vector<std::weak_ptr<EsmeSession>> sessions_;
};

}  // namespace smppguard::session
