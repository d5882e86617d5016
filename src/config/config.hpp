#pragma once
// smppguard configuration: plain structs whose in-class defaults are the values of
// config-reference.yaml, the YAML loader that fills and validates them in one pass, and the
// lookups the data plane uses (built once at load, see ConfigIndex).
//
// Thread-safety: a loaded Config is never modified; share it as std::shared_ptr<const Config>
// and read it from any thread. A reload loads a new Config and swaps the pointer.
// Only src/config/*.cpp include yaml-cpp.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/log.hpp"

namespace smppguard::config {

// ---------------------------------------------------------------------------------------------
// Enumerations. Their config spelling is the enumerator name; to_string/parse_enum convert.

/// CTIA message category. The values are those of TLV 0x1400 (smppguard_category).
enum class Category : std::uint8_t { conversational = 0, informational = 1, promotional = 2 };
/// What a program does when consent is missing or too low (SPEC section 4).
enum class OptInMode : std::uint8_t { strict, confirm, disclaimer };
/// How an account is told about a refused MT: in the submit_sm_resp, or by a REJECTD receipt.
enum class RefuseWith : std::uint8_t { response, receipt };
/// How an upstream session binds: one transceiver, or a transmitter plus a receiver.
enum class BindMode : std::uint8_t { transceiver, transmitter_receiver };
/// How message ids of an upstream are normalised so submit_sm_resp and receipt ids match.
enum class MessageIdFormat : std::uint8_t { as_is, hex, decimal };
/// Reach of a STOP: the program texted, or every program of its tenant (STOPALL is always tenant).
enum class StopScope : std::uint8_t { program, tenant };
/// What happens to an MT inside quiet hours: refused, or held until the window opens.
enum class QuietAction : std::uint8_t { reject, hold };

/// The config spelling of an enum value ("transmitter_receiver").
std::string_view to_string(Category v);
std::string_view to_string(OptInMode v);
std::string_view to_string(RefuseWith v);
std::string_view to_string(BindMode v);
std::string_view to_string(MessageIdFormat v);
std::string_view to_string(StopScope v);
std::string_view to_string(QuietAction v);

/// Parses the config spelling of one of the enums above (exact, lowercase); nullopt if unknown.
template <typename E>
std::optional<E> parse_enum(std::string_view text);
template <>
std::optional<Category> parse_enum<Category>(std::string_view text);
template <>
std::optional<OptInMode> parse_enum<OptInMode>(std::string_view text);
template <>
std::optional<RefuseWith> parse_enum<RefuseWith>(std::string_view text);
template <>
std::optional<BindMode> parse_enum<BindMode>(std::string_view text);
template <>
std::optional<MessageIdFormat> parse_enum<MessageIdFormat>(std::string_view text);
template <>
std::optional<StopScope> parse_enum<StopScope>(std::string_view text);
template <>
std::optional<QuietAction> parse_enum<QuietAction>(std::string_view text);

// ---------------------------------------------------------------------------------------------
// Value types.

/// A "host:port" address. IPv6 literals are written in brackets: "[::1]:2775".
struct HostPort {
  std::string host{};      ///< host name or IP literal, without brackets
  std::uint16_t port = 0;  ///< for a listener, 0 lets the OS pick a free port (tests)

  /// "host:port", bracketing IPv6 literals.
  std::string to_string() const;
  /// Parses "host:port" (port 0..65535); nullopt, with a reason in *error, when malformed.
  static std::optional<HostPort> parse(std::string_view text, std::string* error = nullptr);
  bool operator==(const HostPort&) const = default;
};

/// An IPv4 or IPv6 network, "10.0.0.0/8" or "2001:db8::/32"; a bare address is one host.
struct Cidr {
  std::array<std::uint8_t, 16> network{};  ///< network bytes, host bits zero; IPv4 uses [0..4)
  bool ipv6 = false;                       ///< family of `network`
  std::uint8_t prefix_len = 0;             ///< mask length in bits (0..32 or 0..128)
  std::string text{};                      ///< as written in the config

