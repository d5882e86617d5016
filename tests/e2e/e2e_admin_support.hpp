#pragma once
// Shared by the e2e_admin_* tests: a harness whose config adds admin tokens and a confirm-mode
// program (applied by SIGHUP, so the standard harness needs no change), and an HTTP client that
// sends headers, streams large bodies (Content-Length or chunked) and reads chunked answers.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/tlv.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.hpp"
#include "http_client.hpp"

namespace e2e::admin {

namespace json = boost::json;
using namespace std::chrono_literals;

inline constexpr const char* kToken = "crm-token-0123456789abcdef";     // name "crm"
inline constexpr const char* kOpsToken = "ops-token-fedcba9876543210";  // name "ops"
// Program acme-promo (tenant acme), confirm mode: the first MT asks for YES and is held.
inline constexpr const char* kPromoNumber = "18005550111";
inline constexpr const char* kSub = "+15551234567";  // cfg::kSubscriber with its plus

/// The extra YAML: a confirm-mode program (continuing the harness's programs list) and tokens.
inline std::string admin_yaml() {
  return std::string("  - id: acme-promo\n    tenant: acme\n    name: \"Acme Promo\"\n") +
         "    numbers: [\"+" + kPromoNumber + "\"]\n" +
         "    opt_in_mode: confirm\n    quiet_hours: null\n    help_contact: "
         "\"help@acme.example\"\n" +
         "admin:\n  tokens:\n    - name: crm\n      token: " + kToken +
         "\n    - name: ops\n      token: " + kOpsToken + "\n";
}

/// Rewrites the config with admin_yaml() and reloads it (SIGHUP), waiting until the token works.
inline void enable_admin(Harness& h) {
  write_file(h.config_path().string() + ".tmp", h.config().render() + admin_yaml());
  std::filesystem::rename(h.config_path().string() + ".tmp", h.config_path());
  h.daemon().process().signal(SIGHUP);
  const bool ok = eventually(
      [&] {
        auto r = http_request(h.http_port(), "GET", "/healthz");  // the loop answers
        (void)r;
        return h.daemon_log().find("event=reloaded") != std::string::npos;
      },
      15s);
  if (!ok) throw std::runtime_error("the admin config was not reloaded:\n" + h.daemon_log());
}

/// A harness with the admin config in force.
inline std::unique_ptr<Harness> admin_harness(HarnessOptions options = {}) {
  auto h = std::make_unique<Harness>(std::move(options));
  enable_admin(*h);
  return h;
}

/// Writes the admin config for a daemon that is not running (for restarts).
inline void write_admin_config(Harness& h) {
  write_file(h.config_path().string() + ".tmp", h.config().render() + admin_yaml());
  std::filesystem::rename(h.config_path().string() + ".tmp", h.config_path());
}

/// An HTTP answer.
struct Reply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;                           // why status is 0
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  json::value json() const { return json::parse(body); }
  json::object object() const { return json::parse(body).as_object(); }
  /// The "error.code" of an error answer ("" when not one).
  std::string code() const {
    try {
      return std::string(json::parse(body).at("error").at("code").as_string());
    } catch (const std::exception&) {
      return "";
    }
  }
  /// NDJSON lines.
  std::vector<json::object> lines() const {
    std::vector<json::object> out;
    std::istringstream in(body);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) out.push_back(json::parse(line).as_object());
    }
    return out;
  }
};

struct Request {
  std::string method = "GET";
  std::string path;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string token = kToken;  // "" = no Authorization header
  /// A streamed body: called until it returns false, each call returning the next piece.
  std::function<bool(std::string&)> producer;
  bool chunked = false;              // with producer: chunked (else content_length below)
  std::uint64_t content_length = 0;  // with producer and !chunked
  std::chrono::milliseconds timeout = 30s;
};

namespace detail {
inline bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}
inline std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace detail

