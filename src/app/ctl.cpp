#include "app/ctl.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/decode.hpp>
#include <smppguard/proto/encode.hpp>
#include <smppguard/proto/status.hpp>
#include <smppguard/proto/tlv.hpp>
#include <stdexcept>
#include <string_view>

#include "common/time.hpp"
#include "config/config.hpp"
#include "policy/engine.hpp"
#include "policy/numbers.hpp"

namespace smppguard::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

constexpr int kOk = 0;
constexpr int kApiError = 1;
constexpr int kUsage = 2;

const char* const kUsageText =
    "usage: smppguard ctl [--url URL] [--token TOKEN] [--json] COMMAND ...\n"
    "  consent get PROGRAM MSISDN\n"
    "  consent set PROGRAM MSISDN --level implied|express|express_written\n"
    "              [--source api|web_form|verbal|paper|import] [--evidence KEY=VALUE]... "
    "[--confirm]\n"
    "  consent revoke PROGRAM MSISDN [--source S] [--evidence KEY=VALUE]...\n"
    "  import FILE.ndjson\n"
    "  audit [--msisdn M] [--program P] [--since TIME] [--until TIME] [--limit N]\n"
    "  sessions\n"
    "  cluster\n"
    "  report [--program P] [--since TIME] [--until TIME]\n"
    "  send --smpp HOST:PORT --system-id ID --password PW --from NUMBER --to MSISDN --text TEXT\n"
    "       [--category conversational|informational|promotional]\n"
    "URL and token: --url/--token, else $SMPPGUARD_URL and $SMPPGUARD_TOKEN\n"
    "(default URL http://127.0.0.1:9775). Exit: 0 ok, 1 error answered, 2 usage.\n";

int usage(std::string_view why) {
  if (!why.empty())
    std::fprintf(stderr, "smppguard ctl: %.*s\n", static_cast<int>(why.size()), why.data());
  std::fputs(kUsageText, stderr);
  return kUsage;
}

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;
  std::vector<std::string> evidence;
  bool json = false;
  bool confirm = false;
  bool help = false;

  const std::string* get(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? nullptr : &it->second;
  }
};

const std::vector<std::string_view> kValueFlags = {
    "url",   "token", "level", "source", "evidence", "msisdn",    "program",  "since",   "until",
    "limit", "smpp",  "from",  "to",     "text",     "system-id", "password", "category"};

std::optional<std::string> parse_args(const std::vector<std::string>& in, Args& out) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    std::string_view a = in[i];
    if (a == "--json") {
      out.json = true;
    } else if (a == "--confirm") {
      out.confirm = true;
    } else if (a == "--help" || a == "-h") {
      out.help = true;
    } else if (a.starts_with("--")) {
      std::string name(a.substr(2));
      std::string value;
      if (const auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
      } else {
        if (i + 1 >= in.size()) return "--" + name + " needs a value";
        value = in[++i];
      }
      if (std::find(kValueFlags.begin(), kValueFlags.end(), name) == kValueFlags.end()) {
        return "unknown option --" + name;
      }
      if (name == "evidence") {
        out.evidence.push_back(value);
      } else {
        out.values[name] = value;
      }
    } else {
      out.positional.emplace_back(a);
    }
  }
  return std::nullopt;
}

// ---- HTTP -----------------------------------------------------------------------------------

struct Endpoint {
  std::string host;
  std::string port;
  std::string base;  // path prefix without a trailing '/'
};

std::optional<Endpoint> parse_url(const std::string& text, std::string& why) {
  auto u = boost::urls::parse_uri(text);
  if (!u) {
    why = "--url '" + text + "' is not a URL";
    return std::nullopt;
  }
  if (u->scheme() != "http") {
    why = "--url must be http:// (put TLS in front with a reverse proxy)";
    return std::nullopt;
  }
  Endpoint e;
  e.host = std::string(u->host_address());
  if (e.host.size() > 2 && e.host.front() == '[') e.host = e.host.substr(1, e.host.size() - 2);
  e.port = u->has_port() ? std::string(u->port()) : "80";
  e.base = std::string(u->encoded_path());
  while (!e.base.empty() && e.base.back() == '/') e.base.pop_back();
  return e;
}

