#include "admin/admin_api.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <deque>
#include <map>

#include "admin/audit_scan.hpp"
#include "admin/consent_import.hpp"
#include "admin/consent_json.hpp"
#include "common/async.hpp"
#include "common/log.hpp"
#include "policy/numbers.hpp"
#include "session/esme_session.hpp"
#include "session/registry.hpp"
#include "session/store_ops.hpp"
#include "session/upstream.hpp"

namespace smppguard::admin {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::size_t kImportInFlight = 4;   // import batches committing at once
constexpr std::size_t kHistoryDefault = 50;  // audit entries in GET /v1/consents/{p}/{m}
constexpr std::size_t kHistoryMax = 1000;
constexpr std::size_t kExportDefault = 100;
constexpr std::size_t kExportMax = 10000;
constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kMaxReportDays = 3660;

HttpResponse error(const ApiError& e) { return HttpResponse::error(e.status, e.code, e.message); }

HttpResponse json_response(unsigned status, const json::value& v) {
  return HttpResponse::json(status, json::serialize(v) + "\n");
}

HttpResponse method_not_allowed(std::string_view allow) {
  auto r = HttpResponse::error(405, "method_not_allowed",
                               "method not allowed here; use " + std::string(allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

HttpResponse store_unavailable(std::string_view what) {
  return HttpResponse::error(503, "store_unavailable",
                             "the consent store cannot be read: " + std::string(what));
}

// A consent change the store did not take: 503, cluster_unavailable when PostgreSQL could not
// commit it (SPEC section 9), store_unavailable otherwise.
HttpResponse store_write_failed(std::error_code ec) {
  if (ec == store::StoreErrc::cluster_unavailable) {
    return HttpResponse::error(503, "cluster_unavailable",
                               "the cluster cannot commit consent changes now: " + ec.message());
  }
  return HttpResponse::error(503, "store_unavailable",
                             "the consent store did not take the change: " + ec.message());
}

// Query parameters: only the named ones are allowed, each at most once.
std::optional<ApiError> check_params(const HttpRequest& r,
                                     std::initializer_list<std::string_view> allowed) {
  for (auto it = r.query.begin(); it != r.query.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it->first) == allowed.end()) {
      std::string names;
      for (auto a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
      return ApiError{
          400, "unknown_parameter",
          "unknown query parameter '" + it->first + "'" +
              (names.empty() ? std::string(" (none are taken)") : " (allowed: " + names + ")")};
    }
    if (r.query.count(it->first) > 1) {
      return ApiError{400, "invalid_parameter", "'" + it->first + "' is given more than once"};
    }
  }
  return std::nullopt;
}

std::optional<ApiError> parse_count(const HttpRequest& r, std::string_view name, std::uint64_t min,
                                    std::uint64_t max, std::uint64_t& out) {
  const std::string* v = r.param(name);
  if (v == nullptr) return std::nullopt;
  std::uint64_t n = 0;
  const auto* end = v->data() + v->size();
  const auto res = std::from_chars(v->data(), end, n);
  if (v->empty() || res.ec != std::errc() || res.ptr != end || n < min || n > max) {
    return ApiError{400, "invalid_parameter",
                    std::string(name) + " must be a whole number from " + std::to_string(min) +
                        " to " + std::to_string(max)};
  }
  out = n;
  return std::nullopt;
}

std::optional<ApiError> parse_time(const HttpRequest& r, std::string_view name,
                                   std::int64_t& out_ms) {
  const std::string* v = r.param(name);
  if (v == nullptr) return std::nullopt;
  // parse_rfc3339 yields nanoseconds since 1970, which overflow about 292 years away: refuse
  // the years outside 1970..2200 before converting.
  int year = -1;
  if (v->size() >= 4) std::from_chars(v->data(), v->data() + 4, year);
  std::optional<TimePoint> t;
  if (year >= 1970 && year <= 2200) {
    t = parse_rfc3339(*v);
    if (!t && v->size() == 10) t = parse_rfc3339(*v + "T00:00:00Z");  // a plain date, UTC
  }
  if (!t) {
    return ApiError{400, "invalid_parameter",
                    std::string(name) +
                        " must be an RFC 3339 time (2026-01-15T00:00:00Z) or a "
                        "date (2026-01-15), years 1970 to 2200"};
  }
  out_ms = to_unix_ms(*t);
  return std::nullopt;
}

std::optional<ApiError> parse_msisdn(std::string_view text, std::string& out) {
  auto e164 = policy::parse_e164(text);
  if (!e164) {
    return ApiError{
        400, "invalid_msisdn",
        "'" + std::string(text) + "' is not an E.164 number: " + e164.error().message()};
  }
  out = std::move(*e164);
  return std::nullopt;
}

/// Runs `fn` on the blocking pool and resumes on the caller's executor with its result, or
/// nullopt when it threw (logged). Not a coroutine (see async_callback): `fn` must
/// outlive the wait, so pass a named local.
template <typename R, typename F>
auto offload(asio::thread_pool& pool, F& fn) {
  return async_callback<std::optional<R>>([&pool, &fn](auto done) {
    asio::post(pool, [&fn, done = std::move(done)]() mutable {
      std::optional<R> out;
      try {
        out.emplace(fn());
      } catch (const std::exception& e) {
        SG_LOG(error, "admin_scan_failed").kv("what", e.what());
      }
      done(std::move(out));
    });
  });
}

bool iprefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

std::string bind_type(session::BindState s) {
  switch (s) {
    case session::BindState::bound_tx:
      return "transmitter";
    case session::BindState::bound_rx:
      return "receiver";
    case session::BindState::bound_trx:
      return "transceiver";
    default:
      return std::string(session::to_string(s));
  }
}

std::string utc_date(std::int64_t ms) { return format_rfc3339(from_unix_ms(ms)).substr(0, 10); }

// The program to export, and the msisdn after which to start, from `cursor` ("<program>/<digits>").
struct ExportCursor {
  std::string program;
  std::string msisdn;
};
std::optional<ExportCursor> parse_cursor(std::string_view cursor) {
  const auto slash = cursor.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  ExportCursor c{std::string(cursor.substr(0, slash)), std::string(cursor.substr(slash + 1))};
  if (c.msisdn.empty()) return c;
  auto e164 = policy::parse_e164(c.msisdn);
  if (!e164) return std::nullopt;
  c.msisdn = std::move(*e164);
  return c;
}
std::string make_cursor(std::string_view program, std::string_view msisdn) {
  return std::string(program) + "/" +
         std::string(msisdn.starts_with('+') ? msisdn.substr(1) : msisdn);
}

}  // namespace

AdminApi::AdminApi(session::Services& services, session::ConsentServices& consent,
                   cluster::Link* cluster)
    : services_(services), consent_(consent), cluster_(cluster) {}

BodyMode AdminApi::body_policy(const HttpRequest& request) const {
  if (request.method == "POST" && request.path == "/v1/consents/import") {
    return BodyMode{true, 0};  // streamed, no size limit: memory does not grow with it
  }
  return BodyMode{false, kMaxBody};
}

asio::awaitable<HttpResponse> AdminApi::handle(HttpRequest& request) {
  const auto& path = request.path;
  if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
    if (request.method != "GET") co_return method_not_allowed("GET");
    if (path == "/healthz") co_return HttpResponse::json(200, "{\"status\":\"ok\"}\n");
    if (path == "/readyz") co_return readyz();
    co_return metrics();
  }
  if (request.segments.empty() || request.segments.front() != "v1") {
    co_return HttpResponse::error(404, "not_found", "no such endpoint: " + path);
  }
  // Everything under /v1 needs a token from the config in force (a reload may change them).
  const auto runtime = services_.runtime.load();
  const std::string authorization = request.header("authorization");
  if (authorization.empty() || !iprefix(authorization, "bearer ")) {
    auto r = HttpResponse::error(401, "unauthorized",
                                 authorization.empty()
                                     ? "an Authorization: Bearer <token> header is required"
                                     : "the Authorization header must be Bearer <token>");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"smppguard\"");
    co_return r;
  }
  std::string_view presented = std::string_view(authorization).substr(7);
  while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
  while (!presented.empty() && presented.back() == ' ') presented.remove_suffix(1);
  const config::AdminToken* token = runtime->config->find_token(presented);
  if (token == nullptr) {
    SG_LOG(warn, "admin_token_refused").kv("peer", request.peer).kv("path", path);
    co_return HttpResponse::error(403, "forbidden", "the token is not known");
  }
  co_return co_await v1(request, *token);
}

