#pragma once
// RouteGate: the id-map routes that are on their way to the store.
//
// A submit_sm_resp is read on the upstream link's strand, while the route it creates (carrier id
// -> the account's proxy id) is written later, on the sender's strand. A receipt read in between
// (carriers send immediate receipts for network rejections, often in the same TCP segment as the
// response) would find no route and be acknowledged and lost.
//
// Flow: the slot calls expect() synchronously as it reads the response, before its reader hands
// on the next PDU, and passes the ticket along with the response; the sender drops the ticket
// once the route is written (or is known never to be). Intake, finding no route for a receipt,
// waits while a ticket for its key is alive (Intake::wait_for_route), then looks again.
// Thread-safe.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace smppguard::session {

class RouteGate {
 public:
  /// Held while a route is on its way; settles its key when destroyed.
  class Ticket {
   public:
    Ticket(RouteGate& gate, std::string key) : gate_(gate), key_(std::move(key)) {}
    ~Ticket() { gate_.settle(key_); }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

   private:
    RouteGate& gate_;
    std::string key_;
  };

  /// Marks the route of `upstream`'s message id `key` (normalised) as on its way.
  [[nodiscard]] std::shared_ptr<Ticket> expect(std::string_view upstream, std::string_view key);
  /// True while a ticket for one of `keys` is alive.
  bool pending(std::string_view upstream, const std::vector<std::string>& keys) const;
  /// Routes on their way now (for tests and /v1/sessions).
  std::size_t size() const;

 private:
  static std::string full_key(std::string_view upstream, std::string_view key);
  void settle(const std::string& key);

  mutable std::mutex mu_;
  std::unordered_map<std::string, int> pending_;  // upstream '\n' key -> tickets alive
};

/// The message_id of a submit_sm_resp, data_sm_resp or submit_multi_resp frame (the first body
/// field, a C-octet string); "" when the frame has none.
std::string_view response_message_id(std::span<const std::uint8_t> frame);

}  // namespace smppguard::session
