#pragma once
// The end-to-end fixture: the real carrier simulator (`smppguard smsc-sim`) and the real daemon
// (`smppguard run`) as child processes on free loopback ports, each with its own temp dir, so
// that tests and parallel ctest runs never share a port or a file.
//
// Flow: Harness(options) -> starts the simulator (unless options.simulator is false; then the
// upstream points at a closed port) -> writes the daemon config (ConfigSpec::render) into the
// temp dir -> starts the daemon, waits for its ports file and, when asked, for /readyz 200
// (= the upstream is bound) -> the subscribers of options.opt_in text START (consent is
// enforced: the programs are strict by default) -> the test speaks SMPP/HTTP -> ~Harness stops
// the daemon (SIGTERM, then SIGKILL), then the simulator. Every wait is bounded.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http_client.hpp"
#include "process.hpp"
#include "smpp_client.hpp"

namespace e2e {

/// One `accounts[]` entry of the generated config.
struct AccountSpec {
  std::string system_id;
  std::string password;
  std::string tenant;
  std::uint32_t window = 64;
  std::uint32_t throughput = 0;  // 0 = unlimited
  std::uint32_t max_binds = 4;
  std::vector<std::string> allowed_ips;  // CIDRs; empty = any
  std::string refuse_with;               // response | receipt; "" = the default (response)
  std::string default_category;  // conversational | informational | promotional; "" = default
};

/// `programs[].quiet_hours` of the generated config.
struct QuietHoursSpec {
  std::string start;              // "HH:MM"
  std::string end;                // "HH:MM"
  std::string action = "reject";  // reject | hold
};

/// `programs[].frequency_cap` of the generated config.
struct FrequencyCapSpec {
  std::uint32_t max = 3;
  std::string per = "24h";
  std::vector<std::string> categories;  // empty = the default (informational, promotional)
};

/// One `programs[]` entry. Empty strings and unset optionals are left out of the YAML, so the
/// daemon's defaults (config-reference.yaml) apply; except opt_in_mode and quiet_hours, which
/// the harness sets (strict, off) so that the proxy-core suites see no quiet hours.
struct ProgramSpec {
  std::string id;
  std::string tenant;
  std::string name;
  std::vector<std::string> numbers;  // as config writes them: "+18005550100" or "12345"
  std::string help_contact;
  std::string opt_in_mode = "strict";
  std::optional<bool> hold;
  std::string hold_ttl;
  std::string request_interval;
  std::string implied_ttl;
  std::string reminder_interval;
  std::string stop_scope;  // program | tenant
  std::optional<bool> phrase_opt_out;
  std::optional<bool> mo_requires_consent;
  std::optional<bool> forward_keywords;
  std::string timezone;
  std::optional<QuietHoursSpec> quiet_hours;  // nullopt = `quiet_hours: null` (off)
  std::optional<FrequencyCapSpec> frequency_cap;
  std::vector<std::string> join_keywords;
  // keywords.opt_out / opt_in / help: added to the defaults of SPEC 5 (empty = left out).
  std::vector<std::string> opt_out_keywords;
  std::vector<std::string> opt_in_keywords;
  std::vector<std::string> help_keywords;
};

/// The numbers and names the generated config uses (tests refer to these).
namespace cfg {
inline constexpr const char* kNodeId = "e2e";
inline constexpr const char* kUpstream = "sim";
inline constexpr const char* kSimSystemId = "smppguard";
inline constexpr const char* kSimPassword = "sim";
// Program acme-alerts (tenant acme): a toll-free number and a short code.
inline constexpr const char* kAcmeNumber = "18005550100";  // +18005550100, TON 1 / NPI 1
inline constexpr const char* kAcmeShortCode = "12345";
// Program globex-news (tenant globex).
inline constexpr const char* kGlobexNumber = "18005550199";
// A number that belongs to no program.
inline constexpr const char* kUnknownNumber = "18005550777";
// A subscriber.
inline constexpr const char* kSubscriber = "15551234567";
// Program ids of the default config.
inline constexpr const char* kAcmeProgram = "acme-alerts";
inline constexpr const char* kGlobexProgram = "globex-news";
// Accounts: app1 belongs to acme, app2 to globex.
inline constexpr const char* kApp1 = "app1";
inline constexpr const char* kApp1Password = "pw1";
inline constexpr const char* kApp2 = "app2";
inline constexpr const char* kApp2Password = "pw2";
}  // namespace cfg

/// What the generated daemon config contains; tests change fields before starting.
struct ConfigSpec {
  std::vector<AccountSpec> accounts = {
      {.system_id = cfg::kApp1, .password = cfg::kApp1Password, .tenant = "acme"},
      {.system_id = cfg::kApp2, .password = cfg::kApp2Password, .tenant = "globex"}};
  std::vector<ProgramSpec> programs = {
      {.id = cfg::kAcmeProgram,
       .tenant = "acme",
       .name = "Acme Alerts",
       .numbers = {std::string("+") + cfg::kAcmeNumber, cfg::kAcmeShortCode},
       .help_contact = "help@acme.example"},
      {.id = cfg::kGlobexProgram,
       .tenant = "globex",
       .name = "Globex News",
       .numbers = {std::string("+") + cfg::kGlobexNumber},
       .help_contact = "help@globex.example"}};
  std::string bind_timeout = "1s";
  std::uint32_t max_pdu_size = 4096;
  // upstream
  std::uint16_t upstream_port = 0;
  std::uint32_t upstream_sessions = 1;
  std::uint32_t upstream_window = 64;
  std::uint32_t upstream_throughput = 0;
  std::string response_timeout = "1s";
  std::string enquire_link = "30s";
  std::string reconnect_min = "100ms";
  std::string reconnect_max = "500ms";
  std::string message_id_format = "as_is";
  std::string log_level = "info";
  std::string store_path;  // filled by the harness unless a test sets it
  // The store's free-space floor: small, so that a CI disk with little room left does not
  // refuse every test's writes (the daemon's default is 256).
  std::uint32_t store_min_free_mb = 8;
  std::string node_id = cfg::kNodeId;
  // Cluster mode: the `cluster:` section when postgres is set (a libpq string).
  std::string cluster_postgres;
  std::string cluster_max_lag;  // "" = the default

