// smppguard-decide: what one MT policy decision costs, in nanoseconds, against a store built by
// `smppguard-storegen build` (a program that prints figures, not a test: it asserts no time).
//
//   smppguard-decide --store DIR --subscribers N [--decisions D] [--warmup W] [--threads 1,2]
//                    [--quiet-hours] [--seed S]
//
// Each decision takes a destination drawn uniformly from subscribers 0..N-1 (the numbering of
// bench_common.hpp, spread over the whole key space; 90% opted in, 5% opted out, 5% without a
// record, as storegen wrote them) and runs the steps the daemon runs for a submit_sm, in its order
// (src/session/consent_chain.cpp: ConsentChain::classify, decide_one, decide_now):
//   classify  policy::classify_mt: source -> program, destination -> E.164, category
//   zone      clock now() and policy::subscriber_zone
//   lookup    Store::get_consent_pair: one MultiGet of the program and tenant records
//   policy    policy::decide_mt
// "decision" is zone + lookup + policy: the span the daemon times in
// smppguard_policy_decision_seconds. classify is reported apart ("with_classify" is all four).
// The program is the one bench/run.sh configures (strict, quiet_hours null, no frequency cap, so
// no Store::sent_since read); --quiet-hours leaves the default quiet hours on, so that decide_mt
// also evaluates the window in the subscriber's zone.
//
// For each thread count T, T threads each run W warm-up decisions and then D timed decisions
// (four clock reads each, all samples kept), then D more without per-decision clock reads: the
// mean of that pass ("untimed_mean_ns") carries no timing overhead. Then each part alone, in a
// loop over up to 200,000 prepared inputs ("parts_alone_mean_ns": one clock read per loop, so the
// cost of a clock read, "clock_pair_ns" / 2, is not in them as it is in the split samples). The
// store is opened as the daemon opens it (read-write, 64 MiB block cache); nothing is written.
// Prints JSON.
#include <algorithm>
#include <atomic>
#include <barrier>
#include <charconv>
#include <cstdio>
#include <smppguard/proto/tlv.hpp>
#include <thread>

#include "bench_common.hpp"
#include "common/time.hpp"
#include "config/config.hpp"
#include "policy/engine.hpp"
#include "store/store.hpp"

namespace store = smppguard::store;
namespace config = smppguard::config;
namespace policy = smppguard::policy;
namespace proto = smppguard::proto;
using namespace bench;

namespace {

std::string bench_config(bool quiet_hours) {
  // The daemon config of bench/run.sh, minus what a decision does not read.
  std::string yaml = R"(node_id: bench
store:
  path: unused
  sync: true
listen:
  smpp: 127.0.0.1:0
  http: 127.0.0.1:0
accounts:
  - system_id: bench
    password: "bench"
    tenant: acme
    default_category: informational
    window: 64
    throughput: 0
    max_binds: 16
upstreams:
  - name: sink
    host: 127.0.0.1
    port: 2775
    system_id: smppguard
    password: sink
    bind: transceiver
routes:
  - { prefix: "", upstream: sink }
programs:
  - id: acme-alerts
    tenant: acme
    name: "Acme Alerts"
    numbers: ["+18005550100"]
    opt_in_mode: strict
    help_contact: "help@acme.example"
)";
  if (!quiet_hours) yaml += "    quiet_hours: null\n";
  return yaml;
}

/// Nanosecond samples; percentiles by sorting.
struct Samples {
  std::vector<std::uint32_t> ns;
  void add(std::int64_t v) {
    ns.push_back(static_cast<std::uint32_t>(std::clamp<std::int64_t>(v, 0, UINT32_MAX)));
  }
  void append(const Samples& o) { ns.insert(ns.end(), o.ns.begin(), o.ns.end()); }
  json::object summary() {
    json::object o;
    o["count"] = ns.size();
    if (ns.empty()) return o;
    std::sort(ns.begin(), ns.end());
    double sum = 0;
    for (auto v : ns) sum += v;
    auto pct = [&](double p) {
      const auto idx = static_cast<std::size_t>(p * static_cast<double>(ns.size() - 1) + 0.5);
      return ns[std::min(idx, ns.size() - 1)];
    };
    o["mean"] = CpuMeter::round3(sum / static_cast<double>(ns.size()));
    o["p50"] = pct(0.50);
    o["p90"] = pct(0.90);
    o["p99"] = pct(0.99);
    o["p999"] = pct(0.999);
    o["max"] = ns.back();
    return o;
  }
};

