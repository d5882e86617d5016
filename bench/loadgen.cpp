// smppguard-loadgen: an ESME load generator, and the MO receiver of the bench.
//
//   mt mode (default): opens --binds ESME binds (transceiver or transmitter), keeps --window
//     submit_sm in flight per bind, and sends --messages submit_sm at full speed or at --rate per
//     second, to destinations drawn uniformly from subscribers [--range-start, +--range-size)
//     (bench_common.hpp numbering). Texts are mixed: GSM 03.38 and UCS2, --multipart-pct of the
//     messages long (2-3 parts with an 8-bit-reference UDH). Every response's latency is recorded
//     (send to response, steady clock). Prints one JSON object.
//   receive mode (--mode receive): binds --binds receivers, answers every deliver_sm at once,
//     counts them and, for texts carrying "t=<monotonic ns>" (the sink stamps its MOs), records
//     the latency from injection to arrival. Stops after --expect messages or --idle seconds
//     without one.
//
// Flow (mt): connect all binds -> bind -> once every bind answered, start the clocks and pump:
// each bind sends while it has a free window slot and the schedule allows (full speed: always;
// rate: a 250 us ticker releases what is due) -> each submit_sm_resp frees its slot, records the
// latency and status, and pumps again -> after the last response: CPU deltas, /metrics scrape,
// JSON on stdout.
// Frames are built once per text variant with proto::encode and copied per message with the
// destination digits and the sequence number patched in place, so the generator spends its time
// on the socket, not on encoding.
#include <boost/asio/connect.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <smppguard/proto/concat.hpp>
#include <smppguard/proto/encode.hpp>
#include <smppguard/proto/text.hpp>
#include <unordered_map>

#include "bench_common.hpp"

namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;
using namespace bench;

