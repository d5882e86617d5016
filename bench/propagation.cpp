// smppguard-propagation: how long a STOP taken by one cluster node takes to govern another.
//
//   Plays node A's carrier (an SMSC on --smpp: it accepts A's binds and answers A's submit_sm,
//   the opt-out confirmations) and an ESME bound to node B (--esme HOST:PORT). Once both are up,
//   for each of --count subscribers from --range-start (bench_common.hpp numbering; they must be
//   opted in on the cluster), once --start-file exists when given (the bench creates it when A
//   is ready): sends a STOP deliver_sm from the subscriber to --number over A's
//   bind; when A answers it OK (the STOP is committed in PostgreSQL and in A's replica), the clock
//   starts and B is sent submit_sm to that subscriber back to back, one at a time, until one is
//   refused with --refusal (0x400, opted_out). The time from A's deliver_sm_resp to B's refusal
//   is the propagation latency; the MTs B forwarded meanwhile are counted (stale). One STOP at a
//   time. Prints one JSON object: {"count","latency_us":{p50,p90,p99,max,...},"stale_mts",
//   "stop_ack_us":{...}}.
// Single-threaded: one io_context, callbacks.
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <smppguard/proto/encode.hpp>

#include "bench_common.hpp"

namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;
using namespace bench;

namespace {

class Propagation {
 public:
  Propagation(asio::io_context& io, const Args& args)
      : io_(io),
        args_(args),
        acceptor_(io),
        watchdog_(io),
        number_(args.str("number", "18005550100")),
        next_(args.u64("range-start", 0)),
        end_(next_ + args.u64("count", 200)),
        refusal_(static_cast<std::uint32_t>(std::stoul(args.str("refusal", "0x400"), nullptr, 0))) {
    latencies_.reserve(end_ - next_);
    stop_acks_.reserve(end_ - next_);
  }

