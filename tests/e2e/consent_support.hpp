#pragma once
// Helpers shared by the consent end-to-end suites (e2e_consent_*_test.cpp): MOs through the
// simulator, MTs with a category, what the carrier received from the proxy, receipts the
// account got, the audit log (through tests/e2e/tools/e2e_store_tool) and CLI runs.
// Not thread-safe; one test thread.
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <smppguard/proto/pdu.hpp>
#include <string>
#include <vector>

#include "harness.hpp"

namespace e2e::consent {

// The refusal statuses of config-reference.yaml (defaults.statuses) and SMPP's.
inline constexpr std::uint32_t kOptedOut = 0x400;
inline constexpr std::uint32_t kNoConsent = 0x401;
inline constexpr std::uint32_t kQuietHours = 0x402;
inline constexpr std::uint32_t kConsentLevel = 0x403;
inline constexpr std::uint32_t kFrequencyCap = 0x404;
inline constexpr std::uint32_t kInvSrcAdr = 0x0A;

/// TLV 0x1400 smppguard_category values.
enum class Category : std::uint8_t { conversational = 0, informational = 1, promotional = 2 };

/// The default templates (config-reference.yaml) rendered for a program name, contact and number.
struct Templates {
  std::string help, opt_out_confirm, opt_in_request, opt_in_confirm, disclaimer, still_opted_out;
};
Templates templates(const std::string& program_name, const std::string& help_contact);
/// For the default config's programs.
Templates acme_templates();

/// POST /mo from `from` (digits, sent as "+digits") to `to` with `text`; extra keys of the
/// simulator's /mo (data_coding, pdu_hex, source_addr_ton, ...) from `extra`, which may also
/// give "from" as written (a national number, say). Returns the command_status the proxy
/// answered the carrier with (REQUIREs an HTTP 200).
std::int64_t mo(Simulator& sim, const std::string& from, const std::string& to,
                const std::string& text, const boost::json::object& extra = {});

/// A submit_sm from a program number to a subscriber, optionally with TLV 0x1400 and a
/// service_type.
smppguard::proto::Pdu mt(const std::string& from, const std::string& to, const std::string& text,
                         std::optional<Category> category = std::nullopt,
                         std::uint8_t registered_delivery = 0,
                         const std::string& service_type = "");

/// The submit_sm_resp to an MT: status and message_id.
struct MtAnswer {
  std::uint32_t status = 0;
  std::string message_id;
};
MtAnswer submit(SmppClient& c, smppguard::proto::Pdu pdu);

/// The submit_sm PDUs the carrier received since the last clear, in arrival order.
std::vector<boost::json::object> carrier_submits(Simulator& sim);
/// Waits until the carrier has received at least `n` submit_sm; returns them (REQUIREs they came).
std::vector<boost::json::object> wait_carrier_submits(Simulator& sim, std::size_t n,
                                                      std::chrono::milliseconds timeout = 10s);
/// Waits `settle`, then returns the carrier's submit_sm: to check that nothing (more) came.
std::vector<boost::json::object> carrier_submits_after(Simulator& sim,
                                                       std::chrono::milliseconds settle = 800ms);

/// A delivery receipt as an account sees it.
struct Receipt {
  std::string text;     // short_message
  std::string text_id;  // the `id:` field
  std::string tlv_id;   // receipted_message_id
  std::string stat;     // the `stat:` field
  std::string err;      // the `err:` field
  std::uint8_t esm_class = 0;
  std::optional<std::uint8_t> message_state;
};
/// Reads a deliver_sm as a receipt (REQUIREs a deliver_sm).
Receipt read_receipt(const Frame& f);
/// Whether a deliver_sm is a delivery receipt (esm_class bits 2-5 = 0x04).
bool is_receipt(const Frame& f);
/// The decoded text of a deliver_sm (short_message, GSM/ASCII as is).
std::string deliver_text(const Frame& f);

/// Waits for the next deliver_sm that is a receipt, answering every deliver_sm with OK; MOs
/// received meanwhile are appended to `mos` (their texts) when given.
std::optional<Receipt> next_receipt(SmppClient& c, std::chrono::milliseconds timeout = 10s,
                                    std::vector<std::string>* mos = nullptr);

/// Runs a command to completion (bounded by `timeout`); exit status and its output.
struct RunResult {
  int exit = -1;
  std::string output;
};
RunResult run(const std::vector<std::string>& argv, const std::filesystem::path& log_file,
              std::chrono::milliseconds timeout = 30s);

/// Every audit entry of the store (tests/e2e/tools/e2e_store_tool audit-list; read-only, so the
/// daemon may be running).
std::vector<boost::json::object> audit_entries(Harness& h);
/// The audit entries with this event (and this msisdn when given, E.164 with '+').
std::vector<boost::json::object> audit_events(Harness& h, const std::string& event,
                                              const std::string& msisdn = "");

/// The path of the store tool (set by CMake).
std::string store_tool();

/// A metric sample (0 when absent).
double metric_or_0(Harness& h, const std::string& name,
                   const std::vector<std::pair<std::string, std::string>>& labels);

}  // namespace e2e::consent
