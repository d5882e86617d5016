#include "session/esme_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/decode.hpp>
#include <smppguard/proto/encode.hpp>
#include <smppguard/proto/tlv.hpp>

#include "common/log.hpp"
#include "policy/numbers.hpp"
#include "session/registry.hpp"
#include "session/message_ids.hpp"
#include "session/store_ops.hpp"
#include "session/upstream.hpp"

namespace smppguard::session {

namespace cmd = proto::cmd;
namespace st = proto::status;

namespace {

std::atomic<std::uint64_t> g_next_session_id{1};

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

bool is_mt_command(std::uint32_t id) {
  return id == cmd::kSubmitSm || id == cmd::kDataSm || id == cmd::kSubmitMulti ||
         id == cmd::kReplaceSm || id == cmd::kQuerySm || id == cmd::kCancelSm;
}

bool is_throttled_command(std::uint32_t id) {
  return id == cmd::kSubmitSm || id == cmd::kDataSm || id == cmd::kSubmitMulti;
}

std::string_view bind_type_name(std::uint32_t id) {
  switch (id) {
    case cmd::kBindTransmitter: return "transmitter";
    case cmd::kBindReceiver: return "receiver";
    case cmd::kBindTransceiver: return "transceiver";
  }
  return "unknown";
}

void log_exception(std::exception_ptr e, const char* where) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    SG_LOG(error, "coroutine_failed").kv("where", where).kv("what", ex.what());
  }
}

}  // namespace

struct EsmeSession::MtJob {
  proto::Header header;
  std::vector<std::uint8_t> frame;
  proto::Pdu pdu;
  std::shared_ptr<const Runtime> runtime;
  const config::Account* account = nullptr;
  SteadyTime started;
  std::chrono::steady_clock::duration inside{};  // time inside the proxy so far
  std::string proxy_message_id;  // query/cancel/replace: the id the account used
  std::string program;           // from the policy chain: kept in the id map
  std::string msisdn;
  std::vector<proto::UnsuccessSme> unsuccess;  // submit_multi destinations the policy refused
  bool responded = false;
};

EsmeSession::EsmeSession(tcp::socket socket, Services& services)
    : Connection(std::move(socket),
                 Options{.side = metrics::Side::esme,
                         .max_pdu_size = services.runtime.load()->config->listen.max_pdu_size,
                         .response_timeout = std::chrono::seconds(10),
                         .enquire_link = std::chrono::seconds(30)},
                 services.metrics),
      services_(services),
      id_(g_next_session_id.fetch_add(1)) {}

EsmeSession::~EsmeSession() = default;

std::shared_ptr<EsmeSession> EsmeSession::self() {
  return std::static_pointer_cast<EsmeSession>(shared_from_this());
}

void EsmeSession::start() {
  auto me = self();
  asio::co_spawn(strand(), [me]() -> asio::awaitable<void> { co_await me->run(); },
                 [](std::exception_ptr e) { log_exception(e, "esme_session"); });
}

bool EsmeSession::keepalive_enabled() const {
  return state_ == BindState::bound_tx || state_ == BindState::bound_rx ||
         state_ == BindState::bound_trx;
}

void EsmeSession::on_tick(SteadyTime now) {
  if (state_ == BindState::open) {
    const auto timeout = services_.runtime.load()->config->listen.bind_timeout;
    if (now - connected_at() > timeout) {
      SG_LOG(info, "bind_timeout").kv("peer", peer());
      close();
    }
  }
  if (unbind_requested_ && now > unbind_deadline_) close();
}

void EsmeSession::on_closed() {
  if (state_ != BindState::open) {
    services_.registry.remove(this);
    services_.metrics.binds(metrics::Side::esme, account_).Decrement();
    services_.metrics.window_in_flight(metrics::Side::esme, account_).Decrement(
        static_cast<double>(in_flight_.load()));
    SG_LOG(info, "unbound").kv("account", account_).kv("peer", peer());
  }
  state_ = BindState::closed;
}