  void start() {
    listen_smpp(acceptor_, args_);
    accept();
    connect_esme();
    watchdog_.expires_after(std::chrono::seconds(args_.u64("timeout", 300)));
    watchdog_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      std::fprintf(stderr, "propagation: timed out\n");
      finish();
    });
  }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (!ec) {
        auto conn = std::make_shared<Conn>(std::move(s));
        carrier_.push_back(conn);
        std::weak_ptr<Conn> weak = conn;
        conn->start(
            [this, weak](std::span<const std::uint8_t> f) {
              if (auto c = weak.lock()) on_carrier_frame(c, f);
            },
            [] {});
      }
      accept();
    });
  }

  void connect_esme() {
    const auto [host, port] = host_port(args_.str("esme", "127.0.0.1:2775"));
    tcp::socket s(io_);
    s.connect(tcp::endpoint(asio::ip::make_address(host), port));
    esme_ = std::make_shared<Conn>(std::move(s));
    esme_->start([this](std::span<const std::uint8_t> f) { on_esme_frame(f); },
                 [this] {
                   std::fprintf(stderr, "propagation: node B closed the ESME bind\n");
                   finish();
                 });
    proto::Pdu bind{.command_id = cmd::kBindTransmitter,
                    .sequence_number = ++esme_seq_,
                    .body = proto::Bind{.system_id = args_.str("system-id", "bench"),
                                        .password = args_.str("password", "bench"),
                                        .interface_version = proto::kInterfaceVersion34}};
    esme_->send(*proto::encode(bind));
  }

  // Node A's side: it binds to us, sends confirmations (submit_sm), answers our STOPs.
  void on_carrier_frame(const std::shared_ptr<Conn>& c, std::span<const std::uint8_t> f) {
    const std::uint32_t id = be32(f.data() + 4);
    const std::uint32_t status = be32(f.data() + 8);
    const std::uint32_t seq = be32(f.data() + 12);
    auto& out = c->out();
    switch (id) {
      case cmd::kBindTransceiver:
      case cmd::kBindTransmitter:
      case cmd::kBindReceiver:
        append_simple_pdu(out, id | 0x80000000u, 0, seq, {"carrier"});
        c->flush();
        if (id != cmd::kBindTransmitter && !a_bind_) {
          a_bind_ = c;
          maybe_begin();
        }
        return;
      case cmd::kSubmitSm:
      case cmd::kDataSm: {
        const std::string message_id = std::to_string(++carrier_ids_);
        append_simple_pdu(out, id | 0x80000000u, 0, seq, {message_id});
        c->flush();
        return;
      }
      case cmd::kEnquireLink:
        append_simple_pdu(out, cmd::kEnquireLinkResp, 0, seq, {});
        c->flush();
        return;
      case cmd::kDeliverSmResp:
        if (seq == stop_seq_) on_stop_answered(status);
        return;
      default:
        return;
    }
  }

  void on_esme_frame(std::span<const std::uint8_t> f) {
    const std::uint32_t id = be32(f.data() + 4);
    const std::uint32_t status = be32(f.data() + 8);
    const std::uint32_t seq = be32(f.data() + 12);
    switch (id) {
      case cmd::kBindTransmitterResp:
        if (status != 0) {
          std::fprintf(stderr, "propagation: bind to node B refused: %s\n",
                       hex_status(status).c_str());
          finish();
          return;
        }
        esme_bound_ = true;
        maybe_begin();
        return;
      case cmd::kSubmitSmResp:
      case cmd::kGenericNack:
        if (seq == probe_seq_) on_probe_answered(status);
        return;
      case cmd::kEnquireLink:
        append_simple_pdu(esme_->out(), cmd::kEnquireLinkResp, 0, seq, {});
        esme_->flush();
        return;
      default:
        return;
    }
  }

  void maybe_begin() {
    if (began_ || !esme_bound_ || !a_bind_) return;
    if (const auto f = args_.str("start-file"); !f.empty() && !std::filesystem::exists(f)) {
      timer_after(std::chrono::milliseconds(20), [this] { maybe_begin(); });
      return;
    }
    began_ = true;
    send_stop();
  }

  void send_stop() {
    if (next_ >= end_) return finish();
    proto::SubmitSm sm;  // deliver_sm shares submit_sm's body
    sm.source_addr_ton = 1;
    sm.source_addr_npi = 1;
    sm.source_addr = smpp_digits(next_);
    sm.dest_addr_ton = 1;
    sm.dest_addr_npi = 1;
    sm.destination_addr = number_;
    sm.short_message = "STOP";
    stop_seq_ = ++carrier_seq_;
    proto::Pdu pdu{.command_id = cmd::kDeliverSm, .sequence_number = stop_seq_, .body = sm};
    stop_sent_ = Clock::now();
    a_bind_->send(*proto::encode(pdu));
  }

  void on_stop_answered(std::uint32_t status) {
    if (status != 0) {
      ++stop_errors_;
      // Temporary (e.g. ESME_RMSGQFUL): send it again, as a carrier does.
      timer_after(std::chrono::milliseconds(10), [this] { send_stop(); });
      return;
    }
    acked_ = Clock::now();
    stop_acks_.add(acked_ - stop_sent_);
    send_probe();
  }

  void send_probe() {
    proto::SubmitSm sm;
    sm.source_addr_ton = 1;
    sm.source_addr_npi = 1;
    sm.source_addr = number_;
    sm.dest_addr_ton = 1;
    sm.dest_addr_npi = 1;
    sm.destination_addr = smpp_digits(next_);
    sm.short_message = "probe";
    probe_seq_ = ++esme_seq_;
    proto::Pdu pdu{.command_id = cmd::kSubmitSm, .sequence_number = probe_seq_, .body = sm};
    esme_->send(*proto::encode(pdu));
  }

  void on_probe_answered(std::uint32_t status) {
    if (status == refusal_) {
      latencies_.add(Clock::now() - acked_);
      ++measured_;
      ++next_;
      send_stop();
      return;
    }
    if (status == 0) {
      ++stale_;  // B still forwarded it: the STOP had not reached B's replica yet
    } else {
      ++probe_errors_;
    }
    send_probe();
  }

  template <typename F>
  void timer_after(std::chrono::milliseconds d, F&& f) {
    auto t = std::make_shared<asio::steady_timer>(io_, d);
    t->async_wait([t, f = std::forward<F>(f)](boost::system::error_code ec) {
      if (!ec) f();
    });
  }

  void finish() {
    if (done_) return;
    done_ = true;
    json::object o;
    o["count"] = measured_;
    o["latency_us"] = latencies_.summary_us();
    o["stop_ack_us"] = stop_acks_.summary_us();
    o["stale_mts"] = stale_;
    o["stop_errors"] = stop_errors_;
    o["probe_errors"] = probe_errors_;
    std::printf("%s\n", to_string(o).c_str());
    std::fflush(stdout);
    io_.stop();
  }

  asio::io_context& io_;
  const Args& args_;
  tcp::acceptor acceptor_;
  asio::steady_timer watchdog_;
  std::vector<std::shared_ptr<Conn>> carrier_;
  std::shared_ptr<Conn> a_bind_;
  std::shared_ptr<Conn> esme_;
  bool esme_bound_ = false;
  bool began_ = false;
  bool done_ = false;
  std::string number_;
  std::uint64_t next_;
  std::uint64_t end_;
  std::uint32_t refusal_;
  std::uint32_t carrier_seq_ = 0, esme_seq_ = 0, stop_seq_ = 0, probe_seq_ = 0;
  std::uint64_t carrier_ids_ = 0;
  Clock::time_point stop_sent_{}, acked_{};
  Latencies latencies_, stop_acks_;
  std::uint64_t measured_ = 0, stale_ = 0, stop_errors_ = 0, probe_errors_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const Args args(argc, argv);
  if (args.has("help") || !args.has("esme")) {
    std::fprintf(stderr,
                 "smppguard-propagation --esme HOST:PORT (node B) [--smpp 127.0.0.1:0] "
                 "[--ports-file F]\n  [--system-id ID --password PW] [--number DIGITS] "
                 "[--range-start I] [--count N]\n  [--refusal 0x400] [--start-file F] [--timeout S]\n");
    return 2;
  }
  asio::io_context io;
  Propagation p(io, args);
  p.start();
  io.run();
  return 0;
}
