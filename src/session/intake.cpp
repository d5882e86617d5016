#include "session/intake.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/encode.hpp>

#include "common/log.hpp"
#include "policy/numbers.hpp"
#include "session/delivery.hpp"
#include "session/message_ids.hpp"
#include "session/registry.hpp"
#include "session/route_gate.hpp"
#include "session/store_ops.hpp"

namespace smppguard::session {

namespace st = proto::status;

asio::awaitable<std::uint32_t> Intake::handle(const config::Upstream& upstream, proto::Pdu pdu) {
  std::uint8_t esm_class = 0;
  if (const auto* d = pdu.as<proto::SubmitSm>()) esm_class = d->esm_class;
  if (const auto* d = pdu.as<proto::DataSm>()) esm_class = d->esm_class;
  if (is_receipt(esm_class)) co_return co_await handle_receipt(upstream, std::move(pdu));
  co_return co_await handle_mo(upstream, std::move(pdu));
}

Result<std::optional<store::MessageRoute>> Intake::find_route(
    const config::Upstream& upstream, const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    auto found = services_.store.find_route_by_upstream_id(upstream.name, key);
    if (!found || *found) return found;
  }
  return std::optional<store::MessageRoute>{};
}

asio::awaitable<bool> Intake::wait_for_route(const config::Upstream& upstream,
                                             const std::vector<std::string>& keys) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  const auto give_up = std::chrono::steady_clock::now() + upstream.response_timeout +
                       std::chrono::seconds(kRouteWaitSeconds);
  while (services_.routes.pending(upstream.name, keys)) {
    if (std::chrono::steady_clock::now() >= give_up) co_return false;
    pause.expires_after(std::chrono::milliseconds(2));
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return true;
}

asio::awaitable<std::uint32_t> Intake::handle_receipt(const config::Upstream& upstream,
                                                      proto::Pdu pdu) {
  std::vector<std::string> ids;
  if (const auto* d = pdu.as<proto::SubmitSm>()) ids = receipt_ids(*d);
  if (const auto* d = pdu.as<proto::DataSm>()) ids = receipt_ids(*d);
  std::vector<std::string> keys;
  for (const auto& id : ids) {
    for (auto& key : receipt_keys(id, upstream.message_id_format)) keys.push_back(std::move(key));
  }

  auto found = find_route(upstream, keys);
  if (found && !*found) {
    // Missed: the route may be on its way to the store (its submit_sm_resp was read). The
    // lookup is made again in any case: a route written, and its ticket settled, between the
    // miss and the look at the gate is found then.
    if (services_.routes.pending(upstream.name, keys)) {
      services_.metrics.receipt_waited(upstream.name);
      if (!co_await wait_for_route(upstream, keys)) {
        SG_LOG(warn, "receipt_route_late").kv("upstream", upstream.name).kv("id", ids.front());
        co_return st::kEsmeRxTAppn;  // may still match: the carrier sends it again
      }
    }
    found = find_route(upstream, keys);
  }
  if (!found) {
    // Cannot read the map now: a temporary error makes the carrier send the receipt again.
    services_.metrics.store_error("read_route");
    co_return st::kEsmeRxTAppn;
  }
  std::optional<store::MessageRoute> route = std::move(*found);
  if (!route) {
    services_.metrics.receipt_unmatched(upstream.name);
    SG_LOG(warn, "receipt_unmatched")
        .kv("upstream", upstream.name)
        .kv("id", ids.empty() ? std::string("none") : ids.front());
    // Cluster mode: the MT may have gone out through another node, whose routes this node does
    // not hold (not yet resolved through the cluster, docs/cluster.md): ESME_RMSGQFUL so that the
    // carrier sends it again, perhaps over that node's bind (SPEC section 9). Alone, nothing can
    // route it; keeping it would not help.
    if (services_.runtime.load()->config->cluster) co_return st::kEsmeRmsgqful;
    co_return st::kEsmeRok;
  }
  if (route->account.empty()) {
    // A receipt for the proxy's own message (confirmation, HELP answer, ...): consumed here.
    std::string_view text;
    if (const auto* d = pdu.as<proto::SubmitSm>()) text = d->short_message;
    SG_LOG(info, "proxy_receipt")
        .kv("upstream", upstream.name)
        .kv("message_id", route->proxy_id)
        .kv("program", route->program);
    services_.runtime.load()->chain->on_proxy_receipt(*route, text);
    co_return st::kEsmeRok;
  }
  if (auto* d = pdu.as<proto::SubmitSm>()) rewrite_receipt(*d, route->proxy_id);
  if (auto* d = pdu.as<proto::DataSm>()) rewrite_receipt(*d, route->proxy_id);
  co_return co_await enqueue(SessionRegistry::account_target(route->account),
                             store::DeliveryKind::receipt, pdu);
}

