#pragma once
// HttpServer: a small HTTP/1.1 server on Boost.Beast for the admin API and the simulator's control
// port. Keep-alive, a header and body size limit, read/idle timeouts; each connection runs as a
// coroutine on its own strand and hands complete requests to one async handler.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace smppguard::admin {

/// A parsed request. Header names are lower case.
struct HttpRequest {
  std::string method;   // "GET", "PUT", ...
  std::string target;   // as sent: path and query
  std::string path;     // decoded path, without the query
  std::vector<std::string> segments;             // decoded path segments ("/v1/a%2Bb" -> v1, a+b)
  std::multimap<std::string, std::string> query; // decoded query parameters
  std::map<std::string, std::string> headers;
  std::string body;
  std::string peer;

  /// The first value of a query parameter, or nullptr.
  const std::string* param(std::string_view name) const;
  /// A header value, or an empty string.
  std::string header(std::string_view name) const;
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpResponse json(unsigned status, std::string body);
  static HttpResponse text(unsigned status, std::string body);
  /// `{"error": {"code": code, "message": message}}`.
  static HttpResponse error(unsigned status, std::string_view code, std::string_view message);
};

using HttpHandler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest&)>;

struct HttpLimits {
  std::size_t max_body = 1u << 20;
  std::size_t max_header = 16u << 10;
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds idle_timeout{60};
};

class HttpServer {
 public:
  /// Binds the listening socket; throws std::system_error when the address cannot be used.
  HttpServer(boost::asio::io_context& io, const config::HostPort& address, HttpHandler handler,
             HttpLimits limits = {});
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void start();
  /// Stops accepting; open connections end after their current request. Any thread.
  void stop();

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  HttpHandler handler_;
  HttpLimits limits_;
};

}  // namespace smppguard::admin