struct ThreadResult {
  Samples classify, zone, lookup, policy, decision, with_classify;
  double untimed_s = 0;
  double pass_classify_ns = 0, pass_zone_ns = 0, pass_lookup_ns = 0, pass_policy_ns = 0;
  std::uint64_t pass_forwarded = 0;
  std::uint64_t forward = 0, opted_out = 0, no_consent = 0, other = 0, errors = 0;
};

std::int64_t ns_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

class Decider {
 public:
  Decider(const config::Config& cfg, const store::Store& st)
      : cfg_(cfg), st_(st), account_(cfg.accounts.front()) {}

  /// One decision for subscriber i; `t` gets the four split points when timed.
  template <bool Timed>
  policy::MtDecision decide(std::uint64_t i, std::string& digits, Clock::time_point* t,
                            bool& error) const {
    // smpp_digits(i) ("1" + ten digits), written into a reused buffer.
    char buf[24];
    buf[0] = '1';
    const auto end = std::to_chars(buf + 1, buf + sizeof buf, national_number(i)).ptr;
    digits.assign(buf, end);
    if constexpr (Timed) t[0] = Clock::now();
    const auto c =
        policy::classify_mt(cfg_, account_, 1, 1, "18005550100", 1, 1, digits, "", tlvs_);
    if (c.status != 0) {
      error = true;
      return policy::refusal(cfg_, c.reason);
    }
    const auto& program = *c.subject.program;
    if constexpr (Timed) t[1] = Clock::now();
    const auto now = smppguard::SystemClock::instance().now();
    const auto zone = policy::subscriber_zone(c.subject.msisdn, program);
    if constexpr (Timed) t[2] = Clock::now();
    store::ConsentPair pair;
    if (st_.get_consent_pair(program.id, program.tenant, c.subject.msisdn, pair)) {
      error = true;
      return policy::refusal(cfg_, policy::Reason::store_unavailable);
    }
    if constexpr (Timed) t[3] = Clock::now();
    auto d = policy::decide_mt(policy::MtContext{cfg_, program, c.subject, now, *zone, 0}, pair);
    if constexpr (Timed) t[4] = Clock::now();
    return d;
  }

