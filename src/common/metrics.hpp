#pragma once
// Prometheus metrics of SPEC section 8, on prometheus-cpp core. Names and label sets are fixed
// here and nowhere else. Thread-safe: families are resolved once per label set and cached, so the
// hot path is a shared-lock map lookup (with a per-thread key buffer: no allocation) plus an
// atomic add.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace smppguard::metrics {

enum class Side : std::uint8_t { esme, upstream };
enum class Direction : std::uint8_t { in, out };

std::string_view to_string(Side s);
std::string_view to_string(Direction d);

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  /// smppguard_pdus_total{side,direction,command,status}: every PDU read or written.
  void pdu(Side side, Direction dir, std::uint32_t command_id, std::uint32_t status);
  /// smppguard_mt_decisions_total{program,decision,reason}.
  void mt_decision(std::string_view program, std::string_view decision, std::string_view reason);
  /// smppguard_mo_total{program,kind}.
  void mo(std::string_view program, std::string_view kind);
  /// smppguard_consent_changes_total{program,to,source}.
  void consent_change(std::string_view program, std::string_view to, std::string_view source);
  /// smppguard_proxy_messages_total{program,template}.
  void proxy_message(std::string_view program, std::string_view template_name);
  /// smppguard_store_errors_total{op}.
  void store_error(std::string_view op);
  /// smppguard_delivery_dropped_total{kind,reason}: queued MOs/receipts given up (expired, tries).
  void delivery_dropped(std::string_view kind, std::string_view reason);
  /// smppguard_receipts_unmatched_total{upstream}: receipts whose id maps to no known message.
  void receipt_unmatched(std::string_view upstream);
  /// smppguard_receipts_early_total{upstream}: receipts read before their route was written,
  /// which waited for it.
  void receipt_waited(std::string_view upstream);
  /// smppguard_accept_errors_total{listener,error}: failed accepts (e.g. out of descriptors).
  void accept_error(std::string_view listener, std::string_view error);
  /// smppguard_pdu_deadline_closes_total{side}: connections closed because a started PDU did not
  /// complete within its deadline (a slow or stalled peer).
  void pdu_deadline_close(Side side);

  /// smppguard_binds{side,name}: bound sessions per account (esme) or upstream.
  prometheus::Gauge& binds(Side side, std::string_view name);
  /// smppguard_upstream_up{upstream}: 1 when at least one bind of the upstream is up.
  prometheus::Gauge& upstream_up(std::string_view upstream);
  /// smppguard_audit_head_seq: the seq of the newest audit entry (anchor its hash elsewhere:
  /// GET /v1/audit/head).
  prometheus::Gauge& audit_head_seq() { return *audit_head_seq_; }
  /// Cluster mode: registers smppguard_cluster_lag_seconds (this node's replication lag) and
  /// smppguard_cluster_up (1 while its PostgreSQL link is up). Once, at start.
  void enable_cluster();
  /// Only after enable_cluster().
  prometheus::Gauge& cluster_lag_seconds() { return *cluster_lag_; }
  prometheus::Gauge& cluster_up() { return *cluster_up_; }
  /// smppguard_window_in_flight{side,name}.
  prometheus::Gauge& window_in_flight(Side side, std::string_view name);
  /// smppguard_queue_depth{queue="held_mt|mo|receipt"}.
  prometheus::Gauge& queue_depth(std::string_view queue);

  /// smppguard_policy_decision_seconds and smppguard_added_latency_seconds.
  prometheus::Histogram& policy_decision_seconds() { return *policy_decision_; }
  prometheus::Histogram& added_latency_seconds() { return *added_latency_; }

  /// The Prometheus text exposition format of every metric.
  std::string serialize() const;
  prometheus::Registry& registry() { return *registry_; }

 private:
  /// The child of `family` for `key`; `make_labels()` builds its labels on the first use only,
  /// so that a cache hit allocates nothing.
  template <typename T, typename MakeLabels>
  T& cached(prometheus::Family<T>& family, std::string_view key, MakeLabels&& make_labels);

  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* pdus_;
  prometheus::Family<prometheus::Counter>* mt_decisions_;
  prometheus::Family<prometheus::Counter>* mo_;
  prometheus::Family<prometheus::Counter>* consent_changes_;
  prometheus::Family<prometheus::Counter>* proxy_messages_;
  prometheus::Family<prometheus::Counter>* store_errors_;
  prometheus::Family<prometheus::Counter>* delivery_dropped_;
  prometheus::Family<prometheus::Counter>* receipts_unmatched_;
  prometheus::Family<prometheus::Counter>* receipts_early_;
  prometheus::Family<prometheus::Counter>* accept_errors_;
  prometheus::Family<prometheus::Counter>* pdu_deadline_closes_;
  prometheus::Family<prometheus::Gauge>* binds_;
  prometheus::Family<prometheus::Gauge>* upstream_up_;
  prometheus::Gauge* audit_head_seq_;
  prometheus::Gauge* cluster_lag_ = nullptr;
  prometheus::Gauge* cluster_up_ = nullptr;
  prometheus::Family<prometheus::Gauge>* window_;
  prometheus::Family<prometheus::Gauge>* queue_depth_;
  prometheus::Histogram* policy_decision_;
  prometheus::Histogram* added_latency_;

  mutable std::shared_mutex mu_;
  std::unordered_map<std::uint64_t, prometheus::Counter*> pdu_cache_;
  std::unordered_map<std::string, void*, KeyHash, std::equal_to<>> cache_;
};

}  // namespace smppguard::metrics
