#include "session/listener.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "common/accept_backoff.hpp"
#include "common/log.hpp"
#include "session/esme_session.hpp"

namespace smppguard::session {

namespace {
tcp::endpoint resolve_listen(const config::HostPort& hp) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(hp.host, ec);
  if (ec) throw std::system_error(ec, "listen address " + hp.host);
  return {addr, hp.port};
}
}  // namespace

EsmeListener::EsmeListener(Services& services, const config::HostPort& address)
    : services_(services), acceptor_(asio::make_strand(services.io)) {
  const auto ep = resolve_listen(address);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

void EsmeListener::start() {
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

void EsmeListener::stop() {
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
}

std::vector<std::shared_ptr<EsmeSession>> EsmeListener::sessions() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<EsmeSession>> out;
  for (auto& w : sessions_)
    if (auto s = w.lock()) out.push_back(std::move(s));
  return out;
}

asio::awaitable<void> EsmeListener::accept_loop() {
  AcceptBackoff backoff;
  asio::steady_timer pause(acceptor_.get_executor());
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(services_.io),
                                                        asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      services_.metrics.accept_error("smpp", AcceptBackoff::kind(ec.value()));
      pause.expires_after(backoff.failed_and_log("smpp", ec.message()));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    backoff.succeeded();
    if (services_.stopping.load()) continue;  // socket closes when it goes out of scope
    auto session = std::make_shared<EsmeSession>(std::move(socket), services_);
    {
      std::lock_guard lock(mu_);
      std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
      sessions_.push_back(session);
    }
    session->start();
  }
}

}  // namespace smppguard::session