struct Answer {
  unsigned status = 0;
  std::string body;
};

class Client {
 public:
  Client(Endpoint endpoint, std::string token)
      : endpoint_(std::move(endpoint)), token_(std::move(token)) {}

  Answer request(http::verb verb, const std::string& target, const std::string& body = {}) {
    beast::tcp_stream stream(io_);
    connect(stream);
    http::request<http::string_body> req{verb, endpoint_.base + target, 11};
    headers(req);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    http::write(stream, req);
    return read(stream, nullptr);
  }

  /// POSTs a file as the body, streamed from disk.
  Answer upload(const std::string& target, const std::string& path) {
    beast::tcp_stream stream(io_);
    connect(stream);
    http::request<http::file_body> req{http::verb::post, endpoint_.base + target, 11};
    headers(req);
    req.set(http::field::content_type, "application/x-ndjson");
    beast::error_code ec;
    req.body().open(path.c_str(), beast::file_mode::scan, ec);
    if (ec) throw std::runtime_error("cannot read " + path + ": " + ec.message());
    req.prepare_payload();
    http::write(stream, req);
    return read(stream, nullptr);
  }

  /// GET whose 200 body is handed to `on_data` piece by piece; other answers are returned whole.
  Answer stream_get(const std::string& target,
                    const std::function<void(std::string_view)>& on_data) {
    beast::tcp_stream stream(io_);
    connect(stream);
    http::request<http::empty_body> req{http::verb::get, endpoint_.base + target, 11};
    headers(req);
    http::write(stream, req);
    return read(stream, &on_data);
  }

 private:
  template <typename Body>
  void headers(http::request<Body>& req) {
    req.set(http::field::host, endpoint_.host + ":" + endpoint_.port);
    req.set(http::field::user_agent, "smppguard-ctl");
    req.set(http::field::connection, "close");
    if (!token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
  }

  void connect(beast::tcp_stream& stream) {
    tcp::resolver resolver(io_);
    beast::error_code ec;
    const auto results = resolver.resolve(endpoint_.host, endpoint_.port, ec);
    if (ec) throw std::runtime_error("cannot resolve " + endpoint_.host + ": " + ec.message());
    stream.connect(results, ec);
    if (ec) {
      throw std::runtime_error("cannot connect to " + endpoint_.host + ":" + endpoint_.port + ": " +
                               ec.message() + " (is the daemon running? --url)");
    }
    // Blocking calls with a bound: an import's answer comes after the whole file is applied.
    timeval tv{600, 0};
    ::setsockopt(stream.socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(stream.socket().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  Answer read(beast::tcp_stream& stream, const std::function<void(std::string_view)>* on_data) {
    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    http::read_header(stream, buffer, parser);
    Answer a;
    a.status = parser.get().result_int();
    const bool streaming = on_data != nullptr && a.status == 200;
    std::vector<char> chunk(64u << 10);
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      beast::error_code ec;
      http::read(stream, buffer, parser, ec);
      if (ec && ec != http::error::need_buffer) throw beast::system_error(ec);
      const std::string_view got(chunk.data(), chunk.size() - parser.get().body().size);
      if (streaming) {
        (*on_data)(got);
      } else {
        a.body.append(got);
      }
    }
    return a;
  }

  asio::io_context io_;
  Endpoint endpoint_;
  std::string token_;
};

std::string encode_segment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// Prints an error answer of the API; returns kApiError.
int api_error(const Answer& a) {
  std::string code = "http_" + std::to_string(a.status);
  std::string message = a.body;
  try {
    const auto v = json::parse(a.body);
    const auto& e = v.at("error").as_object();
    code = std::string(e.at("code").as_string());
    message = std::string(e.at("message").as_string());
  } catch (const std::exception&) {
  }
  while (!message.empty() && message.back() == '\n') message.pop_back();
  std::fprintf(stderr, "error: %s: %s (HTTP %u)\n", code.c_str(), message.c_str(), a.status);
  return kApiError;
}

// ---- tables ---------------------------------------------------------------------------------

using Row = std::vector<std::string>;

void print_table(const Row& header, const std::vector<Row>& rows) {
  std::vector<std::size_t> width(header.size(), 0);
  auto measure = [&](const Row& r) {
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  };
  measure(header);
  for (const auto& r : rows) measure(r);
  auto print = [&](const Row& r) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  };
  print(header);
  for (const auto& r : rows) print(r);
}

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return "-";
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_bool()) return v->as_bool() ? "yes" : "no";
  return json::serialize(*v);
}

