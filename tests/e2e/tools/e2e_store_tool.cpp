// e2e_store_tool: TEST-ONLY access to a daemon's store for the end-to-end tests, which must not
// link the daemon's libraries themselves.
//
//   e2e_store_tool audit-list --store DIR --out FILE
//       Opens the store read-only (the daemon may be running) and writes every audit entry to
//       FILE (not stdout, where the store's log lines go) as one JSON object per line: seq,
//       time_ms, program, msisdn, event, old_state, new_state, source, actor, evidence, mo_text,
//       mo_normalized, keyword, rule, detail, prev_hash, hash.
//   e2e_store_tool tamper --store DIR --seq N --field F --value V
//       With the daemon stopped: rewrites one field of audit entry N without fixing any hash,
//       as someone editing the database by hand would (store/testing.hpp tamper_audit_entry).
//
// Exit codes: 0 done, 1 the store refused (message on stderr), 64 bad arguments.
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>
#include <string_view>

#include "common/time.hpp"
#include "store/store.hpp"
#include "store/testing.hpp"

namespace {

namespace store = smppguard::store;

int audit_list(const std::string& path, std::FILE* out) {
  store::StoreOptions options;
  options.path = path;
  options.read_only = true;
  auto db = store::Store::open(options, smppguard::SystemClock::instance());
  std::uint64_t after = 0;
  while (true) {
    store::AuditQuery query;
    query.after_seq = after;
    query.limit = 1000;
    auto page = db->audit(query);
    if (!page) {
      std::fprintf(stderr, "e2e_store_tool: audit: %s\n", page.error().message().c_str());
      return 1;
    }
    if (page->empty()) return 0;
    for (const auto& e : *page) {
      boost::json::object evidence;
      for (const auto& [k, v] : e.evidence) evidence[k] = v;
      boost::json::object o;
      o["seq"] = e.seq;
      o["time_ms"] = e.time_ms;
      o["program"] = e.program;
      o["msisdn"] = e.msisdn;
      o["event"] = e.event;
      o["old_state"] = e.old_state;
      o["new_state"] = e.new_state;
      o["source"] = e.source;
      o["actor"] = e.actor;
      o["evidence"] = std::move(evidence);
      o["mo_text"] = e.mo_text;
      o["mo_normalized"] = e.mo_normalized;
      o["keyword"] = e.keyword;
      o["rule"] = e.rule;
      o["detail"] = e.detail;
      o["prev_hash"] = e.prev_hash;
      o["hash"] = e.hash;
      std::fprintf(out, "%s\n", boost::json::serialize(o).c_str());
      after = e.seq;
    }
  }
}

int usage() {
  std::fprintf(stderr,
               "usage: e2e_store_tool audit-list --store DIR --out FILE\n"
               "       e2e_store_tool tamper --store DIR --seq N --field F --value V\n");
  return 64;
}

int audit_list(const std::string& path, const std::string& out_path) {
  std::FILE* out = std::fopen(out_path.c_str(), "w");
  if (out == nullptr) {
    std::fprintf(stderr, "e2e_store_tool: cannot write %s\n", out_path.c_str());
    return 1;
  }
  const int rc = audit_list(path, out);
  return std::fclose(out) == 0 ? rc : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string_view command = argv[1];
  std::map<std::string, std::string, std::less<>> flags;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string_view key = argv[i];
    if (!key.starts_with("--")) return usage();
    flags[std::string(key.substr(2))] = argv[i + 1];
  }
  if (!flags.contains("store")) return usage();
  try {
    if (command == "audit-list") {
      if (!flags.contains("out")) return usage();
      return audit_list(flags["store"], flags["out"]);
    }
    if (command == "tamper") {
      if (!flags.contains("seq") || !flags.contains("field") || !flags.contains("value")) {
        return usage();
      }
      const auto ec = store::testing::tamper_audit_entry(
          flags["store"], std::strtoull(flags["seq"].c_str(), nullptr, 10), flags["field"],
          flags["value"]);
      if (ec) {
        std::fprintf(stderr, "e2e_store_tool: tamper: %s\n", ec.message().c_str());
        return 1;
      }
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "e2e_store_tool: %s\n", e.what());
    return 1;
  }
  return usage();
}