void EsmeSession::reject_request(const proto::Header& header, std::uint32_t status) {
  send_pdu(proto::make_response(header, status));
}

void EsmeSession::on_request(const proto::Header& header, std::span<const std::uint8_t> frame) {
  const auto id = header.command_id;
  if (!proto::is_known_command(id)) {
    send_pdu(proto::make_generic_nack(st::kEsmeRinvcmdid, header.sequence_number));
    return;
  }
  if (id == cmd::kEnquireLink) {
    send_pdu(proto::Pdu{.command_id = cmd::kEnquireLinkResp, .sequence_number = header.sequence_number});
    return;
  }
  const auto legality = check_request(state_, Origin::esme, id);
  if (proto::is_bind(id)) {
    if (legality == Legality::allowed) {
      handle_bind(header, frame);
    } else {
      reject_request(header, legality == Legality::already_bound ? st::kEsmeRalybnd
                                                                 : st::kEsmeRinvbndsts);
    }
    return;
  }
  if (id == cmd::kUnbind && legality == Legality::allowed) {
    send_pdu(proto::Pdu{.command_id = cmd::kUnbindResp, .sequence_number = header.sequence_number});
    state_ = BindState::unbinding;
    close_after_flush();
    return;
  }
  if (legality != Legality::allowed) {
    reject_request(header, st::kEsmeRinvbndsts);
    return;
  }
  if (is_mt_command(id)) {
    start_mt(header, frame);
    return;
  }
  send_pdu(proto::make_generic_nack(st::kEsmeRinvcmdid, header.sequence_number));
}

// ---- bind -------------------------------------------------------------------------------------

void EsmeSession::handle_bind(const proto::Header& header, std::span<const std::uint8_t> frame) {
  auto decoded = proto::decode(frame, proto::Limits{.max_pdu_size = options().max_pdu_size});
  if (!decoded) {
    SG_LOG(info, "bind_rejected")
        .kv("peer", peer())
        .kv("reason", "malformed")
        .kv("field", proto::field_name(decoded.error().field));
    send_pdu(proto::error_response(decoded.error()));
    services_.bind_guard.record_failure(peer_ip(), std::chrono::steady_clock::now());
    close_after_flush();
    return;
  }
  // Nothing else is read until the bind is answered.
  pause_reading();
  state_ = BindState::unbinding;  // no further request is legal while the bind is decided
  auto me = self();
  asio::co_spawn(strand(), bind_flow(std::move(*decoded)),
                 [me](std::exception_ptr e) { log_exception(e, "bind"); });
  (void)header;
}

