#include "consent_support.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/tlv.hpp>
#include <sstream>
#include <thread>

namespace e2e::consent {

namespace json = boost::json;
namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;

namespace {

std::string field(const std::string& text, const std::string& name) {
  const auto p = text.find(name + ":");
  if (p == std::string::npos) return "";
  const auto start = p + name.size() + 1;
  const auto end = text.find(' ', start);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

}  // namespace

Templates templates(const std::string& program_name, const std::string& help_contact) {
  auto r = [&](std::string t) {
    return replace_all(replace_all(std::move(t), "{program}", program_name), "{help_contact}",
                       help_contact);
  };
  return Templates{
      r("{program}: help at {help_contact}. Msg&data rates may apply. Reply STOP to cancel."),
      r("{program}: you are unsubscribed and will receive no more messages. Reply START to "
        "resubscribe."),
      r("{program} wants to text you. Reply YES to agree, STOP to decline. Msg&data rates may "
        "apply."),
      r("{program}: you are subscribed. Msg&data rates may apply. Reply HELP for help, STOP to "
        "cancel."),
      r("You are receiving messages from {program}. Reply STOP to opt out, HELP for help."),
      r("{program}: you are unsubscribed. Reply START to resubscribe.")};
}

Templates acme_templates() { return templates("Acme Alerts", "help@acme.example"); }

std::int64_t mo(Simulator& sim, const std::string& from, const std::string& to,
                const std::string& text, const json::object& extra) {
  json::object body = extra;
  if (!body.contains("from")) body["from"] = "+" + (from.starts_with("+") ? from.substr(1) : from);
  body["to"] = to;
  if (!body.contains("pdu_hex")) body["text"] = text;
  const auto r = sim.post_mo(body);
  REQUIRE_MESSAGE(r.status == 200, "POST /mo -> " << r.status << " " << r.error << r.body);
  return json_int(json::parse(r.body).as_object(), "status");
}

proto::Pdu mt(const std::string& from, const std::string& to, const std::string& text,
              std::optional<Category> category, std::uint8_t registered_delivery,
              const std::string& service_type) {
  auto pdu = make_submit(from, to, text, registered_delivery);
  auto& sm = *pdu.as<proto::SubmitSm>();
  sm.service_type = service_type;
  if (category) {
    sm.tlvs.add(proto::tlv::kSmppguardCategory,
                std::string(1, static_cast<char>(static_cast<std::uint8_t>(*category))));
  }
  return pdu;
}

MtAnswer submit(SmppClient& c, proto::Pdu pdu) {
  const auto r = c.request(std::move(pdu), 10s);
  REQUIRE(r.id() == cmd::kSubmitSmResp);
  MtAnswer a;
  a.status = r.status();
  if (const auto p = r.pdu(); const auto* resp = p.as<proto::MessageIdResp>()) {
    a.message_id = resp->message_id;
  }
  return a;
}

std::vector<json::object> carrier_submits(Simulator& sim) { return sim.messages("submit_sm"); }

std::vector<json::object> wait_carrier_submits(Simulator& sim, std::size_t n,
                                               std::chrono::milliseconds timeout) {
  const bool ok = eventually([&] { return carrier_submits(sim).size() >= n; }, timeout);
  auto got = carrier_submits(sim);
  REQUIRE_MESSAGE(ok, "the carrier got " << got.size() << " submit_sm, expected " << n);
  return got;
}

std::vector<json::object> carrier_submits_after(Simulator& sim, std::chrono::milliseconds settle) {
  std::this_thread::sleep_for(settle);
  return carrier_submits(sim);
}

bool is_receipt(const Frame& f) {
  auto pdu = f.pdu();
  const auto* d = pdu.as<proto::SubmitSm>();
  return d != nullptr && (d->esm_class & 0x3C) == 0x04;
}

std::string deliver_text(const Frame& f) {
  auto pdu = f.pdu();
  if (const auto* d = pdu.as<proto::SubmitSm>()) return d->short_message;
  return "";
}

Receipt read_receipt(const Frame& f) {
  auto pdu = f.pdu();
  const auto* d = pdu.as<proto::SubmitSm>();
  REQUIRE(d != nullptr);
  Receipt r;
  r.text = d->short_message;
  r.text_id = field(r.text, "id");
  r.stat = field(r.text, "stat");
  r.err = field(r.text, "err");
  r.tlv_id = std::string(d->tlvs.get_cstring(proto::tlv::kReceiptedMessageId).value_or("<none>"));
  r.message_state = d->tlvs.get_u8(proto::tlv::kMessageState);
  r.esm_class = d->esm_class;
  return r;
}

std::optional<Receipt> next_receipt(SmppClient& c, std::chrono::milliseconds timeout,
                                    std::vector<std::string>* mos) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto f = c.receive_deliver(0, std::max(left, std::chrono::milliseconds(1)));
    if (!f) return std::nullopt;
    if (is_receipt(*f)) return read_receipt(*f);
    if (mos != nullptr) mos->push_back(deliver_text(*f));
  }
  return std::nullopt;
}

RunResult run(const std::vector<std::string>& argv, const std::filesystem::path& log_file,
              std::chrono::milliseconds timeout) {
  std::filesystem::remove(log_file);
  Process p(argv, log_file);
  RunResult r;
  const auto status = p.wait(timeout);
  r.exit = status.value_or(-1);
  r.output = p.log();
  return r;
}

std::string store_tool() {
  if (const char* p = std::getenv("SMPPGUARD_E2E_STORE_TOOL")) return p;
#ifdef SMPPGUARD_E2E_STORE_TOOL
  return SMPPGUARD_E2E_STORE_TOOL;
#else
  throw std::runtime_error("SMPPGUARD_E2E_STORE_TOOL not set");
#endif
}

std::vector<json::object> audit_entries(Harness& h) {
  const auto out_file = h.dir().path() / "audit-list.ndjson";
  std::filesystem::remove(out_file);
  const auto r = run(
      {store_tool(), "audit-list", "--store", h.store_path().string(), "--out", out_file.string()},
      h.dir().path() / "audit-list.log");
  REQUIRE_MESSAGE(r.exit == 0, "audit-list failed: " << r.output);
  std::vector<json::object> out;
  std::istringstream lines(read_file(out_file));
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) out.push_back(json::parse(line).as_object());
  }
  return out;
}

std::vector<json::object> audit_events(Harness& h, const std::string& event,
                                       const std::string& msisdn) {
  std::vector<json::object> out;
  for (auto& e : audit_entries(h)) {
    if (json_string(e, "event") != event) continue;
    if (!msisdn.empty() && json_string(e, "msisdn") != msisdn) continue;
    out.push_back(std::move(e));
  }
  return out;
}

double metric_or_0(Harness& h, const std::string& name,
                   const std::vector<std::pair<std::string, std::string>>& labels) {
  return h.metric(name, labels).value_or(0.0);
}

}  // namespace e2e::consent
