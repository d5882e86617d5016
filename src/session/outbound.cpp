#include "session/outbound.hpp"

#include <smppguard/proto/decode.hpp>
#include <smppguard/proto/encode.hpp>

#include "common/log.hpp"
#include "policy/engine.hpp"
#include "session/delivery.hpp"
#include "session/intake.hpp"
#include "session/message_ids.hpp"
#include "session/registry.hpp"
#include "session/store_ops.hpp"
#include "session/upstream.hpp"

namespace smppguard::session {

namespace st = proto::status;

namespace {

// Forwards one frame to the upstream that routes `msisdn`.
asio::awaitable<ForwardResult> forward_to(Services& services, const config::Config& config,
                                          const std::string& msisdn,
                                          std::vector<std::uint8_t> frame) {
  const auto* upstream = config.upstream_for(msisdn);
  if (upstream == nullptr) {
    co_return ForwardResult{.error = make_error_code(SessionErrc::no_upstream)};
  }
  std::string name = upstream->name;
  co_return co_await async_callback<ForwardResult>(
      [&](auto done) { services.upstreams.forward(name, std::move(frame), std::move(done)); });
}

// The carrier's command_status of a forwarded frame's response (ESME_RSYSERR when unreadable).
std::uint32_t response_status(const ForwardResult& r) {
  const auto header = proto::peek_header(r.frame);
  return header ? header->command_status : st::kEsmeRsyserr;
}

std::optional<std::string> accepted_id(const ForwardResult& r) {
  if (r.error) return std::nullopt;
  auto pdu = proto::decode(r.frame);
  if (!pdu || pdu->command_status != st::kEsmeRok) return std::nullopt;
  if (const auto* resp = pdu->as<proto::MessageIdResp>()) return resp->message_id;
  return std::nullopt;
}

}  // namespace

asio::awaitable<Outbound::Sent> Outbound::send_template(const config::Config& config,
                                                        const config::Program& program,
                                                        std::string from_number, std::string msisdn,
                                                        std::string template_name,
                                                        std::string text) {
  const auto parts = policy::build_proxy_message(from_number, msisdn, text, reference_++);
  const auto now = services_.clock.now();
  std::vector<store::MessageRoute> routes;
  routes.reserve(parts.size());
  std::vector<std::shared_ptr<RouteGate::Ticket>> tickets;  // receipts wait until routes commit
  Sent outcome = parts.empty() ? Sent::refused : Sent::accepted;
  for (const auto& part : parts) {
    auto frame = proto::encode(part);
    if (!frame) {
      outcome = Sent::refused;
      break;
    }
    auto result = co_await forward_to(services_, config, msisdn, std::move(*frame));
    tickets.push_back(std::move(result.route_ticket));
    auto id = accepted_id(result);
    if (!id) {
      outcome = result.error || proto::is_temporary_status(response_status(result))
                    ? Sent::transient
                    : Sent::refused;
      SG_LOG(warn, "proxy_message_failed")
          .kv("program", program.id)
          .kv("template", template_name)
          .kv("error", result.error ? result.error.message() : std::string("refused upstream"));
      break;
    }
    const auto* up = config.find_upstream(result.upstream);
    store::MessageRoute route;
    route.proxy_id = services_.store.next_message_id();
    route.upstream = result.upstream;
    route.upstream_id = *id;
    route.upstream_key =
        normalize_message_id(*id, up ? up->message_id_format : config::MessageIdFormat::as_is)
            .value_or(*id);
    route.program = program.id;
    route.msisdn = msisdn;
    route.template_name = template_name;
    route.created_at_ms = to_unix_ms(now);
    route.expires_at_ms = route.created_at_ms + config.store.message_map_ttl.count();
    routes.push_back(std::move(route));
  }
  // The send is recorded at its real send time (the opt-out confirmation's time is checked
  // against the STOP's), together with the routes that let its receipts be audited.
  const auto sent_at = services_.clock.now();
  const std::string first_id = routes.empty() ? std::string() : routes.front().proxy_id;
  const bool ok = outcome == Sent::accepted;
  store::Mutation record = [routes = std::move(routes), &program, msisdn, template_name, first_id,
                            sent_at, ok](store::Batch& b) mutable {
    for (const auto& r : routes) b.put_message_route(r);
    if (ok) policy::record_message_sent(b, program, msisdn, template_name, first_id, sent_at);
  };
  const auto ec = co_await commit(services_.store, std::move(record), false);
  if (ec) services_.metrics.store_error("audit");
  if (ok) services_.metrics.proxy_message(program.id, template_name);
  co_return outcome;
}

asio::awaitable<Outbound::Released> Outbound::release(const config::Config& config,
                                                      const store::HeldMessage& held) {
  std::vector<std::uint8_t> frame(held.pdu.begin(), held.pdu.end());
  auto result = co_await forward_to(services_, config, held.msisdn, std::move(frame));
  Released out;
  if (result.error) {
    out.transient = true;
    out.status = st::kEsmeRsyserr;
    co_return out;
  }
  out.status = response_status(result);
  auto id = accepted_id(result);
  if (!id) {
    out.transient = proto::is_temporary_status(out.status);
    co_return out;
  }
  out.accepted = true;
  const auto* up = config.find_upstream(result.upstream);
  store::MessageRoute route;
  route.proxy_id = held.proxy_id;
  route.account = held.account;
  route.upstream = result.upstream;
  route.upstream_id = *id;
  route.upstream_key =
      normalize_message_id(*id, up ? up->message_id_format : config::MessageIdFormat::as_is)
          .value_or(*id);
  route.program = held.program;
  route.msisdn = held.msisdn;
  route.created_at_ms = to_unix_ms(services_.clock.now());
  route.expires_at_ms = route.created_at_ms + config.store.message_map_ttl.count();
  store::Mutation put = [route](store::Batch& b) { b.put_message_route(route); };
  const auto ec = co_await commit(services_.store, std::move(put), false);
  if (ec) services_.metrics.store_error("write_route");
  co_return out;
}

asio::awaitable<bool> Outbound::queue_receipt(const std::string& account, proto::Pdu receipt) {
  receipt.sequence_number = 0;
  auto bytes = proto::encode(receipt);
  if (!bytes) co_return false;
  co_return co_await enqueue(SessionRegistry::account_target(account), store::DeliveryKind::receipt,
                             std::string(bytes->begin(), bytes->end()));
}

asio::awaitable<bool> Outbound::enqueue(std::string target, store::DeliveryKind kind,
                                        const std::string& pdu) {
  auto item = Intake::delivery_item(target, kind, pdu, to_unix_ms(services_.clock.now()));
  store::Mutation add = [item = std::move(item)](store::Batch& b) mutable {
    b.enqueue_delivery(std::move(item));
  };
  if (co_await commit(services_.store, std::move(add), true)) {
    services_.metrics.store_error("enqueue");
    co_return false;
  }
  services_.metrics.queue_depth(kind == store::DeliveryKind::mo ? "mo" : "receipt")
      .Set(static_cast<double>(services_.store.queued_deliveries(kind)));
  services_.delivery.notify(target);
  co_return true;
}

}  // namespace smppguard::session
