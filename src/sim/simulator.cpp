#include "sim/simulator.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/decode.hpp>
#include <smppguard/proto/encode.hpp>
#include <system_error>
#include <unordered_map>

#include "admin/http_server.hpp"
#include "common/async.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "session/bind_state.hpp"
#include "session/connection.hpp"

namespace smppguard::sim {

namespace asio = boost::asio;
namespace json = boost::json;
namespace cmd = proto::cmd;
namespace st = proto::status;
using admin::HttpRequest;
using admin::HttpResponse;
using session::BindState;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view kSmscSystemId = "smsc-sim";
constexpr std::size_t kMaxParkedReceipts = 100000;  // per system_id, waiting for a receiver
constexpr auto kStopDeadline = std::chrono::seconds(1);

std::string_view bind_type_name(std::uint32_t bind_id) {
  switch (bind_id) {
    case cmd::kBindTransmitter:
      return "transmitter";
    case cmd::kBindReceiver:
      return "receiver";
    case cmd::kBindTransceiver:
      return "transceiver";
  }
  return "none";
}

void log_exception(std::exception_ptr e, const char* where) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    SG_LOG(error, "sim_coroutine_failed").kv("where", where).kv("what", ex.what());
  }
}

std::vector<std::uint8_t> encode_or_empty(const proto::Pdu& pdu) {
  auto encoded = proto::encode(pdu);
  if (!encoded) {
    SG_LOG(error, "sim_encode_failed")
        .kv("command", proto::command_name(pdu.command_id))
        .kv("field", proto::field_name(encoded.error().field));
    return {};
  }
  return std::move(*encoded);
}

HttpResponse json_response(unsigned status, const json::value& v) {
  return HttpResponse::json(status, json::serialize(v) + "\n");
}

tcp::endpoint endpoint_of(const config::HostPort& hp) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(hp.host, ec);
  if (ec) throw std::system_error(ec, "address " + hp.to_string());
  return {address, hp.port};
}

}  // namespace

/// The outcome of a request the simulator sent to an ESME (MO or receipt).
struct SendOutcome {
  std::error_code error;  // timeout, connection_closed
  std::uint32_t command_id = 0;
  std::uint32_t status = 0;
};
using SendHandler = std::function<void(SendOutcome)>;

class SimSession;

// Impl: the simulator's state and its handlers. Sessions call in from their strands, HTTP
// handlers from theirs; everything they share is behind `mu`.
// Flow of an MT: SimSession::on_request -> handle_request -> handle_submit (record it, match the
// rules, give an id) -> answer now, later (delay), never (no_answer) or close (drop) -> when a
// receipt was asked for, schedule_receipt -> receipt_pump sends it to a receiver of the same
// system_id when due, or parks it until one binds (on_bound).
struct Simulator::Impl {
  struct Stats {
    std::uint64_t received = 0;
    std::uint64_t answered = 0;
    std::uint64_t receipts_sent = 0;
    std::uint64_t mo_sent = 0;
  };
  enum class ReceiptOutcome { sent, unknown_id, no_bind, already_sent };

  Impl(asio::io_context& io, SimulatorOptions options);

  void start();
  void stop(std::function<void()> done);
  asio::awaitable<void> stop_flow(std::function<void()> done);

  // Called by sessions on their strands.
  void on_bound(const std::shared_ptr<SimSession>& s);
  void on_closed(SimSession* s);
  void handle_request(SimSession& s, const proto::Header& header,
                      std::span<const std::uint8_t> frame);
  void record_only(SimSession& s, std::span<const std::uint8_t> frame);
  void count_answered();

  // Any thread.
  void schedule_receipt(std::uint64_t number, session::SteadyTime due);
  /// `flush_to`, when set, is the session whose strand is running: the receipt goes to it at
  /// once, in the same write as what it sent last (a bind_resp).
  ReceiptOutcome send_receipt(std::uint64_t number, std::string_view stat, bool automatic,
                              SendHandler done, const std::shared_ptr<SimSession>& flush_to = {});
  std::shared_ptr<SimSession> pick_receiver_locked(std::string_view system_id);

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> receipt_pump();
  asio::awaitable<HttpResponse> handle_http(HttpRequest& request);
  asio::awaitable<HttpResponse> post_mo(const HttpRequest& request);
  asio::awaitable<HttpResponse> post_receipt(const HttpRequest& request);
  HttpResponse rules(const HttpRequest& request);
  HttpResponse binds();