  /// Whether an address of 4 or 16 bytes (network order) is inside. IPv4-mapped IPv6 addresses
  /// (::ffff:a.b.c.d, what a dual-stack listener sees) match IPv4 networks and vice versa.
  bool matches(std::span<const std::uint8_t> ip) const;
  /// The same for a textual address ("192.0.2.7", "2001:db8::1"); false when it does not parse.
  bool matches(std::string_view ip) const;
  /// Parses "addr/len" or a bare address. Rejects bad masks and set host bits ("10.0.0.1/8").
  static std::optional<Cidr> parse(std::string_view text, std::string* error = nullptr);
  bool operator==(const Cidr&) const = default;
};

/// True for E.164 with a plus: +[1-9][0-9]{6,14}.
bool is_e164(std::string_view number);
/// True for a short code: 3 to 8 digits.
bool is_short_code(std::string_view number);
/// True for a plain lower-case SQL identifier, [a-z_][a-z0-9_]{0,62} (cluster.schema, which is
/// written into SQL unquoted).
bool is_plain_identifier(std::string_view name);

/// SPEC section 5 default keyword sets; programs add theirs (Keywords). Matched after the MO
/// text is normalised (case-fold, trim, collapsed whitespace).
inline constexpr std::array<std::string_view, 10> kDefaultOptOutKeywords = {
    "STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL",
    "END",  "QUIT",    "REVOKE",   "OPTOUT",      "OPT OUT"};
inline constexpr std::array<std::string_view, 3> kDefaultOptInKeywords = {"START", "YES", "UNSTOP"};
inline constexpr std::array<std::string_view, 2> kDefaultHelpKeywords = {"HELP", "INFO"};

/// Placeholders a message template may use.
inline constexpr std::array<std::string_view, 3> kTemplatePlaceholders = {"program", "help_contact",
                                                                          "number"};

// ---------------------------------------------------------------------------------------------
// Sections, in the order of config-reference.yaml.

/// `store:` the RocksDB consent store.
struct StoreConfig {
  std::string path{};  ///< RocksDB directory, created when missing (required)
  bool sync = true;    ///< fsync the WAL before acknowledging a consent change or an MO
  std::chrono::milliseconds message_map_ttl = std::chrono::hours(72);  ///< proxy<->upstream id map
  /// Below this much free space on the store's filesystem the store stops writing (MTs refused
  /// store_unavailable, MOs answered with a temporary error, API writes 503) instead of letting
  /// RocksDB run into a full disk; writing resumes by itself when space returns. 0 = no floor.
  std::uint32_t min_free_mb = 256;
  bool operator==(const StoreConfig&) const = default;
};

/// `cluster:` many nodes sharing one consent truth in PostgreSQL (docs/cluster.md). Absent: the
/// node runs alone and needs no PostgreSQL.
struct ClusterConfig {
  /// libpq connection string or URI (usually ${SMPPGUARD_PG}); multi-host with
  /// target_session_attrs=read-write follows a primary failover (required)
  std::string postgres{};
  std::string schema = "smppguard";  ///< PostgreSQL schema the daemon creates and migrates
  /// Above this replication lag the node is not ready and refuses MTs (store_unavailable)
  std::chrono::milliseconds max_lag = std::chrono::seconds(5);
  bool operator==(const ClusterConfig&) const = default;
};

/// `listen:` the proxy's own sockets.
struct ListenConfig {
  HostPort smpp{"0.0.0.0", 2775};    ///< ESMEs bind here (required in a file)
  HostPort http{"127.0.0.1", 9775};  ///< /metrics, /healthz, /readyz, /v1 (required in a file)
  std::chrono::milliseconds bind_timeout = std::chrono::seconds(10);  ///< accept -> bind deadline
  std::uint32_t max_pdu_size = 65536;  ///< a larger command_length closes the socket
  bool operator==(const ListenConfig&) const = default;
};

/// One bearer token of the /v1 admin API.
struct AdminToken {
  std::string name{};   ///< recorded as the actor in the audit log
  std::string token{};  ///< the secret sent as `Authorization: Bearer <token>`
  bool operator==(const AdminToken&) const = default;
};

/// `admin:` the /v1 API. Without tokens every /v1 request gets 401.
struct AdminConfig {
  std::vector<AdminToken> tokens{};  ///< names and tokens are each unique
  bool operator==(const AdminConfig&) const = default;
};

/// `log:` process logging.
struct LogConfig {
  ::smppguard::log::Level level = ::smppguard::log::Level::info;  ///< debug|info|warn|error|off
  bool operator==(const LogConfig&) const = default;
};

/// `accounts[]`: an ESME credential allowed to bind to the proxy.
struct Account {
  std::string system_id{};  ///< bind system_id, 1..15 characters, unique (required)
  std::string password{};   ///< bind password, 1..8 characters (required)
  std::string tenant{};     ///< owner; its programs' MOs go to its receiver binds (required)
  std::vector<Cidr> allowed_ips{};  ///< peers allowed to bind; empty = any address
  std::uint32_t max_binds = 4;      ///< concurrent binds of this system_id
  std::uint32_t throughput = 200;   ///< submit_sm per second over all binds; 0 = unlimited
  Category default_category = Category::informational;  ///< category when the PDU names none
  std::uint32_t window = 64;                      ///< outstanding requests accepted from one bind
  RefuseWith refuse_with = RefuseWith::response;  ///< how refusals are reported