asio::awaitable<std::uint32_t> Intake::handle_mo(const config::Upstream& upstream, proto::Pdu pdu) {
  auto rt = services_.runtime.load();
  const auto& cfg = *rt->config;
  std::uint8_t src_ton = 0, src_npi = 0, dst_ton = 0, dst_npi = 0;
  std::string src, dst;
  if (const auto* d = pdu.as<proto::SubmitSm>()) {
    src_ton = d->source_addr_ton, src_npi = d->source_addr_npi, src = d->source_addr;
    dst_ton = d->dest_addr_ton, dst_npi = d->dest_addr_npi, dst = d->destination_addr;
  } else if (const auto* d = pdu.as<proto::DataSm>()) {
    src_ton = d->source_addr_ton, src_npi = d->source_addr_npi, src = d->source_addr;
    dst_ton = d->dest_addr_ton, dst_npi = d->dest_addr_npi, dst = d->destination_addr;
  }
  const auto number = policy::normalize_address(dst_ton, dst_npi, dst, cfg.defaults.default_country,
                                                policy::AddressRole::destination);
  const config::Program* program = number ? cfg.program_for_number(number->value) : nullptr;
  if (program == nullptr) {
    SG_LOG(warn, "mo_unknown_number").kv("upstream", upstream.name).kv("number", dst);
    co_return st::kEsmeRinvdstadr;
  }
  const auto subscriber = policy::normalize_address(
      src_ton, src_npi, src, cfg.defaults.default_country, policy::AddressRole::source);
  // The queue item is built first, so that the chain can queue the MO in the same synced
  // mutation as its decision (one fsync per MO). An MO that cannot be encoded is decided all the
  // same and then answered with a system error, as before.
  auto item =
      make_item(SessionRegistry::tenant_target(program->tenant), store::DeliveryKind::mo, pdu);
  MoRequest request{cfg,
                    *program,
                    subscriber ? subscriber->value : src,
                    number->value,
                    pdu,
                    upstream.name,
                    item ? &*item : nullptr};
  const MoVerdict verdict = co_await rt->chain->on_mo(request);
  if (!verdict.forward) co_return verdict.status;
  if (!item) co_return st::kEsmeRsyserr;
  if (verdict.queued) {
    queued(item->target, item->kind);
    co_return st::kEsmeRok;
  }
  co_return co_await commit_item(std::move(*item));
}

std::optional<store::DeliveryItem> Intake::make_item(std::string target, store::DeliveryKind kind,
                                                     const proto::Pdu& pdu) {
  proto::Pdu copy = pdu;
  copy.sequence_number = 0;  // patched when sent
  auto bytes = proto::encode(copy);
  if (!bytes) return std::nullopt;
  return delivery_item(std::move(target), kind, std::string(bytes->begin(), bytes->end()),
                       to_unix_ms(services_.clock.now()));
}

store::DeliveryItem Intake::delivery_item(std::string target, store::DeliveryKind kind,
                                          std::string pdu, std::int64_t now_ms) {
  store::DeliveryItem item;
  item.target = std::move(target);
  item.kind = kind;
  item.pdu = std::move(pdu);
  item.created_at_ms = now_ms;
  item.expires_at_ms = now_ms + std::chrono::duration_cast<Millis>(kDeliveryTtl).count();
  item.next_attempt_at_ms = now_ms;
  return item;
}

asio::awaitable<std::uint32_t> Intake::enqueue(std::string target, store::DeliveryKind kind,
                                               const proto::Pdu& pdu) {
  auto item = make_item(std::move(target), kind, pdu);
  if (!item) co_return st::kEsmeRsyserr;
  co_return co_await commit_item(std::move(*item));
}

asio::awaitable<std::uint32_t> Intake::commit_item(store::DeliveryItem item) {
  const std::string target = item.target;
  const auto kind = item.kind;
  // A named mutation, not a lambda temporary inside the co_await expression: GCC 12 copies such
  // temporaries bitwise into the coroutine frame (their strings then free frame memory).
  store::Mutation mutation = [item = std::move(item)](store::Batch& b) mutable {
    b.enqueue_delivery(std::move(item));
  };
  const auto ec = co_await commit(services_.store, std::move(mutation), true);
  if (ec) {
    services_.metrics.store_error("enqueue");
    SG_LOG(error, "enqueue_failed").kv("target", target).kv("error", ec.message());
    co_return st::kEsmeRxTAppn;  // the carrier keeps it and tries again
  }
  queued(target, kind);
  co_return st::kEsmeRok;
}

void Intake::queued(const std::string& target, store::DeliveryKind kind) {
  services_.metrics.queue_depth(kind == store::DeliveryKind::mo ? "mo" : "receipt")
      .Set(static_cast<double>(services_.store.queued_deliveries(kind)));
  services_.delivery.notify(target);
}

}  // namespace smppguard::session
