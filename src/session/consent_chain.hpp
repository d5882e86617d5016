#pragma once
// ConsentChain: the PolicyChain that enforces consent (SPEC 3-5), carrying out what the pure
// engine in src/policy/engine.hpp decides.
//
// Flow of an MT: source -> program, destination -> E.164, category -> one MultiGet of the program
// and tenant records -> decide_mt -> forward | refuse (audited; refuse_with: receipt turns it into
// an accepted message plus a REJECTD receipt) | hold (durable, in a synced mutation; the account
// gets its proxy id now and the receipt later) | disclaimer first (its submit_sm_resp awaited, the
// record created, then the MT forwarded).
// Flow of an MO: decode the text -> keywords -> apply_mo in a synced mutation (the upstream's
// deliver_sm_resp waits for it) that also stages its follow-ups: replies and released MTs in the
// outbox (OutboxSender sends them, confirmation first), failed-MT receipts and released MOs in
// the delivery queue. So a STOP's confirmation is as durable as the STOP. A part of a longer MO
// is reassembled inside that mutation from the parts the store holds (store::MoPart): until the
// last part it is stored and forwarded; the last one decides the whole text and removes them.
// So a long STOP split across a restart still reads as STOP.
// ConsentServices holds what outlives a reload: the outbound sender, the outbox and the held-MT
// sweeper (quiet-hours release, hold_ttl expiry).
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <mutex>
#include <set>
#include <smppguard/proto/concat.hpp>

#include "policy/engine.hpp"
#include "session/connection.hpp"
#include "session/outbound.hpp"
#include "session/outbox.hpp"
#include "session/policy_chain.hpp"
#include "session/services.hpp"

namespace smppguard::session {

class ConsentServices {
 public:
  explicit ConsentServices(Services& services);
  ~ConsentServices();
  /// Starts the held-MT sweeper (every `interval`).
  void start(std::chrono::milliseconds interval = std::chrono::seconds(1));
  void stop();
  Outbound& outbound() { return outbound_; }
  OutboxSender& outbox() { return *outbox_; }
  Services& services() { return services_; }

  /// What a mutation staged for after its commit: queue targets to wake, the outbox.
  struct Staged {
    std::set<std::string> targets;
    bool outbox = false;
    bool held = false;  // held messages changed (the held_mt gauge)
    void merge(const Staged& other) {
      targets.insert(other.targets.begin(), other.targets.end());
      outbox = outbox || other.outbox;
      held = held || other.held;
    }
  };
  /// Stages an MO's or a consent change's follow-ups inside a mutation: replies and released MTs
  /// in the outbox, in order; released held MOs for the tenant and failed-MT receipts in the
  /// delivery queue.
  Staged stage_follow_up(store::Batch& batch, const config::Config& config,
                         const config::Program& program, const std::string& number,
                         const std::string& msisdn, const policy::MoOutcome& outcome);
  /// Cluster mode (docs/cluster.md): consent changes of these (program, msisdn) were committed
  /// by another node and are now in this replica; the MTs held here for them follow (released by
  /// an opt-in, in their original order; failed by an opt-out), each subscriber in one synced
  /// mutation. Any thread; the work runs on the sweeper's strand.
  void follow_replicated(std::vector<std::pair<std::string, std::string>> subscribers);
  /// A held MT's failure receipt (stat, error) for its account, when it asked for one.
  void stage_failed_receipt(store::Batch& batch, const store::HeldMessage& held,
                            std::string_view stat, std::uint32_t error, Staged& staged);
  /// After the staging mutation committed: wakes the lanes and the outbox, updates gauges.
  void after_staged(const Staged& staged);

  /// Disclaimer mode: at most one disclaimer in flight per subscriber and program, so that MTs
  /// sent together to a new subscriber get one disclaimer. claim_disclaimer() is true when the
  /// caller now sends it (and must release_disclaimer() afterwards); false while another MT's
  /// disclaimer is on its way: wait until !disclaimer_in_flight(), then decide again. Thread-safe.
  bool claim_disclaimer(const std::string& key);
  void release_disclaimer(const std::string& key);
  bool disclaimer_in_flight(const std::string& key);

  /// Forwards a held MT whose hold ended, after deciding it again now (the outbox calls it):
  /// retry when the carrier could not be reached, done otherwise.
  asio::awaitable<OutboxResult> forward_released(std::shared_ptr<const config::Config> config,
                                                 store::HeldMessage held);

 private:
  policy::MtDecision redecide(const config::Config& config, const store::HeldMessage& held,
                              TimePoint now);
  /// The receipt of a held MT that will not be sent (when its account asked): queued, synced.
  asio::awaitable<void> fail_held(const store::HeldMessage& held, std::string_view stat,
                                  std::uint32_t error);
  asio::awaitable<void> sweep_loop(std::chrono::milliseconds interval);
  asio::awaitable<void> follow_held(std::vector<std::pair<std::string, std::string>> subscribers);
  asio::awaitable<void> sweep_once();
  Services& services_;
  Outbound outbound_;
  std::shared_ptr<OutboxSender> outbox_;
  Strand strand_;
  std::mutex disclaimers_mu_;
  std::set<std::string> disclaimers_;  // program '\n' msisdn of the disclaimers in flight
  std::atomic<bool> stopped_{false};
};

class ConsentChain final : public PolicyChain {
 public:
  ConsentChain(std::shared_ptr<const config::Config> config, ConsentServices& consent);
  asio::awaitable<MtVerdict> on_mt(MtRequest& request) override;
  asio::awaitable<MoVerdict> on_mo(MoRequest& request) override;
  void on_proxy_receipt(const store::MessageRoute& route, std::string_view receipt_text) override;

 private:
  struct Destination;
  std::optional<MtVerdict> classify(MtRequest& request, std::uint8_t src_ton, std::uint8_t src_npi,
                                    const std::string& src, std::uint8_t dst_ton,
                                    std::uint8_t dst_npi, const std::string& dst,
                                    const std::string& service_type, const proto::TlvList& tlvs,
                                    Destination& out);
  policy::MtDecision decide_now(const Destination& dest, TimePoint now,
                                const policy::TimeZone& zone);
  asio::awaitable<MtVerdict> decide_one(MtRequest& request, Destination& dest);
  /// submit_sm and data_sm (one destination, the same fields): classify, then decide_one.
  template <typename SingleSm>
  asio::awaitable<MtVerdict> decide_single(MtRequest& request, const SingleSm& sm);
  asio::awaitable<MtVerdict> refusal(MtRequest& request, const Destination& dest,
                                     policy::Reason reason, std::uint32_t status);
  void count(const std::string& program, std::string_view decision, policy::Reason reason);

  std::shared_ptr<const config::Config> config_;
  ConsentServices& consent_;
  Services& services_;
  std::unique_ptr<policy::Programs> programs_;
};

}  // namespace smppguard::session