asio::awaitable<HttpResponse> AdminApi::v1(HttpRequest& request, const config::AdminToken& token) {
  const auto& seg = request.segments;
  const auto& method = request.method;
  if (seg.size() >= 2 && seg[1] == "consents") {
    if (seg.size() == 3 && seg[2] == "import") {
      if (method != "POST") co_return method_not_allowed("POST");
      co_return co_await import(request, token);
    }
    if (seg.size() == 2) {
      if (method != "GET") co_return method_not_allowed("GET");
      co_return co_await export_consents(request);
    }
    if (seg.size() == 4) {
      if (method == "GET") {
        if (auto e = check_params(request, {"history"})) co_return error(*e);
        const auto runtime = services_.runtime.load();
        const auto* program = runtime->config->find_program(seg[2]);
        if (program == nullptr) {
          co_return HttpResponse::error(404, "unknown_program",
                                        "no program '" + seg[2] + "' in the config");
        }
        std::string msisdn;
        if (auto e = parse_msisdn(seg[3], msisdn)) co_return error(*e);
        co_return co_await get_consent(request, *program, msisdn);
      }
      if (method == "PUT" || method == "DELETE") {
        if (auto e = check_params(request, {})) co_return error(*e);
        co_return co_await change_consent(request, token, seg[2], seg[3]);
      }
      co_return method_not_allowed("GET, PUT, DELETE");
    }
  }
  if (seg.size() == 2 && seg[1] == "audit") {
    if (method != "GET") co_return method_not_allowed("GET");
    co_return co_await audit(request);
  }
  if (seg.size() == 3 && seg[1] == "audit" && seg[2] == "head") {
    if (method != "GET") co_return method_not_allowed("GET");
    if (auto e = check_params(request, {})) co_return error(*e);
    co_return audit_head();
  }
  if (seg.size() == 2 && seg[1] == "cluster") {
    if (method != "GET") co_return method_not_allowed("GET");
    if (auto e = check_params(request, {})) co_return error(*e);
    co_return co_await cluster_status();
  }
  if (seg.size() == 2 && seg[1] == "sessions") {
    if (method != "GET") co_return method_not_allowed("GET");
    if (auto e = check_params(request, {})) co_return error(*e);
    co_return sessions();
  }
  if (seg.size() == 3 && seg[1] == "reports" && seg[2] == "summary") {
    if (method != "GET") co_return method_not_allowed("GET");
    co_return co_await report(request);
  }
  co_return HttpResponse::error(404, "not_found", "no such endpoint: " + request.path);
}