  /// Whether a peer address may bind (allowed_ips empty, or one entry matches).
  bool ip_allowed(std::string_view ip) const;
  bool ip_allowed(std::span<const std::uint8_t> ip) const;
  bool operator==(const Account&) const = default;
};

/// `upstreams[].reconnect`: back-off between attempts to re-open a lost upstream bind.
struct Reconnect {
  std::chrono::milliseconds min = std::chrono::milliseconds(500);  ///< first delay
  std::chrono::milliseconds max = std::chrono::seconds(30);        ///< delay cap (doubling)
  bool operator==(const Reconnect&) const = default;
};

/// `upstreams[]`: a carrier link the proxy binds to as an ESME.
struct Upstream {
  std::string name{};                     ///< unique; used by routes, metrics and logs (required)
  std::string host{};                     ///< carrier SMSC host (required)
  std::uint16_t port = 0;                 ///< carrier SMSC port, 1..65535 (required)
  std::string system_id{};                ///< bind system_id, 1..15 characters (required)
  std::string password{};                 ///< bind password, at most 8 characters
  std::string system_type{};              ///< bind system_type, at most 12 characters
  BindMode bind = BindMode::transceiver;  ///< one transceiver or a transmitter + receiver pair
  std::uint32_t sessions = 2;             ///< parallel binds (pairs for transmitter_receiver)
  std::uint32_t window = 64;              ///< outstanding requests per bind
  std::uint32_t throughput = 500;         ///< submit_sm per second over all binds; 0 = unlimited
  std::chrono::milliseconds enquire_link = std::chrono::seconds(30);      ///< keep-alive interval
  std::chrono::milliseconds response_timeout = std::chrono::seconds(10);  ///< per request
  Reconnect reconnect{};                                       ///< back-off after a lost bind
  MessageIdFormat message_id_format = MessageIdFormat::as_is;  ///< id normalisation
  bool operator==(const Upstream&) const = default;
};

/// `routes[]`: MTs whose E.164 destination starts with `prefix` go to `upstream`; first match.
struct Route {
  std::string prefix{};    ///< "+1", "+4477", or "" for every destination
  std::string upstream{};  ///< an Upstream::name
  bool operator==(const Route&) const = default;
};

/// `defaults.statuses`: the command_status sent back for each refusal reason.
struct Statuses {
  std::uint32_t opted_out = 0x00000400;          ///< subscriber opted out (program or tenant)
  std::uint32_t no_consent = 0x00000401;         ///< no consent record (strict mode)
  std::uint32_t quiet_hours = 0x00000402;        ///< inside quiet hours, action reject
  std::uint32_t consent_level = 0x00000403;      ///< consent exists but too low for the category
  std::uint32_t frequency_cap = 0x00000404;      ///< frequency cap reached
  std::uint32_t store_unavailable = 0x00000406;  ///< consent store unreadable: fail closed
  bool operator==(const Statuses&) const = default;
};

/// `defaults:` settings shared by every account and program.
struct Defaults {
  std::string default_country = "US";  ///< ISO 3166 alpha-2 for national numbers (upper case)
  /// service_type -> category; replaced as a whole when set in the file.
  std::map<std::string, Category, std::less<>> category_by_service_type = {
      {"CONV", Category::conversational},
      {"INFO", Category::informational},
      {"PROMO", Category::promotional}};
  Statuses statuses{};  ///< refusal command_status values
  bool operator==(const Defaults&) const = default;
};

/// `programs[].quiet_hours`: a daily window, in the subscriber's zone, for informational and
/// promotional MTs. start > end wraps midnight (21:00-08:00).
struct QuietHours {
  std::chrono::minutes start{21 * 60};       ///< minutes after midnight when quiet begins
  std::chrono::minutes end{8 * 60};          ///< minutes after midnight when quiet ends
  QuietAction action = QuietAction::reject;  ///< refuse, or hold until `end`

