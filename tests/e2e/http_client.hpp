#pragma once
// A tiny blocking HTTP/1.1 client for end-to-end tests: one request per connection
// (Connection: close) to 127.0.0.1, JSON bodies, bounded by a timeout. Used for the simulator's
// control API and the daemon's /healthz, /readyz and /metrics.
// Thread-safety: the free functions share nothing.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace e2e {

/// What came back. status 0 means no answer (connection refused, timeout, garbage).
struct HttpResult {
  int status = 0;
  std::string body;
  std::string error;  // why status is 0
};

/// A TCP socket connected to 127.0.0.1:port, or -1 with `error` set. The caller closes it.
int connect_loopback(std::uint16_t port, std::string& error);

/// Sends `method path` to 127.0.0.1:port with `body` as application/json when not empty.
HttpResult http_request(std::uint16_t port, const std::string& method, const std::string& path,
                        const std::string& body = "",
                        std::chrono::milliseconds timeout = std::chrono::seconds(10));
inline HttpResult http_get(std::uint16_t port, const std::string& path,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  return http_request(port, "GET", path, "", timeout);
}
inline HttpResult http_post(std::uint16_t port, const std::string& path, const std::string& body,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  return http_request(port, "POST", path, body, timeout);
}
inline HttpResult http_delete(std::uint16_t port, const std::string& path,
                              std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  return http_request(port, "DELETE", path, "", timeout);
}

/// The sum of the Prometheus samples named `name` in a /metrics text whose labels include all of
/// `labels` (other labels may differ), e.g. metric_value(text, "smppguard_upstream_up",
/// {{"upstream", "sim"}}); nullopt when no sample matches.
std::optional<double> metric_value(
    const std::string& metrics_text, const std::string& name,
    const std::vector<std::pair<std::string, std::string>>& labels = {});

}  // namespace e2e
