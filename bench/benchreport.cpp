// smppguard-benchreport: reads the JSON files bench/run.sh collected in one directory and prints
// the results table (markdown), the headline ratios and the targets.
//
//   smppguard-benchreport DIR
// Files read (each one JSON object, written by loadgen, sink or storegen): store-1m.json,
// store-10m.json, direct.json, direct-half-1m.json, direct-half-10m.json, proxy-1m.json,
// proxy-10m.json, half-1m.json, half-10m.json, mo.json, mo-receiver.json, mo-check.json,
// rss-10m.json. A missing file leaves its row out.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "bench_common.hpp"

using namespace bench;

namespace {

std::optional<json::object> load(const std::string& dir, const std::string& name) {
  std::ifstream f(dir + "/" + name);
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    auto v = json::parse(ss.str());
    if (v.is_object()) return v.as_object();
  } catch (...) {
  }
  return std::nullopt;
}

double num(const json::object& o, std::initializer_list<const char*> path, double def = NAN) {
  const json::value* v = nullptr;
  const json::object* cur = &o;
  for (auto key : path) {
    if (cur == nullptr) return def;
    auto it = cur->find(key);
    if (it == cur->end()) return def;
    v = &it->value();
    cur = v->is_object() ? &v->as_object() : nullptr;
  }
  if (v == nullptr) return def;
  if (v->is_double()) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  return def;
}

std::string fmt(double v, int decimals = 0) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string fmt_k(double v) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

