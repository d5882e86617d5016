#pragma once
// The seam between the sessions and the consent policy (ARCHITECTURE.md "Interception as a filter
// chain"). Every MT request from an ESME and every MO from an upstream passes through one
// PolicyChain before it is forwarded. The chain may answer locally (a refusal status), hold the
// message, or let it continue to the router (the last filter).
// A chain is immutable once built; a reload builds a new one and swaps it in (see Runtime).
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <smppguard/proto/pdu.hpp>
#include <string>
#include <vector>

#include <span>

#include "config/config.hpp"
#include "store/types.hpp"

namespace smppguard::session {

/// One MT as the chain sees it. Filters may modify `pdu` (e.g. drop refused submit_multi
/// destinations); the router forwards the original frame when `pdu_modified` is false.
struct MtRequest {
  const config::Config& config;
  const config::Account& account;
  proto::Pdu& pdu;
  std::span<const std::uint8_t> frame;  // the request as it came (held MTs keep these bytes)
  bool pdu_modified = false;
};

/// What the chain decided for an MT.
struct MtVerdict {
  enum class Action : std::uint8_t {
    forward,  // continue to the router
    refuse,   // answer with `status` (or, refuse_with: receipt, accept and send a REJECTD receipt)
    accept,   // answer OK with `message_id` without forwarding now (held by the policy)
  };
  Action action = Action::forward;
  std::uint32_t status = 0;
  std::string reason = "none";        // metric/audit reason
  std::string message_id;             // accept: the proxy id given to the account
  std::string program;                // for metrics and the id map
  std::string msisdn;                 // the destination (E.164), kept in the id map
  std::vector<proto::UnsuccessSme> unsuccess;  // submit_multi: destinations refused by policy
};

/// One MO (deliver_sm/data_sm that is not a receipt) from an upstream.
struct MoRequest {
  const config::Config& config;
  const config::Program& program;   // owner of the number the subscriber texted
  std::string subscriber;           // E.164 of the sender
  std::string number;               // the number the subscriber texted (a program number)
  const proto::Pdu& pdu;  // read only: the queue item (below) is already encoded from it
  std::string upstream;
  /// The queue item that forwards this MO to the tenant's ESMEs (its pdu is the MO encoded with
  /// sequence number 0), or null. A chain that records its decision in a store mutation enqueues
  /// it in that same mutation when the MO is to be forwarded, and sets MoVerdict::queued: one
  /// synced commit per MO, the decision and the queued MO atomic. Otherwise the caller queues it.
  store::DeliveryItem* delivery = nullptr;
};

/// What the chain decided for an MO.
struct MoVerdict {
  bool forward = true;       // queue it for the tenant's ESMEs
  bool queued = false;       // forward, and MoRequest::delivery is already queued (durably)
  std::uint32_t status = 0;  // deliver_sm_resp status to the upstream when not OK
};

/// The policy seam. Implementations are thread-safe (shared by every session) and do no blocking
/// I/O on the calling strand except the store's point lookups.
class PolicyChain {
 public:
  virtual ~PolicyChain() = default;
  virtual boost::asio::awaitable<MtVerdict> on_mt(MtRequest& request) = 0;
  virtual boost::asio::awaitable<MoVerdict> on_mo(MoRequest& request) = 0;
  /// A delivery receipt for one of the proxy's own messages (consumed, never forwarded).
  virtual void on_proxy_receipt(const store::MessageRoute& route, std::string_view receipt_text) {
    (void)route, (void)receipt_text;
  }
};

/// The chain of the proxy core without consent enforcement: every MT and MO passes.
class AllowAllChain final : public PolicyChain {
 public:
  boost::asio::awaitable<MtVerdict> on_mt(MtRequest&) override { co_return MtVerdict{}; }
  boost::asio::awaitable<MoVerdict> on_mo(MoRequest&) override { co_return MoVerdict{}; }
};

}  // namespace smppguard::session
