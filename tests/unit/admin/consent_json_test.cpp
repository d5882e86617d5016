// The JSON of the consent API: strict parsing of bodies and import lines, and the answers' shapes.
#include "admin/consent_json.hpp"

#include <doctest/doctest.h>

using namespace smppguard;
using namespace smppguard::admin;

TEST_SUITE("consent_json") {
  TEST_CASE("a PUT body fills the request") {
    policy::ConsentRequest r;
    const auto e = parse_consent_body(
        R"({"state":"opted_in","level":"express","source":"web_form",)"
        R"("evidence":{"form_url":"https://x.example/f","ip":"192.0.2.1"},"confirm":true})",
        ConsentBody::put, r);
    REQUIRE_FALSE(e.has_value());
    CHECK(r.state == "opted_in");
    CHECK(r.level == "express");
    CHECK(r.source == "web_form");
    CHECK(r.confirm);
    CHECK(r.evidence.size() == 2);
    CHECK(r.evidence.at("ip") == "192.0.2.1");
  }

  TEST_CASE("bad bodies are 400 with a code naming the problem") {
    auto code = [](std::string_view text, ConsentBody kind = ConsentBody::put) {
      policy::ConsentRequest r;
      const auto e = parse_consent_body(text, kind, r);
      REQUIRE(e.has_value());
      CHECK(e->status == 400);
      return e->code;
    };
    CHECK(code("") == "invalid_json");
    CHECK(code("   \n") == "invalid_json");
    CHECK(code("{") == "invalid_json");
    CHECK(code("[1,2]") == "invalid_json");
    CHECK(code("\"opted_in\"") == "invalid_json");
    CHECK(code(R"({"state":"opted_in"} trailing)") == "invalid_json");
    CHECK(code(R"({"state":"opted_in","colour":"red"})") == "unknown_field");
    CHECK(code(R"({"program":"p"})") == "unknown_field");  // only import lines name the pair
    CHECK(code(R"({"state":1})") == "invalid_state");
    CHECK(code(R"({"level":null})") == "invalid_level");
    CHECK(code(R"({"confirm":"yes"})") == "invalid_confirm");
    CHECK(code(R"({"confirm":1})") == "invalid_confirm");
    CHECK(code(R"({"evidence":"x"})") == "invalid_evidence");
    CHECK(code(R"({"evidence":{"n":42}})") == "invalid_evidence");
    CHECK(code(R"({"evidence":{"n":{"deep":"x"}}})") == "invalid_evidence");
    CHECK(code(R"({"evidence":{"a":{"b":{"c":{"d":{"e":1}}}}}})") == "invalid_json");  // depth
    CHECK(code("{\"state\":\"\xff\"}") == "invalid_json");                             // not UTF-8
    CHECK(code(R"({"state":"opted_out"})", ConsentBody::del) == "unknown_field");
    CHECK(code(R"({"confirm":true})", ConsentBody::del) == "unknown_field");
    // A repeated key would silently mean its last value (opted_in here): refused, at any depth.
    CHECK(code(R"({"state":"opted_out","state":"opted_in"})") == "invalid_json");
    CHECK(code(R"({"state":"opted_in","evidence":{"ip":"a","ip":"b"}})") == "invalid_json");
    CHECK(code(R"({"source":"a","source":"b"})", ConsentBody::del) == "invalid_json");
    // The same key in two different objects is fine.
    policy::ConsentRequest ok;
    CHECK_FALSE(parse_consent_body(R"({"state":"opted_in","level":"express","evidence":)"
                                   R"({"state":"x"}})",
                                   ConsentBody::put, ok)
                    .has_value());
  }

  TEST_CASE("DELETE takes an empty body or source and evidence; it is always opted_out") {
    policy::ConsentRequest r;
    CHECK_FALSE(parse_consent_body("", ConsentBody::del, r).has_value());
    CHECK(r.state == "opted_out");
    policy::ConsentRequest v;
    CHECK_FALSE(
        parse_consent_body(R"({"source":"verbal","evidence":{"agent":"7"}})", ConsentBody::del, v)
            .has_value());
    CHECK(v.state == "opted_out");
    CHECK(v.source == "verbal");
  }

  TEST_CASE("import lines carry the pair") {
    policy::ConsentRequest r;
    CHECK_FALSE(
        parse_consent_body(
            R"({"program":"p","msisdn":"+15551234567","state":"opted_in","level":"express"})",
            ConsentBody::import_line, r)
            .has_value());
    CHECK(r.program == "p");
    CHECK(r.msisdn == "+15551234567");
  }

  TEST_CASE("answers: records with RFC 3339 times, audit entries with their hashes") {
    store::ConsentRecord rec;
    rec.state = store::ConsentState::opted_in;
    rec.level = store::ConsentLevel::express_written;
    rec.source = store::ConsentSource::paper;
    rec.evidence = {{"scan", "s3://x"}};
    rec.created_at_ms = 1'700'000'000'123;
    rec.updated_at_ms = 1'700'000'000'123;
    const auto o = consent_json("acme", "+15551234567", rec);
    CHECK(o.at("state").as_string() == "opted_in");
    CHECK(o.at("level").as_string() == "express_written");
    CHECK(o.at("source").as_string() == "paper");
    CHECK(o.at("created_at").as_string() == "2023-11-14T22:13:20.123Z");
    CHECK(o.at("last_mo_at").is_null());
    CHECK(o.at("handset_confirmed").as_bool() == false);
    CHECK(o.at("evidence").as_object().at("scan").as_string() == "s3://x");

    store::AuditEntry e;
    e.seq = 7;
    e.time_ms = 1'700'000'000'000;
    e.event = "opted_out";
    e.prev_hash = std::string(64, 'a');
    e.hash = std::string(64, 'b');
    const auto a = audit_json(e);
    for (const char* key :
         {"seq", "time", "program", "msisdn", "event", "old_state", "new_state", "source", "actor",
          "evidence", "mo_text", "keyword", "rule", "prev_hash", "hash"}) {
      CHECK_MESSAGE(a.contains(key), key);
    }
    CHECK(a.at("seq").to_number<int>() == 7);
    CHECK(a.at("time").as_string() == "2023-11-14T22:13:20.000Z");
  }

  TEST_CASE("policy errors map to HTTP statuses") {
    using K = policy::ConsentApiError::Kind;
    CHECK(to_api_error({K::invalid, "x", "y"}).status == 400);
    CHECK(to_api_error({K::unknown_program, "x", "y"}).status == 404);
    CHECK(to_api_error({K::conflict, "x", "y"}).status == 409);
  }

}  // TEST_SUITE
