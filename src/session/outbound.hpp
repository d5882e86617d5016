#pragma once
// Outbound: messages the proxy itself sends upstream, through the same upstream binds, windows and
// throttles as ESME traffic.
//   send_template() — a program's reply (confirmation, HELP, opt-in request, disclaimer, ...):
//                     built, split, sent part by part; each accepted part's route is stored under a
//                     fresh proxy id with account "" so its receipt is consumed and audited; the
//                     send is audited (`message_sent`, template name, send time).
//   release()       — a held MT: its original frame forwarded as it came; the route is stored under
//                     the id the account was given when the MT was held, so receipts reach it.
// Thread-safe; the coroutines run on the caller's executor.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "session/services.hpp"
#include "store/types.hpp"

namespace smppguard::session {

class Outbound {
 public:
  explicit Outbound(Services& services) : services_(services) {}

  /// Sends `text` from `from_number` to `msisdn`; true when every part was accepted upstream.
  boost::asio::awaitable<bool> send_template(const config::Config& config,
                                             const config::Program& program,
                                             std::string from_number, std::string msisdn,
                                             std::string template_name, std::string text);

  /// Forwards a held MT; false when no upstream took it (the caller decides what the account is
  /// told). `upstream_status` receives the carrier's command_status.
  boost::asio::awaitable<bool> release(const config::Config& config,
                                       const store::HeldMessage& held,
                                       std::uint32_t* upstream_status = nullptr);

  /// Queues an MO (encoded PDU) for a tenant's receivers. Durable.
  boost::asio::awaitable<bool> queue_mo(const std::string& tenant, const std::string& pdu);

  /// Queues a receipt for an account (refuse_with: receipt, expired or failed held MTs). Durable.
  boost::asio::awaitable<bool> queue_receipt(const std::string& account, proto::Pdu receipt);

 private:
  boost::asio::awaitable<bool> enqueue(std::string target, store::DeliveryKind kind,
                                       const std::string& pdu);
  Services& services_;
  std::atomic<std::uint8_t> reference_{0};
};

}  // namespace smppguard::session