std::string evidence_text(const json::object& o) {
  const auto* v = o.if_contains("evidence");
  if (v == nullptr || !v->is_object() || v->as_object().empty()) return "-";
  std::string out;
  for (const auto& [k, val] : v->as_object()) {
    out += (out.empty() ? "" : " ") + std::string(k) + "=" +
           (val.is_string() ? std::string(val.as_string()) : json::serialize(val));
  }
  return out;
}

Row audit_row(const json::object& e) {
  std::string change = str(e, "old_state") + "->" + str(e, "new_state");
  if (change == "->") change = "";
  std::string what = str(e, "detail");
  if (const auto kw = str(e, "keyword"); !kw.empty()) {
    what = "keyword " + kw + " (" + str(e, "rule") + ")" + (what.empty() ? "" : "; " + what);
  }
  return {str(e, "seq"),    str(e, "time"),  str(e, "program"),
          str(e, "msisdn"), str(e, "event"), change,
          str(e, "source"), str(e, "actor"), what};
}
const Row kAuditHeader = {"SEQ",    "TIME",   "PROGRAM", "MSISDN", "EVENT",
                          "CHANGE", "SOURCE", "ACTOR",   "DETAIL"};

void print_consent(const json::object& o) {
  const Row keys = {"program",
                    "msisdn",
                    "state",
                    "level",
                    "source",
                    "handset_confirmed",
                    "created_at",
                    "updated_at",
                    "last_mo_at",
                    "opt_in_requested_at",
                    "opt_out_confirmed_at"};
  for (const auto& k : keys) {
    if (o.contains(k)) std::printf("%-21s %s\n", (k + ":").c_str(), str(o, k).c_str());
  }
  std::printf("%-21s %s\n", "evidence:", evidence_text(o).c_str());
  if (o.contains("tenant_opted_out") && o.at("tenant_opted_out").is_bool() &&
      o.at("tenant_opted_out").as_bool()) {
    std::printf("%-21s %s\n", "tenant_opted_out:", "yes (STOPALL: every program of the tenant)");
  }
  if (o.contains("effect")) {
    std::printf("%-21s %s (was %s)\n", "effect:", str(o, "effect").c_str(),
                str(o, "previous_state").c_str());
    if (o.at("opt_in_request_sent").is_bool() && o.at("opt_in_request_sent").as_bool()) {
      std::printf("%-21s %s\n", "opt_in_request:", "sent to the handset; pending until YES");
    }
  }
  if (const auto* h = o.if_contains("history"); h != nullptr && h->is_array()) {
    std::printf("\nhistory (oldest first):\n");
    std::vector<Row> rows;
    for (const auto& e : h->as_array()) rows.push_back(audit_row(e.as_object()));
    print_table(kAuditHeader, rows);
  }
}

// ---- commands -------------------------------------------------------------------------------

std::string query(const Args& args, std::initializer_list<const char*> names) {
  std::string q;
  for (const char* n : names) {
    if (const auto* v = args.get(n)) {
      q += (q.empty() ? "?" : "&") + std::string(n) + "=" + encode_segment(*v);
    }
  }
  return q;
}