// ---- health and metrics -------------------------------------------------------------------------

HttpResponse AdminApi::readyz() {
  const bool store_ok = services_.store.healthy() && services_.store.writable();
  const bool upstream_ok = services_.upstreams.any_bound();
  // Cluster mode: the replica is caught up and within max_lag (always true without a cluster).
  const bool replica_ok = services_.store.replica_ready();
  const bool ready = store_ok && upstream_ok && replica_ok;
  json::object o;
  o["store"] = store_ok;
  o["upstream_bound"] = upstream_ok;
  if (services_.runtime.load()->config->cluster) o["replica"] = replica_ok;
  o["status"] = ready ? "ready" : "not_ready";
  return json_response(ready ? 200 : 503, o);
}

HttpResponse AdminApi::metrics() {
  auto& m = services_.metrics;
  auto& store = services_.store;
  m.queue_depth("held_mt").Set(static_cast<double>(store.held_messages()));
  m.queue_depth("mo").Set(static_cast<double>(store.queued_deliveries(store::DeliveryKind::mo)));
  m.queue_depth("receipt").Set(
      static_cast<double>(store.queued_deliveries(store::DeliveryKind::receipt)));
  m.queue_depth("outbox").Set(
      static_cast<double>(store.queued_deliveries(store::DeliveryKind::outbox)));
  if (auto head = store.audit_head()) m.audit_head_seq().Set(static_cast<double>(head->seq));
  auto r = HttpResponse::text(200, m.serialize());
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

// ---- one consent ------------------------------------------------------------------------------

asio::awaitable<HttpResponse> AdminApi::get_consent(const HttpRequest& request,
                                                    const config::Program& program,
                                                    const std::string& msisdn) {
  std::uint64_t history = kHistoryDefault;
  if (auto e = parse_count(request, "history", 0, kHistoryMax, history)) co_return error(*e);
  store::ConsentPair pair;
  if (auto ec = services_.store.get_consent_pair(program.id, program.tenant, msisdn, pair)) {
    services_.metrics.store_error("read_consent");
    co_return store_unavailable(ec.message());
  }
  const bool tenant_out = pair.tenant && pair.tenant->state == store::ConsentState::opted_out;
  if (!pair.program) {
    co_return HttpResponse::error(
        404, "not_found",
        "no consent record for " + msisdn + " in program " + program.id +
            (tenant_out ? " (the subscriber opted out of every program of the tenant)" : ""));
  }
  // The last `history` entries about this subscriber and this program (or its tenant).
  const std::string tenant_key = "tenant:" + program.tenant;
  auto scan = [&]() {
    std::deque<store::AuditEntry> last;
    store::AuditQuery q;
    q.msisdn = msisdn;
    q.limit = 1000;
    while (history > 0) {
      auto page = services_.store.audit(q);
      if (!page) throw std::system_error(page.error());
      for (auto& e : *page) {
        if (e.program != program.id && e.program != tenant_key) continue;
        last.push_back(std::move(e));
        if (last.size() > history) last.pop_front();
      }
      if (page->size() < q.limit) break;
      q.after_seq = page->back().seq;
    }
    return std::vector<store::AuditEntry>(last.begin(), last.end());
  };
  auto entries = co_await offload<std::vector<store::AuditEntry>>(services_.blocking, scan);
  if (!entries) {
    services_.metrics.store_error("read_audit");
    co_return store_unavailable("the audit log");
  }
  json::object o = consent_json(program.id, msisdn, *pair.program);
  o["tenant_opted_out"] = tenant_out;
  json::array h;
  for (const auto& e : *entries) h.push_back(audit_json(e));
  o["history"] = std::move(h);
  co_return json_response(200, o);
}

void AdminApi::stage_follow_ups(store::Batch& batch, const config::Config& config,
                                const policy::ValidConsent& request,
                                const policy::ConsentOutcome& outcome,
                                session::ConsentServices::Staged& staged) {
  if (!outcome.opt_in_request && outcome.failed.empty() && outcome.release.empty()) return;
  policy::MoOutcome follow;
  if (outcome.opt_in_request) follow.replies.push_back(*outcome.opt_in_request);
  follow.failed = outcome.failed;
  follow.release = outcome.release;
  staged.merge(consent_.stage_follow_up(batch, config, *request.program, outcome.from_number,
                                        request.msisdn, follow));
}

void AdminApi::report_change(const policy::ConsentOutcome& outcome, const std::string& actor,
                             bool log_each) {
  for (const auto& change : outcome.changes) {
    services_.metrics.consent_change(change.program, store::to_string(change.to),
                                     store::to_string(change.source));
    if (log_each) {
      SG_LOG(info, "consent_change")
          .kv("program", change.program)
          .kv("to", store::to_string(change.to))
          .kv("source", store::to_string(change.source))
          .kv("actor", actor)
          .kv("via", "api")
          .kv("held_failed", static_cast<std::uint64_t>(outcome.failed.size()))
          .kv("held_released", static_cast<std::uint64_t>(outcome.release.size()));
    }
  }
}

asio::awaitable<HttpResponse> AdminApi::change_consent(const HttpRequest& request,
                                                       const config::AdminToken& token,
                                                       const std::string& program,
                                                       const std::string& msisdn) {
  const bool del = request.method == "DELETE";
  const auto runtime = services_.runtime.load();
  const std::shared_ptr<const config::Config> config = runtime->config;
  policy::ConsentRequest req;
  req.program = program;
  req.msisdn = msisdn;
  if (auto e = parse_consent_body(request.body, del ? ConsentBody::del : ConsentBody::put, req)) {
    co_return error(*e);
  }
  auto valid = policy::validate_consent_request(req, *config);
  if (!valid.ok) co_return error(to_api_error(valid.error));
  const policy::ValidConsent& v = *valid.ok;
  const policy::Actor actor{"api:" + token.name};
  const auto now = services_.clock.now();
  policy::ConsentOutcome outcome;
  session::ConsentServices::Staged staged;
  const auto ec = co_await session::commit(
      services_.store,
      [&](store::Batch& b) {
        outcome = policy::apply_consent_request(b, v, actor, now);
        stage_follow_ups(b, *config, v, outcome, staged);
      },
      true);
  if (ec) {
    services_.metrics.store_error("consent_api");
    SG_LOG(error, "consent_change_failed")
        .kv("program", v.program->id)
        .kv("actor", actor.name)
        .kv("error", ec.message());
    co_return store_write_failed(ec);
  }
  if (outcome.effect == policy::ConsentEffect::refused) {
    SG_LOG(info, "consent_change_refused")
        .kv("program", v.program->id)
        .kv("actor", actor.name)
        .kv("reason", outcome.error ? outcome.error->code : std::string("conflict"));
    co_return error(outcome.error ? to_api_error(*outcome.error)
                                  : ApiError{409, "conflict", "refused"});
  }
  report_change(outcome, actor.name, true);
  consent_.after_staged(staged);
  json::object o = consent_json(v.program->id, v.msisdn, outcome.record);
  o["effect"] = policy::to_string(outcome.effect);
  o["previous_state"] = outcome.old_state;
  o["opt_in_request_sent"] = outcome.opt_in_request.has_value();
  o["held_failed"] = outcome.failed.size();
  o["held_released"] = outcome.release.size();
  const unsigned status = outcome.effect == policy::ConsentEffect::created && !del ? 201 : 200;
  co_return json_response(status, o);
}

// ---- import -------------------------------------------------------------------------------------

namespace {
// Batches of an import being committed: completions arrive on the writer thread and are posted
// back to the connection's strand, where the handler collects them.
struct ImportFlight {
  explicit ImportFlight(const asio::any_io_executor& ex) : event(ex) {}
  struct Finished {
    std::shared_ptr<ImportBatch> batch;
    std::shared_ptr<session::ConsentServices::Staged> staged;  // what its commit staged
    std::error_code ec;
  };
  Event event;
  std::size_t in_flight = 0;
  std::vector<Finished> finished;
};
}  // namespace

asio::awaitable<HttpResponse> AdminApi::import(HttpRequest& request,
                                               const config::AdminToken& token) {
  if (auto e = check_params(request, {})) co_return error(*e);
  if (request.body_reader == nullptr) {
    co_return HttpResponse::error(500, "internal", "the import body was not streamed");
  }
  const auto runtime = services_.runtime.load();
  const std::shared_ptr<const config::Config> config = runtime->config;
  ConsentImporter importer([config](std::string_view id) { return config->find_program(id); }, {});
  const policy::Actor actor{"api:" + token.name};
  const auto ex = co_await asio::this_coro::executor;
  auto flight = std::make_shared<ImportFlight>(ex);
  const auto started = std::chrono::steady_clock::now();

  auto drain = [&] {
    auto finished = std::move(flight->finished);
    flight->finished.clear();
    for (auto& f : finished) {
      importer.completed(*f.batch, f.ec);
      if (f.ec) {
        services_.metrics.store_error("consent_import");
        continue;
      }
      for (const auto& outcome : f.batch->outcomes) report_change(outcome, actor.name, false);
      consent_.after_staged(*f.staged);
    }
  };
  auto submit = [&](std::shared_ptr<ImportBatch> batch) {
    ++flight->in_flight;
    auto staged = std::make_shared<session::ConsentServices::Staged>();
    auto stage = [this, config, staged](store::Batch& b, const ImportBatch& applied) {
      for (std::size_t i = 0; i < applied.items.size(); ++i) {
        stage_follow_ups(b, *config, applied.items[i].request, applied.outcomes[i], *staged);
      }
    };
    auto mutation = batch->mutation(actor, services_.clock.now(), {}, std::move(stage));
    services_.store.submit(std::move(mutation), true,
                           [flight, batch, staged, ex](std::error_code ec) {
                             asio::post(ex, [flight, batch, staged, ec] {
                               --flight->in_flight;
                               flight->finished.push_back({batch, staged, ec});
                               flight->event.notify();
                             });
                           });
  };

  std::string chunk;
  bool done = false;
  std::error_code read_error;
  while (!done) {
    chunk.clear();
    read_error = co_await request.body_reader->read_some(chunk, done);
    if (read_error) break;
    importer.feed(chunk);
    if (done) importer.finish();
    while (auto batch = importer.next_batch()) {
      while (flight->in_flight >= kImportInFlight) {
        co_await flight->event.wait();
        drain();
      }
      submit(std::move(batch));
    }
    drain();
  }
  while (flight->in_flight > 0) {
    co_await flight->event.wait();
    drain();
  }
  drain();
  const auto& s = importer.summary();
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (read_error) {
    SG_LOG(warn, "consent_import_aborted")
        .kv("actor", actor.name)
        .kv("error", read_error.message())
        .kv("lines", s.lines)
        .kv("applied", s.applied);
    co_return HttpResponse::error(400, "bad_request",
                                  "the body could not be read: " + read_error.message() + "; " +
                                      std::to_string(s.applied) + " lines were applied");
  }
  SG_LOG(info, "consent_import")
      .kv("actor", actor.name)
      .kv("lines", s.lines)
      .kv("applied", s.applied)
      .kv("created", s.created)
      .kv("changed", s.changed)
      .kv("rejected", s.rejected)
      .kv("seconds", seconds);
  auto r = HttpResponse::text(200, import_report(importer));
  r.content_type = "application/x-ndjson";
  co_return r;
}

// ---- export -----------------------------------------------------------------------------------

asio::awaitable<HttpResponse> AdminApi::export_consents(const HttpRequest& request) {
  if (auto e = check_params(request, {"program", "state", "cursor", "limit"})) co_return error(*e);
  std::uint64_t limit = kExportDefault;
  if (auto e = parse_count(request, "limit", 1, kExportMax, limit)) co_return error(*e);
  std::optional<store::ConsentState> state;
  if (const auto* s = request.param("state")) {
    store::ConsentState st{};
    if (!store::parse(*s, st)) {
      co_return HttpResponse::error(400, "invalid_parameter",
                                    "state must be none, pending, opted_in or opted_out");
    }
    state = st;
  }
  const auto runtime = services_.runtime.load();
  const auto& config = *runtime->config;
  // The programs to walk, in config order; "tenant:<t>" exports tenant-wide records.
  std::vector<std::string> programs;
  if (const auto* p = request.param("program")) {
    const bool tenant = p->starts_with("tenant:");
    bool known = config.find_program(*p) != nullptr;
    if (tenant) {
      const auto t = std::string_view(*p).substr(7);
      for (const auto& prog : config.programs) known = known || prog.tenant == t;
    }
    if (!known) {
      co_return HttpResponse::error(404, "unknown_program",
                                    "no program '" + *p + "' in the config");
    }
    programs.push_back(*p);
  } else {
    for (const auto& prog : config.programs) programs.push_back(prog.id);
  }
  std::size_t first = 0;
  std::string after;
  if (const auto* c = request.param("cursor")) {
    const auto cursor = parse_cursor(*c);
    const auto at =
        cursor ? std::find(programs.begin(), programs.end(), cursor->program) : programs.end();
    if (at == programs.end()) {
      co_return HttpResponse::error(400, "invalid_cursor",
                                    "the cursor is not one this export gave (program/digits)");
    }
    first = static_cast<std::size_t>(at - programs.begin());
    after = cursor->msisdn;
  }
  auto scan = [&]() {
    std::vector<store::ConsentRow> rows;
    for (std::size_t i = first; i < programs.size() && rows.size() < limit; ++i) {
      auto page = services_.store.consents(programs[i], state, i == first ? after : "",
                                           static_cast<std::size_t>(limit - rows.size()));
      if (!page) throw std::system_error(page.error());
      for (auto& row : *page) rows.push_back(std::move(row));
    }
    return rows;
  };
  auto rows = co_await offload<std::vector<store::ConsentRow>>(services_.blocking, scan);
  if (!rows) {
    services_.metrics.store_error("read_consents");
    co_return store_unavailable("consent export");
  }
  json::array items;
  for (const auto& row : *rows) items.push_back(consent_json(row.program, row.msisdn, row.record));
  json::object o;
  o["consents"] = std::move(items);
  if (rows->size() == limit) {
    o["next_cursor"] = make_cursor(rows->back().program, rows->back().msisdn);
  } else {
    o["next_cursor"] = nullptr;
  }
  co_return json_response(200, o);
}

// ---- audit --------------------------------------------------------------------------------------

namespace {
// The state of one GET /v1/audit answer, kept alive by its stream producer.
struct AuditStreamState {
  AuditStreamState(const store::Store& store, asio::thread_pool& pool, AuditFilter filter,
                   std::uint64_t limit)
      : scan(store, std::move(filter)), pool(pool), remaining(limit) {}
  AuditScan scan;
  asio::thread_pool& pool;
  std::uint64_t remaining;  // entries still to send
  std::vector<store::AuditEntry> pending;

  // Fetches up to `want` matching entries on the pool (several raw pages if need be).
  std::vector<store::AuditEntry> fetch(std::size_t want) {
    std::vector<store::AuditEntry> out;
    while (out.size() < want && !scan.done()) {
      auto page = scan.next(want - out.size());
      for (auto& e : page) out.push_back(std::move(e));
    }
    return out;
  }

  asio::awaitable<bool> next(std::string& chunk) {
    if (pending.empty() && remaining > 0 && !scan.done()) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, 500));
      auto job = [this, want] { return fetch(want); };
      auto page = co_await offload<std::vector<store::AuditEntry>>(pool, job);
      if (!page) throw std::runtime_error("the audit log cannot be read");
      pending = std::move(*page);
    }
    for (const auto& e : pending) {
      if (remaining == 0) break;
      chunk += json::serialize(audit_json(e));
      chunk += '\n';
      --remaining;
    }
    pending.clear();
    co_return remaining > 0 && !scan.done();
  }
};
}  // namespace