  /// The YAML text.
  std::string render() const;
  /// The program owning `number` (digits as in cfg::, with or without '+', or a short code);
  /// nullptr when none does.
  const ProgramSpec* program_of_number(const std::string& number) const;
  ProgramSpec* program(const std::string& id);
};

/// A subscriber who gives consent by texting START to a program number (see Harness::opt_in).
struct OptIn {
  std::string msisdn;  // digits, e.g. cfg::kSubscriber (a leading '+' is allowed)
  std::string number;  // the program number texted, e.g. cfg::kAcmeNumber or cfg::kAcmeShortCode
};

/// The carrier simulator process and its HTTP control API.
class Simulator {
 public:
  /// Starts `smppguard smsc-sim` with files in `dir`; extra arguments are appended. Throws when
  /// it does not write its ports file in time.
  Simulator(const std::filesystem::path& dir, const std::vector<std::string>& extra_args);
  std::uint16_t smpp_port() const { return smpp_port_; }
  std::uint16_t http_port() const { return http_port_; }
  Process& process() { return *process_; }

  /// GET path, parsed as JSON (throws on a non-200 answer or bad JSON).
  boost::json::value get_json(const std::string& path);
  /// Every PDU the simulator received (GET /messages), optionally only one command
  /// ("submit_sm", "query_sm", ...).
  std::vector<boost::json::object> messages(const std::string& command = "");
  void clear_messages();
  /// POST /mo; returns the HTTP status and the JSON answer.
  HttpResult post_mo(const boost::json::object& body,
                     std::chrono::milliseconds timeout = std::chrono::seconds(15));
  /// POST /receipt {"message_id"} (the carrier's id; `stat` is the simulator's default); returns
  /// the HTTP status and the JSON answer.
  HttpResult post_receipt(const std::string& carrier_message_id,
                          std::chrono::milliseconds timeout = std::chrono::seconds(15));
  /// POST /rules {"prefix","action",...}.
  void add_rule(const std::string& prefix, const std::string& action, std::uint32_t status = 0,
                int delay_ms = 0);
  void clear_rules();
  /// POST /disconnect: closes every SMPP connection.
  void disconnect();
  boost::json::value stats() { return get_json("/stats"); }

