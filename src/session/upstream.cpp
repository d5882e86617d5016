#include "session/upstream.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/decode.hpp>

#include "common/log.hpp"
#include "session/intake.hpp"
#include "session/message_ids.hpp"

namespace smppguard::session {

namespace cmd = proto::cmd;
namespace st = proto::status;
using namespace asio::experimental::awaitable_operators;

std::string_view to_string(LinkRole role) {
  switch (role) {
    case LinkRole::transceiver:
      return "transceiver";
    case LinkRole::transmitter:
      return "transmitter";
    case LinkRole::receiver:
      return "receiver";
  }
  return "unknown";
}

// ---- UpstreamLink -------------------------------------------------------------------------------

UpstreamLink::UpstreamLink(tcp::socket socket, Options options, Services& services, Intake& intake,
                           const config::Upstream& upstream, std::function<void()> on_closed)
    : Connection(std::move(socket), options, services.metrics),
      services_(services),
      intake_(intake),
      upstream_(upstream),
      closed_callback_(std::move(on_closed)) {}

void UpstreamLink::on_closed() {
  bound_ = false;
  if (closed_callback_) closed_callback_();
}

void UpstreamLink::on_request(const proto::Header& header, std::span<const std::uint8_t> frame) {
  const auto id = header.command_id;
  if (!proto::is_known_command(id)) {
    send_pdu(proto::make_generic_nack(st::kEsmeRinvcmdid, header.sequence_number));
    return;
  }
  switch (id) {
    case cmd::kEnquireLink:
      send_pdu(proto::Pdu{.command_id = cmd::kEnquireLinkResp,
                          .sequence_number = header.sequence_number});
      return;
    case cmd::kUnbind:
      SG_LOG(info, "upstream_unbind").kv("upstream", upstream_.name).kv("peer", peer());
      send_pdu(
          proto::Pdu{.command_id = cmd::kUnbindResp, .sequence_number = header.sequence_number});
      bound_ = false;
      close_after_flush();
      return;
    case cmd::kAlertNotification:
      SG_LOG(info, "alert_notification").kv("upstream", upstream_.name);
      return;  // no response exists for alert_notification
    case cmd::kDeliverSm:
    case cmd::kDataSm: {
      if (!bound_) {
        send_pdu(proto::make_response(header, st::kEsmeRinvbndsts));
        return;
      }
      auto decoded = proto::decode(frame, proto::Limits{.max_pdu_size = options().max_pdu_size});
      if (!decoded) {
        SG_LOG(warn, "malformed_pdu")
            .kv("upstream", upstream_.name)
            .kv("command", proto::command_name(id))
            .kv("field", proto::field_name(decoded.error().field));
        send_pdu(proto::error_response(decoded.error()));
        return;
      }
      auto me = std::static_pointer_cast<UpstreamLink>(shared_from_this());
      asio::co_spawn(strand(), deliver_flow(me, std::move(*decoded)), asio::detached);
      return;
    }
    default:
      send_pdu(proto::make_response(header, st::kEsmeRinvbndsts));
      return;
  }
}

asio::awaitable<void> UpstreamLink::deliver_flow(std::shared_ptr<UpstreamLink> self,
                                                 proto::Pdu pdu) {
  const proto::Header request{0, pdu.command_id, 0, pdu.sequence_number};
  std::uint32_t status = st::kEsmeRxTAppn;
  try {
    status = co_await intake_.handle(upstream_, std::move(pdu));
  } catch (const std::exception& e) {
    SG_LOG(error, "intake_failed").kv("upstream", upstream_.name).kv("what", e.what());
  }
  if (!self->is_closed()) send_pdu(proto::make_response(request, status));
}

// ---- UpstreamSlot -------------------------------------------------------------------------------

UpstreamSlot::UpstreamSlot(Services& services, Intake& intake, UpstreamPool& pool, int index,
                           LinkRole role)
    : services_(services),
      intake_(intake),
      pool_(pool),
      index_(index),
      role_(role),
      strand_(asio::make_strand(services.io)),
      pace_timer_(strand_),
      link_closed_(strand_),
      stop_event_(strand_),
      backoff_(pool.config().reconnect.min, pool.config().reconnect.max) {
  since_ms_ = to_unix_ms(services_.clock.now());
}

void UpstreamSlot::start() {
  auto me = shared_from_this();
  asio::co_spawn(
      strand_, [me]() -> asio::awaitable<void> { co_await me->run(); },
      [me](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          SG_LOG(error, "upstream_slot_failed")
              .kv("upstream", me->pool_.config().name)
              .kv("what", ex.what());
        }
      });
}