  /// Whether a local time of day (minutes after midnight) falls inside the window.
  bool contains(std::chrono::minutes time_of_day) const;
  bool operator==(const QuietHours&) const = default;
};

/// `programs[].frequency_cap`: at most `max` MTs per subscriber and program within `per`.
struct FrequencyCap {
  std::uint32_t max = 3;                                   ///< MTs allowed in the window
  std::chrono::milliseconds per = std::chrono::hours(24);  ///< sliding window length
  std::vector<Category> categories = {Category::informational,
                                      Category::promotional};  ///< categories counted and capped

  /// Whether MTs of this category are capped.
  bool applies_to(Category c) const;
  bool operator==(const FrequencyCap&) const = default;
};

/// `programs[].keywords`: added to the default sets (kDefault*Keywords), never replacing them.
struct Keywords {
  std::vector<std::string> opt_out{};  ///< extra opt-out words ("ARRET")
  std::vector<std::string> opt_in{};   ///< extra opt-in words
  std::vector<std::string> help{};     ///< extra help words ("AIDE")
  std::vector<std::string> join{};     ///< join words, treated as opt-in ("SUPPORT")
  bool operator==(const Keywords&) const = default;
};

/// `programs[].messages`: reply templates; {program}, {help_contact}, {number} are filled in.
struct Messages {
  std::string help =
      "{program}: help at {help_contact}. Msg&data rates may apply. Reply STOP to cancel.";
  std::string opt_out_confirm =
      "{program}: you are unsubscribed and will receive no more messages. Reply START to "
      "resubscribe.";
  std::string opt_in_request =
      "{program} wants to text you. Reply YES to agree, STOP to decline. Msg&data rates may "
      "apply.";
  std::string opt_in_confirm =
      "{program}: you are subscribed. Msg&data rates may apply. Reply HELP for help, STOP to "
      "cancel.";
  std::string disclaimer =
      "You are receiving messages from {program}. Reply STOP to opt out, HELP for help.";
  std::string still_opted_out = "{program}: you are unsubscribed. Reply START to resubscribe.";
  bool operator==(const Messages&) const = default;
};

/// `programs[]`: a messaging program owning sender numbers.
struct Program {
  std::string id{};                    ///< unique; in URLs, metrics and the store key (required)
  std::string tenant{};                ///< owning tenant (required)
  std::string name{};                  ///< {program} in templates; the loader defaults it to id
  std::vector<std::string> numbers{};  ///< sender numbers, E.164 "+1..." or short code (required)
  OptInMode opt_in_mode = OptInMode::confirm;  ///< strict | confirm | disclaimer
  bool hold = true;  ///< confirm: hold MTs until YES (false: refuse with no_consent)
  std::chrono::milliseconds hold_ttl = std::chrono::hours(72);  ///< confirm: held MT lifetime
  std::chrono::milliseconds request_interval = std::chrono::hours(24);  ///< opt-in re-send gap
  std::chrono::milliseconds implied_ttl = std::chrono::hours(24);  ///< implied consent after MO
  std::chrono::milliseconds reminder_interval = std::chrono::hours(24);  ///< still_opted_out gap
  StopScope stop_scope = StopScope::program;                             ///< reach of a plain STOP
  bool phrase_opt_out = true;        ///< "please stop" (<= 4 words with an opt-out word) opts out
  bool mo_requires_consent = false;  ///< confirm: hold MOs of subscribers without consent
  bool forward_keywords = true;      ///< keyword MOs are forwarded to the tenant's ESMEs too
  std::string timezone = "America/New_York";             ///< IANA zone for quiet hours when unknown
  std::optional<QuietHours> quiet_hours = QuietHours{};  ///< nullopt = no quiet hours
  std::optional<FrequencyCap> frequency_cap{};           ///< nullopt = no cap
  Keywords keywords{};                                   ///< extra keywords
  Messages messages{};                                   ///< reply templates
  std::string help_contact{};  ///< {help_contact}; required while a template uses it
  bool operator==(const Program&) const = default;
};

/// Hash lookups derived from Config's vectors by Config::build_index(). Values are indices into
/// those vectors, so a Config stays copyable. Keys are exact strings (no normalisation).
struct ConfigIndex {
  /// std::hash over string_view, so lookups take a string_view without a copy.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using Map = std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>>;

