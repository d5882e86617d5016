#pragma once
// Shared pieces of the bench programs (loadgen, sink, storegen): the subscriber numbering that
// ties the generated stores to the generated traffic, /proc readings, latency percentiles, a
// small SMPP connection over Asio callbacks, and an HTTP GET for /metrics.
// Single-threaded by design: each program runs one io_context on one thread, so nothing here
// locks.
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <smppguard/proto/decode.hpp>
#include <smppguard/proto/frame_reader.hpp>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace bench {

namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

/// How many of `total` sends are due at `now` when sending at `rate` per second from `start` (all
/// of them when rate <= 0: full speed). Shared by the generator's MTs and the sink's MOs.
inline std::uint64_t paced_due(double rate, std::uint64_t total, Clock::time_point start,
                               Clock::time_point now) {
  if (rate <= 0) return total;
  const double secs = std::chrono::duration<double>(now - start).count();
  return std::min<std::uint64_t>(total, static_cast<std::uint64_t>(secs * rate) + 1);
}

// ---- subscribers ------------------------------------------------------------------------------
// Subscriber i (0 <= i < universe) has a valid NANP number, 1 NXX NXX XXXX (N = 2..9), spread
// over the whole key space: v = i * kSpread mod 6.4e9 picks one of the 800 x 800 x 10000 numbers
// (area code, exchange, line). kSpread is odd and not a multiple of 5, hence coprime with
// 6.4e9 = 2^14 * 5^8, so the map is one to one. Consecutive indexes land far apart, so lookups for
// random indexes hit random places of the RocksDB key space (no hot range).
inline constexpr std::uint64_t kNumberSpace = 800ULL * 800ULL * 10000ULL;
inline constexpr std::uint64_t kSpread = 2'654'435'761ULL;

/// The ten national digits of subscriber i.
inline std::uint64_t national_number(std::uint64_t i) {
  const std::uint64_t v = (i % kNumberSpace) * kSpread % kNumberSpace;
  const std::uint64_t area = 200 + v / (800ULL * 10000ULL);
  const std::uint64_t exchange = 200 + (v / 10000ULL) % 800ULL;
  return area * 10'000'000ULL + exchange * 10'000ULL + v % 10000ULL;
}
/// The subscriber index whose number has position v (0 <= v < kNumberSpace) in the numbering's
/// order: i = v * kSpread^-1 mod kNumberSpace. Numbers grow with v, so walking v in order walks
/// the store's keys in order (what a sorted bulk load wants).
inline std::uint64_t mulmod_space(std::uint64_t a, std::uint64_t b) {  // a, b < 2^33
  const std::uint64_t hi = (a * (b >> 16)) % kNumberSpace;
  return ((hi << 16) + a * (b & 0xFFFF)) % kNumberSpace;
}
inline std::uint64_t index_of_position(std::uint64_t v) {
  static const std::uint64_t inverse = [] {
    // Extended Euclid for kSpread^-1 mod kNumberSpace (every value stays below 2^34).
    std::int64_t t = 0, new_t = 1, r = static_cast<std::int64_t>(kNumberSpace),
                 new_r = static_cast<std::int64_t>(kSpread % kNumberSpace);
    while (new_r != 0) {
      const std::int64_t q = r / new_r;
      std::tie(t, new_t) = std::make_tuple(new_t, t - q * new_t);
      std::tie(r, new_r) = std::make_tuple(new_r, r - q * new_r);
    }
    if (t < 0) t += static_cast<std::int64_t>(kNumberSpace);
    return static_cast<std::uint64_t>(t);
  }();
  return mulmod_space(v, inverse);
}
/// The position of subscriber i in number order.
inline std::uint64_t position_of_index(std::uint64_t i) {
  return (i % kNumberSpace) * kSpread % kNumberSpace;
}

/// "+1NNNNNNNNNN": the E.164 form the store keys use.
inline std::string msisdn(std::uint64_t i) { return "+1" + std::to_string(national_number(i)); }
/// "1NNNNNNNNNN": TON 1 / NPI 1 digits as an SMPP address.
inline std::string smpp_digits(std::uint64_t i) { return "1" + std::to_string(national_number(i)); }

/// What the generated store holds for subscriber i (fixed by i, so traffic and store agree).
enum class Consent { opted_in, opted_out, none };
inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}
/// 90% opted in (express), 5% opted out, 5% without a record.
inline Consent consent_of(std::uint64_t i) {
  const auto r = mix64(i) % 100;
  if (r < 90) return Consent::opted_in;
  if (r < 95) return Consent::opted_out;
  return Consent::none;
}