void UpstreamSlot::stop() {
  auto me = shared_from_this();
  asio::post(strand_, [me] {
    if (me->stopped_.exchange(true)) return;
    me->stop_event_.notify();
    if (auto link = me->link_) {
      if (me->bound_) {
        me->set_state(false);
        link->set_bound(false);
        link->send_request(proto::Pdu{.command_id = cmd::kUnbind},
                           [link](const Response&) { link->close(); });
      } else {
        link->close();
      }
    }
    me->fail_queue(make_error_code(SessionErrc::shutting_down));
  });
}

void UpstreamSlot::set_state(bool bound) {
  if (bound_.exchange(bound) == bound) return;
  since_ms_ = to_unix_ms(services_.clock.now());
  pool_.slot_state_changed();
  SG_LOG(info, bound ? "upstream_bound" : "upstream_down")
      .kv("upstream", pool_.config().name)
      .kv("slot", index_)
      .kv("role", to_string(role_));
}

asio::awaitable<void> UpstreamSlot::run() {
  while (!stopped_) {
    const bool ok = co_await connect_and_bind();
    if (ok) {
      backoff_.reset();
      set_state(true);
      pump();
      co_await link_closed_.wait();
      set_state(false);
      link_.reset();
      // Requests not yet sent go to another bind of the upstream, if there is one.
      auto queued = std::move(queue_);
      queue_.clear();
      load_ -= static_cast<int>(queued.size());
      queued_ = 0;
      for (auto& q : queued) {
        if (stopped_) {
          q.done(ForwardResult{.error = make_error_code(SessionErrc::shutting_down)});
        } else {
          pool_.forward(std::move(q.frame), std::move(q.done));
        }
      }
    }
    if (stopped_) break;
    ++reconnects_;
    co_await stop_event_.wait(backoff_.next());
  }
}