  void handle_submit(SimSession& s, const proto::Header& header,
                     std::span<const std::uint8_t> frame, const proto::Pdu& pdu);
  void push_record_locked(SimSession& s, std::span<const std::uint8_t> frame,
                          std::string message_id);
  // Sends a submit response; receipt_for != 0 schedules that message's receipt.
  void answer(SimSession& s, const proto::Pdu& response, std::uint64_t receipt_for);
  asio::awaitable<void> delayed_answer(std::shared_ptr<SimSession> s, proto::Pdu response,
                                       std::chrono::milliseconds delay, std::uint64_t receipt_for);

  asio::io_context& io;
  const SimulatorOptions options;
  metrics::Metrics metrics;  // counters of the simulator's own connections (not exported)
  asio::strand<asio::io_context::executor_type> strand;  // accept loop, receipt pump, stop
  tcp::acceptor acceptor;
  std::unique_ptr<admin::HttpServer> http;
  unsigned short smpp_port = 0;
  unsigned short http_port = 0;
  asio::steady_timer pump_timer;

  std::mutex mu;  // guards everything below, and each session's bind info
  std::vector<std::shared_ptr<SimSession>> sessions;
  std::deque<Record> records;
  std::uint64_t next_index = 1;
  std::uint64_t next_number = 1;
  std::unordered_map<std::uint64_t, SubmittedMessage> messages;
  std::vector<Rule> rule_list;
  std::multimap<session::SteadyTime, std::uint64_t> due;    // automatic receipts by due time
  std::map<std::string, std::deque<std::uint64_t>> parked;  // receipts waiting for a receiver
  Stats stats;
  std::size_t round_robin = 0;
  std::uint8_t next_reference = 0;
  bool stopping = false;
};

// ---- the SMSC side of one connection ------------------------------------------------------------

// SimSession: one connection from an ESME (normally the proxy's upstream bind).
// Flow: open (bind_* and enquire_link only) -> bound tx/rx/trx (requests go to Impl) -> unbinding
// (after unbind either way) -> closed (Impl forgets it).
// Runs on its own strand; request(), close_soon() and unbind_soon() may be called from any thread.
// system_id_, bind_id_ and state_ are written on the strand under Impl::mu, so readers holding
// Impl::mu see a consistent value.
class SimSession final : public session::Connection {
 public:
  SimSession(tcp::socket socket, Simulator::Impl& sim)
      : Connection(std::move(socket),
                   Options{.side = metrics::Side::esme,
                           .response_timeout = sim.options.response_timeout,
                           .enquire_link = std::chrono::seconds(30)},
                   sim.metrics),
        sim_(sim) {}

  void start() {
    auto me = self();
    asio::co_spawn(
        strand(), [me]() -> asio::awaitable<void> { co_await me->run(); },
        [](std::exception_ptr e) { log_exception(e, "sim_session"); });
  }

  /// Sends a deliver_sm/data_sm frame (sequence number replaced) and reports its response.
  void request(std::vector<std::uint8_t> frame, SendHandler done) {
    auto me = self();
    asio::post(strand(), [me, frame = std::move(frame), done = std::move(done)]() mutable {
      me->request_now(std::move(frame), std::move(done));
    });
  }
  /// request() for a caller already on this session's strand: queued behind what was sent last.
  void request_now(std::vector<std::uint8_t> frame, SendHandler done) {
    if (is_closed() || !session::can_receive(state_)) {
      done(SendOutcome{.error = make_error_code(session::SessionErrc::connection_closed)});
      return;
    }
    send_request(frame, [done = std::move(done)](const session::Response& r) {
      done(SendOutcome{.error = r.error,
                       .command_id = r.error ? 0 : r.header.command_id,
                       .status = r.error ? 0 : r.header.command_status});
    });
  }

  void close_soon() {
    auto me = self();
    asio::post(strand(), [me] { me->close(); });
  }

  /// Sends unbind; closes on its response (or its timeout). Unbound connections just close.
  void unbind_soon() {
    auto me = self();
    asio::post(strand(), [me] {
      if (me->is_closed()) return;
      if (me->state_ == BindState::open || me->state_ == BindState::unbinding) {
        me->close();
        return;
      }
      me->set_state(BindState::unbinding);
      me->send_request(proto::Pdu{.command_id = cmd::kUnbind},
                       [me](const session::Response&) { me->close_after_flush(); });
    });
  }

  void send_response(const proto::Pdu& pdu) { send_pdu(pdu); }
  std::shared_ptr<SimSession> self() {
    return std::static_pointer_cast<SimSession>(shared_from_this());
  }

  // Read under Impl::mu (or on the strand).
  BindState state() const { return state_; }
  const std::string& system_id() const { return system_id_; }
  std::uint32_t bind_id() const { return bind_id_; }

