// The HTTP surface (SPEC 6 and 8 "HTTP"): health and metrics without a token, Bearer auth on /v1
// (401 without, 403 unknown), 404/405 with the JSON error shape, size limits, malformed requests
// that never take the daemon down.
#include <doctest/doctest.h>

#include "e2e_admin_support.hpp"

namespace {

using namespace e2e;
using namespace e2e::admin;

void check_error(const Reply& r, int status, const std::string& code) {
  CHECK_MESSAGE(r.status == status, r.status << " " << r.error << " " << r.body);
  CHECK_MESSAGE(r.code() == code, r.body);
  CHECK(r.header("content-type").find("application/json") == 0);
  const auto o = r.object();
  CHECK(o.at("error").as_object().at("message").is_string());
}

}  // namespace

TEST_SUITE("admin_http") {
  TEST_CASE("healthz, readyz and metrics need no token; /v1 needs one") {
    auto hp = admin_harness();
    auto& h = *hp;
    CHECK(get(h, "/healthz", "").status == 200);
    CHECK(get(h, "/readyz", "").object().at("status").as_string() == "ready");
    const auto m = get(h, "/metrics", "");
    CHECK(m.status == 200);
    CHECK(m.header("content-type").find("text/plain; version=0.0.4") == 0);
    CHECK(m.body.find("smppguard_upstream_up{upstream=\"sim\"} 1") != std::string::npos);

    const auto none = get(h, "/v1/sessions", "");
    check_error(none, 401, "unauthorized");
    CHECK(none.header("www-authenticate").find("Bearer") == 0);
    Request basic;
    basic.path = "/v1/sessions";
    basic.token = "";
    basic.headers = {{"Authorization", "Basic dXNlcjpwYXNz"}};
    check_error(call(h.http_port(), basic), 401, "unauthorized");
    check_error(get(h, "/v1/sessions", "not-a-token"), 403, "forbidden");
    check_error(get(h, "/v1/sessions", std::string(kToken) + "x"), 403, "forbidden");
    check_error(get(h, "/v1/sessions", std::string(kToken).substr(1)), 403, "forbidden");
    // Unknown endpoints under /v1 also need the token first.
    check_error(get(h, "/v1/nope", ""), 401, "unauthorized");
    CHECK(get(h, "/v1/sessions").status == 200);
    CHECK(get(h, "/v1/sessions", kOpsToken).status == 200);
    // "bearer" is case-insensitive.
    Request lower;
    lower.path = "/v1/sessions";
    lower.token = "";
    lower.headers = {{"Authorization", std::string("bearer ") + kToken}};
    CHECK(call(h.http_port(), lower).status == 200);
    CHECK(h.daemon_log().find("event=admin_token_refused") != std::string::npos);
  }

  TEST_CASE("404, 405 and bad query parameters answer the JSON error shape") {
    auto hp = admin_harness();
    auto& h = *hp;
    check_error(get(h, "/nope", ""), 404, "not_found");
    check_error(get(h, "/v1/nope"), 404, "not_found");
    check_error(get(h, "/v1/consents/acme-alerts"), 404, "not_found");
    check_error(get(h, "/v1/consents/acme-alerts/%2B15551234567/extra"), 404, "not_found");
    const auto post_health = send(h, "POST", "/healthz", "{}");
    check_error(post_health, 405, "method_not_allowed");
    CHECK(post_health.header("allow") == "GET");
    const auto del_sessions = send(h, "DELETE", "/v1/sessions", "");
    check_error(del_sessions, 405, "method_not_allowed");
    check_error(send(h, "POST", "/v1/consents/acme-alerts/%2B15551234567", "{}"), 405,
                "method_not_allowed");
    check_error(get(h, "/v1/consents/import"), 405, "method_not_allowed");
    check_error(get(h, "/v1/sessions?verbose=1"), 400, "unknown_parameter");
    check_error(get(h, "/v1/audit?limit=abc"), 400, "invalid_parameter");
    check_error(get(h, "/v1/audit?limit=-1"), 400, "invalid_parameter");
    check_error(get(h, "/v1/audit?limit=0"), 400, "invalid_parameter");
    check_error(get(h, "/v1/audit?limit=99999999999999999999999"), 400, "invalid_parameter");
    check_error(get(h, "/v1/audit?since=yesterday"), 400, "invalid_parameter");
    check_error(get(h, "/v1/audit?limit=1&limit=2"), 400, "invalid_parameter");
    check_error(get(h, "/v1/consents?limit=10001"), 400, "invalid_parameter");
  }

  TEST_CASE("oversized headers and bodies are 413; garbage is 400; the daemon stays up") {
    auto hp = admin_harness();
    auto& h = *hp;
    // A PUT body over 256 KiB, announced by Content-Length.
    json::object big;
    big["state"] = "opted_in";
    big["level"] = "express";
    json::object ev;
    ev["blob"] = std::string(300 * 1024, 'x');
    big["evidence"] = ev;
    check_error(put_consent(h, "acme-alerts", "%2B15551234567", big), 413, "too_large");
    // The same, chunked (no Content-Length): cut while reading.
    Request chunked;
    chunked.method = "PUT";
    chunked.path = "/v1/consents/acme-alerts/%2B15551234567";
    chunked.chunked = true;
    int pieces = 0;
    chunked.producer = [&](std::string& out) {
      out = pieces == 0 ? "{\"state\":\"opted_in\",\"evidence\":{\"x\":\""
                        : std::string(64 * 1024, 'y');
      return ++pieces < 10;
    };
    const auto c = call(h.http_port(), chunked);
    CHECK(c.status == 413);
    // Headers over 16 KiB.
    Request fat;
    fat.path = "/v1/sessions";
    fat.headers = {{"X-Fat", std::string(20 * 1024, 'z')}};
    CHECK(call(h.http_port(), fat).status == 413);
    // Not HTTP at all, a bad target, a lying Content-Length.
    for (const std::string& raw :
         {std::string("HELLO\r\n\r\n"), std::string("GET nothttp HTTP/1.1\r\nHost: x\r\n\r\n"),
          std::string("PUT /v1/consents/a/b HTTP/1.1\r\nContent-Length: zz\r\n\r\n"),
          std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)}) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(h.http_port());
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
      detail::send_all(fd, raw);
      ::shutdown(fd, SHUT_WR);
      char buf[4096];
      std::string in;
      pollfd p{fd, POLLIN, 0};
      while (::poll(&p, 1, 5000) > 0) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
      }
      ::close(fd);
      CHECK_MESSAGE((in.empty() || in.find(" 400 ") != std::string::npos), in);
    }
    CHECK(get(h, "/healthz", "").status == 200);
    CHECK(h.daemon().process().running());
  }

  TEST_CASE("a repeated JSON key or a second Authorization header is 400, never a guess") {
    auto hp = admin_harness();
    auto& h = *hp;
    const std::string path = "/v1/consents/acme-alerts/%2B15551234567";
    const auto dup = send(h, "PUT", path,
                          R"({"state":"opted_out","state":"opted_in","level":"express",)"
                          R"("source":"web_form"})");
    check_error(dup, 400, "invalid_json");
    CHECK(dup.body.find("state") != std::string::npos);
    CHECK(get(h, path).status == 404);  // nothing was written
    // One bad token and one good: which one counts would be a guess.
    Request two;
    two.path = "/v1/sessions";
    two.token = "";
    two.headers = {{"Authorization", "Bearer wrong-token"},
                   {"Authorization", std::string("Bearer ") + kToken}};
    const auto r = call(h.http_port(), two);
    CHECK(r.status == 400);
    CHECK(r.body.find("authorization") != std::string::npos);
    two.headers.pop_back();
    CHECK(call(h.http_port(), two).status == 403);
  }

  TEST_CASE("a request head that stalls is closed after the 30 s read timeout") {
    auto hp = admin_harness();
    auto& h = *hp;
    std::string error;
    const int fd = connect_loopback(h.http_port(), error);
    REQUIRE(fd >= 0);
    detail::send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n");  // no end of head
    const auto start = std::chrono::steady_clock::now();
    bool closed = false;
    while (!closed && std::chrono::steady_clock::now() - start < 70s) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 500) <= 0) continue;
      char buf[512];
      closed = ::recv(fd, buf, sizeof buf, 0) <= 0;
    }
    ::close(fd);
    const auto waited =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
    CHECK(closed);
    // docs/admin-api.md: read timeouts 30 s (the 60 s idle timeout is for a connection between
    // requests, not for one that has started sending).
    CHECK_MESSAGE(waited < 45s, "closed after " << waited.count() << " s");
    CHECK(get(h, "/healthz", "").status == 200);
  }

  TEST_CASE("keep-alive: several requests on one connection") {
    auto hp = admin_harness();
    auto& h = *hp;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(h.http_port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    const std::string one = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::string two =
        std::string("GET /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ") + kToken +
        "\r\n\r\n";
    detail::send_all(fd, one + two);
    std::string in;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline &&
           in.find("\"upstreams\"") == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[4096];
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    CHECK(in.find("HTTP/1.1 200") == 0);
    CHECK(in.find("HTTP/1.1 200", 10) != std::string::npos);
    CHECK(in.find("\"upstreams\"") != std::string::npos);
  }

  TEST_CASE("HTTP/1.0: a streamed answer (audit) is not chunked; the close ends it") {
    auto hp = admin_harness();
    auto& h = *hp;
    json::object body;
    body["state"] = "opted_in";
    body["level"] = "express";
    REQUIRE(put_consent(h, "acme-alerts", "%2B15551234567", body).status == 201);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(h.http_port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    detail::send_all(
        fd, std::string("GET /v1/audit HTTP/1.0\r\nAuthorization: Bearer ") + kToken + "\r\n\r\n");
    std::string in;
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, 10000) > 0) {
      char buf[4096];
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    const auto split = in.find("\r\n\r\n");
    REQUIRE_MESSAGE(split != std::string::npos, in);
    const std::string head = detail::lower(in.substr(0, split));
    CHECK(head.find("http/1.0 200") == 0);
    CHECK_MESSAGE(head.find("transfer-encoding") == std::string::npos, head);
    const std::string rest = in.substr(split + 4);
    REQUIRE_MESSAGE(rest.starts_with("{\"seq\":1,"), rest);
    CHECK(json::parse(rest.substr(0, rest.find('\n'))).at("event").as_string() == "opted_in");
  }

}  // TEST_SUITE
