// smppguard-sink: the carrier end of the bench, an SMSC that answers at once.
//
//   Accepts binds (any system_id/password), answers every submit_sm/data_sm at once with its own
//   message id (hex counter), and with --receipt-pct P sends a DELIVRD receipt (deliver_sm,
//   esm_class 0x04, id in the text and in receipted_message_id) for P% of the submit_sm that ask
//   for one (registered_delivery). Answers enquire_link and unbind.
//   MO mode (--mo-count M): once --mo-binds binds are up and --mo-start-file exists, injects M
//   deliver_sm MOs over the binds, --mo-window in flight per bind, at full speed or --mo-rate per
//   second. Every 20th MO (5%) is a keyword, STOP, HELP and START in turn, each from a subscriber
//   no other keyword MO uses; the others are plain texts stamped "t=<monotonic ns>" so that the
//   receiver can measure the whole trip. --mo-stops-only makes every MO a STOP, each from a
//   subscriber of its own (with --mo-window 1 --mo-binds 1: one STOP at a time). Counts
//   deliver_sm_resp statuses, their latency (injection to response; the STOPs' alone as
//   stop_latency_us) and the rate, and writes them as JSON to --mo-result. With
//   --stop-log, the subscribers whose STOP was answered OK are written one per line (the bench
//   checks afterwards that each is opted out in the store, i.e. durable).
//   --ports-file F receives {"smpp": port}. SIGTERM/SIGINT: prints the totals as JSON and exits.
// Single-threaded: one io_context, callbacks.
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <smppguard/proto/encode.hpp>
#include <smppguard/proto/tlv.hpp>

#include "bench_common.hpp"

namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;
using namespace bench;

namespace {

struct Slot {
  std::uint32_t seq = 0;
  Clock::time_point sent{};
  std::int32_t keyword = -1;  // index into stop list when a STOP
};

struct Session {
  std::shared_ptr<Conn> conn;
  bool bound = false;
  std::vector<Slot> slots;
  std::vector<std::uint16_t> free;
  std::uint32_t gen = 1;
  std::uint32_t own_seq = 0;
};

struct Template {
  std::vector<std::uint8_t> bytes;
  std::size_t source_offset = 0;  // ten national digits of the subscriber
  std::size_t stamp_offset = 0;   // 19 digits of the stamp (0 = none)
};

constexpr std::string_view kSourcePlaceholder = "10123456789";
constexpr std::string_view kStampPlaceholder = "0000000000000000000";

Template make_mo(const std::string& number, const std::string& text, bool stamped) {
  proto::SubmitSm sm;
  sm.source_addr_ton = 1;
  sm.source_addr_npi = 1;
  sm.source_addr = std::string(kSourcePlaceholder);
  const bool short_code = number.size() <= 8;
  sm.dest_addr_ton = short_code ? 3 : 1;
  sm.dest_addr_npi = short_code ? 0 : 1;
  sm.destination_addr = number;
  sm.data_coding = 0;
  sm.short_message = text;
  if (stamped) sm.short_message += " t=" + std::string(kStampPlaceholder);
  proto::Pdu pdu{.command_id = cmd::kDeliverSm, .sequence_number = 1, .body = sm};
  auto bytes = proto::encode(pdu);
  if (!bytes) throw std::runtime_error("cannot encode an MO template");
  Template t;
  t.bytes = std::move(*bytes);
  const std::string_view view(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
  t.source_offset = view.find(kSourcePlaceholder) + 1;
  if (stamped) t.stamp_offset = view.rfind(kStampPlaceholder);
  return t;
}

void write_digits(std::uint8_t* p, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>('0' + v % 10);
    v /= 10;
  }
}

class Sink {
 public:
  Sink(asio::io_context& io, const Args& args)
      : io_(io),
        args_(args),
        acceptor_(io),
        signals_(io, SIGTERM, SIGINT),
        timer_(io),
        cpu_(parse_pids(args.str("pids"))),
        receipt_pct_(args.u64("receipt-pct", 0)),
        mo_count_(args.u64("mo-count", 0)),
        mo_window_(
            std::max<std::uint64_t>(1, std::min<std::uint64_t>(2048, args.u64("mo-window", 64)))),
        mo_rate_(args.num("mo-rate", 0)),
        mo_binds_(args.u64("mo-binds", 1)),
        mo_range_start_(args.u64("mo-range-start", 0)),
        mo_range_size_(std::max<std::uint64_t>(1, args.u64("mo-range-size", 1000000))),
        mo_stops_only_(args.has("mo-stops-only")),
        rng_(args.u64("seed", 7)) {
    if (mo_count_ > 0) {
      const auto number = args.str("mo-number", "18005550100");
      other_ = make_mo(number, "Thanks, see you at five", true);
      keywords_[0] = make_mo(number, "STOP", false);
      keywords_[1] = make_mo(number, "HELP", false);
      keywords_[2] = make_mo(number, "START", false);
      latencies_.reserve(mo_count_);
    }
  }