 protected:
  void on_request(const proto::Header& header, std::span<const std::uint8_t> frame) override {
    const auto id = header.command_id;
    if (id == cmd::kEnquireLink) {
      send_pdu(proto::Pdu{.command_id = cmd::kEnquireLinkResp,
                          .sequence_number = header.sequence_number});
      return;
    }
    if (id == cmd::kUnbind) {
      send_pdu(
          proto::Pdu{.command_id = cmd::kUnbindResp, .sequence_number = header.sequence_number});
      set_state(BindState::unbinding);
      close_after_flush();
      return;
    }
    if (proto::is_bind(id)) {
      if (state_ == BindState::open) {
        handle_bind(header, frame);
      } else {
        send_pdu(proto::make_response(
            header, state_ == BindState::unbinding ? st::kEsmeRinvbndsts : st::kEsmeRalybnd));
      }
      return;
    }
    if (!proto::is_known_command(id)) {
      sim_.record_only(*this, frame);
      send_pdu(proto::make_generic_nack(st::kEsmeRinvcmdid, header.sequence_number));
      sim_.count_answered();
      return;
    }
    if (session::check_request(state_, session::Origin::esme, id) != session::Legality::allowed) {
      sim_.record_only(*this, frame);
      send_pdu(proto::make_response(header, st::kEsmeRinvbndsts));
      sim_.count_answered();
      return;
    }
    sim_.handle_request(*this, header, frame);
  }

  void on_closed() override {
    if (session::can_receive(state_) || session::can_transmit(state_) ||
        state_ == BindState::unbinding) {
      SG_LOG(info, "sim_unbound")
          .kv("system_id", system_id_)
          .kv("type", bind_type_name(bind_id_))
          .kv("peer", peer());
    }
    set_state(BindState::closed);
    sim_.on_closed(this);
  }

  bool keepalive_enabled() const override {
    return session::can_receive(state_) || session::can_transmit(state_);
  }

 private:
  void set_state(BindState s) {
    std::lock_guard lock(sim_.mu);
    state_ = s;
  }

  void handle_bind(const proto::Header& header, std::span<const std::uint8_t> frame) {
    auto decoded = proto::decode(frame);
    if (!decoded) {
      send_pdu(proto::error_response(decoded.error()));
      close_after_flush();
      return;
    }
    const auto& bind = *decoded->as<proto::Bind>();
    std::uint32_t status = st::kEsmeRok;
    if (!sim_.options.system_id.empty()) {
      if (bind.system_id != sim_.options.system_id) {
        status = st::kEsmeRinvsysid;
      } else if (bind.password != sim_.options.password) {
        status = st::kEsmeRinvpaswd;
      }
    }
    auto resp = proto::make_response(header, status);
    if (status != st::kEsmeRok) {
      SG_LOG(info, "sim_bind_rejected")
          .kv("system_id", bind.system_id)
          .kv("type", bind_type_name(header.command_id))
          .kv("peer", peer())
          .kv("status", proto::status_name(status));
      send_pdu(resp);
      close_after_flush();
      return;
    }
    auto& body = std::get<proto::BindResp>(resp.body);
    body.system_id = std::string(kSmscSystemId);
    if (bind.interface_version >= proto::kInterfaceVersion34) {
      body.tlvs.set_u8(proto::tlv::kScInterfaceVersion, proto::kInterfaceVersion34);
    }
    send_pdu(resp);
    {
      std::lock_guard lock(sim_.mu);
      system_id_ = bind.system_id;
      bind_id_ = header.command_id;
      state_ = session::state_after_bind(header.command_id);
    }
    SG_LOG(info, "sim_bound")
        .kv("system_id", system_id_)
        .kv("type", bind_type_name(bind_id_))
        .kv("peer", peer());
    sim_.on_bound(self());
  }

  Simulator::Impl& sim_;
  BindState state_ = BindState::open;
  std::string system_id_;
  std::uint32_t bind_id_ = 0;
};

// ---- Impl ---------------------------------------------------------------------------------------

Simulator::Impl::Impl(asio::io_context& io_context, SimulatorOptions opts)
    : io(io_context),
      options(std::move(opts)),
      strand(asio::make_strand(io_context)),
      acceptor(strand),
      pump_timer(strand) {
  const auto ep = endpoint_of(options.smpp);
  boost::system::error_code ec;
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::system_error(ec, "simulator SMPP port " + options.smpp.to_string());
  try {
    http = std::make_unique<admin::HttpServer>(
        io, options.http, [this](HttpRequest& r) -> asio::awaitable<HttpResponse> {
          co_return co_await handle_http(r);
        });
  } catch (const boost::system::system_error& e) {
    throw std::system_error(e.code(), "simulator HTTP port " + options.http.to_string());
  }
  smpp_port = acceptor.local_endpoint().port();
  http_port = http->local_endpoint().port();
}

