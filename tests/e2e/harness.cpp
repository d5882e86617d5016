#include "harness.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <smppguard/proto/commands.hpp>
#include <sstream>
#include <stdexcept>

namespace e2e {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// A loopback port nobody listens on (bound, read, released).

std::pair<std::uint16_t, std::uint16_t> read_ports(const std::filesystem::path& file) {
  const auto v = json::parse(read_file(file));
  const auto& o = v.as_object();
  return {static_cast<std::uint16_t>(o.at("smpp").to_number<int>()),
          static_cast<std::uint16_t>(o.at("http").to_number<int>())};
}

std::string tail(const std::string& text, std::size_t n = 4000) {
  return text.size() <= n ? text : text.substr(text.size() - n);
}

}  // namespace

std::string json_string(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return "";
  return std::string(it->value().as_string());
}

std::int64_t json_int(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_number()) return -1;
  return it->value().to_number<std::int64_t>();
}

// ---- ConfigSpec -------------------------------------------------------------------------------

namespace {

std::string digits_of(const std::string& number) {
  return number.starts_with("+") ? number.substr(1) : number;
}

void yaml_list(std::ostringstream& y, const std::vector<std::string>& items, bool quote) {
  y << "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    y << (i ? ", " : "") << (quote ? "\"" : "") << items[i] << (quote ? "\"" : "");
  }
  y << "]";
}

void render_program(std::ostringstream& y, const ProgramSpec& p) {
  y << "  - id: " << p.id << "\n    tenant: " << p.tenant << "\n    name: \"" << p.name << "\"\n"
    << "    numbers: ";
  yaml_list(y, p.numbers, true);
  y << "\n    opt_in_mode: " << p.opt_in_mode << "\n";
  if (!p.help_contact.empty()) y << "    help_contact: \"" << p.help_contact << "\"\n";
  auto opt = [&](const char* key, const std::string& v) {
    if (!v.empty()) y << "    " << key << ": " << v << "\n";
  };
  auto opt_bool = [&](const char* key, const std::optional<bool>& v) {
    if (v) y << "    " << key << ": " << (*v ? "true" : "false") << "\n";
  };
  opt_bool("hold", p.hold);
  opt("hold_ttl", p.hold_ttl);
  opt("request_interval", p.request_interval);
  opt("implied_ttl", p.implied_ttl);
  opt("reminder_interval", p.reminder_interval);
  opt("stop_scope", p.stop_scope);
  opt_bool("phrase_opt_out", p.phrase_opt_out);
  opt_bool("mo_requires_consent", p.mo_requires_consent);
  opt_bool("forward_keywords", p.forward_keywords);
  opt("timezone", p.timezone);
  if (p.quiet_hours) {
    y << "    quiet_hours: { start: \"" << p.quiet_hours->start << "\", end: \""
      << p.quiet_hours->end << "\", action: " << p.quiet_hours->action << " }\n";
  } else {
    y << "    quiet_hours: null\n";
  }
  if (p.frequency_cap) {
    y << "    frequency_cap: { max: " << p.frequency_cap->max << ", per: " << p.frequency_cap->per;
    if (!p.frequency_cap->categories.empty()) {
      y << ", categories: ";
      yaml_list(y, p.frequency_cap->categories, false);
    }
    y << " }\n";
  }
  if (!p.join_keywords.empty() || !p.opt_out_keywords.empty() || !p.opt_in_keywords.empty() ||
      !p.help_keywords.empty()) {
    y << "    keywords:\n";
    const std::pair<const char*, const std::vector<std::string>*> lists[] = {
        {"opt_out", &p.opt_out_keywords},
        {"opt_in", &p.opt_in_keywords},
        {"help", &p.help_keywords},
        {"join", &p.join_keywords}};
    for (const auto& [key, words] : lists) {
      if (words->empty()) continue;
      y << "      " << key << ": ";
      yaml_list(y, *words, true);
      y << "\n";
    }
  }
}

}  // namespace

