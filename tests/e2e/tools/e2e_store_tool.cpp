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
//   e2e_store_tool corrupt-consent --store DIR
//       With the daemon stopped: flushes and compacts the store (store/testing.hpp compact_all)
//       so that every consent record sits in an SST file, then inverts every byte of the data
//       blocks of the `consent` family's SST files (the front of each file, TableProperties
//       data_size long), leaving the index, filter, properties and footer whole: the store still
//       opens, and a point lookup of a record written before gets a checksum Corruption. Prints
//       the number of files and bytes corrupted; fails when the family has no SST file.
//   e2e_store_tool tamper-consent --store DIR --program P --msisdn M --state S [--reseal yes]
//       With the daemon stopped: sets the state of one consent record, by flipping its state
//       byte in place or, with --reseal yes, re-encoding it with a fresh seal (store/testing.hpp
//       tamper_consent_state).
//
// Exit codes: 0 done, 1 the store refused (message on stderr), 64 bad arguments.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table_properties.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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

/// Inverts `length` bytes of `file` from offset 0. False on an I/O error.
bool invert_front(const std::string& file, std::uint64_t length) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  if (!f) return false;
  std::vector<char> bytes(length);
  if (!f.read(bytes.data(), static_cast<std::streamsize>(length))) return false;
  for (auto& b : bytes) b = static_cast<char>(~static_cast<unsigned char>(b));
  f.seekp(0);
  f.write(bytes.data(), static_cast<std::streamsize>(length));
  f.flush();
  return static_cast<bool>(f);
}

int corrupt_consent(const std::string& path) {
  {
    // Through the store itself, so the families are opened with the daemon's own options.
    store::StoreOptions options;
    options.path = path;
    auto db = store::Store::open(options, smppguard::SystemClock::instance());
    if (const auto ec = store::testing::compact_all(*db)) {
      std::fprintf(stderr, "e2e_store_tool: compact: %s\n", ec.message().c_str());
      return 1;
    }
  }
  // Which SST files hold the consent family, and how long their data block section is. Block-
  // based tables write the data blocks first: [0, data_size) is data blocks and their trailers.
  std::vector<std::pair<std::string, std::uint64_t>> targets;
  {
    rocksdb::DBOptions options;
    std::vector<std::string> names;
    if (!rocksdb::DB::ListColumnFamilies(options, path, &names).ok()) {
      std::fprintf(stderr, "e2e_store_tool: cannot list the families of %s\n", path.c_str());
      return 1;
    }
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    const auto s = rocksdb::DB::OpenForReadOnly(options, path, descriptors, &handles, &raw);
    if (!s.ok()) {
      std::fprintf(stderr, "e2e_store_tool: open: %s\n", s.ToString().c_str());
      return 1;
    }
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::ColumnFamilyHandle* consent = nullptr;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "consent") consent = handles[i];
    }
    rocksdb::TablePropertiesCollection tables;
    const auto p = consent ? db->GetPropertiesOfAllTables(consent, &tables)
                           : rocksdb::Status::NotFound("no consent family");
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    db->Close().PermitUncheckedError();
    if (!p.ok()) {
      std::fprintf(stderr, "e2e_store_tool: table properties: %s\n", p.ToString().c_str());
      return 1;
    }
    for (const auto& [file, props] : tables) {
      if (props && props->data_size > 0) targets.emplace_back(file, props->data_size);
    }
  }
  if (targets.empty()) {
    std::fprintf(stderr, "e2e_store_tool: the consent family has no SST file with data\n");
    return 1;
  }
  std::uint64_t bytes = 0;
  for (const auto& [file, length] : targets) {
    if (!invert_front(file, length)) {
      std::fprintf(stderr, "e2e_store_tool: cannot rewrite %s\n", file.c_str());
      return 1;
    }
    bytes += length;
  }
  std::printf("corrupted %zu consent SST file(s), %llu data bytes\n", targets.size(),
              static_cast<unsigned long long>(bytes));
  return 0;
}

int usage() {
  std::fprintf(stderr,
               "usage: e2e_store_tool audit-list --store DIR --out FILE\n"
               "       e2e_store_tool tamper --store DIR --seq N --field F --value V\n"
               "       e2e_store_tool corrupt-consent --store DIR\n"
               "       e2e_store_tool tamper-consent --store DIR --program P --msisdn M --state S"
               " [--reseal yes]\n");
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
    if (command == "corrupt-consent") return corrupt_consent(flags["store"]);
    if (command == "tamper-consent") {
      if (!flags.contains("program") || !flags.contains("msisdn") || !flags.contains("state")) {
        return usage();
      }
      store::ConsentState state{};
      if (!store::parse(flags["state"], state)) return usage();
      const auto ec = store::testing::tamper_consent_state(
          flags["store"], flags["program"], flags["msisdn"], state, flags["reseal"] == "yes");
      if (ec) {
        std::fprintf(stderr, "e2e_store_tool: tamper-consent: %s\n", ec.message().c_str());
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
