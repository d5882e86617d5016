#pragma once
// ConsentImporter: the NDJSON consent import shared by POST /v1/consents/import and the offline
// `smppguard consent import`. One line = one JSON object with program, msisdn, state, level,
// source, evidence (the PUT body plus the pair); each line is applied with
// policy::apply_consent_request or rejected with its line number and reason.
//
// Flow: feed() the bytes as they arrive (any split; lines end with \n, a \r before it is
// dropped, blank lines are skipped, a line longer than max_line is rejected whole) -> each line is
// parsed and validated at once; valid ones are grouped into ImportBatches of batch_lines ->
// next_batch() hands a full batch (after finish(): the last one) to the caller, who commits
// batch->mutation() (one store mutation applies the whole batch: one WriteBatch, group-committed)
// -> completed() records each line's outcome (or the store error for the whole batch).
// Memory is bounded by the batches in flight and max_errors, never by the size of the input.
// Not thread-safe: one caller; a batch's mutation runs on the store's writer thread and must
// complete before completed() is called with it.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "admin/consent_json.hpp"
#include "policy/consent_api.hpp"
#include "store/store.hpp"

namespace smppguard::admin {

/// One rejected line.
struct LineError {
  std::uint64_t line = 0;  // 1-based line number in the input
  ApiError error;
};

struct ImportSummary {
  std::uint64_t lines = 0;    // non-blank lines read
  std::uint64_t applied = 0;  // created + changed + unchanged
  std::uint64_t created = 0;
  std::uint64_t changed = 0;
  std::uint64_t unchanged = 0;
  std::uint64_t rejected = 0;
  std::uint64_t errors_omitted = 0;  // rejected lines beyond max_errors, counted but not listed
};

/// Lines applied together by one store mutation.
struct ImportBatch : std::enable_shared_from_this<ImportBatch> {
  struct Item {
    std::uint64_t line = 0;
    policy::ValidConsent request;
  };
  std::vector<Item> items;
  std::vector<policy::ConsentOutcome> outcomes;  // filled by the mutation, one per item

  /// Called inside the mutation once every item is applied (outcomes filled): stages what the
  /// changes send, in the same commit.
  using Staging = std::function<void(store::Batch&, const ImportBatch&)>;
  /// The mutation that applies every item at `now`, then `stage` (keeps the batch alive).
  store::Mutation mutation(policy::Actor actor, TimePoint now, policy::ApplyOptions options = {},
                           Staging stage = {});
};

class ConsentImporter {
 public:
  struct Options {
    policy::ValidateOptions validate{store::ConsentSource::import, false};
    std::size_t batch_lines = 1000;
    std::size_t max_line = 64u << 10;
    std::size_t max_errors = 10000;
  };

  ConsentImporter(policy::ProgramLookup programs, Options options);

  /// The next bytes of the input.
  void feed(std::string_view bytes);
  /// The end of the input: a last line without a newline is taken, and the last batch closes.
  void finish();
  /// A batch ready to commit, or null.
  std::shared_ptr<ImportBatch> next_batch();
  /// The outcome of a committed batch: `ec` fails every line of it (store_unavailable).
  void completed(ImportBatch& batch, std::error_code ec);

  const ImportSummary& summary() const { return summary_; }
  /// The listed rejected lines, in line order.
  std::vector<LineError> errors() const;

 private:
  void line(std::string_view text);
  void reject(std::uint64_t line, ApiError error);

  policy::ProgramLookup programs_;
  Options options_;
  std::string partial_;
  bool skipping_ = false;  // inside a line that was too long
  std::uint64_t line_no_ = 0;
  std::shared_ptr<ImportBatch> open_;
  std::vector<std::shared_ptr<ImportBatch>> ready_;
  std::vector<LineError> errors_;
  ImportSummary summary_;
};

/// The NDJSON answer of an import: one {"line":N,"error":{"code","message"}} per listed rejected
/// line, then {"summary":{"lines","applied","created","changed","unchanged","rejected",
/// "errors_omitted"}}.
std::string import_report(const ConsentImporter& importer);
/// The summary object alone.
boost::json::object summary_json(const ImportSummary& summary);

}  // namespace smppguard::admin
