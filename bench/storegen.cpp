// smppguard-storegen: builds consent stores for the bench through the store's own API, and checks
// a store afterwards.
//
//   build --store DIR --subscribers N [--program ID --tenant T] [--chunk C]
//     Subscribers 0..N-1 (bench_common.hpp numbering, spread over the whole NANP key space): 90%
//     opted in (express, source import), 5% opted out, 5% without a record. Each record is
//     written as `smppguard consent import` writes it: policy::validate_consent_request and
//     policy::apply_consent_request (the record and one audit entry: event opted_in or
//     opted_out, source import, actor "import:<name>", evidence naming the file and line), in
//     mutations of C records committed by the store's writer (group commit without fsync; one
//     synced mutation at the end makes the whole load durable). Prints JSON with the counts and
//     the load rate.
//   check --store DIR --program ID --tenant T --msisdns FILE
//     Opens the store read-only and counts the listed subscribers (one E.164 per line) whose
//     program or tenant record is opted out: the bench's proof that every STOP acknowledged to
//     the carrier was durable (it runs after the daemon was killed with SIGKILL).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "bench_common.hpp"
#include "common/time.hpp"
#include "config/config.hpp"
#include "policy/consent_api.hpp"
#include "store/store.hpp"
#include "store/testing.hpp"

namespace store = smppguard::store;
namespace config = smppguard::config;
namespace policy = smppguard::policy;
using namespace bench;

namespace {

int build(const Args& args) {
  const auto path = args.str("store");
  const std::uint64_t n = args.u64("subscribers", 1'000'000);
  const auto program = args.str("program", "acme-alerts");
  const std::uint64_t chunk = std::max<std::uint64_t>(1, args.u64("chunk", 2000));
  const std::string file = args.str("import-name", "bench-import.ndjson");
  if (path.empty()) throw std::runtime_error("--store is required");

  store::StoreOptions so;
  so.path = path;
  so.node_id = args.str("node-id", "bench");
  so.sync = true;
  so.block_cache_bytes = static_cast<std::size_t>(args.u64("cache-mib", 64)) << 20;
  const auto t0 = Clock::now();
  auto st = store::Store::open(so, smppguard::SystemClock::instance());
  const auto now = smppguard::SystemClock::instance().now();
  config::Program prog;
  prog.id = program;
  prog.tenant = args.str("tenant", "acme");
  prog.name = "Acme Alerts";
  prog.numbers = {"+18005550100"};

  std::mutex mu;
  std::condition_variable cv;
  std::uint64_t in_flight = 0;
  std::uint64_t failed = 0;
  const std::uint64_t max_in_flight = 4;
  std::uint64_t opted_in = 0, opted_out = 0, none = 0;
  auto on_done = [&](std::error_code ec) {
    std::lock_guard lock(mu);
    --in_flight;
    if (ec) ++failed;
    cv.notify_all();
  };

  // Records go in key order (consent keys are program + number; the audit and its msisdn index
  // then grow in order too): RocksDB's memtables and flushes stay cheap, and the files do not
  // overlap, so compaction has little to rewrite. Order does not change what is stored.
  std::vector<std::uint64_t> positions;
  positions.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    switch (consent_of(i)) {
      case Consent::opted_in:
        ++opted_in;
        positions.push_back(position_of_index(i));
        break;
      case Consent::opted_out:
        ++opted_out;
        positions.push_back(position_of_index(i));
        break;
      case Consent::none:
        ++none;
        break;
    }
  }
  std::sort(positions.begin(), positions.end());
  const std::uint64_t total = positions.size();
  for (std::uint64_t start = 0; start < total; start += chunk) {
    const std::uint64_t end = std::min(total, start + chunk);
    store::Mutation m = [start, end, &positions, &prog, &file, now](store::Batch& b) {
      // As `smppguard consent import` does it: validate each line, then apply it with the
      // operator-change rules (record + audit entry), held messages left alone (offline).
      const policy::Actor actor{"import:" + file};
      const policy::ValidateOptions vopts{.default_source = store::ConsentSource::import,
                                          .allow_confirm = false};
      const auto lookup = [&prog](std::string_view id) -> const config::Program* {
        return id == prog.id ? &prog : nullptr;
      };
      for (std::uint64_t k = start; k < end; ++k) {
        const std::uint64_t i = index_of_position(positions[k]);
        const auto c = consent_of(i);
        policy::ConsentRequest req;
        req.program = prog.id;
        req.msisdn = msisdn(i);
        req.state = c == Consent::opted_in ? "opted_in" : "opted_out";
        if (c == Consent::opted_in) req.level = "express";
        req.source = "import";
        req.evidence = {{"file", file}, {"line", std::to_string(i + 1)}};
        auto valid = policy::validate_consent_request(req, lookup, vopts);
        if (!valid.ok) throw std::runtime_error("invalid import line: " + valid.error.message);
        policy::apply_consent_request(b, *valid.ok, actor, now,
                                      policy::ApplyOptions{.held_messages = false});
      }
    };
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < max_in_flight; });
      ++in_flight;
    }
    st->submit(std::move(m), false, on_done);
  }
  {
    // One synced (empty) mutation: everything before it is durable once it completes.
    std::unique_lock lock(mu);
    ++in_flight;
  }
  st->submit([](store::Batch&) {}, true, on_done);
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return in_flight == 0; });
  }
  const auto loaded = Clock::now();
  // Settle the files (flush and compact every family) so that the daemon does not spend the
  // measured runs compacting what the load left in level 0.
  if (!args.has("no-compact")) {
    if (auto ec = store::testing::compact_all(*st))
      throw std::runtime_error("compaction: " + ec.message());
  }
  const auto compacted = Clock::now();
  const auto stats = st->stats();
  st->close();
  const auto closed = Clock::now();
  const double secs = std::chrono::duration<double>(loaded - t0).count();
  std::uintmax_t disk = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
    std::error_code ec;
    if (entry.is_regular_file(ec)) disk += entry.file_size(ec);
  }
  json::object o;
  o["store"] = path;
  o["subscribers"] = n;
  o["records"] = opted_in + opted_out;
  o["opted_in"] = opted_in;
  o["opted_out"] = opted_out;
  o["no_record"] = none;
  o["audit_entries"] = opted_in + opted_out;
  o["failed_mutations"] = failed;
  o["groups_written"] = stats.groups_written;
  o["load_s"] = CpuMeter::round3(secs);
  o["compact_s"] = CpuMeter::round3(std::chrono::duration<double>(compacted - loaded).count());
  o["close_s"] = CpuMeter::round3(std::chrono::duration<double>(closed - compacted).count());
  o["records_per_s"] = static_cast<std::uint64_t>(
      secs > 0 ? std::round(static_cast<double>(opted_in + opted_out) / secs) : 0.0);
  o["disk_mib"] = CpuMeter::round3(static_cast<double>(disk) / (1 << 20));
  o["peak_rss_mib"] = status_mib(0, "VmHWM").value_or(0);
  std::printf("%s\n", json::serialize(o).c_str());
  return failed == 0 ? 0 : 1;
}

