#include "cluster/audit_verify.hpp"

#include "cluster/schema.hpp"

namespace smppguard::cluster {

namespace {

constexpr std::size_t kPage = 5000;

}  // namespace

asio::awaitable<Result<store::AuditVerifyReport>> verify_cluster_audit(
    PgConnection& pg, const std::string& schema, std::optional<std::uint64_t> expect_seq,
    std::string* hash_at, std::chrono::milliseconds timeout) {
  store::AuditVerifyReport report;
  report.whole = true;
  auto bad = [&](std::uint64_t seq, std::string reason) {
    report.whole = false;
    report.first_bad_seq = seq;
    report.reason = std::move(reason);
    return report;
  };
  const std::string sql = with_schema(
      "SELECT seq, event, msisdn, prev_hash, hash, entry FROM {s}.audit WHERE seq > $1 "
      "ORDER BY seq LIMIT $2",
      schema);
  std::uint64_t expected = 1;
  std::string prev_hash(64, '0');
  for (;;) {
    std::vector<PgValue> params = {std::to_string(expected - 1), std::to_string(kPage)};
    auto rows = co_await pg.query(sql, std::move(params), timeout);
    if (!rows) co_return rows.error();
    for (std::size_t i = 0; i < rows->size(); ++i, ++expected) {
      const auto seq = static_cast<std::uint64_t>(rows->int64(i, 0));
      if (seq != expected) co_return bad(expected, "seq gap");
      const auto bytes = bytea_bytes(rows->text(i, 5));
      store::ReplicatedChange one;
      if (!bytes || !store::decode_change(*bytes, one) || one.audit.size() != 1) {
        co_return bad(seq, "undecodable value");
      }
      const auto& e = one.audit.front();
      if (e.seq != seq) co_return bad(seq, "seq does not match its row");
      if (store::audit_entry_hash(e) != e.hash) co_return bad(seq, "hash mismatch");
      if (e.prev_hash != prev_hash) co_return bad(seq, "prev_hash does not match");
      if (e.event != rows->text(i, 1) || e.msisdn != rows->text(i, 2) ||
          e.prev_hash != rows->text(i, 3) || e.hash != rows->text(i, 4)) {
        co_return bad(seq, "a column does not match the entry");
      }
      if (expect_seq && *expect_seq == seq && hash_at != nullptr) *hash_at = e.hash;
      prev_hash = e.hash;
      report.entries = seq;
    }
    if (rows->size() < kPage) break;
  }
  co_return report;
}

}  // namespace smppguard::cluster