void Simulator::Impl::start() {
  asio::co_spawn(strand, accept_loop(),
                 [](std::exception_ptr e) { log_exception(e, "sim_accept"); });
  asio::co_spawn(strand, receipt_pump(),
                 [](std::exception_ptr e) { log_exception(e, "sim_receipts"); });
  http->start();
}

void Simulator::Impl::stop(std::function<void()> done) {
  asio::co_spawn(strand, stop_flow(std::move(done)),
                 [](std::exception_ptr e) { log_exception(e, "sim_stop"); });
}

asio::awaitable<void> Simulator::Impl::stop_flow(std::function<void()> done) {
  std::vector<std::shared_ptr<SimSession>> left;
  {
    std::lock_guard lock(mu);
    stopping = true;
    left = sessions;
  }
  boost::system::error_code ec;
  acceptor.close(ec);
  http->stop();
  pump_timer.cancel();
  for (auto& s : left) s->unbind_soon();
  const auto deadline = std::chrono::steady_clock::now() + kStopDeadline;
  asio::steady_timer timer(strand);
  while (true) {
    {
      std::lock_guard lock(mu);
      left = sessions;
    }
    if (left.empty() || std::chrono::steady_clock::now() >= deadline) break;
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  for (auto& s : left) s->close_soon();
  if (done) asio::post(io, std::move(done));
}

asio::awaitable<void> Simulator::Impl::accept_loop() {
  while (acceptor.is_open()) {
    auto [ec, socket] =
        co_await acceptor.async_accept(asio::make_strand(io), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      SG_LOG(warn, "sim_accept_failed").kv("error", ec.message());
      continue;
    }
    auto s = std::make_shared<SimSession>(std::move(socket), *this);
    {
      std::lock_guard lock(mu);
      if (stopping) continue;
      sessions.push_back(s);
    }
    s->start();
  }
}

void Simulator::Impl::on_bound(const std::shared_ptr<SimSession>& s) {
  if (!session::can_receive(s->state())) return;
  // Carriers flush what they held while no bind was up as soon as one is: the parked receipts
  // go out right behind the bind_resp, in the same write.
  std::deque<std::uint64_t> flush;
  {
    std::lock_guard lock(mu);
    auto it = parked.find(s->system_id());
    if (it == parked.end()) return;
    flush = std::move(it->second);
    parked.erase(it);
  }
  for (const auto n : flush) send_receipt(n, options.receipt_status, true, {}, s);
}

void Simulator::Impl::on_closed(SimSession* s) {
  std::lock_guard lock(mu);
  std::erase_if(sessions, [s](const auto& p) { return p.get() == s; });
}

void Simulator::Impl::push_record_locked(SimSession& s, std::span<const std::uint8_t> frame,
                                         std::string message_id) {
  ++stats.received;
  if (options.max_records == 0) return;
  records.push_back(Record{.index = next_index++,
                           .system_id = s.system_id(),
                           .message_id = std::move(message_id),
                           .frame = std::vector<std::uint8_t>(frame.begin(), frame.end())});
  while (records.size() > options.max_records) records.pop_front();
}

void Simulator::Impl::record_only(SimSession& s, std::span<const std::uint8_t> frame) {
  std::lock_guard lock(mu);
  push_record_locked(s, frame, "");
}

void Simulator::Impl::count_answered() {
  std::lock_guard lock(mu);
  ++stats.answered;
}

void Simulator::Impl::handle_request(SimSession& s, const proto::Header& header,
                                     std::span<const std::uint8_t> frame) {
  auto decoded = proto::decode(frame);
  if (!decoded) {
    record_only(s, frame);
    s.send_response(proto::error_response(decoded.error()));
    count_answered();
    return;
  }
  const auto id = header.command_id;
  if (id == cmd::kSubmitSm || id == cmd::kDataSm || id == cmd::kSubmitMulti) {
    handle_submit(s, header, frame, *decoded);
    return;
  }
  proto::Pdu resp = proto::make_generic_nack(st::kEsmeRinvcmdid, header.sequence_number);
  {
    std::lock_guard lock(mu);
    push_record_locked(s, frame, "");
    ++stats.answered;
    auto known = [&](const std::string& message_id) -> SubmittedMessage* {
      const auto n = parse_message_id(message_id, options.id_format);
      if (!n) return nullptr;
      auto it = messages.find(*n);
      return it == messages.end() ? nullptr : &it->second;
    };
    if (const auto* q = decoded->as<proto::QuerySm>()) {
      if (const auto* m = known(q->message_id)) {
        resp = proto::make_response(header, st::kEsmeRok);
        auto& body = std::get<proto::QuerySmResp>(resp.body);
        body.message_id = q->message_id;
        body.message_state = m->final_state != 0 ? m->final_state : kStateEnroute;
      } else {
        resp = proto::make_response(header, st::kEsmeRinvmsgid);
      }
    } else if (const auto* c = decoded->as<proto::CancelSm>()) {
      resp = proto::make_response(header, known(c->message_id) ? st::kEsmeRok : st::kEsmeRinvmsgid);
    } else if (const auto* r = decoded->as<proto::ReplaceSm>()) {
      resp = proto::make_response(header, known(r->message_id) ? st::kEsmeRok : st::kEsmeRinvmsgid);
    }
  }
  s.send_response(resp);
}

void Simulator::Impl::handle_submit(SimSession& s, const proto::Header& header,
                                    std::span<const std::uint8_t> frame, const proto::Pdu& pdu) {
  auto info = submitted_message(pdu);
  struct Destination {
    std::uint8_t ton = 0;
    std::uint8_t npi = 0;
    std::string_view addr;
  };
  std::vector<Destination> destinations;
  if (const auto* sm = pdu.as<proto::SubmitSm>()) {
    destinations.push_back({sm->dest_addr_ton, sm->dest_addr_npi, sm->destination_addr});
  } else if (const auto* dsm = pdu.as<proto::DataSm>()) {
    destinations.push_back({dsm->dest_addr_ton, dsm->dest_addr_npi, dsm->destination_addr});
  } else if (const auto* multi = pdu.as<proto::SubmitMulti>()) {
    for (const auto& d : multi->dest_addresses) {
      if (d.dest_flag == proto::kDestFlagSmeAddress) {
        destinations.push_back({d.dest_addr_ton, d.dest_addr_npi, d.destination_addr});
      }
    }
  }
  const bool multi = header.command_id == cmd::kSubmitMulti;

  // The rule for the whole PDU. submit_multi: a status rule refuses only its destinations (listed
  // in unsuccess_sme); the PDU is refused when every destination is.
  std::optional<Rule> rule;
  std::vector<proto::UnsuccessSme> unsuccess;
  std::string message_id;
  std::uint64_t number = 0;
  {
    std::lock_guard lock(mu);
    for (const auto& d : destinations) {
      const auto* r = match_rule(rule_list, d.ton, d.addr);
      if (r == nullptr) continue;
      if (multi && r->action == RuleAction::status && r->status != st::kEsmeRok) {
        unsuccess.push_back({d.ton, d.npi, std::string(d.addr), r->status});
        continue;
      }
      if (!rule) rule = *r;
      if (!multi) break;
    }
    if (multi && !unsuccess.empty() && unsuccess.size() == destinations.size()) {
      rule = Rule{.action = RuleAction::status, .status = unsuccess.front().error_status_code};
    }
    const bool accepted = !rule || rule->action == RuleAction::delay ||
                          (rule->action == RuleAction::status && rule->status == st::kEsmeRok);
    if (accepted) {
      number = next_number++;
      message_id = format_message_id(number, options.id_format);
      if (info) {
        info->number = number;
        info->message_id = message_id;
        info->system_id = s.system_id();
        info->submitted = SysClock::now();
        messages[number] = *info;
        if (number > options.max_messages) messages.erase(number - options.max_messages);
      }
    }
    push_record_locked(s, frame, message_id);
  }

  if (rule && rule->action == RuleAction::drop) {
    s.close();
    return;
  }
  if (rule && rule->action == RuleAction::no_answer) return;
  if (rule && rule->action == RuleAction::status && rule->status != st::kEsmeRok) {
    auto resp = proto::make_response(header, rule->status);
    if (auto* r = resp.as<proto::SubmitMultiResp>()) r->unsuccess_smes = std::move(unsuccess);
    s.send_response(resp);
    count_answered();
    return;
  }

  auto resp = proto::make_response(header, st::kEsmeRok);
  if (auto* r = resp.as<proto::MessageIdResp>()) r->message_id = message_id;
  if (auto* r = resp.as<proto::SubmitMultiResp>()) {
    r->message_id = message_id;
    r->unsuccess_smes = std::move(unsuccess);
  }
  const bool wants_receipt = !multi && info && (info->registered_delivery & 0x03) != 0;
  if (!rule || rule->action != RuleAction::delay) {
    answer(s, resp, wants_receipt ? number : 0);
    return;
  }
  asio::co_spawn(s.strand(),
                 delayed_answer(std::static_pointer_cast<SimSession>(s.shared_from_this()),
                                std::move(resp), rule->delay, wants_receipt ? number : 0),
                 [](std::exception_ptr e) { log_exception(e, "sim_delay"); });
}

void Simulator::Impl::answer(SimSession& s, const proto::Pdu& response, std::uint64_t receipt_for) {
  s.send_response(response);
  count_answered();
  if (receipt_for == 0) return;
  if (options.receipt_delay.count() == 0 && session::can_receive(s.state())) {
    // An immediate receipt (carriers send them for network rejections) goes in the same write
    // as the response.
    send_receipt(receipt_for, options.receipt_status, true, {}, s.self());
    return;
  }
  schedule_receipt(receipt_for, std::chrono::steady_clock::now() + options.receipt_delay);
}

asio::awaitable<void> Simulator::Impl::delayed_answer(std::shared_ptr<SimSession> s,
                                                      proto::Pdu response,
                                                      std::chrono::milliseconds delay,
                                                      std::uint64_t receipt_for) {
  asio::steady_timer timer(s->strand());
  timer.expires_after(delay);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!s->is_closed()) answer(*s, response, receipt_for);
}