std::string ConfigSpec::render() const {
  std::ostringstream y;
  y << "node_id: " << node_id << "\n";
  if (!cluster_postgres.empty()) {
    y << "cluster:\n  postgres: \"" << cluster_postgres << "\"\n";
    if (!cluster_max_lag.empty()) y << "  max_lag: " << cluster_max_lag << "\n";
  }
  y << "store:\n  path: " << store_path << "\n  sync: true\n  min_free_mb: " << store_min_free_mb
    << "\n"
    << "listen:\n  smpp: 127.0.0.1:0\n  http: 127.0.0.1:0\n"
    << "  bind_timeout: " << bind_timeout << "\n  max_pdu_size: " << max_pdu_size << "\n"
    << "log:\n  level: " << log_level << "\n"
    << "accounts:\n";
  for (const auto& a : accounts) {
    y << "  - system_id: " << a.system_id << "\n    password: \"" << a.password << "\"\n"
      << "    tenant: " << a.tenant << "\n    window: " << a.window
      << "\n    throughput: " << a.throughput << "\n    max_binds: " << a.max_binds << "\n";
    if (!a.allowed_ips.empty()) {
      y << "    allowed_ips: ";
      yaml_list(y, a.allowed_ips, false);
      y << "\n";
    }
    if (!a.refuse_with.empty()) y << "    refuse_with: " << a.refuse_with << "\n";
    if (!a.default_category.empty()) y << "    default_category: " << a.default_category << "\n";
  }
  y << "upstreams:\n"
    << "  - name: " << cfg::kUpstream << "\n    host: 127.0.0.1\n    port: " << upstream_port
    << "\n    system_id: " << cfg::kSimSystemId << "\n    password: " << cfg::kSimPassword
    << "\n    bind: transceiver\n    sessions: " << upstream_sessions
    << "\n    window: " << upstream_window << "\n    throughput: " << upstream_throughput
    << "\n    enquire_link: " << enquire_link << "\n    response_timeout: " << response_timeout
    << "\n    reconnect: { min: " << reconnect_min << ", max: " << reconnect_max << " }"
    << "\n    message_id_format: " << message_id_format << "\n"
    << "routes:\n  - { prefix: \"\", upstream: " << cfg::kUpstream << " }\n"
    << "programs:\n";
  for (const auto& p : programs) render_program(y, p);
  return y.str();
}

const ProgramSpec* ConfigSpec::program_of_number(const std::string& number) const {
  for (const auto& p : programs) {
    for (const auto& n : p.numbers) {
      if (digits_of(n) == digits_of(number)) return &p;
    }
  }
  return nullptr;
}