/// A fast PRNG (xorshift64*); deterministic per seed.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed ? seed : 0x9E3779B97F4A7C15ULL) {}
  std::uint64_t next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 2685821657736338717ULL;
  }
  std::uint64_t below(std::uint64_t n) { return n ? next() % n : 0; }

 private:
  std::uint64_t s_;
};

// ---- /proc ------------------------------------------------------------------------------------

/// utime + stime of a process in seconds; nullopt when it is gone.
inline std::optional<double> cpu_seconds(int pid) {
  std::ifstream f("/proc/" + (pid == 0 ? std::string("self") : std::to_string(pid)) + "/stat");
  std::string line;
  if (!f || !std::getline(f, line)) return std::nullopt;
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int n = 3; in >> field; ++n) {  // field 3 is state
    if (n == 14) utime = std::stoull(field);
    if (n == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// A "Vm..." line of /proc/PID/status in MiB (VmHWM: peak RSS; VmRSS: now).
inline std::optional<double> status_mib(int pid, std::string_view key) {
  std::ifstream f("/proc/" + (pid == 0 ? std::string("self") : std::to_string(pid)) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ':') {
      return std::stod(line.substr(key.size() + 1)) / 1024.0;  // kB
    }
  }
  return std::nullopt;
}

/// "name=pid,name=pid" -> pairs.
inline std::vector<std::pair<std::string, int>> parse_pids(std::string_view text) {
  std::vector<std::pair<std::string, int>> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    const auto eq = item.find('=');
    if (eq != std::string_view::npos) {
      out.emplace_back(std::string(item.substr(0, eq)),
                       std::stoi(std::string(item.substr(eq + 1))));
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

/// CPU seconds of named processes between start() and stop().
class CpuMeter {
 public:
  explicit CpuMeter(std::vector<std::pair<std::string, int>> pids) : pids_(std::move(pids)) {
    pids_.insert(pids_.begin(), {"self", 0});
  }
  void start() {
    start_.clear();
    for (auto& [name, pid] : pids_) start_.push_back(cpu_seconds(pid).value_or(0));
  }
  json::object stop() const {
    json::object o;
    for (std::size_t i = 0; i < pids_.size(); ++i) {
      const auto now = cpu_seconds(pids_[i].second);
      if (now) o[pids_[i].first] = round3(*now - start_[i]);
    }
    return o;
  }
  json::object peak_rss_mib() const {
    json::object o;
    for (auto& [name, pid] : pids_) {
      if (auto v = status_mib(pid, "VmHWM")) o[name] = round3(*v);
    }
    return o;
  }
  static double round3(double v) {
    return static_cast<double>(static_cast<long long>(v * 1000 + 0.5)) / 1000;
  }

 private:
  std::vector<std::pair<std::string, int>> pids_;
  std::vector<double> start_;
};

// ---- latency ----------------------------------------------------------------------------------

/// Every sample, in nanoseconds (saturating at ~4.29 s); percentiles by sorting at the end.
class Latencies {
 public:
  void reserve(std::size_t n) { ns_.reserve(n); }
  void add(Clock::duration d) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    ns_.push_back(static_cast<std::uint32_t>(std::clamp<std::int64_t>(ns, 0, UINT32_MAX)));
  }
  std::size_t size() const { return ns_.size(); }
  /// {"count","mean","p50","p90","p99","p999","max"} in microseconds.
  json::object summary_us() {
    json::object o;
    o["count"] = ns_.size();
    if (ns_.empty()) return o;
    std::sort(ns_.begin(), ns_.end());
    double sum = 0;
    for (auto v : ns_) sum += v;
    auto pct = [&](double p) {
      const auto idx = static_cast<std::size_t>(p * static_cast<double>(ns_.size() - 1) + 0.5);
      return CpuMeter::round3(ns_[std::min(idx, ns_.size() - 1)] / 1000.0);
    };
    o["mean"] = CpuMeter::round3(sum / static_cast<double>(ns_.size()) / 1000.0);
    o["p50"] = pct(0.50);
    o["p90"] = pct(0.90);
    o["p99"] = pct(0.99);
    o["p999"] = pct(0.999);
    o["max"] = CpuMeter::round3(ns_.back() / 1000.0);
    return o;
  }

 private:
  std::vector<std::uint32_t> ns_;
};

inline std::string hex_status(std::uint32_t s) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", s);
  return buf;
}

// ---- SMPP wire helpers (hand-rolled where the hot path would otherwise allocate) ---------------

inline void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
inline std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}
/// A header plus a body of C-octet strings (e.g. submit_sm_resp with its message_id).
inline void append_simple_pdu(std::vector<std::uint8_t>& out, std::uint32_t command_id,
                              std::uint32_t status, std::uint32_t seq,
                              std::initializer_list<std::string_view> cstrings) {
  std::size_t len = 16;
  for (auto s : cstrings) len += s.size() + 1;
  put_be32(out, static_cast<std::uint32_t>(len));
  put_be32(out, command_id);
  put_be32(out, status);
  put_be32(out, seq);
  for (auto s : cstrings) {
    out.insert(out.end(), s.begin(), s.end());
    out.push_back(0);
  }
}

