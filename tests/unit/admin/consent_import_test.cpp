// ConsentImporter: line splitting across arbitrary pieces, per-line errors, batching, and a
// whole import applied to a real store.
#include "admin/consent_import.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "unit/store/store_fixture.hpp"

using namespace smppguard;
using namespace smppguard::admin;

namespace {

config::Config make_config() {
  config::Config c;
  c.node_id = "gw1";
  config::Program p;
  p.id = "acme";
  p.tenant = "acme";
  p.numbers = {"+18005550100"};
  c.programs = {p};
  c.build_index();
  return c;
}

std::string line(std::string_view msisdn, std::string_view state = "opted_in",
                 std::string_view level = "express") {
  return R"({"program":"acme","msisdn":")" + std::string(msisdn) + R"(","state":")" +
         std::string(state) + R"(","level":")" + std::string(level) + "\"}";
}

struct Run {
  config::Config config = make_config();
  ConsentImporter importer;
  std::vector<std::shared_ptr<ImportBatch>> batches;

  explicit Run(std::size_t batch_lines = 1000, std::size_t max_errors = 10000,
               std::size_t max_line = 64u << 10)
      : importer([this](std::string_view id) { return config.find_program(id); },
                 ConsentImporter::Options{
                     {store::ConsentSource::import, false}, batch_lines, max_line, max_errors}) {}

  void take() {
    while (auto b = importer.next_batch()) batches.push_back(std::move(b));
  }
  std::size_t items() const {
    std::size_t n = 0;
    for (const auto& b : batches) n += b->items.size();
    return n;
  }
};

}  // namespace