ProgramSpec* ConfigSpec::program(const std::string& id) {
  for (auto& p : programs) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

// ---- Simulator --------------------------------------------------------------------------------

Simulator::Simulator(const std::filesystem::path& dir, const std::vector<std::string>& extra_args) {
  const auto ports = dir / "sim-ports.json";
  std::vector<std::string> argv = {simulator_bin(),   "smsc-sim",     "--smpp",
                                   "127.0.0.1:0",     "--http",       "127.0.0.1:0",
                                   "--ports-file",    ports.string(), "--system-id",
                                   cfg::kSimSystemId, "--password",   cfg::kSimPassword};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<Process>(argv, dir / "sim.log");
  if (!wait_for_file(ports, 30s)) {
    throw std::runtime_error("the simulator wrote no ports file; its log:\n" +
                             tail(process_->log()));
  }
  std::tie(smpp_port_, http_port_) = read_ports(ports);
}

json::value Simulator::get_json(const std::string& path) {
  const auto r = http_get(http_port_, path);
  if (r.status != 200) {
    throw std::runtime_error("simulator GET " + path + " -> " + std::to_string(r.status) + " " +
                             r.error + r.body);
  }
  return json::parse(r.body);
}

std::vector<json::object> Simulator::messages(const std::string& command) {
  std::vector<json::object> out;
  const auto v = get_json("/messages");
  for (const auto& m : v.as_array()) {
    const auto& o = m.as_object();
    if (command.empty() || json_string(o, "command") == command) out.push_back(o);
  }
  return out;
}

void Simulator::clear_messages() {
  const auto r = http_delete(http_port_, "/messages");
  if (r.status / 100 != 2) throw std::runtime_error("simulator DELETE /messages failed");
}

HttpResult Simulator::post_mo(const json::object& body, std::chrono::milliseconds timeout) {
  return http_post(http_port_, "/mo", json::serialize(body), timeout);
}

HttpResult Simulator::post_receipt(const std::string& carrier_message_id,
                                   std::chrono::milliseconds timeout) {
  json::object body;
  body["message_id"] = carrier_message_id;
  return http_post(http_port_, "/receipt", json::serialize(body), timeout);
}

void Simulator::add_rule(const std::string& prefix, const std::string& action, std::uint32_t status,
                         int delay_ms) {
  json::object o;
  o["prefix"] = prefix;
  o["action"] = action;
  if (action == "status") o["status"] = status;
  if (action == "delay") o["delay_ms"] = delay_ms;
  const auto r = http_post(http_port_, "/rules", json::serialize(o));
  if (r.status / 100 != 2) {
    throw std::runtime_error("simulator POST /rules -> " + std::to_string(r.status) + r.body);
  }
}

void Simulator::clear_rules() {
  const auto r = http_delete(http_port_, "/rules");
  if (r.status / 100 != 2) throw std::runtime_error("simulator DELETE /rules failed");
}

void Simulator::disconnect() {
  const auto r = http_post(http_port_, "/disconnect", "{}");
  if (r.status / 100 != 2) throw std::runtime_error("simulator POST /disconnect failed");
}

// ---- DaemonProcess ----------------------------------------------------------------------------

DaemonProcess::DaemonProcess(const std::filesystem::path& config,
                             const std::filesystem::path& ports_file,
                             const std::filesystem::path& log_file) {
  process_ = std::make_unique<Process>(
      std::vector<std::string>{smppguard_bin(), "run", "--config", config.string(), "--ports-file",
                               ports_file.string()},
      log_file);
  if (!wait_for_file(ports_file, 30s)) {
    throw std::runtime_error("the daemon wrote no ports file; its log:\n" + tail(process_->log()));
  }
  std::tie(smpp_port_, http_port_) = read_ports(ports_file);
}

// ---- Harness ----------------------------------------------------------------------------------

Harness::Harness(HarnessOptions options) : options_(std::move(options)) {
  if (options_.simulator) {
    sim_ = std::make_unique<Simulator>(dir_.path(), options_.sim_args);
    options_.config.upstream_port = sim_->smpp_port();
  } else {
    options_.config.upstream_port =
        options_.upstream_port != 0 ? options_.upstream_port : free_loopback_port();
  }
  if (options_.config.store_path.empty()) {
    options_.config.store_path = (dir_.path() / "store").string();
  }
  config_path_ = dir_.path() / "smppguard.yaml";
  write_config();
  start_daemon(options_.wait_ready && options_.simulator);
  if (!options_.opt_in.empty()) {
    if (!options_.simulator) throw std::runtime_error("opt_in needs the simulator");
    if (!options_.wait_ready && !wait_readyz(200)) {
      throw std::runtime_error("the daemon did not become ready; its log:\n" + tail(daemon_log()));
    }
    opt_in(options_.opt_in, /*drain_mo=*/true);
  }
}

Harness::~Harness() {
  daemon_.reset();
  sim_.reset();
  // SMPPGUARD_E2E_LOGS=1 prints both processes' logs, to see what happened in a failed test.
  if (const char* v = std::getenv("SMPPGUARD_E2E_LOGS"); v != nullptr && *v == '1') {
    std::fprintf(stderr, "---- daemon log (%s)\n%s---- simulator log\n%s----\n",
                 dir_.path().c_str(), daemon_log().c_str(),
                 read_file(dir_.path() / "sim.log").c_str());
  }
}

Simulator& Harness::sim() {
  if (!sim_) throw std::runtime_error("this harness runs without the simulator");
  return *sim_;
}

void Harness::write_config() {
  // Written to a temp name and renamed, so a SIGHUP never reads half a file.
  const auto tmp = config_path_.string() + ".tmp";
  e2e::write_file(tmp, options_.config.render());
  std::filesystem::rename(tmp, config_path_);
}

void Harness::start_daemon(bool wait_ready) {
  daemon_.reset();
  ++daemon_runs_;
  const auto ports = dir_.path() / ("ports-" + std::to_string(daemon_runs_) + ".json");
  daemon_ = std::make_unique<DaemonProcess>(config_path_, ports, dir_.path() / "daemon.log");
  if (wait_ready && !wait_readyz(200)) {
    throw std::runtime_error("the daemon did not become ready; its log:\n" + tail(daemon_log()));
  }
}

void Harness::kill9_daemon() {
  if (daemon_) daemon_->process().kill9();
}

std::optional<int> Harness::stop_daemon(std::chrono::milliseconds timeout) {
  if (!daemon_) return std::nullopt;
  daemon_->process().signal(SIGTERM);
  return daemon_->process().wait(timeout);
}

void Harness::stop_simulator() { sim_.reset(); }

void Harness::opt_in(const std::vector<OptIn>& subscribers, bool drain_mo) {
  // 1. START from each subscriber; the proxy records express consent before it answers the
  //    carrier, then sends its opt_in_confirm from the number texted.
  std::map<std::string, int> per_tenant;  // START MOs forwarded to each tenant
  for (const auto& s : subscribers) {
    const auto* program = options_.config.program_of_number(s.number);
    if (program == nullptr) throw std::runtime_error("opt_in: no program owns " + s.number);
    json::object mo;
    mo["from"] = "+" + digits_of(s.msisdn);
    mo["to"] = s.number;
    mo["text"] = "START";
    const auto r = sim().post_mo(mo);
    if (r.status != 200) {
      throw std::runtime_error("opt_in: POST /mo -> " + std::to_string(r.status) + " " + r.error +
                               r.body);
    }
    const auto status = json_int(json::parse(r.body).as_object(), "status");
    if (status != 0) {
      throw std::runtime_error("opt_in: the proxy answered START with status " +
                               std::to_string(status));
    }
    ++per_tenant[program->tenant];
  }
  // 2. Every confirmation reached the carrier.
  const bool confirmed = eventually(
      [&] {
        const auto sent = sim().messages("submit_sm");
        for (const auto& s : subscribers) {
          bool found = false;
          for (const auto& m : sent) {
            found = found || (json_string(m, "destination_addr") == digits_of(s.msisdn) &&
                              json_string(m, "source_addr") == digits_of(s.number));
          }
          if (!found) return false;
        }
        return true;
      },
      10s);
  if (!confirmed) {
    throw std::runtime_error("opt_in: no opt_in_confirm reached the carrier; daemon log:\n" +
                             tail(daemon_log()));
  }
  sim().clear_messages();
  if (!drain_mo) return;
  // 3. The START MOs wait in the tenant's delivery queue: a receiver takes them off.
  for (const auto& [tenant, n] : per_tenant) {
    const AccountSpec* account = nullptr;
    for (const auto& a : options_.config.accounts) {
      if (a.tenant == tenant && a.allowed_ips.empty() && account == nullptr) account = &a;
    }
    if (account == nullptr) continue;  // nobody can receive them; nothing to drain
    auto rx = bind(smppguard::proto::cmd::kBindReceiver, account->system_id, account->password);
    for (int i = 0; i < n; ++i) {
      if (!rx->receive_deliver(0, 10s)) {
        throw std::runtime_error("opt_in: the START MO did not reach " + account->system_id);
      }
    }
    rx->unbind();
    rx->wait_closed(5s);
    const std::vector<std::pair<std::string, std::string>> labels = {{"side", "esme"},
                                                                     {"name", account->system_id}};
    if (!eventually([&] { return metric("smppguard_binds", labels).value_or(0) == 0; }, 5s)) {
      throw std::runtime_error("opt_in: the draining receiver did not go away");
    }
  }
  if (!eventually(
          [&] {
            return metric("smppguard_queue_depth", {{"queue", "mo"}}).value_or(0) == 0;
          },
          5s)) {
    throw std::runtime_error("opt_in: START MOs left in the queue");
  }
}

std::string Harness::daemon_log() const { return read_file(dir_.path() / "daemon.log"); }

std::unique_ptr<SmppClient> Harness::connect(const std::string& source_ip) {
  return std::make_unique<SmppClient>(smpp_port(), source_ip);
}

std::unique_ptr<SmppClient> Harness::bind(std::uint32_t bind_command_id,
                                          const std::string& system_id,
                                          const std::string& password) {
  auto c = connect();
  c->bind_ok(bind_command_id, system_id, password);
  return c;
}

std::string Harness::metrics() {
  const auto r = daemon_get("/metrics");
  if (r.status != 200) throw std::runtime_error("GET /metrics failed: " + r.error);
  return r.body;
}

std::optional<double> Harness::metric(
    const std::string& name, const std::vector<std::pair<std::string, std::string>>& labels) {
  return metric_value(metrics(), name, labels);
}

bool Harness::wait_readyz(int status, std::chrono::milliseconds timeout) {
  return eventually([&] { return daemon_get("/readyz").status == status; }, timeout);
}

}  // namespace e2e