int consent(Client& client, const Args& args) {
  const auto& p = args.positional;
  if (p.size() != 4) return usage("consent get|set|revoke PROGRAM MSISDN");
  const std::string& verb = p[1];
  const std::string target = "/v1/consents/" + encode_segment(p[2]) + "/" + encode_segment(p[3]);
  Answer a;
  if (verb == "get") {
    a = client.request(http::verb::get, target);
  } else if (verb == "set" || verb == "revoke") {
    json::object body;
    if (verb == "set") {
      body["state"] = "opted_in";
      const auto* level = args.get("level");
      if (level == nullptr) return usage("consent set needs --level");
      body["level"] = *level;
      if (args.confirm) body["confirm"] = true;
    } else if (args.get("level") != nullptr || args.confirm) {
      return usage("consent revoke takes --source and --evidence only");
    }
    if (const auto* source = args.get("source")) body["source"] = *source;
    if (!args.evidence.empty()) {
      json::object ev;
      for (const auto& kv : args.evidence) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) return usage("--evidence takes KEY=VALUE");
        ev[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      body["evidence"] = std::move(ev);
    }
    a = client.request(verb == "set" ? http::verb::put : http::verb::delete_, target,
                       json::serialize(body));
  } else {
    return usage("consent get|set|revoke PROGRAM MSISDN");
  }
  if (a.status >= 300) return api_error(a);
  if (args.json) {
    std::fputs(a.body.c_str(), stdout);
    return kOk;
  }
  print_consent(json::parse(a.body).as_object());
  return kOk;
}

int import_file(Client& client, const Args& args) {
  if (args.positional.size() != 2) return usage("import FILE");
  const auto a = client.upload("/v1/consents/import", args.positional[1]);
  if (a.status >= 300) return api_error(a);
  if (args.json) {
    std::fputs(a.body.c_str(), stdout);
    return kOk;
  }
  std::size_t pos = 0;
  int rc = kOk;
  while (pos < a.body.size()) {
    const auto nl = a.body.find('\n', pos);
    const std::string line =
        a.body.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? a.body.size() : nl + 1;
    if (line.empty()) continue;
    const auto o = json::parse(line).as_object();
    if (const auto* s = o.if_contains("summary")) {
      const auto& sum = s->as_object();
      std::printf("lines %s  applied %s (created %s, changed %s, unchanged %s)  rejected %s\n",
                  str(sum, "lines").c_str(), str(sum, "applied").c_str(),
                  str(sum, "created").c_str(), str(sum, "changed").c_str(),
                  str(sum, "unchanged").c_str(), str(sum, "rejected").c_str());
      if (str(sum, "rejected") != "0") rc = kApiError;
    } else {
      const auto& e = o.at("error").as_object();
      std::printf("line %s: %s: %s\n", str(o, "line").c_str(), str(e, "code").c_str(),
                  str(e, "message").c_str());
    }
  }
  return rc;
}

int audit(Client& client, const Args& args) {
  if (args.positional.size() != 1) return usage("audit takes options only");
  const std::string target =
      "/v1/audit" + query(args, {"msisdn", "program", "since", "until", "limit"});
  std::string partial;
  std::vector<Row> rows;
  auto on_data = [&](std::string_view data) {
    if (args.json) {
      std::fwrite(data.data(), 1, data.size(), stdout);
      return;
    }
    partial.append(data);
    std::size_t nl;
    while ((nl = partial.find('\n')) != std::string::npos) {
      const std::string line = partial.substr(0, nl);
      partial.erase(0, nl + 1);
      if (!line.empty()) rows.push_back(audit_row(json::parse(line).as_object()));
    }
  };
  const auto a = client.stream_get(target, on_data);
  if (a.status >= 300) return api_error(a);
  if (!args.json) print_table(kAuditHeader, rows);
  return kOk;
}

