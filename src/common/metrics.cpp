#include "common/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <cstdio>
#include <mutex>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/status.hpp>

namespace smppguard::metrics {
namespace {

/// The cache key of a label set: the family's address, then each label value. Built in a
/// per-thread buffer, so that looking up an existing child allocates nothing; valid until the next
/// call on the same thread.
std::string_view join_key(const void* family, std::initializer_list<std::string_view> parts) {
  thread_local std::string key;
  key.clear();
  key.append(reinterpret_cast<const char*>(&family), sizeof family);
  for (auto p : parts) {
    key.append(p);
    key.push_back('\x1f');
  }
  return key;
}

prometheus::Histogram::BucketBoundaries exponential(double start, double factor, int count) {
  prometheus::Histogram::BucketBoundaries b;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) b.push_back(v);
  return b;
}

}  // namespace

std::string_view to_string(Side s) { return s == Side::esme ? "esme" : "upstream"; }
std::string_view to_string(Direction d) { return d == Direction::in ? "in" : "out"; }

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  pdus_ = &prometheus::BuildCounter()
               .Name("smppguard_pdus_total")
               .Help("SMPP PDUs by side (esme|upstream), direction, command and command_status.")
               .Register(r);
  mt_decisions_ = &prometheus::BuildCounter()
                       .Name("smppguard_mt_decisions_total")
                       .Help("MT decisions by program, decision and reason.")
                       .Register(r);
  mo_ = &prometheus::BuildCounter()
             .Name("smppguard_mo_total")
             .Help("MO messages by program and keyword kind.")
             .Register(r);
  consent_changes_ = &prometheus::BuildCounter()
                          .Name("smppguard_consent_changes_total")
                          .Help("Consent state changes by program, new state and source.")
                          .Register(r);
  proxy_messages_ = &prometheus::BuildCounter()
                         .Name("smppguard_proxy_messages_total")
                         .Help("Messages the proxy itself sent, by program and template.")
                         .Register(r);
  store_errors_ = &prometheus::BuildCounter()
                       .Name("smppguard_store_errors_total")
                       .Help("Consent store errors by operation.")
                       .Register(r);
  delivery_dropped_ = &prometheus::BuildCounter()
                           .Name("smppguard_delivery_dropped_total")
                           .Help("Queued MOs and receipts given up, by kind and reason.")
                           .Register(r);
  receipts_unmatched_ = &prometheus::BuildCounter()
                             .Name("smppguard_receipts_unmatched_total")
                             .Help("Delivery receipts whose message id matched no known message.")
                             .Register(r);
  receipts_early_ = &prometheus::BuildCounter()
                         .Name("smppguard_receipts_early_total")
                         .Help("Delivery receipts read before their route was written (they wait).")
                         .Register(r);
  accept_errors_ = &prometheus::BuildCounter()
                        .Name("smppguard_accept_errors_total")
                        .Help("Failed accepts by listener and error (accepting pauses after one).")
                        .Register(r);
  pdu_deadline_closes_ =
      &prometheus::BuildCounter()
           .Name("smppguard_pdu_deadline_closes_total")
           .Help("Connections closed because a started PDU did not complete in time.")
           .Register(r);
  binds_ = &prometheus::BuildGauge()
                .Name("smppguard_binds")
                .Help("Bound SMPP sessions by side and account or upstream name.")
                .Register(r);
  upstream_up_ = &prometheus::BuildGauge()
                      .Name("smppguard_upstream_up")
                      .Help("1 when at least one bind of the upstream is up.")
                      .Register(r);
  audit_head_seq_ = &prometheus::BuildGauge()
                         .Name("smppguard_audit_head_seq")
                         .Help("Seq of the newest audit entry; its hash is GET /v1/audit/head.")
                         .Register(r)
                         .Add({});
  window_ = &prometheus::BuildGauge()
                 .Name("smppguard_window_in_flight")
                 .Help("Requests in flight (sent, not yet answered) by side and name.")
                 .Register(r);
  queue_depth_ = &prometheus::BuildGauge()
                      .Name("smppguard_queue_depth")
                      .Help("Durable queue depth: held MTs, MOs and receipts waiting for an ESME.")
                      .Register(r);
  policy_decision_ = &prometheus::BuildHistogram()
                          .Name("smppguard_policy_decision_seconds")
                          .Help("Time to decide one MT or MO against the consent store.")
                          .Register(r)
                          .Add({}, exponential(1e-6, 2.5, 14));
  added_latency_ = &prometheus::BuildHistogram()
                        .Name("smppguard_added_latency_seconds")
                        .Help("Time a PDU spends inside the proxy, upstream wait excluded.")
                        .Register(r)
                        .Add({}, exponential(1e-5, 2.5, 14));
  for (auto q : {"held_mt", "mo", "receipt", "outbox"}) queue_depth(q);
  // The store operations whose failures are counted (label op), exported at 0 from the start so
  // that rate() and alerts see each series before its first error. Other ops appear when used.
  for (std::string_view op :
       {"audit", "consent_api", "consent_import", "disclaimer", "enqueue", "held", "hold", "mo",
        "read_audit", "read_consent", "read_consents", "read_freq", "read_held", "read_queue",
        "read_route", "write_route"}) {
    cached(*store_errors_, join_key(store_errors_, {op}), [&] {
      return prometheus::Labels{{"op", std::string(op)}};
    });
  }
}