TEST_SUITE("consent_import") {
  TEST_CASE("lines split anywhere, CRLF, blank lines, a last line without newline") {
    const std::string text = line("+15551230001") + "\r\n\n   \n" + line("15551230002") + "\n" +
                             line("%2B1") + "\n" + line("+15551230003");
    for (std::size_t piece : {1u, 2u, 7u, 64u, 100000u}) {
      Run run;
      for (std::size_t i = 0; i < text.size(); i += piece) {
        run.importer.feed(std::string_view(text).substr(i, piece));
        run.take();
      }
      run.importer.finish();
      run.take();
      CHECK_MESSAGE(run.items() == 3, "piece " << piece);
      CHECK(run.importer.summary().lines == 4);
      CHECK(run.importer.summary().rejected == 1);
      const auto errors = run.importer.errors();
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].line == 5);  // physical line numbers, blank lines counted
      CHECK(errors[0].error.code == "invalid_msisdn");
      REQUIRE(run.batches.size() == 1);
      CHECK(run.batches[0]->items[0].request.msisdn == "+15551230001");
      CHECK(run.batches[0]->items[1].request.msisdn == "+15551230002");
      CHECK(run.batches[0]->items[2].line == 6);
    }
  }

  TEST_CASE("every kind of bad line is rejected with its number; the rest go on") {
    Run run;
    const std::string text =
        std::string("not json\n") +  // 1
        R"({"program":"nope","msisdn":"+15551230001","state":"opted_in","level":"express"})" +
        "\n" +                                         // 2
        line("+15551230001", "opted_in", "") + "\n" +  // 3
        R"({"program":"acme","msisdn":"+15551230001","state":"opted_in","level":"express","confirm":true})" +
        "\n" +  // 4
        R"({"program":"acme","msisdn":"+15551230001","state":"opted_in","level":"express","x":1})" +
        "\n" +                                               // 5
        line("+15551230001", "opted_in", "express") + "\n";  // 6
    run.importer.feed(text);
    run.importer.finish();
    run.take();
    CHECK(run.items() == 1);
    const auto errors = run.importer.errors();
    REQUIRE(errors.size() == 5);
    CHECK(errors[0].error.code == "invalid_json");
    CHECK(errors[1].error.code == "unknown_program");
    CHECK(errors[1].error.status == 404);
    CHECK(errors[2].error.code == "missing_level");
    CHECK(errors[3].error.code == "invalid_confirm");
    CHECK(errors[4].error.code == "unknown_field");
    // The source defaults to import.
    CHECK(run.batches[0]->items[0].request.source == store::ConsentSource::import);
  }

  TEST_CASE("an over-long line is rejected whole, even when split, and the next line is read") {
    Run run(1000, 10000, 100);
    const std::string longline =
        R"({"program":"acme","evidence":{"x":")" + std::string(200, 'x') + "\"}}";
    const std::string text = longline + "\n" + line("+15551230001") + "\n";
    for (std::size_t i = 0; i < text.size(); i += 13) run.importer.feed(text.substr(i, 13));
    run.importer.finish();
    run.take();
    CHECK(run.items() == 1);
    REQUIRE(run.importer.errors().size() == 1);
    CHECK(run.importer.errors()[0].error.code == "line_too_long");
    CHECK(run.importer.errors()[0].line == 1);
  }

  TEST_CASE("batches of batch_lines; errors beyond max_errors are counted, not listed") {
    Run run(10, 3);
    std::string text;
    for (int i = 0; i < 25; ++i) text += line("+1555123" + std::to_string(1000 + i)) + "\n";
    for (int i = 0; i < 5; ++i) text += "garbage\n";
    run.importer.feed(text);
    run.take();
    CHECK(run.batches.size() == 2);  // the third is still open
    run.importer.finish();
    run.take();
    REQUIRE(run.batches.size() == 3);
    CHECK(run.batches[2]->items.size() == 5);
    CHECK(run.importer.summary().rejected == 5);
    CHECK(run.importer.summary().errors_omitted == 2);
    CHECK(run.importer.errors().size() == 3);
  }

  TEST_CASE("a whole import against a store, with the NDJSON report") {
    store::test::Fixture f;
    Run run(2);
    std::string text = line("+15551230001") + "\n" + line("+15551230002", "opted_out", "") + "\n" +
                       line("+15551230001", "opted_in", "express_written") + "\n" +
                       line("+15551230003") + "\n" + line("+15551230003") + "\n" + "oops\n";
    run.importer.feed(text);
    run.importer.finish();
    run.take();
    for (auto& b : run.batches) {
      const auto ec = f.commit(b->mutation(policy::Actor{"import:test"}, f.clock.now()));
      run.importer.completed(*b, ec);
    }
    const auto& s = run.importer.summary();
    CHECK(s.lines == 6);
    CHECK(s.created == 3);
    CHECK(s.changed == 1);
    CHECK(s.unchanged == 1);
    CHECK(s.applied == 5);
    CHECK(s.rejected == 1);
    auto r = f.store->get_consent("acme", "+15551230001");
    REQUIRE(r.has_value());
    REQUIRE(r->has_value());
    CHECK((*r)->level == store::ConsentLevel::express_written);
    CHECK((*r)->source == store::ConsentSource::import);

    const std::string report = import_report(run.importer);
    const auto nl = report.find('\n');
    const auto first = boost::json::parse(report.substr(0, nl)).as_object();
    CHECK(first.at("line").to_number<int>() == 6);
    CHECK(first.at("error").as_object().at("code").as_string() == "invalid_json");
    const auto last = boost::json::parse(report.substr(nl + 1)).as_object();
    CHECK(last.at("summary").as_object().at("applied").to_number<int>() == 5);

    // A batch the store refused fails every line of it.
    Run again(10);
    again.importer.feed(line("+15551230009") + "\n");
    again.importer.finish();
    again.take();
    again.importer.completed(*again.batches[0], make_error_code(store::StoreErrc::io_error));
    CHECK(again.importer.summary().rejected == 1);
    CHECK(again.importer.errors()[0].error.code == "store_unavailable");
  }

}  // TEST_SUITE
