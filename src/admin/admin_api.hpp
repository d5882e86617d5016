#pragma once
// AdminApi: every route of the daemon's HTTP port (SPEC 6 and 8, docs/admin-api.md).
//   GET /healthz, /readyz, /metrics            no token
//   GET|PUT|DELETE /v1/consents/{program}/{msisdn}
//   POST /v1/consents/import                   NDJSON, streamed
//   GET /v1/consents?program=&state=&cursor=&limit=
//   GET /v1/audit?msisdn=&program=&since=&until=&limit=&after_seq=   NDJSON, streamed
//   GET /v1/sessions
//   GET /v1/cluster                            cluster mode (404 cluster_off without it)
//   GET /v1/reports/summary?program=&since=&until=
// Everything under /v1 needs `Authorization: Bearer <token>` (401 without, 403 unknown); the
// token's name is the audit actor ("api:<name>"). Errors are {"error":{"code","message"}}.
//
// Flow: HttpServer asks body_policy() how to read a body (the import is streamed, other bodies
// are read whole up to 256 KiB) -> handle() routes -> point reads of the store run on the
// network thread (they are cheap); scans (history, export, audit, reports) run on the blocking
// pool, a page at a time; consent changes are one synced store mutation each (the import: one per
// 1000 lines, up to 4 in flight) -> follow-ups (the opt-in request, receipts of failed held MTs,
// released held MTs) are handed to ConsentServices and run after the answer.
// Thread-safety: handle() may run on any network thread at once; the object holds only
// references to the daemon's long-lived services.
#include <boost/asio/awaitable.hpp>
#include <memory>

#include "admin/http_server.hpp"
#include "cluster/link.hpp"
#include "policy/consent_api.hpp"
#include "session/consent_chain.hpp"
#include "session/services.hpp"

namespace smppguard::admin {

class AdminApi {
 public:
  /// `cluster` is null without a cluster section.
  AdminApi(session::Services& services, session::ConsentServices& consent,
           cluster::Link* cluster = nullptr);

  /// How HttpServer reads a request's body: streamed for POST /v1/consents/import.
  BodyMode body_policy(const HttpRequest& request) const;
  /// Answers one request.
  boost::asio::awaitable<HttpResponse> handle(HttpRequest& request);

  /// Largest whole body accepted (PUT, DELETE): 256 KiB.
  static constexpr std::uint64_t kMaxBody = 256u << 10;

 private:
  struct Route;
  boost::asio::awaitable<HttpResponse> v1(HttpRequest& request, const config::AdminToken& token);
  boost::asio::awaitable<HttpResponse> get_consent(const HttpRequest& request,
                                                   const config::Program& program,
                                                   const std::string& msisdn);
  boost::asio::awaitable<HttpResponse> change_consent(const HttpRequest& request,
                                                      const config::AdminToken& token,
                                                      const std::string& program,
                                                      const std::string& msisdn);
  boost::asio::awaitable<HttpResponse> import(HttpRequest& request,
                                              const config::AdminToken& token);
  boost::asio::awaitable<HttpResponse> export_consents(const HttpRequest& request);
  boost::asio::awaitable<HttpResponse> audit(const HttpRequest& request);
  boost::asio::awaitable<HttpResponse> report(const HttpRequest& request);
  HttpResponse sessions();
  boost::asio::awaitable<HttpResponse> cluster_status();
  HttpResponse audit_head();
  HttpResponse readyz();
  HttpResponse metrics();

  /// Inside the change's mutation: stages what an applied change sends (its opt-in request, the
  /// held MTs it releases, the receipts of those it fails), so that one synced commit holds both
  /// and an answered change cannot lose them.
  void stage_follow_ups(store::Batch& batch, const config::Config& config,
                        const policy::ValidConsent& request, const policy::ConsentOutcome& outcome,
                        session::ConsentServices::Staged& staged);
  /// After the commit: the metrics and the log line of one applied change.
  void report_change(const policy::ConsentOutcome& outcome, const std::string& actor,
                     bool log_each);

  session::Services& services_;
  session::ConsentServices& consent_;
  cluster::Link* cluster_;
};

}  // namespace smppguard::admin