asio::awaitable<bool> UpstreamSlot::connect_and_bind() {
  const auto& cfg = pool_.config();
  tcp::resolver resolver(strand_);
  auto [rec, endpoints] = co_await resolver.async_resolve(cfg.host, std::to_string(cfg.port),
                                                          asio::as_tuple(asio::use_awaitable));
  if (rec) {
    SG_LOG(warn, "upstream_resolve_failed").kv("upstream", cfg.name).kv("error", rec.message());
    co_return false;
  }
  tcp::socket socket(strand_);
  asio::steady_timer timer(strand_);
  timer.expires_after(cfg.response_timeout);
  auto result =
      co_await (asio::async_connect(socket, endpoints, asio::as_tuple(asio::use_awaitable)) ||
                timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (result.index() != 0 || std::get<0>(std::get<0>(result))) {
    SG_LOG(warn, "upstream_connect_failed")
        .kv("upstream", cfg.name)
        .kv("slot", index_)
        .kv("address", cfg.host + ":" + std::to_string(cfg.port))
        .kv("error", result.index() == 0 ? std::get<0>(std::get<0>(result)).message() : "timeout");
    co_return false;
  }
  if (stopped_) co_return false;

  Connection::Options options{.side = metrics::Side::upstream,
                              .max_pdu_size = services_.runtime.load()->config->listen.max_pdu_size,
                              .response_timeout = cfg.response_timeout,
                              .enquire_link = cfg.enquire_link};
  auto link = std::make_shared<UpstreamLink>(std::move(socket), options, services_, intake_, cfg,
                                             std::function<void()>{});
  // The link tells the slot when it closes; only the current link counts (an old one may close
  // late, after a failed bind).
  std::weak_ptr<UpstreamSlot> weak = shared_from_this();
  UpstreamLink* raw = link.get();
  link->set_closed_callback([weak, raw] {
    if (auto me = weak.lock(); me && me->link_.get() == raw) me->link_closed_.notify();
  });
  link_ = link;
  link_closed_.reset();
  asio::co_spawn(
      strand_, [link]() -> asio::awaitable<void> { co_await link->run(); }, asio::detached);

  proto::Bind bind{.system_id = cfg.system_id,
                   .password = cfg.password,
                   .system_type = cfg.system_type,
                   .interface_version = proto::kInterfaceVersion34};
  const std::uint32_t bind_id = role_ == LinkRole::transceiver   ? cmd::kBindTransceiver
                                : role_ == LinkRole::transmitter ? cmd::kBindTransmitter
                                                                 : cmd::kBindReceiver;
  struct BindOutcome {
    std::error_code error;
    std::uint32_t status = 0;
  };
  const auto outcome = co_await async_callback<BindOutcome>([&](auto done) {
    link->send_request(proto::Pdu{.command_id = bind_id, .body = bind},
                       [raw, done = std::move(done)](const Response& r) mutable {
                         // Bound before the link's reader hands on the next PDU: carriers
                         // flush held receipts and MOs right behind the bind_resp, often in
                         // the same read, before this coroutine resumes.
                         if (!r.error && r.header.command_status == st::kEsmeRok) {
                           raw->set_bound(true);
                         }
                         done(BindOutcome{r.error, r.error ? 0u : r.header.command_status});
                       });
  });
  if (outcome.error || outcome.status != st::kEsmeRok) {
    SG_LOG(warn, "upstream_bind_failed")
        .kv("upstream", cfg.name)
        .kv("slot", index_)
        .kv("role", to_string(role_))
        .kv("error", outcome.error ? outcome.error.message()
                                   : std::string(proto::status_name(outcome.status)));
    link->close();
    link_.reset();
    co_return false;
  }
  if (stopped_ || link->is_closed()) {
    link->set_bound(false);
    link->close();
    link_.reset();
    co_return false;
  }
  co_return true;
}

void UpstreamSlot::submit(std::vector<std::uint8_t> frame, ForwardHandler done) {
  auto me = shared_from_this();
  asio::post(strand_, [me, frame = std::move(frame), done = std::move(done)]() mutable {
    if (!me->bound_ || !me->link_ || me->stopped_) {
      done(ForwardResult{.error = make_error_code(SessionErrc::no_upstream)});
      return;
    }
    me->queue_.push_back(Outbound{std::move(frame), std::move(done)});
    ++me->queued_;
    ++me->load_;
    me->pump();
  });
}

void UpstreamSlot::pump() {
  const auto& cfg = pool_.config();
  while (!queue_.empty() && link_ && bound_ && !pace_armed_ && in_flight_ < cfg.window) {
    const auto wait = pool_.throughput().reserve(std::chrono::steady_clock::now());
    if (wait.count() > 0) {
      // Over the upstream's throughput: send the head when its token is due.
      pace_armed_ = true;
      pace_timer_.expires_after(wait);
      auto me = shared_from_this();
      pace_timer_.async_wait([me](boost::system::error_code) {
        me->pace_armed_ = false;
        me->pump_one();
        me->pump();
      });
      return;
    }
    pump_one();
  }
}

void UpstreamSlot::pump_one() {
  if (queue_.empty() || !link_ || !bound_) return;
  auto item = std::move(queue_.front());
  queue_.pop_front();
  --queued_;
  ++in_flight_;
  ++in_flight_count_;
  services_.metrics.window_in_flight(metrics::Side::upstream, pool_.config().name).Increment();
  auto me = shared_from_this();
  link_->send_request(item.frame, [me, done = std::move(item.done)](const Response& r) {
    --me->in_flight_;
    --me->in_flight_count_;
    --me->load_;
    me->services_.metrics.window_in_flight(metrics::Side::upstream, me->pool_.config().name)
        .Decrement();
    ForwardResult result{.error = r.error, .upstream = me->pool_.config().name};
    if (!r.error) {
      result.frame.assign(r.frame.begin(), r.frame.end());
      result.route_ticket = me->expect_route(r);
    }
    done(std::move(result));
    me->pump();
  });
}

std::shared_ptr<RouteGate::Ticket> UpstreamSlot::expect_route(const Response& response) {
  const auto id = response.header.command_id;
  if (response.header.command_status != st::kEsmeRok ||
      (id != cmd::kSubmitSmResp && id != cmd::kDataSmResp && id != cmd::kSubmitMultiResp)) {
    return nullptr;
  }
  const auto message_id = response_message_id(response.frame);
  if (message_id.empty()) return nullptr;
  const auto& cfg = pool_.config();
  const auto key = normalize_message_id(message_id, cfg.message_id_format);
  return services_.routes.expect(cfg.name, key ? std::string_view(*key) : message_id);
}

void UpstreamSlot::fail_queue(std::error_code ec) {
  auto queued = std::move(queue_);
  queue_.clear();
  load_ -= static_cast<int>(queued.size());
  queued_ = 0;
  for (auto& q : queued) q.done(ForwardResult{.error = ec});
}

LinkInfo UpstreamSlot::info() const {
  return LinkInfo{.upstream = pool_.config().name,
                  .index = index_,
                  .role = role_,
                  .bound = bound_.load(),
                  .since_ms = since_ms_.load(),
                  .reconnects = reconnects_.load(),
                  .in_flight = in_flight_count_.load(),
                  .queued = queued_.load()};
}

// ---- UpstreamPool -------------------------------------------------------------------------------

UpstreamPool::UpstreamPool(Services& services, Intake& intake, config::Upstream config)
    : services_(services),
      config_(std::move(config)),
      bucket_(config_.throughput, std::max<double>(1.0, config_.throughput / 10.0)) {
  for (std::uint32_t i = 0; i < config_.sessions; ++i) {
    if (config_.bind == config::BindMode::transceiver) {
      slots_.push_back(std::make_shared<UpstreamSlot>(services, intake, *this, static_cast<int>(i),
                                                      LinkRole::transceiver));
    } else {
      slots_.push_back(std::make_shared<UpstreamSlot>(services, intake, *this, static_cast<int>(i),
                                                      LinkRole::transmitter));
      slots_.push_back(std::make_shared<UpstreamSlot>(services, intake, *this, static_cast<int>(i),
                                                      LinkRole::receiver));
    }
  }
  services_.metrics.upstream_up(config_.name).Set(0);
  services_.metrics.binds(metrics::Side::upstream, config_.name).Set(0);
}

void UpstreamPool::start() {
  for (auto& s : slots_) s->start();
}

void UpstreamPool::stop() {
  for (auto& s : slots_) s->stop();
}

void UpstreamPool::forward(std::vector<std::uint8_t> frame, ForwardHandler done) {
  UpstreamSlot* best = nullptr;
  const std::size_t n = slots_.size();
  const std::size_t start = next_.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) {
    auto* s = slots_[(start + i) % n].get();
    if (!s->bound() || !s->can_transmit()) continue;
    if (best == nullptr || s->load() < best->load()) best = s;
  }
  if (best == nullptr) {
    done(ForwardResult{.error = make_error_code(SessionErrc::no_upstream),
                       .upstream = config_.name});
    return;
  }
  best->submit(std::move(frame), std::move(done));
}