namespace {

struct Template {
  std::vector<std::uint8_t> bytes;
  std::size_t dest_offset = 0;  // offset of the ten national digits
};

/// A message: its parts (one template each), sent to one destination.
struct Variant {
  std::string name;
  std::vector<Template> parts;
};

constexpr std::string_view kPlaceholder = "10123456789";

Template make_template(const std::string& source, std::uint8_t data_coding, std::uint8_t esm_class,
                       std::span<const std::uint8_t> short_message, std::uint8_t registered) {
  proto::SubmitSm sm;
  sm.source_addr_ton = 1;
  sm.source_addr_npi = 1;
  sm.source_addr = source;
  sm.dest_addr_ton = 1;
  sm.dest_addr_npi = 1;
  sm.destination_addr = std::string(kPlaceholder);
  sm.esm_class = esm_class;
  sm.data_coding = data_coding;
  sm.registered_delivery = registered;
  sm.short_message.assign(short_message.begin(), short_message.end());
  proto::Pdu pdu{.command_id = cmd::kSubmitSm, .sequence_number = 1, .body = sm};
  auto bytes = proto::encode(pdu);
  if (!bytes) throw std::runtime_error("cannot encode a template");
  Template t;
  t.bytes = std::move(*bytes);
  const std::string_view view(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
  const auto pos = view.find(kPlaceholder);
  if (pos == std::string_view::npos) throw std::runtime_error("placeholder not found");
  t.dest_offset = pos + 1;
  return t;
}

Variant make_variant(const std::string& name, const std::string& source, const std::string& text,
                     std::uint8_t reference, std::uint8_t registered) {
  proto::SplitOptions opts;
  opts.reference = reference;
  auto parts = proto::split_for_sms(text, opts);
  if (!parts) throw std::runtime_error("cannot split " + name);
  Variant v{name, {}};
  for (const auto& p : parts->parts) {
    v.parts.push_back(
        make_template(source, parts->data_coding, parts->esm_class_udhi, p, registered));
  }
  return v;
}

void write_digits(std::uint8_t* p, std::uint64_t v) {
  for (int i = 9; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>('0' + v % 10);
    v /= 10;
  }
}

struct Slot {
  std::uint32_t seq = 0;
  Clock::time_point sent{};
};

class Generator;

struct Bind {
  std::shared_ptr<Conn> conn;
  std::vector<Slot> slots;
  std::vector<std::uint16_t> free;
  std::uint32_t gen = 1;
  bool bound = false;
  std::uint32_t bind_seq = 0;
};

class Generator {
 public:
  Generator(asio::io_context& io, const Args& args)
      : io_(io),
        args_(args),
        mode_(args.str("mode", "mt")),
        binds_n_(args.u64("binds", 4)),
        window_(std::max<std::uint64_t>(1, args.u64("window", 64))),
        messages_(args.u64("messages", 200000)),
        rate_(args.num("rate", 0)),
        range_start_(args.u64("range-start", 0)),
        range_size_(std::max<std::uint64_t>(1, args.u64("range-size", 1000000))),
        multipart_pct_(args.u64("multipart-pct", 10)),
        ucs2_pct_(args.u64("ucs2-pct", 25)),
        receipt_pct_(args.u64("receipt-pct", 0)),
        expect_(args.u64("expect", 0)),
        idle_(std::chrono::milliseconds(static_cast<long>(args.num("idle", 5) * 1000))),
        timeout_(std::chrono::milliseconds(static_cast<long>(args.num("timeout", 120) * 1000))),
        cpu_(parse_pids(args.str("pids"))),
        rng_(args.u64("seed", 42)),
        ticker_(io),
        watchdog_(io) {
    if (window_ > 2048) throw std::runtime_error("--window is at most 2048");
    const auto source = args.str("source", "18005550100");
    // GSM 03.38 (with extension characters), UCS2 (Cyrillic, an emoji), and long ones of each.
    const std::string gsm =
        "Your Acme code is 482913. It expires in 10 min [ref 77]. Reply STOP to opt out.";
    const std::string ucs2 =
        "Ваш код Acme: 482913. Действует 10 минут 🙂 Ответьте STOP для "
        "отказа.";
    std::string gsm_long;
    while (gsm_long.size() < 250)
      gsm_long +=
          "Acme alert: your parcel is on its way and arrives today between 10:00 and 12:00. ";
    std::string ucs2_long;
    while (ucs2_long.size() < 300)
      ucs2_long += "Acme: посылка уже в пути, доставка сегодня с 10:00 до 12:00. ";
    for (std::uint8_t rd = 0; rd < 2; ++rd) {
      auto& set = variants_[rd];
      set.push_back(make_variant("gsm", source, gsm, 0, rd));
      set.push_back(make_variant("ucs2", source, ucs2, 0, rd));
      set.push_back(make_variant("gsm_long", source, gsm_long, 17, rd));
      set.push_back(make_variant("ucs2_long", source, ucs2_long, 18, rd));
    }
    if (mode_ == "mt") latencies_.reserve(messages_);
  }

  void start() {
    const auto [host, port] = host_port(args_.str("server", "127.0.0.1:2775"));
    tcp::endpoint ep(asio::ip::make_address(host), port);
    binds_.resize(binds_n_);
    for (std::size_t i = 0; i < binds_n_; ++i) {
      tcp::socket s(io_);
      s.connect(ep);
      auto& b = binds_[i];
      b.conn = std::make_shared<Conn>(std::move(s));
      b.slots.resize(window_);
      for (std::size_t k = 0; k < window_; ++k)
        b.free.push_back(static_cast<std::uint16_t>(window_ - 1 - k));
      b.conn->start([this, i](std::span<const std::uint8_t> f) { on_frame(i, f); },
                    [this, i] { on_close(i); });
      std::uint32_t bind_id = cmd::kBindTransceiver;
      const auto type = args_.str("bind", mode_ == "mt" ? "transceiver" : "receiver");
      if (type == "transmitter") bind_id = cmd::kBindTransmitter;
      if (type == "receiver") bind_id = cmd::kBindReceiver;
      proto::Pdu bind{.command_id = bind_id,
                      .sequence_number = 1,
                      .body = proto::Bind{.system_id = args_.str("system-id", "bench"),
                                          .password = args_.str("password", "bench"),
                                          .interface_version = proto::kInterfaceVersion34}};
      auto bytes = proto::encode(bind);
      b.bind_seq = 1;
      b.conn->send(*bytes);
    }
    watchdog_.expires_after(timeout_);
    watchdog_.async_wait([this](boost::system::error_code ec) {
      if (!ec) finish(true);
    });
  }

 private:
  void on_close(std::size_t i) {
    if (done_) return;
    std::fprintf(stderr, "loadgen: bind %zu closed by the peer\n", i);
    finish(true);
  }

  void on_frame(std::size_t i, std::span<const std::uint8_t> f) {
    auto& b = binds_[i];
    const std::uint32_t id = be32(f.data() + 4);
    const std::uint32_t status = be32(f.data() + 8);
    const std::uint32_t seq = be32(f.data() + 12);
    switch (id) {
      case cmd::kSubmitSmResp:
      case cmd::kGenericNack:
        on_response(b, seq, status);
        return;
      case cmd::kBindTransceiverResp:
      case cmd::kBindTransmitterResp:
      case cmd::kBindReceiverResp:
        if (status != 0) {
          std::fprintf(stderr, "loadgen: bind refused: %s\n", hex_status(status).c_str());
          finish(true);
          return;
        }
        b.bound = true;
        if (++bound_ == binds_.size()) begin();
        return;
      case cmd::kEnquireLink:
        append_simple_pdu(b.conn->out(), cmd::kEnquireLinkResp, 0, seq, {});
        return;
      case cmd::kDeliverSm:
      case cmd::kDataSm:
        on_deliver(b, f, id, seq);
        return;
      case cmd::kUnbind:
        append_simple_pdu(b.conn->out(), cmd::kUnbindResp, 0, seq, {});
        return;
      default:
        return;
    }
  }

  void on_deliver(Bind& b, std::span<const std::uint8_t> f, std::uint32_t id, std::uint32_t seq) {
    const auto now = Clock::now();
    append_simple_pdu(b.conn->out(), id | 0x80000000u, 0, seq, {""});
    ++delivered_;
    if (first_deliver_ == Clock::time_point{}) {
      first_deliver_ = now;
      if (mode_ == "receive") {
        cpu_.start();
        idle_check();
      }
    }
    last_deliver_ = now;
    // "t=<ns>" in the text: the sink's injection time.
    const std::string_view text(reinterpret_cast<const char*>(f.data()), f.size());
    if (const auto pos = text.find("t="); pos != std::string_view::npos) {
      std::int64_t ns = 0;
      std::size_t k = pos + 2;
      while (k < text.size() && text[k] >= '0' && text[k] <= '9') ns = ns * 10 + (text[k++] - '0');
      if (ns > 0) latencies_.add(std::chrono::nanoseconds(mono_ns() - ns));
    }
    if (mode_ == "receive" && expect_ > 0 && delivered_ >= expect_) {
      b.conn->flush();
      finish(false);
    }
  }

  void idle_check() {
    ticker_.expires_after(std::chrono::milliseconds(200));
    ticker_.async_wait([this](boost::system::error_code ec) {
      if (ec || done_) return;
      if (Clock::now() - last_deliver_ > idle_) return finish(false);
      idle_check();
    });
  }

  void begin() {
    if (mode_ == "receive") return;  // waits for deliver_sm
    if (!args_.str("metrics-port").empty()) {
      metrics_before_ = histogram_buckets(
          http_get(static_cast<unsigned short>(args_.u64("metrics-port", 0)), "/metrics"),
          "smppguard_added_latency_seconds");
    }
    cpu_.start();
    t0_ = Clock::now();
    if (rate_ > 0) tick();
    pump_all();
  }

  void tick() {
    ticker_.expires_after(std::chrono::microseconds(250));
    ticker_.async_wait([this](boost::system::error_code ec) {
      if (ec || done_) return;
      pump_all();
      if (sent_ < messages_) tick();
    });
  }

  /// How many submit_sm may have been sent by now.
  std::uint64_t due(Clock::time_point now) const {
    return paced_due(rate_, messages_, t0_, now);
  }

  void pump_all() {
    const auto now = Clock::now();
    const auto limit = due(now);
    bool progress = true;
    while (sent_ < limit && progress) {
      progress = false;
      for (auto& b : binds_) {
        if (sent_ >= limit) break;
        if (!b.free.empty()) {
          send_one(b, now);
          progress = true;
        }
      }
    }
    if (rate_ > 0 && sent_ < limit) ++late_ticks_;  // every window full: behind the schedule
    for (auto& b : binds_) b.conn->flush();
  }

  void pump(Bind& b) {
    const auto now = Clock::now();
    const auto limit = due(now);
    while (sent_ < limit && !b.free.empty()) send_one(b, now);
  }

  void send_one(Bind& b, Clock::time_point now) {
    // The next part of a long message, or a new message.
    if (pending_part_ == 0) {
      const auto r = rng_.below(100);
      const bool ucs2 = rng_.below(100) < ucs2_pct_;
      const std::uint8_t rd = rng_.below(100) < receipt_pct_ ? 1 : 0;
      const std::size_t kind = (r < multipart_pct_ ? 2 : 0) + (ucs2 ? 1 : 0);
      current_ = &variants_[rd][kind];
      current_dest_ = national_number(range_start_ + rng_.below(range_size_));
      ++variant_counts_[kind];
    }
    const Template& t = current_->parts[pending_part_];
    pending_part_ = (pending_part_ + 1) % current_->parts.size();

    const auto slot = b.free.back();
    b.free.pop_back();
    const std::uint32_t seq = ((b.gen++ & 0xFFFFFu) << 11) | slot;
    if ((b.gen & 0xFFFFFu) == 0) b.gen = 1;
    b.slots[slot] = Slot{seq, now};
    auto& out = b.conn->out();
    const auto at = out.size();
    out.insert(out.end(), t.bytes.begin(), t.bytes.end());
    write_digits(out.data() + at + t.dest_offset, current_dest_);
    proto::set_sequence(std::span<std::uint8_t>(out.data() + at, t.bytes.size()), seq);
    ++sent_;
  }

  void on_response(Bind& b, std::uint32_t seq, std::uint32_t status) {
    const auto slot = seq & 0x7FFu;
    if (slot >= b.slots.size() || b.slots[slot].seq != seq || seq == 0) {
      ++unexpected_;
      return;
    }
    const auto now = Clock::now();
    latencies_.add(now - b.slots[slot].sent);
    b.slots[slot].seq = 0;
    b.free.push_back(static_cast<std::uint16_t>(slot));
    ++statuses_[status];
    ++completed_;
    last_response_ = now;
    if (completed_ >= messages_) return finish(false);
    pump(b);
  }

  void finish(bool timed_out) {
    if (done_) return;
    done_ = true;
    const auto end = mode_ == "receive" ? last_deliver_ : last_response_;
    const auto begin = mode_ == "receive" ? first_deliver_ : t0_;
    json::object o;
    o["label"] = args_.str("label", mode_);
    o["mode"] = mode_;
    o["binds"] = binds_n_;
    o["window"] = window_;
    o["timed_out"] = timed_out;
    const double secs = (end > begin && begin != Clock::time_point{})
                            ? std::chrono::duration<double>(end - begin).count()
                            : 0.0;
    o["elapsed_s"] = CpuMeter::round3(secs);
    if (mode_ == "mt") {
      o["offered_rate"] = static_cast<std::uint64_t>(rate_);
      o["sent"] = sent_;
      o["responses"] = completed_;
      o["rate"] = static_cast<std::uint64_t>(
          secs > 0 ? std::round(static_cast<double>(completed_) / secs) : 0.0);
      json::object st;
      for (auto& [s, n] : statuses_) st[hex_status(s)] = n;
      o["statuses"] = st;
      o["unexpected_responses"] = unexpected_;
      o["late_ticks"] = late_ticks_;
      json::object mix;
      const char* names[] = {"gsm", "ucs2", "gsm_long", "ucs2_long"};
      for (int k = 0; k < 4; ++k) mix[names[k]] = variant_counts_[k];
      o["messages_by_kind"] = mix;
      o["deliver_sm_received"] = delivered_;
    } else {
      o["received"] = delivered_;
      o["rate"] = static_cast<std::uint64_t>(
          secs > 0 ? std::round(static_cast<double>(delivered_) / secs) : 0.0);
    }
    o["latency_us"] = latencies_.summary_us();
    o["cpu_s"] = cpu_.stop();
    o["peak_rss_mib"] = cpu_.peak_rss_mib();
    if (mode_ == "mt" && !args_.str("metrics-port").empty() && !metrics_before_.empty()) {
      try {
        const auto after = histogram_buckets(
            http_get(static_cast<unsigned short>(args_.u64("metrics-port", 0)), "/metrics"),
            "smppguard_added_latency_seconds");
        o["daemon_added_latency_us"] = histogram_delta_us(metrics_before_, after);
      } catch (const std::exception& e) {
        o["daemon_added_latency_us"] = e.what();
      }
    }
    std::printf("%s\n", json::serialize(o).c_str());
    std::fflush(stdout);
    for (auto& b : binds_) {
      if (b.conn) b.conn->close();
    }
    ticker_.cancel();
    watchdog_.cancel();
    io_.stop();
  }

  asio::io_context& io_;
  const Args& args_;
  const std::string mode_;
  const std::size_t binds_n_;
  const std::size_t window_;
  const std::uint64_t messages_;
  const double rate_;
  const std::uint64_t range_start_;
  const std::uint64_t range_size_;
  const std::uint64_t multipart_pct_;
  const std::uint64_t ucs2_pct_;
  const std::uint64_t receipt_pct_;
  const std::uint64_t expect_;
  const Clock::duration idle_;
  const Clock::duration timeout_;
  CpuMeter cpu_;
  Rng rng_;
  asio::steady_timer ticker_;
  asio::steady_timer watchdog_;
  std::vector<Variant> variants_[2];
  std::vector<Bind> binds_;
  std::size_t bound_ = 0;
  const Variant* current_ = nullptr;
  std::uint64_t current_dest_ = 0;
  std::size_t pending_part_ = 0;
  std::uint64_t variant_counts_[4] = {0, 0, 0, 0};
  std::uint64_t sent_ = 0;
  std::uint64_t completed_ = 0;
  std::uint64_t unexpected_ = 0;
  std::uint64_t late_ticks_ = 0;
  std::uint64_t delivered_ = 0;
  std::map<std::uint32_t, std::uint64_t> statuses_;
  Latencies latencies_;
  Clock::time_point t0_{};
  Clock::time_point last_response_{};
  Clock::time_point first_deliver_{};
  Clock::time_point last_deliver_{};
  std::map<double, double> metrics_before_;
  bool done_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    Args args(argc, argv);
    if (args.has("help")) {
      std::puts(
          "smppguard-loadgen --server HOST:PORT [--mode mt|receive] [--bind "
          "transceiver|transmitter|receiver]\n"
          "  [--system-id ID --password PW] [--binds N] [--window W] [--messages M] [--rate R]\n"
          "  [--range-start I --range-size N] [--multipart-pct P] [--ucs2-pct P] [--receipt-pct "
          "P]\n"
          "  [--source DIGITS] [--pids name=pid,...] [--metrics-port PORT] [--timeout S]\n"
          "  receive mode: [--expect N] [--idle S]\n"
          "Prints one JSON object: rate, latency percentiles (us), statuses, CPU seconds, peak "
          "RSS.");
      return 0;
    }
    asio::io_context io(1);
    Generator gen(io, args);
    gen.start();
    io.run();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loadgen: %s\n", e.what());
    return 1;
  }
}