 private:
  std::unique_ptr<Process> process_;
  std::uint16_t smpp_port_ = 0;
  std::uint16_t http_port_ = 0;
};

/// The daemon process started on a config file.
class DaemonProcess {
 public:
  /// Starts `smppguard run --config config --ports-file ports_file`; throws when the ports file
  /// does not appear in time (the log is in the message).
  DaemonProcess(const std::filesystem::path& config, const std::filesystem::path& ports_file,
                const std::filesystem::path& log_file);
  std::uint16_t smpp_port() const { return smpp_port_; }
  std::uint16_t http_port() const { return http_port_; }
  Process& process() { return *process_; }

 private:
  std::unique_ptr<Process> process_;
  std::uint16_t smpp_port_ = 0;
  std::uint16_t http_port_ = 0;
};

struct HarnessOptions {
  bool simulator = true;              // false: the upstream points at upstream_port
  std::uint16_t upstream_port = 0;    // without the simulator: another's carrier; 0 = a closed port
  std::vector<std::string> sim_args;  // extra smsc-sim arguments
  bool wait_ready = true;             // wait for /readyz 200 (needs the simulator)
  ConfigSpec config;
  /// Subscribers opted in at start (Harness::opt_in), before the test binds anything.
  std::vector<OptIn> opt_in;
};

class Harness {
 public:
  explicit Harness(HarnessOptions options = {});
  ~Harness();
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  TempDir& dir() { return dir_; }
  Simulator& sim();
  DaemonProcess& daemon() { return *daemon_; }
  ConfigSpec& config() { return options_.config; }
  const std::filesystem::path& config_path() const { return config_path_; }

  std::uint16_t smpp_port() const { return daemon_->smpp_port(); }
  std::uint16_t http_port() const { return daemon_->http_port(); }

  /// A new TCP connection to the daemon's SMPP port.
  std::unique_ptr<SmppClient> connect(const std::string& source_ip = "");
  /// A connection bound with bind_<type> as `system_id` (must succeed).
  std::unique_ptr<SmppClient> bind(std::uint32_t bind_command_id,
                                   const std::string& system_id = cfg::kApp1,
                                   const std::string& password = cfg::kApp1Password);

  /// HTTP GET on the daemon.
  HttpResult daemon_get(const std::string& path) { return http_get(http_port(), path); }
  std::string metrics();
  std::optional<double> metric(const std::string& name,
                               const std::vector<std::pair<std::string, std::string>>& labels = {});
  /// Waits for /readyz to answer `status` (200 or 503).
  bool wait_readyz(int status, std::chrono::milliseconds timeout = std::chrono::seconds(20));

  /// Rewrites the config file from config() (for SIGHUP tests).
  void write_config();
  /// Starts (again) the daemon on the same config and store, with a fresh ports file.
  void start_daemon(bool wait_ready);
  /// kill -9 the daemon and reap it.
  void kill9_daemon();
  /// SIGTERM the daemon and wait for it to exit; its exit status (nullopt on timeout).
  std::optional<int> stop_daemon(std::chrono::milliseconds timeout = std::chrono::seconds(15));
  /// Stops the simulator (SIGTERM): the carrier is gone, its port closed.
  void stop_simulator();

  /// Gives consent the way a subscriber does: for each entry, POST /mo START from the subscriber
  /// to the program number, wait until the carrier has received the proxy's opt_in_confirm
  /// submit_sm to that subscriber, then clear the simulator's /messages. With `drain_mo`, the
  /// START MOs (forwarded to the tenant like every MO) are then taken off the delivery queue by
  /// a receiver bound for the occasion and unbound again, so the test starts with an empty
  /// queue and no bind: only do that while the test has no receiver of that tenant bound.
  void opt_in(const std::vector<OptIn>& subscribers, bool drain_mo = true);
  void opt_in(const std::string& msisdn, const std::string& number, bool drain_mo = true) {
    opt_in(std::vector<OptIn>{{msisdn, number}}, drain_mo);
  }
  /// The store directory (config().store_path).
  std::filesystem::path store_path() const { return options_.config.store_path; }
  /// The daemon's log so far (all its runs).
  std::string daemon_log() const;

 private:
  HarnessOptions options_;
  TempDir dir_;
  std::unique_ptr<Simulator> sim_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::filesystem::path config_path_;
  int daemon_runs_ = 0;
};

/// The text of a JSON string member ("" when absent or not a string).
std::string json_string(const boost::json::object& o, const char* key);
/// An integer member (-1 when absent or not a number).
std::int64_t json_int(const boost::json::object& o, const char* key);

}  // namespace e2e
