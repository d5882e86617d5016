#pragma once
// Intake: what the proxy does with a deliver_sm or data_sm from an upstream (the delivery chain).
//   receipt — its id is looked up in the id map (normalised per the upstream's
//             message_id_format); the receipt is rewritten to the account's id and queued for
//             that account; receipts of the proxy's own messages are consumed.
//   MO      — the number the subscriber texted names the program and so the tenant; the policy
//             chain sees it; then it is queued for the tenant's receivers.
// Queued means written to the store with a synced WAL (group commit); only then does the caller
// answer the upstream, so an acknowledged MO or receipt survives kill -9.
// Thread-safe; handle() runs on the calling link's strand.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <smppguard/proto/pdu.hpp>

#include "config/config.hpp"
#include "session/services.hpp"

namespace smppguard::session {

class Intake {
 public:
  explicit Intake(Services& services) : services_(services) {}
  /// Handles one deliver_sm/data_sm; returns the command_status for its response.
  boost::asio::awaitable<std::uint32_t> handle(const config::Upstream& upstream, proto::Pdu pdu);

  /// How long queued MOs and receipts wait for an ESME before they are dropped.
  static constexpr std::chrono::hours kDeliveryTtl{72};

  /// A queue item for `target` (encoded PDU, sequence 0), due now, kept kDeliveryTtl.
  static store::DeliveryItem delivery_item(std::string target, store::DeliveryKind kind,
                                           std::string pdu, std::int64_t now_ms);

 private:
  /// The route of the first of `keys` that has one; an error when the map cannot be read.
  Result<std::optional<store::MessageRoute>> find_route(const config::Upstream& upstream,
                                                        const std::vector<std::string>& keys);
  /// Waits while the route of one of `keys` is on its way (RouteGate); false when it did not
  /// settle within the upstream's response_timeout plus kRouteWaitSeconds.
  boost::asio::awaitable<bool> wait_for_route(const config::Upstream& upstream,
                                              const std::vector<std::string>& keys);
  static constexpr int kRouteWaitSeconds = 5;
  boost::asio::awaitable<std::uint32_t> handle_receipt(const config::Upstream& upstream,
                                                       proto::Pdu pdu);
  boost::asio::awaitable<std::uint32_t> handle_mo(const config::Upstream& upstream, proto::Pdu pdu);
  boost::asio::awaitable<std::uint32_t> enqueue(std::string target, store::DeliveryKind kind,
                                                const proto::Pdu& pdu);
  /// The queue item for `pdu` (encoded with sequence number 0); nullopt when it cannot be encoded.
  std::optional<store::DeliveryItem> make_item(std::string target, store::DeliveryKind kind,
                                               const proto::Pdu& pdu);
  boost::asio::awaitable<std::uint32_t> commit_item(store::DeliveryItem item);
  /// After the item is durable: queue depth metric and the delivery lane's wake-up.
  void queued(const std::string& target, store::DeliveryKind kind);
  Services& services_;
};

}  // namespace smppguard::session