  void start() {
    listen_smpp(acceptor_, args_);
    accept();
    signals_.async_wait([this](boost::system::error_code ec, int) {
      if (ec) return;
      print_totals();
      io_.stop();
    });
    if (mo_count_ > 0) wait_for_start();
  }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (!ec) {
        auto session = std::make_shared<Session>();
        session->conn = std::make_shared<Conn>(std::move(s));
        session->slots.resize(mo_window_);
        for (std::size_t k = 0; k < mo_window_; ++k)
          session->free.push_back(static_cast<std::uint16_t>(mo_window_ - 1 - k));
        sessions_.push_back(session);
        std::weak_ptr<Session> weak = session;
        session->conn->start(
            [this, weak](std::span<const std::uint8_t> f) {
              if (auto s = weak.lock()) on_frame(*s, f);
            },
            [this, weak] {
              if (auto s = weak.lock()) s->bound = false;
            });
      }
      accept();
    });
  }

  void on_frame(Session& s, std::span<const std::uint8_t> f) {
    const std::uint32_t id = be32(f.data() + 4);
    const std::uint32_t status = be32(f.data() + 8);
    const std::uint32_t seq = be32(f.data() + 12);
    auto& out = s.conn->out();
    switch (id) {
      case cmd::kBindTransceiver:
      case cmd::kBindTransmitter:
      case cmd::kBindReceiver:
        append_simple_pdu(out, id | 0x80000000u, 0, seq, {"sink"});
        s.bound = true;
        ++binds_;
        return;
      case cmd::kSubmitSm:
      case cmd::kDataSm: {
        char idbuf[24];
        const int n =
            std::snprintf(idbuf, sizeof idbuf, "%llx", static_cast<unsigned long long>(++next_id_));
        append_simple_pdu(out, id | 0x80000000u, 0, seq, {std::string_view(idbuf, n)});
        ++submits_;
        if (receipt_pct_ > 0 && id == cmd::kSubmitSm)
          maybe_receipt(s, f, std::string_view(idbuf, n));
        return;
      }
      case cmd::kEnquireLink:
        append_simple_pdu(out, cmd::kEnquireLinkResp, 0, seq, {});
        return;
      case cmd::kUnbind:
        append_simple_pdu(out, cmd::kUnbindResp, 0, seq, {});
        s.bound = false;
        return;
      case cmd::kDeliverSmResp:
      case cmd::kGenericNack:
        on_mo_response(s, seq, status);
        return;
      default:
        if ((id & 0x80000000u) == 0) append_simple_pdu(out, cmd::kGenericNack, 0x03, seq, {});
        return;
    }
  }

  void maybe_receipt(Session& s, std::span<const std::uint8_t> f, std::string_view message_id) {
    auto pdu = proto::decode(f);
    if (!pdu) return;
    const auto* sm = pdu->as<proto::SubmitSm>();
    if (sm == nullptr || (sm->registered_delivery & 0x03) == 0) return;
    if (rng_.below(100) >= receipt_pct_) return;
    proto::SubmitSm r;
    r.source_addr_ton = sm->dest_addr_ton;
    r.source_addr_npi = sm->dest_addr_npi;
    r.source_addr = sm->destination_addr;
    r.dest_addr_ton = sm->source_addr_ton;
    r.dest_addr_npi = sm->source_addr_npi;
    r.destination_addr = sm->source_addr;
    r.esm_class = proto::esm_class::kDeliveryReceipt;
    r.short_message =
        "id:" + std::string(message_id) +
        " sub:001 dlvrd:001 submit date:2401011200 done date:2401011200 stat:DELIVRD err:000 text:";
    r.tlvs.set_cstring(proto::tlv::kReceiptedMessageId, message_id);
    r.tlvs.set_u8(proto::tlv::kMessageState, 2);
    proto::Pdu receipt{
        .command_id = cmd::kDeliverSm, .sequence_number = ++s.own_seq | 0x40000000u, .body = r};
    if (proto::encode(receipt, s.conn->out())) ++receipts_;
  }

  // ---- MO injection ----

  void wait_for_start() {
    timer_.expires_after(std::chrono::milliseconds(20));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      const auto file = args_.str("mo-start-file");
      const bool ready = binds_ >= mo_binds_ && (file.empty() || std::filesystem::exists(file));
      if (!ready) return wait_for_start();
      if (auto f = args_.str("pids-file"); !f.empty()) {
        // The daemon starts after the sink (it needs the sink's port): its pid comes late.
        std::ifstream in(f);
        std::string pids;
        std::getline(in, pids);
        cpu_ = CpuMeter(parse_pids(pids));
      }
      cpu_.start();
      t0_ = Clock::now();
      if (mo_rate_ > 0) tick();
      pump_all();
    });
  }

  void tick() {
    timer_.expires_after(std::chrono::microseconds(250));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || mo_done_) return;
      pump_all();
      if (injected_ < mo_count_) tick();
    });
  }

  std::uint64_t due(Clock::time_point now) const {
    return paced_due(mo_rate_, mo_count_, t0_, now);
  }

  void pump_all() {
    const auto now = Clock::now();
    const auto limit = due(now);
    bool progress = true;
    while (injected_ < limit && progress) {
      progress = false;
      for (auto& s : sessions_) {
        if (injected_ >= limit) break;
        if (s->bound && !s->conn->closed() && !s->free.empty()) {
          inject(*s, now);
          progress = true;
        }
      }
    }
    for (auto& s : sessions_) {
      if (!s->conn->closed()) s->conn->flush();
    }
  }

  void inject(Session& s, Clock::time_point now) {
    const std::uint64_t n = injected_++;
    std::int32_t keyword = -1;
    const Template* t = &other_;
    std::uint64_t subscriber;
    if (mo_stops_only_ || n % 20 == 7) {
      // Keyword k goes to a subscriber of its own: k * stride mod range is one to one for a
      // stride coprime with the range. With --mo-stops-only every MO is keyword 3k (a STOP).
      const std::uint64_t k = mo_stops_only_ ? 3 * n : n / 20;
      t = &keywords_[k % 3];
      subscriber = mo_range_start_ + (k * 1'000'003ULL + 12345) % mo_range_size_;
      if (k % 3 == 0) keyword = static_cast<std::int32_t>(subscriber - mo_range_start_);
      ++keyword_counts_[k % 3];
    } else {
      subscriber = mo_range_start_ + rng_.below(mo_range_size_);
    }
    const auto slot = s.free.back();
    s.free.pop_back();
    const std::uint32_t seq = ((s.gen++ & 0xFFFFFu) << 11) | slot;
    if ((s.gen & 0xFFFFFu) == 0) s.gen = 1;
    s.slots[slot] = Slot{seq, now, keyword};
    auto& out = s.conn->out();
    const auto at = out.size();
    out.insert(out.end(), t->bytes.begin(), t->bytes.end());
    write_digits(out.data() + at + t->source_offset, national_number(subscriber), 10);
    if (t->stamp_offset != 0)
      write_digits(out.data() + at + t->stamp_offset, static_cast<std::uint64_t>(mono_ns()), 19);
    proto::set_sequence(std::span<std::uint8_t>(out.data() + at, t->bytes.size()), seq);
  }

  void on_mo_response(Session& s, std::uint32_t seq, std::uint32_t status) {
    const auto slot = seq & 0x7FFu;
    if (slot >= s.slots.size() || s.slots[slot].seq != seq || seq == 0) return;  // a receipt's
    const auto now = Clock::now();
    latencies_.add(now - s.slots[slot].sent);
    if (s.slots[slot].keyword >= 0) stop_latencies_.add(now - s.slots[slot].sent);
    if (status == 0 && s.slots[slot].keyword >= 0)
      stops_ok_.push_back(static_cast<std::uint64_t>(s.slots[slot].keyword));
    s.slots[slot].seq = 0;
    s.free.push_back(static_cast<std::uint16_t>(slot));
    ++mo_statuses_[status];
    ++mo_responses_;
    last_response_ = now;
    if (mo_responses_ >= mo_count_) return mo_finish();
    const auto limit = due(now);
    while (injected_ < limit && !s.free.empty() && s.bound) inject(s, now);
  }

  void mo_finish() {
    if (mo_done_) return;
    mo_done_ = true;
    timer_.cancel();
    const double secs = std::chrono::duration<double>(last_response_ - t0_).count();
    json::object o;
    o["label"] = args_.str("label", "mo");
    o["injected"] = injected_;
    o["responses"] = mo_responses_;
    o["binds"] = binds_;
    o["window"] = mo_window_;
    o["offered_rate"] = static_cast<std::uint64_t>(mo_rate_);
    o["elapsed_s"] = CpuMeter::round3(secs);
    o["rate"] = static_cast<std::uint64_t>(
        secs > 0 ? std::round(static_cast<double>(mo_responses_) / secs) : 0.0);
    json::object st;
    for (auto& [k, n] : mo_statuses_) st[hex_status(k)] = n;
    o["statuses"] = st;
    o["keywords"] = json::object{
        {"STOP", keyword_counts_[0]}, {"HELP", keyword_counts_[1]}, {"START", keyword_counts_[2]}};
    o["stops_acknowledged"] = stops_ok_.size();
    o["latency_us"] = latencies_.summary_us();
    o["stop_latency_us"] = stop_latencies_.summary_us();
    o["cpu_s"] = cpu_.stop();
    o["peak_rss_mib"] = cpu_.peak_rss_mib();
    const auto text = json::serialize(o);
    if (auto f = args_.str("mo-result"); !f.empty()) {
      std::ofstream(f + ".tmp") << text << "\n";
      std::rename((f + ".tmp").c_str(), f.c_str());
    } else {
      std::printf("%s\n", text.c_str());
      std::fflush(stdout);
    }
    if (auto f = args_.str("stop-log"); !f.empty()) {
      std::ofstream out(f);
      for (auto i : stops_ok_) out << msisdn(mo_range_start_ + i) << "\n";
    }
  }

  void print_totals() {
    json::object o;
    o["submit_sm"] = submits_;
    o["receipts_sent"] = receipts_;
    o["binds"] = binds_;
    o["mo_injected"] = injected_;
    o["mo_responses"] = mo_responses_;
    if (auto f = args_.str("result-file"); !f.empty()) {
      std::ofstream(f) << json::serialize(o) << "\n";
    }
    std::fprintf(stderr, "sink: %s\n", json::serialize(o).c_str());
  }

  asio::io_context& io_;
  const Args& args_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::steady_timer timer_;
  CpuMeter cpu_;
  const std::uint64_t receipt_pct_;
  const std::uint64_t mo_count_;
  const std::size_t mo_window_;
  const double mo_rate_;
  const std::uint64_t mo_binds_;
  const std::uint64_t mo_range_start_;
  const std::uint64_t mo_range_size_;
  const bool mo_stops_only_;
  Rng rng_;
  std::vector<std::shared_ptr<Session>> sessions_;
  std::uint64_t binds_ = 0;
  std::uint64_t next_id_ = 0x10000;
  std::uint64_t submits_ = 0;
  std::uint64_t receipts_ = 0;
  Template other_;
  Template keywords_[3];
  std::uint64_t keyword_counts_[3] = {0, 0, 0};
  std::uint64_t injected_ = 0;
  std::uint64_t mo_responses_ = 0;
  std::map<std::uint32_t, std::uint64_t> mo_statuses_;
  std::vector<std::uint64_t> stops_ok_;
  Latencies latencies_;
  Latencies stop_latencies_;  // the STOPs' deliver_sm_resp alone
  Clock::time_point t0_{};
  Clock::time_point last_response_{};
  bool mo_done_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    Args args(argc, argv);
    if (args.has("help")) {
      std::puts(
          "smppguard-sink [--smpp HOST:PORT] [--ports-file F] [--receipt-pct P] [--result-file F]\n"
          "  MO mode: --mo-count M [--mo-window W] [--mo-rate R] [--mo-binds B] [--mo-start-file "
          "F]\n"
          "           [--mo-range-start I --mo-range-size N] [--mo-number DIGITS] [--mo-result F]\n"
          "           [--mo-stops-only] [--stop-log F] [--pids name=pid,...]\n"
          "           [--pids-file F (read at the start)]");
      return 0;
    }
    asio::io_context io(1);
    Sink sink(io, args);
    sink.start();
    io.run();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sink: %s\n", e.what());
    return 1;
  }
}