int sessions(Client& client, const Args& args) {
  const auto a = client.request(http::verb::get, "/v1/sessions");
  if (a.status >= 300) return api_error(a);
  if (args.json) {
    std::fputs(a.body.c_str(), stdout);
    return kOk;
  }
  const auto o = json::parse(a.body).as_object();
  std::vector<Row> rows;
  for (const auto& v : o.at("esme").as_array()) {
    const auto& s = v.as_object();
    rows.push_back({str(s, "account"), str(s, "bind_type"), str(s, "peer"), str(s, "since"),
                    str(s, "in_flight") + "/" + str(s, "window"), str(s, "submitted")});
  }
  std::printf("ESME binds\n");
  print_table({"ACCOUNT", "BIND", "PEER", "SINCE", "WINDOW", "SUBMITTED"}, rows);
  rows.clear();
  for (const auto& v : o.at("upstreams").as_array()) {
    const auto& s = v.as_object();
    rows.push_back({str(s, "upstream"), str(s, "index"), str(s, "role"), str(s, "state"),
                    str(s, "since"), str(s, "reconnects"), str(s, "in_flight"), str(s, "queued")});
  }
  std::printf("\nupstream binds\n");
  print_table({"UPSTREAM", "#", "ROLE", "STATE", "SINCE", "RECONNECTS", "IN_FLIGHT", "QUEUED"},
              rows);
  return kOk;
}

int cluster(Client& client, const Args& args) {
  const auto a = client.request(http::verb::get, "/v1/cluster");
  if (a.status >= 300) return api_error(a);
  if (args.json) {
    std::fputs(a.body.c_str(), stdout);
    return kOk;
  }
  const auto o = json::parse(a.body).as_object();
  const auto& pg = o.at("postgres").as_object();
  std::printf("this node %s; PostgreSQL %s, primary %s\n\n", str(o, "node_id").c_str(),
              str(pg, "state").c_str(), str(pg, "primary").c_str());
  std::vector<Row> rows;
  for (const auto& v : o.at("nodes").as_array()) {
    const auto& n = v.as_object();
    const auto& b = n.at("binds").as_object();
    rows.push_back({str(n, "node_id"), str(n, "state"), str(n, "lag_ms"), str(b, "esme"),
                    str(b, "upstream"), str(n, "last_seen")});
  }
  print_table({"NODE", "STATE", "LAG_MS", "ESME_BINDS", "UPSTREAM_BINDS", "LAST_SEEN"}, rows);
  return kOk;
}

int report(Client& client, const Args& args) {
  const auto a = client.request(http::verb::get,
                                "/v1/reports/summary" + query(args, {"program", "since", "until"}));
  if (a.status >= 300) return api_error(a);
  if (args.json) {
    std::fputs(a.body.c_str(), stdout);
    return kOk;
  }
  const auto o = json::parse(a.body).as_object();
  std::vector<Row> rows;
  auto refusals = [](const json::object& d) {
    std::string out;
    for (const auto& [k, v] : d.at("refusals").as_object()) {
      out += (out.empty() ? "" : " ") + std::string(k) + "=" + json::serialize(v);
    }
    return out.empty() ? std::string("-") : out;
  };
  for (const auto& v : o.at("days").as_array()) {
    const auto& d = v.as_object();
    rows.push_back({str(d, "date"), str(d, "opt_ins"), str(d, "opt_outs"), str(d, "helps"),
                    str(d, "opt_in_requests"), str(d, "refusals_total"), refusals(d)});
  }
  const auto& t = o.at("totals").as_object();
  rows.push_back({"total", str(t, "opt_ins"), str(t, "opt_outs"), str(t, "helps"),
                  str(t, "opt_in_requests"), str(t, "refusals_total"), refusals(t)});
  print_table({"DATE (UTC)", "OPT_INS", "OPT_OUTS", "HELPS", "REQUESTS", "REFUSED", "REASONS"},
              rows);
  return kOk;
}

// ---- send: a minimal SMPP client ----------------------------------------------------------------