/// One SMPP TCP connection driven by callbacks on a single-threaded io_context. Frames are cut
/// with proto::FrameReader; writes are double-buffered (frames queued while a write is in flight
/// go out together in the next one).
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  using FrameHandler = std::function<void(std::span<const std::uint8_t>)>;
  using CloseHandler = std::function<void()>;

  explicit Conn(tcp::socket socket)
      : socket_(std::move(socket)),
        reader_(smppguard::proto::Limits{.max_pdu_size = 1 << 20}, 1 << 16) {
    boost::system::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    out_.reserve(1 << 16);
    writing_.reserve(1 << 16);
  }
  void start(FrameHandler on_frame, CloseHandler on_close) {
    on_frame_ = std::move(on_frame);
    on_close_ = std::move(on_close);
    read();
  }
  /// The output buffer: append whole frames, then call flush().
  std::vector<std::uint8_t>& out() { return out_; }
  void flush() {
    if (writing_active_ || out_.empty() || closed_) return;
    std::swap(out_, writing_);
    writing_active_ = true;
    auto me = shared_from_this();
    asio::async_write(socket_, asio::buffer(writing_),
                      [me](boost::system::error_code ec, std::size_t) {
                        me->writing_active_ = false;
                        me->writing_.clear();
                        if (ec) return me->close();
                        me->flush();
                      });
  }
  void send(std::span<const std::uint8_t> frame) {
    out_.insert(out_.end(), frame.begin(), frame.end());
    flush();
  }
  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    if (on_close_) on_close_();
  }
  bool closed() const { return closed_; }

 private:
  void read() {
    auto buf = reader_.prepare(1 << 16);
    auto me = shared_from_this();
    socket_.async_read_some(asio::buffer(buf.data(), buf.size()),
                            [me](boost::system::error_code ec, std::size_t n) {
                              if (ec) return me->close();
                              me->reader_.commit(n);
                              for (;;) {
                                auto next = me->reader_.next();
                                if (next.status == smppguard::proto::FrameReader::Status::need_more)
                                  break;
                                if (next.status == smppguard::proto::FrameReader::Status::error) {
                                  std::fprintf(stderr, "bench: bad frame from peer\n");
                                  return me->close();
                                }
                                me->on_frame_(next.frame);
                                if (me->closed_) return;
                              }
                              me->flush();
                              me->read();
                            });
  }

  tcp::socket socket_;
  smppguard::proto::FrameReader reader_;
  std::vector<std::uint8_t> out_;
  std::vector<std::uint8_t> writing_;
  bool writing_active_ = false;
  bool closed_ = false;
  FrameHandler on_frame_;
  CloseHandler on_close_;
};

// ---- HTTP ---------------------------------------------------------------------------------------

/// GET http://127.0.0.1:port/path (blocking; for /metrics before and after a run).
inline std::string http_get(unsigned short port, const std::string& path) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  const std::string req =
      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  asio::write(s, asio::buffer(req));
  std::string body;
  boost::system::error_code ec;
  char buf[16384];
  for (;;) {
    const auto n = s.read_some(asio::buffer(buf), ec);
    body.append(buf, n);
    if (ec) break;
  }
  const auto hdr_end = body.find("\r\n\r\n");
  if (hdr_end == std::string::npos) return {};
  std::string headers = body.substr(0, hdr_end);
  body.erase(0, hdr_end + 4);
  // Beast may answer chunked: undo it.
  if (headers.find("chunked") != std::string::npos) {
    std::string plain;
    std::size_t pos = 0;
    while (pos < body.size()) {
      const auto eol = body.find("\r\n", pos);
      if (eol == std::string::npos) break;
      const auto len = std::stoul(body.substr(pos, eol - pos), nullptr, 16);
      if (len == 0) break;
      plain.append(body, eol + 2, len);
      pos = eol + 2 + len + 2;
    }
    return plain;
  }
  return body;
}