asio::awaitable<HttpResponse> AdminApi::audit(const HttpRequest& request) {
  if (auto e =
          check_params(request, {"msisdn", "program", "since", "until", "limit", "after_seq"})) {
    co_return error(*e);
  }
  AuditFilter filter;
  if (const auto* m = request.param("msisdn")) {
    if (auto e = parse_msisdn(*m, filter.msisdn)) co_return error(*e);
  }
  if (const auto* p = request.param("program")) filter.program = *p;
  if (auto e = parse_time(request, "since", filter.since_ms)) co_return error(*e);
  if (auto e = parse_time(request, "until", filter.until_ms)) co_return error(*e);
  // until_ms 0 means "no bound" to the scan, so a given until must be checked by its presence
  // (until=1970-01-01T00:00:00Z is an empty range, not everything).
  if (request.param("until") != nullptr && filter.until_ms <= filter.since_ms) {
    co_return HttpResponse::error(400, "invalid_parameter", "until must be after since");
  }
  std::uint64_t limit = UINT64_MAX;
  if (auto e = parse_count(request, "limit", 1, UINT64_MAX, limit)) co_return error(*e);
  if (auto e = parse_count(request, "after_seq", 0, UINT64_MAX - 1, filter.after_seq)) {
    co_return error(*e);
  }
  auto state = std::make_shared<AuditStreamState>(services_.store, services_.blocking,
                                                  std::move(filter), limit);
  // The first page is read before answering, so that a store error is a 503, not a cut stream.
  {
    AuditStreamState& s = *state;
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(limit, 500));
    auto job = [&s, want] { return s.fetch(want); };
    auto page = co_await offload<std::vector<store::AuditEntry>>(services_.blocking, job);
    if (!page) {
      services_.metrics.store_error("read_audit");
      co_return store_unavailable("the audit log");
    }
    s.pending = std::move(*page);
  }
  HttpResponse r;
  r.status = 200;
  r.content_type = "application/x-ndjson";
  r.stream = [state](std::string& chunk) -> asio::awaitable<bool> { return state->next(chunk); };
  co_return r;
}