/// One request on a fresh connection (Connection: close) to 127.0.0.1:port.
inline Reply call(std::uint16_t port, const Request& r) {
  Reply out;
  const int fd = connect_loopback(port, out.error);
  if (fd < 0) return out;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  std::ostringstream head;
  head << r.method << ' ' << r.path << " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!r.token.empty()) head << "Authorization: Bearer " << r.token << "\r\n";
  for (const auto& [k, v] : r.headers) head << k << ": " << v << "\r\n";
  if (r.producer) {
    if (r.chunked) {
      head << "Transfer-Encoding: chunked\r\n";
    } else {
      head << "Content-Length: " << r.content_length << "\r\n";
    }
  } else if (!r.body.empty() || r.method == "POST" || r.method == "PUT") {
    head << "Content-Length: " << r.body.size() << "\r\n";
  }
  head << "\r\n";
  bool sent = detail::send_all(fd, head.str());
  if (r.producer) {
    std::string piece;
    bool more = true;
    while (sent && more) {
      piece.clear();
      more = r.producer(piece);
      if (piece.empty()) continue;
      if (r.chunked) {
        char size[32];
        std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
        sent = detail::send_all(fd, size) && detail::send_all(fd, piece) &&
               detail::send_all(fd, "\r\n");
      } else {
        sent = detail::send_all(fd, piece);
      }
    }
    if (sent && r.chunked) sent = detail::send_all(fd, "0\r\n\r\n");
  } else if (sent) {
    sent = detail::send_all(fd, r.body);
  }
  // Read everything until the server closes (Connection: close), even when sending failed:
  // an early answer (401, 413) is still there to read.
  std::string in;
  const auto deadline = std::chrono::steady_clock::now() + r.timeout;
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      out.error = "timeout";
      break;
    }
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(
        &p, 1,
        static_cast<int>(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1));
    if (n <= 0) continue;
    char buf[65536];
    const auto got = ::recv(fd, buf, sizeof buf, 0);
    if (got <= 0) break;
    in.append(buf, static_cast<std::size_t>(got));
  }
  const auto end = in.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (out.error.empty()) out.error = "no answer";
    return out;
  }
  std::istringstream lines(in.substr(0, end));
  std::string line;
  std::getline(lines, line);
  out.status = std::atoi(line.substr(9, 3).c_str());
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string v = line.substr(colon + 1);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    out.headers[detail::lower(line.substr(0, colon))] = v;
  }
  std::string body = in.substr(end + 4);
  if (detail::lower(out.header("transfer-encoding")) == "chunked") {
    std::string decoded;
    std::size_t pos = 0;
    bool complete = false;
    while (pos < body.size()) {
      const auto eol = body.find("\r\n", pos);
      if (eol == std::string::npos) break;
      const auto size = std::strtoul(body.substr(pos, eol - pos).c_str(), nullptr, 16);
      if (size == 0) {
        complete = true;
        break;
      }
      decoded.append(body, eol + 2, size);
      pos = eol + 2 + size + 2;
    }
    if (!complete) out.error = "chunked body cut short";
    body = std::move(decoded);
  }
  out.body = std::move(body);
  return out;
}

/// Convenience wrappers with the crm token.
inline Reply get(Harness& h, const std::string& path, const std::string& token = kToken) {
  Request r;
  r.path = path;
  r.token = token;
  return call(h.http_port(), r);
}
inline Reply send(Harness& h, const std::string& method, const std::string& path,
                  const std::string& body, const std::string& token = kToken) {
  Request r;
  r.method = method;
  r.path = path;
  r.body = body;
  r.token = token;
  return call(h.http_port(), r);
}
inline Reply put_consent(Harness& h, const std::string& program, const std::string& msisdn,
                         const json::object& body) {
  return send(h, "PUT", "/v1/consents/" + program + "/" + msisdn, json::serialize(body));
}

/// An NDJSON import line.
inline std::string import_line(const std::string& program, const std::string& msisdn,
                               const std::string& state = "opted_in",
                               const std::string& level = "express") {
  json::object o;
  o["program"] = program;
  o["msisdn"] = msisdn;
  o["state"] = state;
  if (!level.empty()) o["level"] = level;
  return json::serialize(o);
}

/// A distinct valid NANP number for index i (+1 212 2xx xxxx).
inline std::string number(std::uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+1212%03llu%04llu",
                static_cast<unsigned long long>(200 + (i / 10000) % 800),
                static_cast<unsigned long long>(i % 10000));
  return buf;
}

/// Runs the smppguard binary with `args`; returns the exit status and stdout (+ stderr when
/// `with_stderr`).
struct RunResult {
  int status = -1;
  std::string out;
};
inline RunResult run_smppguard(const std::vector<std::string>& args,
                               const std::map<std::string, std::string>& env = {},
                               bool with_stderr = true) {
  std::string cmd;
  for (const auto& [k, v] : env) cmd += k + "='" + v + "' ";
  cmd += "'" + smppguard_bin() + "'";
  for (const auto& a : args) {
    std::string quoted;
    for (char c : a) {
      if (c == '\'') {
        quoted += "'\\''";
      } else {
        quoted += c;
      }
    }
    cmd += " '" + quoted + "'";
  }
  if (with_stderr) cmd += " 2>&1";
  RunResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

/// A submit_sm from the confirm-mode program to the subscriber.
inline smppguard::proto::Pdu promo_submit(const std::string& text,
                                          std::uint8_t registered_delivery = 1) {
  return make_submit(kPromoNumber, cfg::kSubscriber, text, registered_delivery);
}

}  // namespace e2e::admin
