#include "admin/consent_import.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>

namespace smppguard::admin {

namespace json = boost::json;

store::Mutation ImportBatch::mutation(policy::Actor actor, TimePoint now,
                                      policy::ApplyOptions options, Staging stage) {
  return [self = shared_from_this(), actor = std::move(actor), now, options,
          stage = std::move(stage)](store::Batch& b) {
    self->outcomes.clear();
    self->outcomes.reserve(self->items.size());
    for (const auto& item : self->items) {
      self->outcomes.push_back(policy::apply_consent_request(b, item.request, actor, now, options));
    }
    if (stage) stage(b, *self);
  };
}

ConsentImporter::ConsentImporter(policy::ProgramLookup programs, Options options)
    : programs_(std::move(programs)), options_(options) {}

void ConsentImporter::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto nl = bytes.find('\n');
    const auto piece = bytes.substr(0, nl);
    if (skipping_) {
      if (nl == std::string_view::npos) return;
      skipping_ = false;
      bytes.remove_prefix(nl + 1);
      continue;
    }
    if (partial_.size() + piece.size() > options_.max_line) {
      ++line_no_;
      ++summary_.lines;
      reject(line_no_,
             ApiError{400, "line_too_long",
                      "the line is longer than " + std::to_string(options_.max_line) + " bytes"});
      partial_.clear();
      if (nl == std::string_view::npos) {
        skipping_ = true;
        return;
      }
      bytes.remove_prefix(nl + 1);
      continue;
    }
    if (nl == std::string_view::npos) {
      partial_.append(piece);
      return;
    }
    if (partial_.empty()) {
      line(piece);
    } else {
      partial_.append(piece);
      line(partial_);
      partial_.clear();
    }
    bytes.remove_prefix(nl + 1);
  }
}

void ConsentImporter::finish() {
  if (!skipping_ && !partial_.empty()) {
    const std::string last = std::move(partial_);
    partial_.clear();
    line(last);
  }
  skipping_ = false;
  if (open_ && !open_->items.empty()) ready_.push_back(std::move(open_));
  open_.reset();
}

std::shared_ptr<ImportBatch> ConsentImporter::next_batch() {
  if (ready_.empty()) return nullptr;
  auto b = std::move(ready_.front());
  ready_.erase(ready_.begin());
  return b;
}

void ConsentImporter::line(std::string_view text) {
  ++line_no_;
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (text.find_first_not_of(" \t") == std::string_view::npos) return;  // blank
  ++summary_.lines;
  policy::ConsentRequest request;
  if (auto e = parse_consent_body(text, ConsentBody::import_line, request)) {
    reject(line_no_, std::move(*e));
    return;
  }
  auto v = policy::validate_consent_request(request, programs_, options_.validate);
  if (!v.ok) {
    reject(line_no_, to_api_error(v.error));
    return;
  }
  if (!open_) {
    open_ = std::make_shared<ImportBatch>();
    open_->items.reserve(options_.batch_lines);
  }
  open_->items.push_back(ImportBatch::Item{line_no_, std::move(*v.ok)});
  if (open_->items.size() >= options_.batch_lines) {
    ready_.push_back(std::move(open_));
    open_.reset();
  }
}

void ConsentImporter::reject(std::uint64_t line, ApiError error) {
  ++summary_.rejected;
  if (errors_.size() >= options_.max_errors) {
    ++summary_.errors_omitted;
    return;
  }
  errors_.push_back(LineError{line, std::move(error)});
}

void ConsentImporter::completed(ImportBatch& batch, std::error_code ec) {
  if (ec || batch.outcomes.size() != batch.items.size()) {
    const std::string why = ec ? ec.message() : std::string("incomplete batch");
    for (const auto& item : batch.items) {
      reject(item.line, ec == store::StoreErrc::cluster_unavailable
                            ? ApiError{503, "cluster_unavailable",
                                       "the cluster cannot commit consent changes now: " + why}
                            : ApiError{503, "store_unavailable",
                                       "the consent store did not take this line: " + why});
    }
    return;
  }
  for (std::size_t i = 0; i < batch.items.size(); ++i) {
    const auto& o = batch.outcomes[i];
    switch (o.effect) {
      case policy::ConsentEffect::created:
        ++summary_.created;
        ++summary_.applied;
        break;
      case policy::ConsentEffect::changed:
        ++summary_.changed;
        ++summary_.applied;
        break;
      case policy::ConsentEffect::unchanged:
        ++summary_.unchanged;
        ++summary_.applied;
        break;
      case policy::ConsentEffect::refused:
        reject(batch.items[i].line,
               o.error ? to_api_error(*o.error) : ApiError{409, "conflict", "refused"});
        break;
    }
  }
}

std::vector<LineError> ConsentImporter::errors() const {
  auto out = errors_;
  std::stable_sort(out.begin(), out.end(),
                   [](const LineError& a, const LineError& b) { return a.line < b.line; });
  return out;
}

json::object summary_json(const ImportSummary& s) {
  json::object o;
  o["lines"] = s.lines;
  o["applied"] = s.applied;
  o["created"] = s.created;
  o["changed"] = s.changed;
  o["unchanged"] = s.unchanged;
  o["rejected"] = s.rejected;
  o["errors_omitted"] = s.errors_omitted;
  return o;
}

std::string import_report(const ConsentImporter& importer) {
  std::string out;
  for (const auto& e : importer.errors()) {
    json::object err;
    err["code"] = e.error.code;
    err["message"] = e.error.message;
    json::object line;
    line["line"] = e.line;
    line["error"] = std::move(err);
    out += json::serialize(line);
    out += '\n';
  }
  json::object summary;
  summary["summary"] = summary_json(importer.summary());
  out += json::serialize(summary);
  out += '\n';
  return out;
}

}  // namespace smppguard::admin