// ---- receipts -----------------------------------------------------------------------------------

void Simulator::Impl::schedule_receipt(std::uint64_t number, session::SteadyTime when) {
  bool earliest = false;
  {
    std::lock_guard lock(mu);
    if (stopping) return;
    auto it = due.emplace(when, number);
    earliest = it == due.begin();
  }
  if (earliest) asio::post(strand, [this] { pump_timer.cancel(); });
}

std::shared_ptr<SimSession> Simulator::Impl::pick_receiver_locked(std::string_view system_id) {
  std::vector<const std::shared_ptr<SimSession>*> candidates;
  for (const auto& s : sessions) {
    if (!session::can_receive(s->state())) continue;
    if (!system_id.empty() && s->system_id() != system_id) continue;
    candidates.push_back(&s);
  }
  if (candidates.empty()) return nullptr;
  return *candidates[round_robin++ % candidates.size()];
}

Simulator::Impl::ReceiptOutcome Simulator::Impl::send_receipt(
    std::uint64_t number, std::string_view stat, bool automatic, SendHandler done,
    const std::shared_ptr<SimSession>& flush_to) {
  std::shared_ptr<SimSession> target;
  std::vector<std::uint8_t> frame;
  {
    std::lock_guard lock(mu);
    auto it = messages.find(number);
    if (it == messages.end()) return ReceiptOutcome::unknown_id;
    auto& m = it->second;
    if (automatic && m.final_state != 0) return ReceiptOutcome::already_sent;
    target = flush_to ? flush_to : pick_receiver_locked(m.system_id);
    if (!target) {
      if (automatic) {
        auto& queue = parked[m.system_id];
        queue.push_back(number);
        while (queue.size() > kMaxParkedReceipts) queue.pop_front();
      }
      return ReceiptOutcome::no_bind;
    }
    const auto text_id = receipt_text_id(number, options.id_format, options.receipt_id_format);
    frame = encode_or_empty(build_receipt(m, text_id, stat, SysClock::now()));
    if (frame.empty()) return ReceiptOutcome::unknown_id;
    m.final_state = message_state_for_stat(stat).value_or(7);
    ++stats.receipts_sent;
  }
  auto on_answer = [this, number, automatic, done = std::move(done)](SendOutcome outcome) {
    if (automatic && outcome.error == session::SessionErrc::connection_closed) {
      // The receiver went away before answering: deliver it to the next receiver
      // that binds.
      std::lock_guard lock(mu);
      auto it = messages.find(number);
      if (it != messages.end() && !stopping) {
        it->second.final_state = 0;
        parked[it->second.system_id].push_back(number);
      }
    }
    if (done) done(outcome);
  };
  if (flush_to) {
    target->request_now(std::move(frame), std::move(on_answer));
  } else {
    target->request(std::move(frame), std::move(on_answer));
  }
  return ReceiptOutcome::sent;
}