  void run(std::uint64_t seed, std::uint64_t subscribers, std::uint64_t warmup,
           std::uint64_t decisions, std::barrier<>& sync, ThreadResult& r) const {
    Rng rng(seed);
    std::string digits;
    Clock::time_point t[5];
    bool error = false;
    for (std::uint64_t k = 0; k < warmup; ++k)
      tally(decide<false>(rng.below(subscribers), digits, t, error), r);
    r = ThreadResult{};
    for (auto* s : {&r.classify, &r.zone, &r.lookup, &r.policy, &r.decision, &r.with_classify})
      s->ns.reserve(decisions);
    sync.arrive_and_wait();
    for (std::uint64_t k = 0; k < decisions; ++k) {
      error = false;
      tally(decide<true>(rng.below(subscribers), digits, t, error), r);
      if (error) {
        ++r.errors;
        continue;
      }
      r.classify.add(ns_between(t[0], t[1]));
      r.zone.add(ns_between(t[1], t[2]));
      r.lookup.add(ns_between(t[2], t[3]));
      r.policy.add(ns_between(t[3], t[4]));
      r.decision.add(ns_between(t[1], t[4]));
      r.with_classify.add(ns_between(t[0], t[4]));
    }
    sync.arrive_and_wait();
    ThreadResult untimed;
    const auto u0 = Clock::now();
    for (std::uint64_t k = 0; k < decisions; ++k)
      tally(decide<false>(rng.below(subscribers), digits, t, error), untimed);
    r.untimed_s = std::chrono::duration<double>(Clock::now() - u0).count();
    sync.arrive_and_wait();

    // Each part alone, over prepared inputs, with one clock read per pass (no per-call reads).
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(decisions, 200'000));
    std::vector<std::string> dests(n);
    for (auto& d : dests) {
      char buf[24];
      buf[0] = '1';
      d.assign(
          buf,
          std::to_chars(buf + 1, buf + sizeof buf, national_number(rng.below(subscribers))).ptr);
    }
    std::vector<policy::MtSubject> subjects(n);
    auto p0 = Clock::now();
    for (std::size_t k = 0; k < n; ++k) {
      auto c = policy::classify_mt(cfg_, account_, 1, 1, "18005550100", 1, 1, dests[k], "", tlvs_);
      subjects[k] = std::move(c.subject);
    }
    r.pass_classify_ns = ns_between(p0, Clock::now()) / static_cast<double>(n);
    sync.arrive_and_wait();
    const auto& program = *subjects.front().program;
    std::vector<std::shared_ptr<const policy::TimeZone>> zones(n);
    const auto now = smppguard::SystemClock::instance().now();
    p0 = Clock::now();
    for (std::size_t k = 0; k < n; ++k)
      zones[k] = policy::subscriber_zone(subjects[k].msisdn, program);
    r.pass_zone_ns = ns_between(p0, Clock::now()) / static_cast<double>(n);
    sync.arrive_and_wait();
    std::vector<store::ConsentPair> pairs(n);
    p0 = Clock::now();
    for (std::size_t k = 0; k < n; ++k) {
      if (st_.get_consent_pair(program.id, program.tenant, subjects[k].msisdn, pairs[k]))
        ++r.errors;
    }
    r.pass_lookup_ns = ns_between(p0, Clock::now()) / static_cast<double>(n);
    sync.arrive_and_wait();
    ThreadResult tallies;
    p0 = Clock::now();
    for (std::size_t k = 0; k < n; ++k) {
      tally(policy::decide_mt(policy::MtContext{cfg_, program, subjects[k], now, *zones[k], 0},
                              pairs[k]),
            tallies);
    }
    r.pass_policy_ns = ns_between(p0, Clock::now()) / static_cast<double>(n);
    r.pass_forwarded = tallies.forward;  // used, so the pass is not optimised away
    sync.arrive_and_wait();
  }

 private:
  static void tally(const policy::MtDecision& d, ThreadResult& r) {
    if (d.action == policy::MtAction::forward) {
      ++r.forward;
    } else if (d.reason == policy::Reason::opted_out) {
      ++r.opted_out;
    } else if (d.reason == policy::Reason::no_consent) {
      ++r.no_consent;
    } else {
      ++r.other;
    }
  }

  const config::Config& cfg_;
  const store::Store& st_;
  const config::Account& account_;
  const proto::TlvList tlvs_{};
};

json::object run_threads(const Decider& decider, unsigned threads, std::uint64_t subscribers,
                         std::uint64_t warmup, std::uint64_t decisions, std::uint64_t seed) {
  std::vector<ThreadResult> results(threads);
  std::barrier<> sync(static_cast<std::ptrdiff_t>(threads) + 1);
  std::vector<std::thread> pool;
  for (unsigned k = 0; k < threads; ++k) {
    pool.emplace_back(
        [&, k] { decider.run(seed + 7919 * k, subscribers, warmup, decisions, sync, results[k]); });
  }
  sync.arrive_and_wait();  // warm-ups done
  const auto t0 = Clock::now();
  sync.arrive_and_wait();  // timed pass done
  const auto t1 = Clock::now();
  sync.arrive_and_wait();  // untimed pass done
  const auto t2 = Clock::now();
  for (int part = 0; part < 4; ++part) sync.arrive_and_wait();  // the parts alone
  for (auto& th : pool) th.join();

  ThreadResult all;
  double untimed_sum = 0;
  double pass[4] = {0, 0, 0, 0};
  std::uint64_t pass_forwarded = 0;
  for (auto& r : results) {
    pass_forwarded += r.pass_forwarded;
    pass[0] += r.pass_classify_ns / threads;
    pass[1] += r.pass_zone_ns / threads;
    pass[2] += r.pass_lookup_ns / threads;
    pass[3] += r.pass_policy_ns / threads;
    all.classify.append(r.classify);
    all.zone.append(r.zone);
    all.lookup.append(r.lookup);
    all.policy.append(r.policy);
    all.decision.append(r.decision);
    all.with_classify.append(r.with_classify);
    all.forward += r.forward;
    all.opted_out += r.opted_out;
    all.no_consent += r.no_consent;
    all.other += r.other;
    all.errors += r.errors;
    untimed_sum += r.untimed_s;
  }
  const double total = static_cast<double>(decisions) * threads;
  const double timed_wall = std::chrono::duration<double>(t1 - t0).count();
  const double untimed_wall = std::chrono::duration<double>(t2 - t1).count();
  json::object o;
  o["threads"] = threads;
  o["decisions_per_thread"] = decisions;
  o["warmup_per_thread"] = warmup;
  o["decision_ns"] = all.decision.summary();
  o["lookup_ns"] = all.lookup.summary();
  o["policy_ns"] = all.policy.summary();
  o["zone_ns"] = all.zone.summary();
  o["classify_ns"] = all.classify.summary();
  o["with_classify_ns"] = all.with_classify.summary();
  // Untimed pass: classify + zone + lookup + policy, no per-decision clock reads.
  o["untimed_mean_ns"] = CpuMeter::round3(untimed_sum / total * 1e9);
  o["untimed_decisions_per_s"] =
      static_cast<std::uint64_t>(untimed_wall > 0 ? total / untimed_wall : 0);
  // Each part alone, in a loop over prepared inputs (no clock read per call): mean ns per call.
  o["parts_alone_mean_ns"] = json::object{{"classify", CpuMeter::round3(pass[0])},
                                          {"zone", CpuMeter::round3(pass[1])},
                                          {"lookup", CpuMeter::round3(pass[2])},
                                          {"policy", CpuMeter::round3(pass[3])},
                                          {"policy_forwarded", pass_forwarded}};
  o["timed_wall_s"] = CpuMeter::round3(timed_wall);
  o["outcomes_timed_pass"] = json::object{{"forward", all.forward},
                                          {"opted_out", all.opted_out},
                                          {"no_consent", all.no_consent},
                                          {"other", all.other},
                                          {"errors", all.errors}};
  return o;
}

/// The cost of the clock reads that split a decision (one pair of now()).
double clock_pair_ns() {
  constexpr int kN = 1'000'000;
  std::int64_t sink = 0;
  const auto t0 = Clock::now();
  for (int k = 0; k < kN; ++k) {
    const auto a = Clock::now();
    const auto b = Clock::now();
    sink += ns_between(a, b);
  }
  const auto t1 = Clock::now();
  return sink < 0 ? 0 : static_cast<double>(ns_between(t0, t1)) / kN;
}

std::vector<unsigned> parse_threads(const std::string& text) {
  std::vector<unsigned> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto comma = text.find(',', pos);
    const auto item =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!item.empty()) out.push_back(static_cast<unsigned>(std::max(1, std::stoi(item))));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Args args(argc, argv);
    if (args.has("help") || args.str("store").empty()) {
      std::puts(
          "smppguard-decide --store DIR --subscribers N [--decisions D] [--warmup W]\n"
          "                 [--threads 1,2] [--quiet-hours] [--seed S]");
      return args.has("help") ? 0 : 64;
    }
    const std::uint64_t subscribers =
        std::max<std::uint64_t>(1, args.u64("subscribers", 10'000'000));
    const std::uint64_t decisions = std::max<std::uint64_t>(1, args.u64("decisions", 1'000'000));
    const std::uint64_t warmup = args.u64("warmup", 200'000);
    const std::uint64_t seed = args.u64("seed", 11);
    const bool quiet = args.has("quiet-hours");

    const auto cfg = config::load_config_string(bench_config(quiet), "decide.yaml");
    store::StoreOptions so;
    so.path = args.str("store");
    so.node_id = cfg.node_id;
    so.sync = cfg.store.sync;
    so.message_map_ttl = cfg.store.message_map_ttl;
    auto st = store::Store::open(so, smppguard::SystemClock::instance());
    const Decider decider(cfg, *st);

    json::object o;
    o["store"] = so.path;
    o["subscribers"] = subscribers;
    o["program"] = quiet ? "strict, default quiet hours" : "strict, quiet_hours null";
    o["clock_pair_ns"] = CpuMeter::round3(clock_pair_ns());
    json::array runs;
    for (const auto threads : parse_threads(args.str("threads", "1,2")))
      runs.push_back(run_threads(decider, threads, subscribers, warmup, decisions, seed));
    o["runs"] = std::move(runs);
    o["peak_rss_mib"] = status_mib(0, "VmHWM").value_or(0);
    st->close();
    std::printf("%s\n", json::serialize(o).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "decide: %s\n", e.what());
    return 1;
  }
}