  Map account_by_system_id{};      ///< Account::system_id -> accounts[i]
  Map program_by_id{};             ///< Program::id -> programs[i]
  Map program_by_number{};         ///< each of Program::numbers -> programs[i]
  Map upstream_by_name{};          ///< Upstream::name -> upstreams[i]
  Map route_by_prefix{};           ///< Route::prefix -> index of the first route with it
  std::size_t longest_prefix = 0;  ///< longest Route::prefix, bounds route_for's probes
  bool operator==(const ConfigIndex&) const = default;
};

/// The whole configuration. Built by load_config_file/load_config_string (validated, indexed);
/// code that builds one by hand (tests) must call build_index() before the lookups.
struct Config {
  std::string node_id{};  ///< 1..16 of [A-Za-z0-9_-]; in proxy message ids and logs (required)
  StoreConfig store{};    ///< consent store
  std::optional<ClusterConfig> cluster{};  ///< cluster mode (PostgreSQL); nullopt = one node
  ListenConfig listen{};                   ///< proxy sockets
  AdminConfig admin{};                     ///< /v1 API tokens
  LogConfig log{};                         ///< logging
  std::vector<Account> accounts{};         ///< ESMEs allowed to bind (at least one)
  std::vector<Upstream> upstreams{};       ///< carrier links (at least one)
  std::vector<Route> routes{};             ///< MT routing, in order (at least one)
  Defaults defaults{};                     ///< shared settings
  std::vector<Program> programs{};         ///< messaging programs (at least one)
  ConfigIndex index{};                     ///< derived; see build_index()

  /// Rebuilds `index` from the vectors. Not thread-safe; call before sharing the Config.
  void build_index();

  /// The account with this bind system_id, or nullptr.
  const Account* find_account(std::string_view system_id) const;
  /// The program with this id, or nullptr.
  const Program* find_program(std::string_view id) const;
  /// The program owning a sender number ("+18005550100" or short code "12345"), or nullptr.
  const Program* program_for_number(std::string_view number) const;
  /// The upstream with this name, or nullptr.
  const Upstream* find_upstream(std::string_view name) const;
  /// The first route, in file order, whose prefix starts the E.164 destination ("+1555..."), or
  /// nullptr. At most longest_prefix + 1 hash probes, whatever the number of routes.
  const Route* route_for(std::string_view e164_destination) const;
  /// The upstream of route_for(destination), or nullptr.
  const Upstream* upstream_for(std::string_view e164_destination) const;
  /// The admin token equal to a presented bearer token, or nullptr. Compares every token in
  /// constant time, so response timing does not leak token prefixes.
  const AdminToken* find_token(std::string_view bearer) const;
  /// Whether any account belongs to this tenant.
  bool has_tenant(std::string_view tenant) const;
  bool operator==(const Config&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Loading.

/// How bad a finding is: errors stop the load; warnings are reported and the load goes on.
enum class Severity : std::uint8_t { error, warning };

/// One finding of the loader.
struct Diagnostic {
  std::string file{};     ///< file name as given to the loader
  int line = 0;           ///< 1-based; 0 when the finding concerns the whole file (unreadable)
  std::string key{};      ///< key path, "programs[0].quiet_hours.start"; empty for syntax errors
  std::string message{};  ///< what is wrong and, when cheap, what would be right
  Severity severity = Severity::error;

  /// "file:line: key: message"; warnings read "file:line: key: warning: message"; the line and
  /// key parts are left out when 0 / empty.
  std::string to_string() const;
  bool operator==(const Diagnostic&) const = default;
};

/// Thrown by the loaders with every error found (sorted by line); what() is their to_string()
/// lines joined by '\n'.
class ConfigErrors : public std::runtime_error {
 public:
  explicit ConfigErrors(std::vector<Diagnostic> errors);
  const std::vector<Diagnostic>& errors() const noexcept { return errors_; }

 private:
  std::vector<Diagnostic> errors_{};
};

/// Reads, substitutes ${ENV}, validates and indexes a config file. Throws ConfigErrors; warnings
/// (a program whose tenant has no account, ...) go to *warnings when given.
Config load_config_file(const std::string& path, std::vector<Diagnostic>* warnings = nullptr);
/// The same for YAML text; `name` stands for the file in diagnostics.
Config load_config_string(std::string_view yaml, std::string_view name,
                          std::vector<Diagnostic>* warnings = nullptr);

/// Outcome of check_config_*: the config is usable when `errors` is empty.
struct CheckResult {
  std::vector<Diagnostic> errors{};    ///< sorted by line; non-empty means exit 2
  std::vector<Diagnostic> warnings{};  ///< sorted by line; printed, not fatal
  bool ok() const { return errors.empty(); }
};

/// For `smppguard check-config`: loads without throwing and returns every finding.
CheckResult check_config_file(const std::string& path);
/// The same for YAML text.
CheckResult check_config_string(std::string_view yaml, std::string_view name);

}  // namespace smppguard::config