int check(const Args& args) {
  store::StoreOptions so;
  so.path = args.str("store");
  so.read_only = true;
  auto st = store::Store::open(so, smppguard::SystemClock::instance());
  const auto program = args.str("program", "acme-alerts");
  const auto tenant = args.str("tenant", "acme");
  std::ifstream in(args.str("msisdns"));
  std::string line;
  std::uint64_t checked = 0, out = 0, errors = 0;
  std::string first_missing;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++checked;
    store::ConsentPair pair;
    if (st->get_consent_pair(program, tenant, line, pair)) {
      ++errors;
      continue;
    }
    const bool opted_out =
        (pair.program && pair.program->state == store::ConsentState::opted_out) ||
        (pair.tenant && pair.tenant->state == store::ConsentState::opted_out);
    if (opted_out) {
      ++out;
    } else if (first_missing.empty()) {
      first_missing = line;
    }
  }
  json::object o;
  o["checked"] = checked;
  o["opted_out"] = out;
  o["not_opted_out"] = checked - out - errors;
  o["read_errors"] = errors;
  if (!first_missing.empty()) o["first_not_opted_out"] = first_missing;
  std::printf("%s\n", json::serialize(o).c_str());
  return checked == out ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 2 || std::string_view(argv[1]) == "--help") {
      std::puts(
          "smppguard-storegen build --store DIR --subscribers N [--program ID] [--chunk C]\n"
          "smppguard-storegen check --store DIR --program ID --tenant T --msisdns FILE");
      return argc < 2 ? 64 : 0;
    }
    Args args(argc, argv, 2);
    const std::string_view command = argv[1];
    if (command == "build") return build(args);
    if (command == "check") return check(args);
    std::fprintf(stderr, "storegen: unknown command %s\n", argv[1]);
    return 64;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "storegen: %s\n", e.what());
    return 1;
  }
}