class SmppSocket {
 public:
  SmppSocket(const std::string& host, const std::string& port) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
      throw std::runtime_error("cannot resolve " + host);
    }
    for (auto* ai = res; ai != nullptr && fd_ < 0; ai = ai->ai_next) {
      fd_ = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd_ >= 0 && ::connect(fd_, ai->ai_addr, ai->ai_addrlen) != 0) {
        ::close(fd_);
        fd_ = -1;
      }
    }
    ::freeaddrinfo(res);
    if (fd_ < 0) {
      throw std::runtime_error("cannot connect to " + host + ":" + port + ": " +
                               std::strerror(errno));
    }
    timeval tv{15, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~SmppSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  SmppSocket(const SmppSocket&) = delete;
  SmppSocket& operator=(const SmppSocket&) = delete;

  void send(const proto::Pdu& pdu) {
    auto bytes = proto::encode(pdu);
    if (!bytes)
      throw std::runtime_error("cannot encode " + std::string(proto::command_name(pdu.command_id)));
    std::size_t done = 0;
    while (done < bytes->size()) {
      const auto n = ::send(fd_, bytes->data() + done, bytes->size() - done, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(std::string("send: ") + std::strerror(errno));
      }
      done += static_cast<std::size_t>(n);
    }
  }

  /// The next PDU; answers enquire_link and acknowledges deliver_sm (receipts) by itself.
  proto::Pdu receive() {
    while (true) {
      std::vector<std::uint8_t> frame(4);
      read_exact(frame.data(), 4);
      const std::uint32_t len = (std::uint32_t{frame[0]} << 24) | (std::uint32_t{frame[1]} << 16) |
                                (std::uint32_t{frame[2]} << 8) | frame[3];
      if (len < 16 || len > 65536) throw std::runtime_error("bad command_length from the SMSC");
      frame.resize(len);
      read_exact(frame.data() + 4, len - 4);
      auto pdu = proto::decode(frame);
      if (!pdu) throw std::runtime_error("the SMSC sent a PDU that does not decode");
      if (pdu->command_id == proto::cmd::kEnquireLink ||
          pdu->command_id == proto::cmd::kDeliverSm) {
        send(proto::make_response(*pdu, 0));
        if (pdu->command_id == proto::cmd::kDeliverSm) deliveries_.push_back(*pdu);
        continue;
      }
      return std::move(*pdu);
    }
  }
  std::vector<proto::Pdu>& deliveries() { return deliveries_; }

 private:
  void read_exact(std::uint8_t* p, std::size_t n) {
    while (n > 0) {
      const auto r = ::recv(fd_, p, n, 0);
      if (r == 0) throw std::runtime_error("the SMSC closed the connection");
      if (r < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(errno == EAGAIN ? std::string("no answer from the SMSC in 15 s")
                                                 : std::string("recv: ") + std::strerror(errno));
      }
      p += r;
      n -= static_cast<std::size_t>(r);
    }
  }
  int fd_ = -1;
  std::vector<proto::Pdu> deliveries_;
};

std::string status_text(std::uint32_t status) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08X", status);
  std::string name(proto::status_name(status));
  // smppguard's refusal statuses (their defaults, defaults.statuses in the config).
  static const std::pair<std::uint32_t, const char*> kRefusals[] = {
      {0x400, "opted_out"},     {0x401, "no_consent"},    {0x402, "quiet_hours"},
      {0x403, "consent_level"}, {0x404, "frequency_cap"}, {0x406, "store_unavailable"}};
  for (const auto& [code, reason] : kRefusals) {
    if (code == status) name = std::string(reason) + " (refused by smppguard)";
  }
  return std::string(hex) + " " + name;
}

