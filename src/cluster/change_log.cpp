#include "cluster/change_log.hpp"

#include <charconv>
#include <stdexcept>

namespace smppguard::cluster {

namespace {

std::uint64_t parse_xid(const std::string& text) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw std::invalid_argument("not an xid8: \"" + text + "\"");
  }
  return v;
}

}  // namespace

PgStatement append_change(const std::string& schema, const std::string& node_id,
                          const std::string& kind, const std::string& body) {
  // One statement: the row, and the wake-up that PostgreSQL delivers at commit (and drops on
  // rollback). Notifications with the same payload in one transaction are folded into one.
  return {"WITH c AS (INSERT INTO " + schema +
              ".changes (node_id, kind, body) VALUES ($1, $2, $3::bytea) RETURNING 1) "
              "SELECT pg_notify('" +
              schema + "_changes', '') FROM c",
          {node_id, kind, bytea_hex(body)}};
}

PgStatement listen_changes(const std::string& schema) { return {"LISTEN " + schema + "_changes"}; }

asio::awaitable<Result<LogPage>> read_changes(PgConnection& pg, const std::string& schema,
                                              LogCursor after, std::size_t limit,
                                              std::chrono::milliseconds timeout) {
  // One statement, so one snapshot: its xmin bounds what is read, and the oldest change above
  // it is what waits. Row 0 always exists (w); rows without a change have NULL columns.
  const std::string sql =
      "WITH w AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin), "
      "waiting AS (SELECT (extract(epoch FROM min(c.at)) * 1000)::bigint AS oldest FROM " +
      schema +
      ".changes c, w WHERE c.xid >= w.xmin) "
      "SELECT w.xmin::text, waiting.oldest, c.xid::text, c.pos, "
      "(extract(epoch FROM c.at) * 1000)::bigint, c.node_id, c.kind, c.body "
      "FROM w CROSS JOIN waiting LEFT JOIN LATERAL (SELECT * FROM " +
      schema +
      ".changes c WHERE (c.xid, c.pos) > ($1::xid8, $2::bigint) AND c.xid < w.xmin "
      "ORDER BY c.xid, c.pos LIMIT $3) c ON true";
  std::vector<PgValue> params = {
      std::to_string(after.xid), std::to_string(after.pos),
      std::to_string(limit)};  // named: GCC 12, no braced list in co_await
  auto r = co_await pg.query(sql, std::move(params), timeout);
  if (!r) co_return r.error();
  LogPage page;
  const auto& rows = *r;
  if (!rows.is_null(0, 1)) page.oldest_waiting_ms = rows.int64(0, 1);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows.is_null(i, 2)) break;  // no change: the w row alone
    Change c;
    c.at = {parse_xid(rows.text(i, 2)), rows.int64(i, 3)};
    c.committed_ms = rows.int64(i, 4);
    c.node_id = rows.text(i, 5);
    c.kind = rows.text(i, 6);
    auto body = bytea_bytes(rows.text(i, 7));
    if (!body) throw std::invalid_argument("changes.body is not bytea hex");
    c.body = std::move(*body);
    page.changes.push_back(std::move(c));
  }
  page.more = page.changes.size() >= limit;
  if (page.more) {
    page.next = page.changes.back().at;
  } else {
    // Everything below the xmin has been read: the next read starts at it (pos > 0 takes every
    // row of that xid, which has not ended yet).
    const LogCursor horizon{parse_xid(rows.text(0, 0)), 0};
    page.next = horizon.xid > after.xid ? horizon : after;
  }
  co_return page;
}

}  // namespace smppguard::cluster
