// POST /v1/consents/import (NDJSON, streamed, per-line errors, a summary), `smppguard ctl import`
// and the offline `smppguard consent import`, through the real daemon and store.
#include <doctest/doctest.h>

#include <fstream>

#include "e2e_admin_support.hpp"

namespace {

using namespace e2e;
using namespace e2e::admin;

std::uint64_t summary(const Reply& r, const char* key) {
  const auto lines = r.lines();
  REQUIRE(!lines.empty());
  return lines.back().at("summary").as_object().at(key).to_number<std::uint64_t>();
}

long vm_hwm_kb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

}  // namespace

TEST_SUITE("admin_import") {
  TEST_CASE("mixed lines: each applied or rejected with its number; a summary at the end") {
    auto hp = admin_harness();
    auto& h = *hp;
    // The subscriber of line 8 texted STOP first: the import may not opt them back in.
    json::object stop;
    stop["from"] = "15552220008";
    stop["to"] = cfg::kAcmeNumber;
    stop["text"] = "STOP";
    REQUIRE(h.sim().post_mo(stop).status == 200);
    REQUIRE(
        eventually([&] { return get(h, "/v1/consents/acme-alerts/15552220008").status == 200; }));

    const std::string body =
        import_line("acme-alerts", "+15552220001") + "\n" +                    // 1 ok
        import_line("acme-alerts", "15552220002", "opted_out", "") + "\r\n" +  // 2 ok, CRLF
        "\n" +                                                                 // 3 blank
        "{not json\n" +                                                        // 4
        import_line("nope", "+15552220003") + "\n" +                           // 5
        import_line("acme-alerts", "+0123") + "\n" +                           // 6
        R"({"program":"acme-alerts","msisdn":"+15552220004","state":"opted_in","level":"express","confirm":true})" +
        "\n" +                                                                              // 7
        import_line("acme-alerts", "+15552220008") + "\n" +                                 // 8 409
        import_line("globex-news", "+15552220001", "opted_in", "express_written") + "\n" +  // 9 ok
        import_line("acme-alerts", "+15552220001", "opted_in", "express_written");  // 10 ok, no \n
    Request r;
    r.method = "POST";
    r.path = "/v1/consents/import";
    r.body = body;
    const auto reply = call(h.http_port(), r);
    REQUIRE_MESSAGE(reply.status == 200, reply.body);
    CHECK(reply.header("content-type") == "application/x-ndjson");
    const auto lines = reply.lines();
    REQUIRE(lines.size() == 6);
    auto err = [&](std::size_t i) {
      return std::make_pair(lines[i].at("line").to_number<int>(),
                            std::string(lines[i].at("error").as_object().at("code").as_string()));
    };
    CHECK(err(0) == std::make_pair(4, std::string("invalid_json")));
    CHECK(err(1) == std::make_pair(5, std::string("unknown_program")));
    CHECK(err(2) == std::make_pair(6, std::string("invalid_msisdn")));
    CHECK(err(3) == std::make_pair(7, std::string("invalid_confirm")));
    CHECK(err(4) == std::make_pair(8, std::string("opted_out_by_subscriber")));
    const auto& s = lines[5].at("summary").as_object();
    CHECK(s.at("lines").to_number<int>() == 9);
    CHECK(s.at("applied").to_number<int>() == 4);
    CHECK(s.at("created").to_number<int>() == 3);
    CHECK(s.at("changed").to_number<int>() == 1);
    CHECK(s.at("rejected").to_number<int>() == 5);

    const auto rec = get(h, "/v1/consents/acme-alerts/%2B15552220001").object();
    CHECK(rec.at("level").as_string() == "express_written");
    CHECK(rec.at("source").as_string() == "import");
    CHECK(rec.at("history").as_array().back().as_object().at("actor").as_string() == "api:crm");
    CHECK(get(h, "/v1/consents/acme-alerts/%2B15552220002").object().at("state").as_string() ==
          "opted_out");
    CHECK(get(h, "/v1/consents/acme-alerts/%2B15552220008").object().at("state").as_string() ==
          "opted_out");
    CHECK(h.daemon_log().find("event=consent_import actor=api:crm lines=9 applied=4") !=
          std::string::npos);

    // An empty body is a summary of nothing.
    Request empty;
    empty.method = "POST";
    empty.path = "/v1/consents/import";
    const auto none = call(h.http_port(), empty);
    CHECK(none.status == 200);
    CHECK(summary(none, "lines") == 0);
    // Auth before anything: the body is not read.
    Request anon = r;
    anon.token = "";
    CHECK(call(h.http_port(), anon).status == 401);
    CHECK(get(h, "/healthz", "").status == 200);
  }

  TEST_CASE("a large chunked upload is streamed in batches; memory does not follow the body") {
    auto hp = admin_harness();
    auto& h = *hp;
    const std::uint64_t total = 60000;
    const long before = vm_hwm_kb(h.daemon().process().pid());
    Request r;
    r.method = "POST";
    r.path = "/v1/consents/import";
    r.chunked = true;
    r.timeout = 600s;
    std::uint64_t next = 0;
    std::uint64_t bytes = 0;
    r.producer = [&](std::string& out) {
      for (int i = 0; i < 500 && next < total; ++i, ++next) {
        out += import_line("acme-alerts", number(next), next % 10 == 0 ? "opted_out" : "opted_in",
                           next % 10 == 0 ? "" : "express");
        out += '\n';
      }
      bytes += out.size();
      return next < total;
    };
    const auto t0 = std::chrono::steady_clock::now();
    const auto reply = call(h.http_port(), r);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    REQUIRE_MESSAGE(reply.status == 200, reply.error << reply.body.substr(0, 500));
    CHECK(summary(reply, "applied") == total);
    CHECK(summary(reply, "rejected") == 0);
    const long after = vm_hwm_kb(h.daemon().process().pid());
    MESSAGE("imported " << total << " lines (" << bytes / 1024 << " KiB) in " << seconds
                        << " s: " << static_cast<long>(static_cast<double>(total) / seconds)
                        << " lines/s; daemon VmHWM " << before / 1024 << " -> " << after / 1024
                        << " MiB");
    // Spot checks, and the export sees them all.
    CHECK(get(h, "/v1/consents/acme-alerts/" + number(12345)).object().at("state").as_string() ==
          "opted_in");
    CHECK(get(h, "/v1/consents/acme-alerts/" + number(20)).object().at("state").as_string() ==
          "opted_out");
    CHECK(h.metric("smppguard_consent_changes_total",
                   {{"program", "acme-alerts"}, {"to", "opted_in"}, {"source", "import"}}) ==
          static_cast<double>(total - total / 10));
  }

  TEST_CASE("ctl import streams a file; the offline import applies the same lines") {
    auto hp = admin_harness();
    auto& h = *hp;
    const auto file = h.dir().path() / "consents.ndjson";
    {
      std::ofstream out(file);
      for (int i = 0; i < 2500; ++i) out << import_line("acme-alerts", number(i)) << "\n";
      out << "bad line\n";
    }
    const std::map<std::string, std::string> env = {
        {"SMPPGUARD_URL", "http://127.0.0.1:" + std::to_string(h.http_port())},
        {"SMPPGUARD_TOKEN", kToken}};
    const auto ctl = run_smppguard({"ctl", "import", file.string()}, env);
    CHECK_MESSAGE(ctl.status == 1, ctl.out);  // one line rejected
    CHECK(ctl.out.find("line 2501: invalid_json") != std::string::npos);
    CHECK(ctl.out.find("lines 2501  applied 2500 (created 2500") != std::string::npos);
    const auto json_out = run_smppguard({"ctl", "--json", "import", file.string()}, env, false);
    CHECK(json_out.out.find("\"unchanged\":2500") != std::string::npos);

    // Offline: refused while the daemon holds the store, then applied once it is stopped.
    const auto store = h.config().store_path;
    const auto file2 = h.dir().path() / "more.ndjson";
    {
      std::ofstream out(file2);
      for (int i = 5000; i < 8000; ++i) {
        out << import_line("acme-alerts", number(i), "opted_in", "express_written") << "\n";
      }
      out << import_line("no-such-program", number(1)) << "\n";
    }
    const auto locked = run_smppguard({"consent", "import", "--store", store, "--file",
                                       file2.string(), "--config", h.config_path().string()});
    CHECK_MESSAGE(locked.status == 2, locked.out);
    CHECK(locked.out.find("stop the daemon first") != std::string::npos);

    h.daemon().process().signal(SIGTERM);
    REQUIRE(h.daemon().process().wait(20s).has_value());
    const auto offline =
        run_smppguard({"consent", "import", "--store", store, "--file", file2.string(), "--config",
                       h.config_path().string(), "--actor", "migration"});
    CHECK_MESSAGE(offline.status == 1, offline.out);
    CHECK(offline.out.find("\"line\":3001") != std::string::npos);
    CHECK(offline.out.find("unknown_program") != std::string::npos);
    CHECK(offline.out.find("\"applied\":3000") != std::string::npos);
    CHECK(offline.out.find("lines/s") != std::string::npos);
    // Without --config any well-formed program id is taken (the bench builds stores this way).
    const auto loose = run_smppguard(
        {"consent", "import", "--store", store, "--file", file2.string(), "--batch", "100"});
    CHECK_MESSAGE(loose.status == 0, loose.out);
    CHECK(loose.out.find("\"unchanged\":3000") != std::string::npos);
    CHECK(run_smppguard({"consent", "import", "--store", store}).status == 2);
    CHECK(run_smppguard({"consent", "import", "--file", file2.string(), "--bogus", "1"}).status ==
          2);

    write_admin_config(h);
    h.start_daemon(true);
    const auto rec = get(h, "/v1/consents/acme-alerts/" + number(6000)).object();
    CHECK(rec.at("level").as_string() == "express_written");
    CHECK(rec.at("history").as_array().back().as_object().at("actor").as_string() ==
          "import:migration");
    const auto verify = run_smppguard({"audit", "verify", "--store", store});
    CHECK_MESSAGE(verify.status == 0, verify.out);
  }

}  // TEST_SUITE