int send(const Args& args) {
  for (const char* n : {"smpp", "system-id", "password", "from", "to", "text"}) {
    if (args.get(n) == nullptr) return usage(std::string("send needs --") + n);
  }
  std::string why;
  const auto hp = config::HostPort::parse(*args.get("smpp"), &why);
  if (!hp) return usage("--smpp: " + why);
  std::optional<std::uint8_t> category;
  if (const auto* c = args.get("category")) {
    const auto parsed = config::parse_enum<config::Category>(*c);
    if (!parsed) return usage("--category is conversational, informational or promotional");
    category = static_cast<std::uint8_t>(*parsed);
  }
  std::string to = *args.get("to");
  auto parts = policy::build_proxy_message(*args.get("from"), to, *args.get("text"), 1);
  if (parts.empty()) {
    return usage("--from must be E.164 (+18005550100) or a short code, --to E.164, --text UTF-8");
  }
  SmppSocket smpp(hp->host, std::to_string(hp->port));
  std::uint32_t seq = 0;
  proto::Pdu bind;
  bind.command_id = proto::cmd::kBindTransceiver;
  bind.sequence_number = ++seq;
  proto::Bind b;
  b.system_id = *args.get("system-id");
  b.password = *args.get("password");
  bind.body = b;
  smpp.send(bind);
  const auto bound = smpp.receive();
  if (bound.command_status != 0) {
    std::printf("bind_transceiver_resp: %s\n", status_text(bound.command_status).c_str());
    return kApiError;
  }
  int rc = kOk;
  for (auto& part : parts) {
    part.sequence_number = ++seq;
    if (auto* sm = part.as<proto::SubmitSm>()) {
      if (category) sm->tlvs.set_u8(0x1400, *category);
    }
    smpp.send(part);
    const auto resp = smpp.receive();
    std::string id;
    if (const auto* r = resp.as<proto::SubmitSmResp>()) id = r->message_id;
    if (args.json) {
      json::object o;
      o["command"] = proto::command_name(resp.command_id);
      o["command_status"] = resp.command_status;
      o["status"] = proto::status_name(resp.command_status);
      o["message_id"] = id;
      std::printf("%s\n", json::serialize(o).c_str());
    } else {
      std::printf("%s: %s%s\n", std::string(proto::command_name(resp.command_id)).c_str(),
                  status_text(resp.command_status).c_str(),
                  id.empty() ? "" : ("  message_id " + id).c_str());
    }
    if (resp.command_status != 0) rc = kApiError;
  }
  proto::Pdu unbind;
  unbind.command_id = proto::cmd::kUnbind;
  unbind.sequence_number = ++seq;
  try {
    smpp.send(unbind);
    smpp.receive();
  } catch (const std::exception&) {
    // the message went; an unbind that is not answered does not matter
  }
  return rc;
}

}  // namespace

int ctl(const std::vector<std::string>& argv) {
  Args args;
  if (auto why = parse_args(argv, args)) return usage(*why);
  if (args.help || args.positional.empty()) {
    std::fputs(kUsageText, args.help ? stdout : stderr);
    return args.help ? kOk : kUsage;
  }
  const std::string& command = args.positional.front();
  try {
    if (command == "send") return send(args);
    std::string url = "http://127.0.0.1:9775";
    if (const char* env = std::getenv("SMPPGUARD_URL"); env != nullptr && *env != '\0') url = env;
    if (const auto* u = args.get("url")) url = *u;
    std::string token;
    if (const char* env = std::getenv("SMPPGUARD_TOKEN"); env != nullptr) token = env;
    if (const auto* t = args.get("token")) token = *t;
    std::string why;
    auto endpoint = parse_url(url, why);
    if (!endpoint) return usage(why);
    Client client(std::move(*endpoint), token);
    if (command == "consent") return consent(client, args);
    if (command == "import") return import_file(client, args);
    if (command == "audit") return audit(client, args);
    if (command == "sessions") return sessions(client, args);
    if (command == "cluster") return cluster(client, args);
    if (command == "report") return report(client, args);
    return usage("unknown command '" + command + "'");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kApiError;
  }
}

}  // namespace smppguard::app
