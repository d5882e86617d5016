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

  /// What became of a proxy message sent to the carrier.
  enum class Sent : std::uint8_t {
    accepted,   // every part was accepted
    refused,    // the carrier refused a part for good (or it cannot be encoded)
    transient,  // not sent or not answered (no upstream, timeout, a temporary status): try again
  };
  /// Sends `text` from `from_number` to `msisdn`, part by part.
  boost::asio::awaitable<Sent> send_template(const config::Config& config,
                                             const config::Program& program,
                                             std::string from_number, std::string msisdn,
                                             std::string template_name, std::string text);

  /// What became of a released MT sent to the carrier.
  struct Released {
    bool accepted = false;
    bool transient = false;    // not sent or not answered (no upstream, timeout): try again
    std::uint32_t status = 0;  // the carrier's command_status when it answered
  };
  /// Forwards a held MT; on acceptance its route is stored under the id the account was given.
  boost::asio::awaitable<Released> release(const config::Config& config,
                                           const store::HeldMessage& held);

  /// Queues a receipt for an account (refuse_with: receipt, expired or failed held MTs). Durable.
  boost::asio::awaitable<bool> queue_receipt(const std::string& account, proto::Pdu receipt);

 private:
  boost::asio::awaitable<bool> enqueue(std::string target, store::DeliveryKind kind,
                                       const std::string& pdu);
  Services& services_;
  std::atomic<std::uint8_t> reference_{0};
};

}  // namespace smppguard::session