asio::awaitable<void> Simulator::Impl::receipt_pump() {
  while (true) {
    std::vector<std::uint64_t> ready;
    auto next = session::SteadyTime::max();
    {
      std::lock_guard lock(mu);
      if (stopping) co_return;
      const auto now = std::chrono::steady_clock::now();
      while (!due.empty() && due.begin()->first <= now) {
        ready.push_back(due.begin()->second);
        due.erase(due.begin());
      }
      if (!due.empty()) next = due.begin()->first;
    }
    for (const auto n : ready) send_receipt(n, options.receipt_status, true, {});
    if (!ready.empty()) continue;
    pump_timer.expires_at(next);
    co_await pump_timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

// ---- HTTP ---------------------------------------------------------------------------------------

asio::awaitable<HttpResponse> Simulator::Impl::handle_http(HttpRequest& request) {
  const auto& path = request.path;
  const auto& method = request.method;
  auto wrong_method = [&](std::string_view allowed) {
    auto r = HttpResponse::error(405, "method_not_allowed",
                                 "use " + std::string(allowed) + " on " + path);
    r.headers.emplace_back("Allow", std::string(allowed));
    return r;
  };

  if (path == "/healthz") {
    if (method != "GET") co_return wrong_method("GET");
    co_return HttpResponse::json(200, "{\"status\":\"ok\"}\n");
  }
  if (path == "/binds") {
    if (method != "GET") co_return wrong_method("GET");
    co_return binds();
  }
  if (path == "/messages") {
    if (method == "GET") {
      json::array out;
      std::lock_guard lock(mu);
      out.reserve(records.size());
      for (const auto& r : records) out.push_back(record_to_json(r));
      co_return json_response(200, out);
    }
    if (method == "DELETE") {
      json::object o;
      std::lock_guard lock(mu);
      o["deleted"] = records.size();
      records.clear();
      next_index = 1;
      co_return json_response(200, o);
    }
    co_return wrong_method("GET, DELETE");
  }
  if (path == "/mo") {
    if (method != "POST") co_return wrong_method("POST");
    co_return co_await post_mo(request);
  }
  if (path == "/receipt") {
    if (method != "POST") co_return wrong_method("POST");
    co_return co_await post_receipt(request);
  }
  if (path == "/rules") {
    if (method != "GET" && method != "POST" && method != "DELETE") {
      co_return wrong_method("GET, POST, DELETE");
    }
    co_return rules(request);
  }
  if (path == "/disconnect" || path == "/unbind") {
    if (method != "POST") co_return wrong_method("POST");
    std::vector<std::shared_ptr<SimSession>> all;
    {
      std::lock_guard lock(mu);
      all = sessions;
    }
    const bool unbind = path == "/unbind";
    for (auto& s : all) {
      if (unbind)
        s->unbind_soon();
      else
        s->close_soon();
    }
    json::object o;
    o[unbind ? "unbound" : "closed"] = all.size();
    co_return json_response(200, o);
  }
  if (path == "/stats") {
    if (method != "GET") co_return wrong_method("GET");
    json::object o;
    std::lock_guard lock(mu);
    o["received"] = stats.received;
    o["answered"] = stats.answered;
    o["receipts_sent"] = stats.receipts_sent;
    o["mo_sent"] = stats.mo_sent;
    co_return json_response(200, o);
  }
  co_return HttpResponse::error(404, "not_found", "no such endpoint: " + path);
}

HttpResponse Simulator::Impl::binds() {
  json::array out;
  std::lock_guard lock(mu);
  for (const auto& s : sessions) {
    const auto state = s->state();
    if (!session::can_receive(state) && !session::can_transmit(state)) continue;
    json::object o;
    o["system_id"] = s->system_id();
    o["bind_type"] = bind_type_name(s->bind_id());
    o["peer"] = s->peer();
    out.push_back(std::move(o));
  }
  return json_response(200, out);
}

HttpResponse Simulator::Impl::rules(const HttpRequest& request) {
  std::lock_guard lock(mu);
  if (request.method == "DELETE") {
    json::object o;
    o["deleted"] = rule_list.size();
    rule_list.clear();
    return json_response(200, o);
  }
  if (request.method == "POST") {
    boost::system::error_code ec;
    const auto body = json::parse(request.body, ec);
    if (ec) return HttpResponse::error(400, "bad_request", "the body must be JSON");
    auto rule = parse_rule(body);
    if (!rule) return HttpResponse::error(400, "bad_request", rule.error());
    rule_list.push_back(*rule);
    return json_response(200, rule_to_json(*rule));
  }
  json::array out;
  for (const auto& r : rule_list) out.push_back(rule_to_json(r));
  return json_response(200, out);
}

asio::awaitable<HttpResponse> Simulator::Impl::post_mo(const HttpRequest& request) {
  auto mo = parse_mo_request(request.body);
  if (!mo) co_return HttpResponse::error(400, "bad_request", mo.error());

  std::vector<std::vector<std::uint8_t>> frames;
  if (mo->pdu) {
    frames.push_back(std::move(*mo->pdu));
  } else {
    std::uint8_t reference = 0;
    {
      std::lock_guard lock(mu);
      reference = ++next_reference;
    }
    auto pdus = build_mo(*mo, reference);
    if (!pdus) co_return HttpResponse::error(400, "bad_request", pdus.error());
    for (const auto& pdu : *pdus) {
      auto frame = encode_or_empty(pdu);
      if (frame.empty())
        co_return HttpResponse::error(400, "bad_request", "the MO does not encode");
      frames.push_back(std::move(frame));
    }
  }

  std::shared_ptr<SimSession> target;
  {
    std::lock_guard lock(mu);
    target = pick_receiver_locked(mo->system_id);
  }
  if (!target) {
    co_return HttpResponse::error(
        503, "no_bind",
        mo->system_id.empty() ? std::string("no receiver or transceiver is bound")
                              : "no receiver or transceiver of " + mo->system_id + " is bound");
  }

  json::array statuses;
  json::array commands;
  std::uint32_t last = 0;
  for (auto& frame : frames) {
    {
      std::lock_guard lock(mu);
      ++stats.mo_sent;
    }
    // Only reference captures in a lambda that is a temporary of a co_await expression: GCC 12
    // destroys such temporaries' owning captures twice.
    const auto outcome = co_await async_callback<SendOutcome>(
        [&target, &frame](auto done) { target->request(std::move(frame), std::move(done)); });
    if (outcome.error == session::SessionErrc::timeout) {
      co_return HttpResponse::error(504, "timeout", "no response from the ESME within 5 s");
    }
    if (outcome.error) {
      co_return HttpResponse::error(502, "connection_closed",
                                    "the connection closed before the response");
    }
    last = outcome.status;
    statuses.push_back(outcome.status);
    commands.emplace_back(proto::command_name(outcome.command_id));
  }
  json::object o;
  o["status"] = last;
  o["statuses"] = std::move(statuses);
  o["responses"] = std::move(commands);
  o["system_id"] = target->system_id();
  co_return json_response(200, o);
}

asio::awaitable<HttpResponse> Simulator::Impl::post_receipt(const HttpRequest& request) {
  boost::system::error_code ec;
  const auto body = json::parse(request.body, ec);
  if (ec || !body.is_object())
    co_return HttpResponse::error(400, "bad_request", "the body must be a JSON object");
  const auto& o = body.get_object();
  const auto* id = o.if_contains("message_id");
  if (id == nullptr || !id->is_string()) {
    co_return HttpResponse::error(400, "bad_request", "message_id (a string) is required");
  }
  std::string stat = options.receipt_status;
  if (const auto* s = o.if_contains("stat")) {
    if (!s->is_string() || !message_state_for_stat(s->get_string())) {
      co_return HttpResponse::error(400, "bad_request",
                                    "stat must be DELIVRD, UNDELIV, REJECTD, EXPIRED, DELETED, "
                                    "ACCEPTD, UNKNOWN or ENROUTE");
    }
    stat = std::string(s->get_string());
  }
  const std::string message_id(id->get_string());
  const auto number = parse_message_id(message_id, options.id_format);
  auto outcome = ReceiptOutcome::unknown_id;
  SendOutcome sent;
  if (number) {
    sent = co_await async_callback<SendOutcome>([&](auto done) {
      outcome = send_receipt(*number, stat, false, done);
      if (outcome != ReceiptOutcome::sent) done(SendOutcome{});
    });
  }
  if (outcome == ReceiptOutcome::unknown_id) {
    co_return HttpResponse::error(404, "unknown_message_id", "no message with id " + message_id);
  }
  if (outcome == ReceiptOutcome::no_bind) {
    co_return HttpResponse::error(503, "no_bind",
                                  "no receiver or transceiver of the sender is bound");
  }
  if (sent.error == session::SessionErrc::timeout) {
    co_return HttpResponse::error(504, "timeout", "no response from the ESME within 5 s");
  }
  if (sent.error) {
    co_return HttpResponse::error(502, "connection_closed",
                                  "the connection closed before the response");
  }
  json::object out;
  out["status"] = sent.status;
  out["statuses"] = json::array{sent.status};
  co_return json_response(200, out);
}

// ---- Simulator ----------------------------------------------------------------------------------

Simulator::Simulator(asio::io_context& io, SimulatorOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}

Simulator::~Simulator() = default;

void Simulator::start() { impl_->start(); }
void Simulator::stop(std::function<void()> done) { impl_->stop(std::move(done)); }
unsigned short Simulator::smpp_port() const { return impl_->smpp_port; }
unsigned short Simulator::http_port() const { return impl_->http_port; }
const SimulatorOptions& Simulator::options() const { return impl_->options; }

void write_ports_file(const std::string& path, unsigned short smpp, unsigned short http) {
  json::object o;
  o["smpp"] = smpp;
  o["http"] = http;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json::serialize(o) << "\n";
    out.flush();
    if (!out) throw std::system_error(errno, std::generic_category(), "write " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace smppguard::sim
