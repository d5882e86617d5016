#include "harness.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace e2e {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// A loopback port nobody listens on (bound, read, released).
std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

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

std::string ConfigSpec::render() const {
  std::ostringstream y;
  y << "node_id: " << cfg::kNodeId << "\n"
    << "store:\n  path: " << store_path << "\n  sync: true\n"
    << "listen:\n  smpp: 127.0.0.1:0\n  http: 127.0.0.1:0\n"
    << "  bind_timeout: " << bind_timeout << "\n  max_pdu_size: " << max_pdu_size << "\n"
    << "log:\n  level: " << log_level << "\n"
    << "accounts:\n";
  for (const auto& a : accounts) {
    y << "  - system_id: " << a.system_id << "\n    password: \"" << a.password << "\"\n"
      << "    tenant: " << a.tenant << "\n    window: " << a.window
      << "\n    throughput: " << a.throughput << "\n    max_binds: " << a.max_binds << "\n";
    if (!a.allowed_ips.empty()) {
      y << "    allowed_ips: [";
      for (std::size_t i = 0; i < a.allowed_ips.size(); ++i) {
        y << (i ? ", " : "") << a.allowed_ips[i];
      }
      y << "]\n";
    }
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
    << "programs:\n"
    << "  - id: acme-alerts\n    tenant: acme\n    name: \"Acme Alerts\"\n"
    << "    numbers: [\"+" << cfg::kAcmeNumber << "\", \"" << cfg::kAcmeShortCode << "\"]\n"
    << "    opt_in_mode: strict\n    quiet_hours: null\n    help_contact: \"help@acme.example\"\n"
    << "  - id: globex-news\n    tenant: globex\n    name: \"Globex News\"\n"
    << "    numbers: [\"+" << cfg::kGlobexNumber << "\"]\n"
    << "    opt_in_mode: strict\n    quiet_hours: null\n    help_contact: \"help@globex.example\"\n";
  return y.str();
}

// ---- Simulator --------------------------------------------------------------------------------

Simulator::Simulator(const std::filesystem::path& dir, const std::vector<std::string>& extra_args) {
  const auto ports = dir / "sim-ports.json";
  std::vector<std::string> argv = {smppguard_bin(), "smsc-sim",     "--smpp",
                                   "127.0.0.1:0",   "--http",       "127.0.0.1:0",
                                   "--ports-file",  ports.string(), "--system-id",
                                   cfg::kSimSystemId, "--password", cfg::kSimPassword};
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

void Simulator::add_rule(const std::string& prefix, const std::string& action,
                         std::uint32_t status, int delay_ms) {
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
    options_.config.upstream_port = closed_port();
  }
  options_.config.store_path = (dir_.path() / "store").string();
  config_path_ = dir_.path() / "smppguard.yaml";
  write_config();
  start_daemon(options_.wait_ready && options_.simulator);
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