// ---- reports ------------------------------------------------------------------------------------

asio::awaitable<HttpResponse> AdminApi::report(const HttpRequest& request) {
  if (auto e = check_params(request, {"program", "since", "until"})) co_return error(*e);
  const std::int64_t now_ms = to_unix_ms(services_.clock.now());
  AuditFilter filter;
  filter.since_ms = (now_ms / kDayMs - 29) * kDayMs;  // default: the last 30 days (UTC)
  filter.until_ms = 0;
  if (auto e = parse_time(request, "since", filter.since_ms)) co_return error(*e);
  if (auto e = parse_time(request, "until", filter.until_ms)) co_return error(*e);
  if (filter.until_ms == 0) filter.until_ms = now_ms + 1;
  if (filter.until_ms <= filter.since_ms) {
    co_return HttpResponse::error(400, "invalid_parameter", "until must be after since");
  }
  const std::int64_t first_day = filter.since_ms / kDayMs;
  const std::int64_t last_day = (filter.until_ms - 1) / kDayMs;
  if (last_day - first_day + 1 > kMaxReportDays) {
    co_return HttpResponse::error(
        400, "invalid_parameter",
        "the report covers at most " + std::to_string(kMaxReportDays) + " days");
  }
  if (const auto* p = request.param("program")) filter.program = *p;

  struct Day {
    std::uint64_t opt_ins = 0, opt_outs = 0, helps = 0, opt_in_requests = 0, possible_opt_outs = 0,
                  refusals_total = 0;
    std::map<std::string, std::uint64_t> refusals;
  };
  const AuditFilter f = filter;
  auto scan = [&]() {
    std::map<std::int64_t, Day> days;
    AuditScan s(services_.store, f);
    while (!s.done()) {
      for (const auto& e : s.next(1000)) {
        if (e.program.starts_with("tenant:")) continue;  // duplicates of the program entries
        Day& d = days[e.time_ms / kDayMs];
        if (e.event == "opted_in" && e.new_state == "opted_in") {
          ++d.opt_ins;
        } else if (e.event == "opted_out") {
          ++d.opt_outs;
        } else if (e.event == "help") {
          ++d.helps;
        } else if (e.event == "pending") {
          ++d.opt_in_requests;
        } else if (e.event == "possible_opt_out") {
          ++d.possible_opt_outs;
        } else if (e.event == "mt_refused") {
          const std::string reason = e.detail.substr(0, e.detail.find(' '));
          ++d.refusals[reason.empty() ? "unknown" : reason];
          ++d.refusals_total;
        }
      }
    }
    return days;
  };
  auto days = co_await offload<std::map<std::int64_t, Day>>(services_.blocking, scan);
  if (!days) {
    services_.metrics.store_error("read_audit");
    co_return store_unavailable("the audit log");
  }
  Day total;
  json::array out;
  for (std::int64_t day = first_day; day <= last_day; ++day) {
    const auto it = days->find(day);
    const Day d = it == days->end() ? Day{} : it->second;
    json::object o;
    o["date"] = utc_date(day * kDayMs);
    o["opt_ins"] = d.opt_ins;
    o["opt_outs"] = d.opt_outs;
    o["helps"] = d.helps;
    o["opt_in_requests"] = d.opt_in_requests;
    o["possible_opt_outs"] = d.possible_opt_outs;
    json::object refusals;
    for (const auto& [reason, n] : d.refusals) {
      refusals[reason] = n;
      total.refusals[reason] += n;
    }
    o["refusals"] = std::move(refusals);
    o["refusals_total"] = d.refusals_total;
    out.push_back(std::move(o));
    total.opt_ins += d.opt_ins;
    total.opt_outs += d.opt_outs;
    total.helps += d.helps;
    total.opt_in_requests += d.opt_in_requests;
    total.possible_opt_outs += d.possible_opt_outs;
    total.refusals_total += d.refusals_total;
  }
  json::object totals;
  totals["opt_ins"] = total.opt_ins;
  totals["opt_outs"] = total.opt_outs;
  totals["helps"] = total.helps;
  totals["opt_in_requests"] = total.opt_in_requests;
  totals["possible_opt_outs"] = total.possible_opt_outs;
  json::object refusals;
  for (const auto& [reason, n] : total.refusals) refusals[reason] = n;
  totals["refusals"] = std::move(refusals);
  totals["refusals_total"] = total.refusals_total;
  json::object o;
  if (filter.program.empty()) {
    o["program"] = nullptr;
  } else {
    o["program"] = filter.program;
  }
  o["since"] = format_rfc3339(from_unix_ms(filter.since_ms));
  o["until"] = format_rfc3339(from_unix_ms(filter.until_ms));
  o["time_zone"] = "UTC";
  o["days"] = std::move(out);
  o["totals"] = std::move(totals);
  co_return json_response(200, o);
}