bool UpstreamPool::any_bound() const {
  for (const auto& s : slots_)
    if (s->bound()) return true;
  return false;
}

std::vector<LinkInfo> UpstreamPool::links() const {
  std::vector<LinkInfo> out;
  for (const auto& s : slots_) out.push_back(s->info());
  return out;
}

void UpstreamPool::slot_state_changed() {
  int bound = 0;
  for (const auto& s : slots_) bound += s->bound() ? 1 : 0;
  services_.metrics.binds(metrics::Side::upstream, config_.name).Set(bound);
  services_.metrics.upstream_up(config_.name).Set(bound > 0 ? 1 : 0);
}

// ---- Upstreams ----------------------------------------------------------------------------------

void Upstreams::add(std::unique_ptr<UpstreamPool> pool) { pools_.push_back(std::move(pool)); }

void Upstreams::start() {
  for (auto& p : pools_) p->start();
}

void Upstreams::stop() {
  for (auto& p : pools_) p->stop();
}

UpstreamPool* Upstreams::find(std::string_view name) const {
  for (const auto& p : pools_)
    if (p->config().name == name) return p.get();
  return nullptr;
}

void Upstreams::forward(std::string_view upstream, std::vector<std::uint8_t> frame,
                        ForwardHandler done) {
  auto* pool = find(upstream);
  if (pool == nullptr) {
    done(ForwardResult{.error = make_error_code(SessionErrc::no_upstream)});
    return;
  }
  pool->forward(std::move(frame), std::move(done));
}

bool Upstreams::any_bound() const {
  for (const auto& p : pools_)
    if (p->any_bound()) return true;
  return false;
}

std::vector<LinkInfo> Upstreams::links() const {
  std::vector<LinkInfo> out;
  for (const auto& p : pools_) {
    auto l = p->links();
    out.insert(out.end(), l.begin(), l.end());
  }
  return out;
}

}  // namespace smppguard::session
