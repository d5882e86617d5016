#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

namespace e2e {

namespace {

// Decodes a chunked transfer-encoded body; the input unchanged when it is not well formed.
std::string dechunk(const std::string& body) {
  std::string out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    const auto eol = body.find("\r\n", pos);
    if (eol == std::string::npos) return body;
    const auto size = std::strtoul(body.substr(pos, eol - pos).c_str(), nullptr, 16);
    if (size == 0) return out;
    if (eol + 2 + size > body.size()) return body;
    out.append(body, eol + 2, size);
    pos = eol + 2 + size + 2;
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

int connect_loopback(std::uint16_t port, std::string& error) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = "socket() failed";
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

HttpResult http_request(std::uint16_t port, const std::string& method, const std::string& path,
                        const std::string& body, std::chrono::milliseconds timeout) {
  HttpResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const int fd = connect_loopback(port, result.error);
  if (fd < 0) return result;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  std::ostringstream req;
  req << method << ' ' << path << " HTTP/1.1\r\nHost: 127.0.0.1:" << port
      << "\r\nConnection: close\r\nAccept: */*\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    req << "Content-Type: application/json\r\nContent-Length: " << body.size() << "\r\n";
  }
  req << "\r\n" << body;
  const std::string out = req.str();
  std::size_t sent = 0;
  while (sent < out.size()) {
    const auto n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      result.error = std::string("send: ") + std::strerror(errno);
      return result;
    }
    sent += static_cast<std::size_t>(n);
  }

  std::string in;
  std::size_t header_end = std::string::npos;
  std::optional<std::size_t> content_length;
  while (true) {
    if (header_end == std::string::npos) {
      header_end = in.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        std::istringstream lines(in.substr(0, header_end));
        std::string line;
        std::getline(lines, line);
        while (std::getline(lines, line)) {
          const auto colon = line.find(':');
          if (colon == std::string::npos) continue;
          if (lower(line.substr(0, colon)) == "content-length") {
            content_length = std::strtoul(line.c_str() + colon + 1, nullptr, 10);
          }
        }
      }
    }
    if (header_end != std::string::npos && content_length &&
        in.size() >= header_end + 4 + *content_length) {
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      result.error = "timeout";
      return result;
    }
    pollfd p{fd, POLLIN, 0};
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    const int r = ::poll(&p, 1, static_cast<int>(std::max<long long>(1, wait.count())));
    if (r < 0 && errno != EINTR) {
      result.error = "poll failed";
      return result;
    }
    if (r <= 0) continue;
    char chunk[16384];
    const auto n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (header_end != std::string::npos) break;
      result.error = std::string("recv: ") + std::strerror(errno);
      return result;
    }
    if (n == 0) break;  // Connection: close ends the body
    in.append(chunk, static_cast<std::size_t>(n));
  }
  if (header_end == std::string::npos || in.compare(0, 5, "HTTP/") != 0) {
    result.error = "no HTTP response";
    return result;
  }
  const auto sp = in.find(' ');
  result.status = std::atoi(in.c_str() + sp + 1);
  const std::string head = lower(in.substr(0, header_end));
  result.body = in.substr(header_end + 4);
  if (content_length) {
    result.body.resize(std::min(result.body.size(), *content_length));
  } else if (head.find("transfer-encoding: chunked") != std::string::npos) {
    result.body = dechunk(result.body);
  }
  return result;
}

std::optional<double> metric_value(const std::string& metrics_text, const std::string& name,
                                   const std::vector<std::pair<std::string, std::string>>& labels) {
  std::optional<double> sum;
  std::istringstream lines(metrics_text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto name_end = line.find_first_of("{ ");
    if (name_end == std::string::npos || line.compare(0, name_end, name) != 0 ||
        name_end != name.size()) {
      continue;
    }
    std::map<std::string, std::string> have;
    std::size_t value_pos = name_end;
    if (line[name_end] == '{') {
      const auto close = line.find('}', name_end);
      if (close == std::string::npos) continue;
      // labels: k="v",k2="v2" (values in these tests never hold quotes or commas)
      std::string inner = line.substr(name_end + 1, close - name_end - 1);
      std::size_t p = 0;
      while (p < inner.size()) {
        const auto eq = inner.find('=', p);
        if (eq == std::string::npos) break;
        const auto q1 = inner.find('"', eq);
        const auto q2 = inner.find('"', q1 + 1);
        if (q1 == std::string::npos || q2 == std::string::npos) break;
        have[inner.substr(p, eq - p)] = inner.substr(q1 + 1, q2 - q1 - 1);
        p = q2 + 1;
        if (p < inner.size() && inner[p] == ',') ++p;
      }
      value_pos = close + 1;
    }
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = have.find(k);
      if (it == have.end() || it->second != v) match = false;
    }
    if (!match) continue;
    sum = sum.value_or(0.0) + std::strtod(line.c_str() + value_pos, nullptr);
  }
  return sum;
}

}  // namespace e2e