// ---- sessions -----------------------------------------------------------------------------------

HttpResponse AdminApi::audit_head() {
  auto head = services_.store.audit_head();
  if (!head) {
    services_.metrics.store_error("read_audit");
    return store_unavailable("the audit head");
  }
  json::object o;
  o["seq"] = head->seq;
  o["hash"] = head->hash;
  return json_response(200, o);
}

asio::awaitable<HttpResponse> AdminApi::cluster_status() {
  if (cluster_ == nullptr) {
    co_return HttpResponse::error(404, "cluster_off",
                                  "this node runs alone: its config has no cluster section");
  }
  // PostgreSQL is asked on the blocking pool, never on a network thread.
  std::function<Result<cluster::ClusterStatus>()> ask = [this] { return cluster_->status(); };
  const auto status = co_await offload<Result<cluster::ClusterStatus>>(services_.blocking, ask);
  json::object o;
  o["node_id"] = services_.runtime.load()->config->node_id;
  json::array nodes;
  json::object pg;
  pg["state"] = cluster_->up() ? "up" : "down";
  if (status && *status) {
    pg["primary"] = (*status)->primary;
    for (const auto& n : (*status)->nodes) {
      json::object j;
      j["node_id"] = n.node_id;
      j["state"] = n.state;
      if (n.lag_ms) {
        j["lag_ms"] = *n.lag_ms;
      } else {
        j["lag_ms"] = nullptr;
      }
      json::object binds;
      binds["esme"] = n.binds.esme;
      binds["upstream"] = n.binds.upstream;
      j["binds"] = binds;
      j["last_seen"] = n.last_seen;
      nodes.push_back(std::move(j));
    }
  } else {
    // PostgreSQL cannot be asked: this node alone, as it knows itself.
    pg["state"] = "down";
    pg["primary"] = nullptr;
    json::object j;
    j["node_id"] = o["node_id"];
    j["state"] = services_.store.replica_ready() ? "up" : "catching_up";
    j["lag_ms"] = cluster_->lag_ms();
    json::object binds;
    binds["esme"] = static_cast<std::int64_t>(services_.registry.all().size());
    binds["upstream"] = services_.upstreams.any_bound() ? 1 : 0;
    j["binds"] = binds;
    j["last_seen"] = nullptr;
    nodes.push_back(std::move(j));
  }
  o["nodes"] = std::move(nodes);
  o["postgres"] = std::move(pg);
  co_return json_response(200, o);
}