asio::awaitable<void> EsmeSession::bind_flow(proto::Pdu request) {
  auto me = self();  // keep alive across waits
  const auto& bind = *request.as<proto::Bind>();
  const auto delay = services_.bind_guard.delay_for(peer_ip(), std::chrono::steady_clock::now());
  if (delay.count() > 0) {
    asio::steady_timer timer(strand());
    timer.expires_after(delay);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (is_closed()) co_return;

  const auto rt = services_.runtime.load();
  const auto& cfg = *rt->config;
  const auto* account = cfg.find_account(bind.system_id);
  std::uint32_t status = st::kEsmeRok;
  const char* reason = "";
  bool guess = false;  // counts towards the per-IP slow-down
  if (account == nullptr) {
    status = st::kEsmeRinvsysid, reason = "unknown system_id", guess = true;
  } else if (!constant_time_equal(account->password, bind.password)) {
    status = st::kEsmeRinvpaswd, reason = "wrong password", guess = true;
  } else if (!account->ip_allowed(peer_ip())) {
    status = st::kEsmeRbindfail, reason = "address not allowed", guess = true;
  } else if (bind.interface_version != proto::kInterfaceVersion33 &&
             bind.interface_version != proto::kInterfaceVersion34 &&
             bind.interface_version != proto::kInterfaceVersion50) {
    status = st::kEsmeRbindfail, reason = "interface_version not supported";
  } else if (services_.stopping.load()) {
    status = st::kEsmeRbindfail, reason = "shutting down";
  }

  if (status == st::kEsmeRok) {
    state_ = state_after_bind(request.command_id);
    account_ = account->system_id;
    tenant_ = account->tenant;
    window_ = std::max<std::uint32_t>(1, account->window);
    BindInfo info{account_, tenant_, state_, peer(), id_};
    info.since_ms = to_unix_ms(services_.clock.now());
    info.window = window_;
    if (!services_.registry.add(me, info, account->max_binds)) {
      state_ = BindState::unbinding;
      status = st::kEsmeRbindfail, reason = "max_binds reached";
    }
  }

  proto::Pdu resp = proto::make_response(request, status);
  if (status != st::kEsmeRok) {
    if (guess) services_.bind_guard.record_failure(peer_ip(), std::chrono::steady_clock::now());
    SG_LOG(info, "bind_rejected")
        .kv("peer", peer())
        .kv("system_id", bind.system_id)
        .kv("type", bind_type_name(request.command_id))
        .kv("status", proto::status_name(status))
        .kv("reason", reason);
    send_pdu(resp);
    close_after_flush();
    co_return;
  }
  auto& body = std::get<proto::BindResp>(resp.body);
  body.system_id = cfg.node_id.substr(0, proto::field_size::kSystemId - 1);
  // sc_interface_version only for peers that know TLVs (v3.4 and later).
  if (bind.interface_version >= proto::kInterfaceVersion34) {
    body.tlvs.set_u8(proto::tlv::kScInterfaceVersion, proto::kInterfaceVersion34);
  }
  send_pdu(resp);
  services_.metrics.binds(metrics::Side::esme, account_).Increment();
  SG_LOG(info, "bound")
      .kv("account", account_)
      .kv("type", bind_type_name(request.command_id))
      .kv("peer", peer())
      .kv("interface_version", static_cast<unsigned>(bind.interface_version));
  resume_reading();
}

// ---- MT requests ------------------------------------------------------------------------------

void EsmeSession::start_mt(const proto::Header& header, std::span<const std::uint8_t> frame) {
  auto rt = services_.runtime.load();
  const auto* account = rt->config->find_account(account_);
  if (account == nullptr || services_.stopping.load()) {
    // Removed by a reload, or shutting down: refuse without deciding anything.
    reject_request(header, st::kEsmeRsyserr);
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (is_throttled_command(header.command_id) &&
      !services_.throttles.bucket(account_, account->throughput).try_take(now)) {
    reject_request(header, st::kEsmeRthrottled);
    return;
  }
  auto decoded = proto::decode(frame, proto::Limits{.max_pdu_size = options().max_pdu_size});
  if (!decoded) {
    SG_LOG(info, "malformed_pdu")
        .kv("account", account_)
        .kv("command", proto::command_name(header.command_id))
        .kv("field", proto::field_name(decoded.error().field))
        .kv("status", proto::status_name(decoded.error().command_status));
    send_pdu(proto::error_response(decoded.error()));
    return;
  }
  auto job = std::make_shared<MtJob>();
  job->header = header;
  job->frame.assign(frame.begin(), frame.end());
  job->pdu = std::move(*decoded);
  job->runtime = std::move(rt);
  job->account = account;
  job->started = now;
  ++in_flight_;
  submitted_.fetch_add(1, std::memory_order_relaxed);
  services_.metrics.window_in_flight(metrics::Side::esme, account_).Increment();
  if (in_flight_ >= window_) pause_reading();
  auto me = self();
  asio::co_spawn(strand(), mt_flow(std::move(job)),
                 [me](std::exception_ptr e) { log_exception(e, "mt_flow"); });
}

void EsmeSession::finish_request() {
  --in_flight_;
  services_.metrics.window_in_flight(metrics::Side::esme, account_).Decrement();
  if (in_flight_ < window_ && state_ != BindState::unbinding) resume_reading();
  if (unbind_requested_ && in_flight_ == 0) send_unbind();
}

void EsmeSession::respond(MtJob& job, proto::Pdu response) {
  if (job.responded) return;
  job.responded = true;
  response.sequence_number = job.header.sequence_number;
  send_pdu(response);
  finish_request();
}

asio::awaitable<void> EsmeSession::mt_flow(std::shared_ptr<MtJob> jobp) {
  auto me = self();
  auto& job = *jobp;
  const auto& cfg = *job.runtime->config;
  const auto id = job.header.command_id;
  std::vector<std::uint8_t> frame;  // what goes upstream: the request's bytes unless rewritten

  // The policy chain decides messages; lookups by id (query/cancel/replace) need the id map.
  if (id == cmd::kSubmitSm || id == cmd::kDataSm || id == cmd::kSubmitMulti || id == cmd::kReplaceSm) {
    MtRequest request{cfg, *job.account, job.pdu, job.frame};
    MtVerdict verdict = co_await job.runtime->chain->on_mt(request);
    if (verdict.action == MtVerdict::Action::refuse) {
      auto resp = proto::make_response(job.header, verdict.status);
      if (auto* r = resp.as<proto::SubmitMultiResp>()) r->unsuccess_smes = verdict.unsuccess;
      respond(job, std::move(resp));
      co_return;
    }
    if (verdict.action == MtVerdict::Action::accept) {
      auto resp = proto::make_response(job.header, st::kEsmeRok);
      if (auto* r = resp.as<proto::MessageIdResp>()) r->message_id = verdict.message_id;
      if (auto* r = resp.as<proto::SubmitMultiResp>()) r->message_id = verdict.message_id;
      respond(job, std::move(resp));
      co_return;
    }
    job.program = verdict.program;
    job.msisdn = verdict.msisdn;
    job.unsuccess = std::move(verdict.unsuccess);
    if (request.pdu_modified) {
      auto encoded = proto::encode(job.pdu);
      if (!encoded) {
        respond(job, proto::make_response(job.header, st::kEsmeRsyserr));
        co_return;
      }
      frame = std::move(*encoded);
    }
  }

  // The chain has decided (it may have kept a copy of the request's bytes): take them over.
  if (frame.empty()) frame = std::move(job.frame);

  // Route.
  std::string upstream;
  auto route_by_destination = [&](std::uint8_t ton, std::uint8_t npi,
                                  const std::string& addr) -> bool {
    auto number = policy::normalize_address(ton, npi, addr, cfg.defaults.default_country,
                                            policy::AddressRole::destination);
    if (!number) {
      SG_LOG(info, "bad_destination")
          .kv("account", account_)
          .kv("reason", number.error().message());
      return false;
    }
    const auto* up = cfg.upstream_for(number->value);
    if (up == nullptr) {
      SG_LOG(info, "no_route").kv("account", account_);
      return false;
    }
    upstream = up->name;
    return true;
  };
  // Messages identified by a proxy id go where that message went.
  auto route_by_message_id = [&](std::string& message_id) -> std::uint32_t {
    auto found = services_.store.find_route_by_proxy_id(message_id);
    if (!found) {
      services_.metrics.store_error("read_route");
      return st::kEsmeRsyserr;
    }
    if (!*found || (*found)->account != account_) return st::kEsmeRinvmsgid;
    upstream = (*found)->upstream;
    job.proxy_message_id = message_id;
    message_id = (*found)->upstream_id;
    return st::kEsmeRok;
  };

  std::uint32_t route_status = st::kEsmeRok;
  bool rewritten = false;
  if (auto* sm = job.pdu.as<proto::SubmitSm>()) {
    if (!route_by_destination(sm->dest_addr_ton, sm->dest_addr_npi, sm->destination_addr))
      route_status = st::kEsmeRinvdstadr;
  } else if (auto* dsm = job.pdu.as<proto::DataSm>()) {
    if (!route_by_destination(dsm->dest_addr_ton, dsm->dest_addr_npi, dsm->destination_addr))
      route_status = st::kEsmeRinvdstadr;
  } else if (auto* multi = job.pdu.as<proto::SubmitMulti>()) {
    route_status = st::kEsmeRinvdstadr;
    for (const auto& d : multi->dest_addresses) {
      if (d.dest_flag == proto::kDestFlagSmeAddress &&
          route_by_destination(d.dest_addr_ton, d.dest_addr_npi, d.destination_addr)) {
        route_status = st::kEsmeRok;
        break;
      }
    }
  } else if (auto* q = job.pdu.as<proto::QuerySm>()) {
    route_status = route_by_message_id(q->message_id);
    rewritten = true;
  } else if (auto* r = job.pdu.as<proto::ReplaceSm>()) {
    route_status = route_by_message_id(r->message_id);
    rewritten = true;
  } else if (auto* c = job.pdu.as<proto::CancelSm>()) {
    if (!c->message_id.empty()) {
      route_status = route_by_message_id(c->message_id);
      rewritten = true;
    } else if (!route_by_destination(c->dest_addr_ton, c->dest_addr_npi, c->destination_addr)) {
      route_status = st::kEsmeRinvdstadr;
    }
  }
  if (route_status != st::kEsmeRok) {
    respond(job, proto::make_response(job.header, route_status));
    co_return;
  }
  if (rewritten) {
    auto encoded = proto::encode(job.pdu);
    if (!encoded) {
      respond(job, proto::make_response(job.header, st::kEsmeRinvmsgid));
      co_return;
    }
    frame = std::move(*encoded);
  }
  co_await forward_mt(job, upstream, std::move(frame));
}

asio::awaitable<void> EsmeSession::forward_mt(MtJob& job, const std::string& upstream,
                                              std::vector<std::uint8_t> frame) {
  const auto id = job.header.command_id;
  job.inside += std::chrono::steady_clock::now() - job.started;
  auto result = co_await async_callback<ForwardResult>(
      [this, &upstream, &frame](auto done) {
        services_.upstreams.forward(upstream, std::move(frame), std::move(done));
      });
  const auto back = std::chrono::steady_clock::now();

  if (result.error) {
    SG_LOG(warn, "forward_failed")
        .kv("account", account_)
        .kv("upstream", upstream)
        .kv("command", proto::command_name(id))
        .kv("reason", result.error.message());
    respond(job, proto::make_response(job.header, st::kEsmeRsyserr));
    co_return;
  }
  const auto header = *proto::peek_header(result.frame);
  auto decoded = proto::decode(result.frame);
  if (header.command_status != st::kEsmeRok || !decoded ||
      decoded->command_id == cmd::kGenericNack) {
    // The upstream refused (or answered with something we cannot read): pass its status on.
    std::uint32_t status = header.command_status != st::kEsmeRok ? header.command_status
                                                                   : st::kEsmeRsyserr;
    auto resp = proto::make_response(job.header, status);
    if (decoded && decoded->command_id == proto::response_id_for(id)) {
      resp = std::move(*decoded);  // keep the upstream's body (e.g. submit_multi_resp list)
    }
    respond(job, std::move(resp));
    co_return;
  }

  proto::Pdu resp = std::move(*decoded);
  if (id == cmd::kSubmitSm || id == cmd::kDataSm || id == cmd::kSubmitMulti) {
    std::string* message_id = nullptr;
    if (auto* r = resp.as<proto::MessageIdResp>()) message_id = &r->message_id;
    if (auto* r = resp.as<proto::SubmitMultiResp>()) {
      message_id = &r->message_id;
      // Destinations the policy refused are reported beside the carrier's own refusals.
      r->unsuccess_smes.insert(r->unsuccess_smes.end(), job.unsuccess.begin(), job.unsuccess.end());
    }
    if (message_id != nullptr) {
      const auto* up = job.runtime->config->find_upstream(upstream);
      store::MessageRoute route;
      route.proxy_id = services_.store.next_message_id();
      route.account = account_;
      route.upstream = upstream;
      route.upstream_id = *message_id;
      route.program = job.program;
      route.msisdn = job.msisdn;
      route.upstream_key = normalize_message_id(*message_id, up ? up->message_id_format
                                                                 : config::MessageIdFormat::as_is)
                               .value_or(*message_id);
      const auto now_ms = to_unix_ms(services_.clock.now());
      route.created_at_ms = now_ms;
      route.expires_at_ms =
          now_ms + job.runtime->config->store.message_map_ttl.count();
      // Written at once on this thread when RocksDB can take it without waiting; through the
      // writer otherwise (a synced group or a write stall in progress, or an error, which the
      // writer then reports and recovers from).
      std::error_code ec = services_.store.put_route_now(route);
      if (ec) {
        // A named mutation, not a lambda temporary inside the co_await expression: GCC 12 copies
        // such temporaries bitwise into the coroutine frame (their strings then free frame memory).
        store::Mutation mutation = [route](store::Batch& b) { b.put_message_route(route); };
        ec = co_await commit(services_.store, std::move(mutation), false);
      }
      if (ec) {
        // The carrier accepted the message: answering an error would make the application send
        // it twice. Answer with our id; only receipt routing for this one message is lost.
        services_.metrics.store_error("write_route");
        SG_LOG(error, "route_not_stored").kv("account", account_).kv("error", ec.message());
      }
      *message_id = route.proxy_id;
    }
  } else if (id == cmd::kQuerySm) {
    // Answer with the id the account knows.
    if (auto* r = resp.as<proto::QuerySmResp>()) r->message_id = job.proxy_message_id;
  }
  job.inside += std::chrono::steady_clock::now() - back;
  services_.metrics.added_latency_seconds().Observe(
      std::chrono::duration<double>(job.inside).count());
  respond(job, std::move(resp));
}

// ---- delivery to the ESME -----------------------------------------------------------------------

void EsmeSession::deliver(std::vector<std::uint8_t> frame, DeliverHandler done) {
  auto me = self();
  asio::post(strand(), [me, frame = std::move(frame), done = std::move(done)]() mutable {
    if (me->is_closed() || !can_receive(me->state_)) {
      done(make_error_code(SessionErrc::connection_closed), 0);
      return;
    }
    me->send_request(frame, [done = std::move(done)](const Response& r) {
      done(r.error, r.error ? 0 : r.header.command_status);
    });
  });
}

void EsmeSession::request_unbind() {
  auto me = self();
  asio::post(strand(), [me] {
    // Shutdown asks every session twice (registry and listener lists): the second request must
    // not close a session whose unbind is still being written or answered.
    if (me->is_closed() || me->unbind_requested_) return;
    if (me->state_ == BindState::open || me->state_ == BindState::unbinding) {
      me->close();
      return;
    }
    me->state_ = BindState::unbinding;
    me->unbind_requested_ = true;
    me->unbind_deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(4);
    // Requests in flight may already be at the carrier: answer them first (the ESME would send
    // them again otherwise); the unbind follows the last response. New requests are refused
    // (unbinding), and reading goes on so that the unbind_resp is seen.
    me->resume_reading();
    if (me->in_flight_ == 0) me->send_unbind();
  });
}

void EsmeSession::send_unbind() {
  if (unbind_sent_) return;
  unbind_sent_ = true;
  auto me = self();
  send_request(proto::Pdu{.command_id = cmd::kUnbind}, [me](const Response&) { me->close(); });
}

}  // namespace smppguard::session