/// Share of responses with status 0 / 0x400 / 0x401 ...
std::string statuses(const json::object& o) {
  auto it = o.find("statuses");
  if (it == o.end() || !it->value().is_object()) return "-";
  std::string out;
  for (auto& [k, v] : it->value().as_object()) {
    if (!out.empty()) out += " ";
    std::string key(k);
    while (key.size() > 3 && key[2] == '0') key.erase(2, 1);  // 0x00000400 -> 0x400
    out += key + ":" +
           fmt_k(v.is_uint64() ? static_cast<double>(v.as_uint64()) : v.to_number<double>());
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: smppguard-benchreport DIR\n");
    return 64;
  }
  const std::string dir = argv[1];
  const auto direct = load(dir, "direct.json");
  const double direct_rate = direct ? num(*direct, {"rate"}) : NAN;

  std::printf(
      "| scenario | submit_sm | msg/s | vs direct | p50 us | p90 us | p99 us | p99.9 us | max us | "
      "daemon CPU s | daemon us/msg | gen CPU s | sink CPU s | statuses |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
  struct Row {
    const char* file;
    const char* name;
  };
  const Row rows[] = {
      {"direct.json", "direct (generator -> sink), full speed"},
      {"proxy-1m.json", "proxy, consent on, 1M store, full speed"},
      {"proxy-10m.json", "proxy, consent on, 10M store, full speed"},
      {"direct-half-1m.json", "direct at the 1M half rate"},
      {"half-1m.json", "proxy, 1M store, 50% of its max"},
      {"direct-half-10m.json", "direct at the 10M half rate"},
      {"half-10m.json", "proxy, 10M store, 50% of its max"},
  };
  for (const auto& row : rows) {
    auto o = load(dir, row.file);
    if (!o) continue;
    const double rate = num(*o, {"rate"});
    const double responses = num(*o, {"responses"});
    const double daemon_cpu = num(*o, {"cpu_s", "daemon"});
    const bool full = num(*o, {"offered_rate"}, 0) <= 0;
    std::string ratio = "-";
    if (full && !std::isnan(direct_rate) && direct_rate > 0) ratio = fmt(rate / direct_rate, 3);
    std::string name = row.name;
    if (!full) name += " (" + fmt_k(num(*o, {"offered_rate"})) + "/s offered)";
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                name.c_str(), fmt_k(responses).c_str(), fmt_k(rate).c_str(), ratio.c_str(),
                fmt(num(*o, {"latency_us", "p50"}), 0).c_str(),
                fmt(num(*o, {"latency_us", "p90"}), 0).c_str(),
                fmt(num(*o, {"latency_us", "p99"}), 0).c_str(),
                fmt(num(*o, {"latency_us", "p999"}), 0).c_str(),
                fmt(num(*o, {"latency_us", "max"}), 0).c_str(), fmt(daemon_cpu, 2).c_str(),
                std::isnan(daemon_cpu) ? "-" : fmt(daemon_cpu / responses * 1e6, 1).c_str(),
                fmt(num(*o, {"cpu_s", "self"}), 2).c_str(),
                fmt(num(*o, {"cpu_s", "sink"}), 2).c_str(), statuses(*o).c_str());
  }

  // MO path.
  auto mo = load(dir, "mo.json");
  auto rx = load(dir, "mo-receiver.json");
  auto check = load(dir, "mo-check.json");
  if (mo) {
    std::printf(
        "\n| MO path (sink -> proxy -> receiver), synced WAL | MOs | deliver_sm_resp/s | p50 us | "
        "p99 us | p99.9 us | max us | daemon CPU s | daemon us/MO | sink CPU s | receiver CPU s | "
        "statuses |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    const double responses = num(*mo, {"responses"});
    const double dcpu = num(*mo, {"cpu_s", "daemon"});
    std::printf(
        "| carrier side: injection -> deliver_sm_resp | %s | %s | %s | %s | %s | %s | %s | %s | %s "
        "| %s | %s |\n",
        fmt_k(responses).c_str(), fmt_k(num(*mo, {"rate"})).c_str(),
        fmt(num(*mo, {"latency_us", "p50"})).c_str(), fmt(num(*mo, {"latency_us", "p99"})).c_str(),
        fmt(num(*mo, {"latency_us", "p999"})).c_str(), fmt(num(*mo, {"latency_us", "max"})).c_str(),
        fmt(dcpu, 2).c_str(), std::isnan(dcpu) ? "-" : fmt(dcpu / responses * 1e6, 1).c_str(),
        fmt(num(*mo, {"cpu_s", "self"}), 2).c_str(),
        fmt(num(*mo, {"cpu_s", "receiver"}), 2).c_str(), statuses(*mo).c_str());
    if (rx) {
      std::printf(
          "| ESME side: injection -> deliver_sm at the receiver | %s | %s | %s | %s | %s | %s | | "
          "| | | |\n",
          fmt_k(num(*rx, {"received"})).c_str(), fmt_k(num(*rx, {"rate"})).c_str(),
          fmt(num(*rx, {"latency_us", "p50"})).c_str(),
          fmt(num(*rx, {"latency_us", "p99"})).c_str(),
          fmt(num(*rx, {"latency_us", "p999"})).c_str(),
          fmt(num(*rx, {"latency_us", "max"})).c_str());
    }
  }

  // Stores.
  std::printf(
      "\n| store | subscribers | records (+ audit entries) | opted in | opted out | no record | "
      "load s | records/s | on disk MiB |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (auto [file, name] : {std::pair{"store-1m.json", "1M"}, std::pair{"store-10m.json", "10M"}}) {
    auto o = load(dir, file);
    if (!o) continue;
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name,
                fmt_k(num(*o, {"subscribers"})).c_str(), fmt_k(num(*o, {"records"})).c_str(),
                fmt_k(num(*o, {"opted_in"})).c_str(), fmt_k(num(*o, {"opted_out"})).c_str(),
                fmt_k(num(*o, {"no_record"})).c_str(), fmt(num(*o, {"load_s"}), 1).c_str(),
                fmt_k(num(*o, {"records_per_s"})).c_str(), fmt(num(*o, {"disk_mib"}), 0).c_str());
  }

  // Headline and targets.
  std::printf("\nHeadline (proxy / direct, full speed):");
  for (auto [file, name] : {std::pair{"proxy-1m.json", "1M"}, std::pair{"proxy-10m.json", "10M"}}) {
    if (auto o = load(dir, file); o && direct_rate > 0) {
      std::printf("  %s store %.3f (%s/s vs %s/s)", name, num(*o, {"rate"}) / direct_rate,
                  fmt_k(num(*o, {"rate"})).c_str(), fmt_k(direct_rate).c_str());
    }
  }
  std::printf("\n\nTargets:\n");
  auto verdict = [](bool ok) { return ok ? "MET   " : "MISSED"; };
  for (auto [file, name] : {std::pair{"proxy-1m.json", "1M"}, std::pair{"proxy-10m.json", "10M"}}) {
    if (auto o = load(dir, file)) {
      const double rate = num(*o, {"rate"});
      std::printf(
          "  [%s] proxied MT >= 50%% of direct and >= 50,000/s (%s store): %s/s = %.1f%% of "
          "direct\n",
          verdict(rate >= 50000 && rate >= 0.5 * direct_rate), name, fmt_k(rate).c_str(),
          100 * rate / direct_rate);
    }
  }
  for (auto [file, dfile, name] : {std::tuple{"half-1m.json", "direct-half-1m.json", "1M"},
                                   std::tuple{"half-10m.json", "direct-half-10m.json", "10M"}}) {
    auto o = load(dir, file);
    if (!o) continue;
    const double p99_le = num(*o, {"daemon_added_latency_us", "p99_le"});
    const double share = num(*o, {"daemon_added_latency_us", "share_le_977us"});
    std::string e2e = "-";
    if (auto d = load(dir, dfile)) {
      e2e = "p50 " + fmt(num(*o, {"latency_us", "p50"}) - num(*d, {"latency_us", "p50"})) +
            " us, p99 " + fmt(num(*o, {"latency_us", "p99"}) - num(*d, {"latency_us", "p99"})) +
            " us";
    }
    std::printf(
        "  [%s] p99 added latency < 1 ms at half load (%s store): smppguard_added_latency_seconds "
        "p99 <= %s us "
        "(%.2f%% of samples <= 977 us); end-to-end minus direct at the same rate: %s\n",
        verdict(!std::isnan(share) && share >= 0.99), name, fmt(p99_le).c_str(), 100 * share,
        e2e.c_str());
  }
  if (mo) {
    const double rate = num(*mo, {"rate"});
    const double acked = num(*mo, {"stops_acknowledged"});
    const bool durable =
        check && num(*check, {"checked"}) == acked && num(*check, {"opted_out"}) == acked;
    std::printf(
        "  [%s] MO path >= 20,000/s with every STOP durable before its deliver_sm_resp: %s/s; "
        "%s STOPs acknowledged, %s found opted out after kill -9\n",
        verdict(rate >= 20000 && durable), fmt_k(rate).c_str(), fmt_k(acked).c_str(),
        check ? fmt_k(num(*check, {"opted_out"})).c_str() : "-");
  }
  if (auto o = load(dir, "rss-10m.json")) {
    const double rss = num(*o, {"daemon"});
    std::printf("  [%s] daemon peak RSS < 256 MB with the 10M store: %.1f MiB (VmHWM)\n",
                verdict(rss * 1.048576 < 256), rss);
  }
  return 0;
}