HttpResponse AdminApi::sessions() {
  const auto runtime = services_.runtime.load();
  json::array esmes;
  auto binds = services_.registry.all();
  std::sort(binds.begin(), binds.end(),
            [](const auto& a, const auto& b) { return a.second.id < b.second.id; });
  for (const auto& [session, info] : binds) {
    json::object o;
    o["id"] = info.id;
    o["account"] = info.account;
    o["tenant"] = info.tenant;
    o["bind_type"] = bind_type(info.state);
    o["peer"] = info.peer;
    o["since"] = time_or_null(info.since_ms);
    o["window"] = info.window;
    o["in_flight"] = session->in_flight();
    o["submitted"] = session->submitted();
    const auto* account = runtime->config->find_account(info.account);
    o["throughput_limit"] = account ? account->throughput : 0;
    esmes.push_back(std::move(o));
  }
  json::array upstreams;
  for (const auto& link : services_.upstreams.links()) {
    json::object o;
    o["upstream"] = link.upstream;
    o["index"] = link.index;
    o["role"] = session::to_string(link.role);
    o["state"] = link.bound ? "bound" : "down";
    o["since"] = time_or_null(link.since_ms);
    o["reconnects"] = link.reconnects;
    o["in_flight"] = link.in_flight;
    o["queued"] = link.queued;
    upstreams.push_back(std::move(o));
  }
  json::object o;
  o["esme"] = std::move(esmes);
  o["upstreams"] = std::move(upstreams);
  return json_response(200, o);
}

}  // namespace smppguard::admin