template <typename T, typename MakeLabels>
T& Metrics::cached(prometheus::Family<T>& family, std::string_view key, MakeLabels&& make_labels) {
  {
    std::shared_lock lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end()) return *static_cast<T*>(it->second);
  }
  std::unique_lock lock(mu_);
  auto& slot = cache_.try_emplace(std::string(key), nullptr).first->second;
  if (slot == nullptr) slot = &family.Add(make_labels());
  return *static_cast<T*>(slot);
}

namespace {

// The spec's name for standard statuses. The vendor range 0x400-0x4FF (smppguard's own refusals,
// an SMSC's vendor codes) is spelled in hex, so that opted_out (0x400) and no_consent (0x401) stay
// apart on a dashboard; the range bounds the label set to 256 values.
std::string status_label(std::uint32_t status) {
  if (!proto::is_vendor_status(status)) return std::string(proto::status_name(status));
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08X", status);
  return hex;
}
}  // namespace

void Metrics::pdu(Side side, Direction dir, std::uint32_t command_id, std::uint32_t status) {
  const std::uint64_t key =
      (static_cast<std::uint64_t>(command_id) << 32) ^ (static_cast<std::uint64_t>(status) << 2) ^
      (static_cast<std::uint64_t>(side) << 1) ^ static_cast<std::uint64_t>(dir);
  {
    std::shared_lock lock(mu_);
    if (auto it = pdu_cache_.find(key); it != pdu_cache_.end()) {
      it->second->Increment();
      return;
    }
  }
  std::unique_lock lock(mu_);
  auto& slot = pdu_cache_[key];
  if (slot == nullptr) {
    slot = &pdus_->Add({{"side", std::string(to_string(side))},
                        {"direction", std::string(to_string(dir))},
                        {"command", std::string(proto::command_name(command_id))},
                        {"status", status_label(status)}});
  }
  slot->Increment();
}

void Metrics::mt_decision(std::string_view program, std::string_view decision,
                          std::string_view reason) {
  cached(*mt_decisions_, join_key(mt_decisions_, {program, decision, reason}), [&] {
    return prometheus::Labels{{"program", std::string(program)},
                              {"decision", std::string(decision)},
                              {"reason", std::string(reason)}};
  }).Increment();
}

void Metrics::mo(std::string_view program, std::string_view kind) {
  cached(*mo_, join_key(mo_, {program, kind}), [&] {
    return prometheus::Labels{{"program", std::string(program)}, {"kind", std::string(kind)}};
  }).Increment();
}