/// The cumulative buckets (le -> count) of a Prometheus histogram without labels.
inline std::map<double, double> histogram_buckets(const std::string& text,
                                                  const std::string& name) {
  std::map<double, double> out;
  std::istringstream in(text);
  std::string line;
  const std::string prefix = name + "_bucket{le=\"";
  while (std::getline(in, line)) {
    if (!line.starts_with(prefix)) continue;
    const auto q = line.find('"', prefix.size());
    const auto le_text = line.substr(prefix.size(), q - prefix.size());
    const double le = le_text == "+Inf" ? 1e300 : std::stod(le_text);
    const auto sp = line.rfind(' ');
    out[le] = std::stod(line.substr(sp + 1));
  }
  return out;
}

/// Percentiles (in microseconds) of the samples between two scrapes of a histogram, as the upper
/// bound of the bucket holding each percentile (what Prometheus' buckets can say), plus the
/// fraction of samples at or below 1 ms.
inline json::object histogram_delta_us(const std::map<double, double>& before,
                                       const std::map<double, double>& after) {
  json::object o;
  std::vector<std::pair<double, double>> delta;  // le, cumulative count
  for (auto& [le, n] : after) {
    const auto it = before.find(le);
    delta.emplace_back(le, n - (it == before.end() ? 0 : it->second));
  }
  if (delta.empty() || delta.back().second <= 0) {
    o["count"] = 0;
    return o;
  }
  const double total = delta.back().second;
  o["count"] = total;
  auto pct = [&](double p) -> json::value {
    for (auto& [le, c] : delta) {
      if (c >= p * total)
        return le >= 1e299 ? json::value("+Inf") : json::value(CpuMeter::round3(le * 1e6));
    }
    return json::value("+Inf");
  };
  o["p50_le"] = pct(0.50);
  o["p90_le"] = pct(0.90);
  o["p99_le"] = pct(0.99);
  o["p999_le"] = pct(0.999);
  double under_1ms = 0;
  for (auto& [le, c] : delta) {
    if (le <= 0.001) under_1ms = c;
  }
  o["share_le_977us"] = CpuMeter::round3(under_1ms / total);
  return o;
}

inline std::string to_string(const json::value& v) { return json::serialize(v); }

/// Writes {"smpp": port} (or more keys) to `path` atomically.
inline void write_json_file(const std::string& path, const json::value& v) {
  const auto tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << json::serialize(v) << "\n";
  }
  std::rename(tmp.c_str(), path.c_str());
}

/// A tiny "--key value" argument reader.
class Args {
 public:
  Args(int argc, char** argv, int first = 1) {
    for (int i = first; i < argc; ++i) {
      std::string a = argv[i];
      if (!a.starts_with("--")) {
        positional_.push_back(a);
        continue;
      }
      a.erase(0, 2);
      if (const auto eq = a.find('='); eq != std::string::npos) {
        values_[a.substr(0, eq)] = a.substr(eq + 1);
      } else if (i + 1 < argc && std::string_view(argv[i + 1]).substr(0, 2) != "--") {
        values_[a] = argv[++i];
      } else {
        values_[a] = "1";
      }
    }
  }
  std::string str(const std::string& k, const std::string& def = "") const {
    auto it = values_.find(k);
    return it == values_.end() ? def : it->second;
  }
  std::uint64_t u64(const std::string& k, std::uint64_t def) const {
    auto it = values_.find(k);
    return it == values_.end() ? def : std::stoull(it->second);
  }
  double num(const std::string& k, double def) const {
    auto it = values_.find(k);
    return it == values_.end() ? def : std::stod(it->second);
  }
  bool has(const std::string& k) const { return values_.count(k) != 0; }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

inline std::pair<std::string, unsigned short> host_port(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos)
    return {"127.0.0.1", static_cast<unsigned short>(std::stoi(text))};
  return {text.substr(0, colon), static_cast<unsigned short>(std::stoi(text.substr(colon + 1)))};
}

/// Opens `acceptor` on --smpp (default 127.0.0.1:0) and writes {"smpp": port} to --ports-file
/// when given: the listening side of the sink and of the propagation probe.
inline void listen_smpp(tcp::acceptor& acceptor, const Args& args) {
  const auto [host, port] = host_port(args.str("smpp", "127.0.0.1:0"));
  tcp::endpoint ep(asio::ip::make_address(host), port);
  acceptor.open(ep.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(ep);
  acceptor.listen();
  if (auto f = args.str("ports-file"); !f.empty()) {
    write_json_file(f, json::object{{"smpp", acceptor.local_endpoint().port()}});
  }
}

/// Monotonic nanoseconds (CLOCK_MONOTONIC is shared by every process of the machine, so one
/// process can stamp a message and another measure its arrival).
inline std::int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

}  // namespace bench