void Metrics::consent_change(std::string_view program, std::string_view to,
                             std::string_view source) {
  cached(*consent_changes_, join_key(consent_changes_, {program, to, source}), [&] {
    return prometheus::Labels{{"program", std::string(program)},
                              {"to", std::string(to)},
                              {"source", std::string(source)}};
  }).Increment();
}

void Metrics::proxy_message(std::string_view program, std::string_view template_name) {
  cached(*proxy_messages_, join_key(proxy_messages_, {program, template_name}), [&] {
    return prometheus::Labels{{"program", std::string(program)},
                              {"template", std::string(template_name)}};
  }).Increment();
}

void Metrics::store_error(std::string_view op) {
  cached(*store_errors_, join_key(store_errors_, {op}), [&] {
    return prometheus::Labels{{"op", std::string(op)}};
  }).Increment();
}

void Metrics::delivery_dropped(std::string_view kind, std::string_view reason) {
  cached(*delivery_dropped_, join_key(delivery_dropped_, {kind, reason}), [&] {
    return prometheus::Labels{{"kind", std::string(kind)}, {"reason", std::string(reason)}};
  }).Increment();
}

void Metrics::receipt_unmatched(std::string_view upstream) {
  cached(*receipts_unmatched_, join_key(receipts_unmatched_, {upstream}), [&] {
    return prometheus::Labels{{"upstream", std::string(upstream)}};
  }).Increment();
}

void Metrics::receipt_waited(std::string_view upstream) {
  cached(*receipts_early_, join_key(receipts_early_, {upstream}), [&] {
    return prometheus::Labels{{"upstream", std::string(upstream)}};
  }).Increment();
}

void Metrics::accept_error(std::string_view listener, std::string_view error) {
  cached(*accept_errors_, join_key(accept_errors_, {listener, error}), [&] {
    return prometheus::Labels{{"listener", std::string(listener)}, {"error", std::string(error)}};
  }).Increment();
}

void Metrics::pdu_deadline_close(Side side) {
  cached(*pdu_deadline_closes_, join_key(pdu_deadline_closes_, {to_string(side)}), [&] {
    return prometheus::Labels{{"side", std::string(to_string(side))}};
  }).Increment();
}

prometheus::Gauge& Metrics::binds(Side side, std::string_view name) {
  return cached(*binds_, join_key(binds_, {to_string(side), name}), [&] {
    return prometheus::Labels{{"side", std::string(to_string(side))}, {"name", std::string(name)}};
  });
}

prometheus::Gauge& Metrics::upstream_up(std::string_view upstream) {
  return cached(*upstream_up_, join_key(upstream_up_, {upstream}), [&] {
    return prometheus::Labels{{"upstream", std::string(upstream)}};
  });
}

prometheus::Gauge& Metrics::window_in_flight(Side side, std::string_view name) {
  return cached(*window_, join_key(window_, {to_string(side), name}), [&] {
    return prometheus::Labels{{"side", std::string(to_string(side))}, {"name", std::string(name)}};
  });
}

prometheus::Gauge& Metrics::queue_depth(std::string_view queue) {
  return cached(*queue_depth_, join_key(queue_depth_, {queue}), [&] {
    return prometheus::Labels{{"queue", std::string(queue)}};
  });
}

void Metrics::enable_cluster() {
  if (cluster_lag_ != nullptr) return;
  cluster_lag_ = &prometheus::BuildGauge()
                      .Name("smppguard_cluster_lag_seconds")
                      .Help(
                          "Age of the oldest cluster commit this node has not applied; 0 "
                          "when caught up.")
                      .Register(*registry_)
                      .Add({});
  cluster_up_ = &prometheus::BuildGauge()
                     .Name("smppguard_cluster_up")
                     .Help("1 while this node's PostgreSQL link is up.")
                     .Register(*registry_)
                     .Add({});
}

std::string Metrics::serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace smppguard::metrics
