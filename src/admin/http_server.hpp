#pragma once
// HttpServer: a small HTTP/1.1 server on Boost.Beast for the admin API and the simulator's control
// port. Keep-alive, a header and body size limit, read/idle timeouts; each connection runs as a
// coroutine on its own strand and hands requests to one async handler.
//
// Flow of a request: read the header -> ask the BodyPolicy (if any) how to take the body ->
// either read it whole (at most max_body bytes, else 413) into HttpRequest::body, or leave it to
// the handler, which reads it piece by piece through HttpRequest::body_reader (a streamed body:
// memory does not grow with its size) -> the handler's HttpResponse is written, whole or, when
// it has a `stream` producer, with chunked transfer encoding piece by piece. A connection whose
// request body was not read to its end is closed after the response.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "config/config.hpp"

namespace smppguard::admin {

/// Reads a streamed request body piece by piece (see BodyPolicy). Used on the connection's strand
/// by the handler that received it, before it returns.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  /// Appends the next piece of the body (at most ~64 KiB) to `out`. `done` turns true once the
  /// whole body has been read (possibly with the last piece). An error (timeout, closed
  /// connection, malformed chunk, the body limit) ends the body.
  virtual boost::asio::awaitable<std::error_code> read_some(std::string& out, bool& done) = 0;
  /// Whether the body has been read to its end.
  virtual bool done() const = 0;
};

/// A parsed request. Header names are lower case.
struct HttpRequest {
  std::string method;                             // "GET", "PUT", ...
  std::string target;                             // as sent: path and query
  std::string path;                               // decoded path, without the query
  std::vector<std::string> segments;              // decoded path segments ("/v1/a%2Bb" -> v1, a+b)
  std::multimap<std::string, std::string> query;  // decoded query parameters
  std::map<std::string, std::string> headers;
  std::string body;  // the whole body, unless it is streamed (body_reader)
  std::string peer;
  BodyReader* body_reader = nullptr;  // set for streamed bodies; valid during the handler

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
  /// A streamed body instead of `body`: called until it returns false, each call appending the
  /// next piece to the string it is given; sent with chunked transfer encoding. It runs on the
  /// connection's strand (it may await work elsewhere). An exception ends the response early.
  std::function<boost::asio::awaitable<bool>(std::string&)> stream;

  static HttpResponse json(unsigned status, std::string body);
  static HttpResponse text(unsigned status, std::string body);
  /// `{"error": {"code": code, "message": message}}`.
  static HttpResponse error(unsigned status, std::string_view code, std::string_view message);
};

using HttpHandler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest&)>;

/// How the body of a request is read, decided from its method, path and headers.
struct BodyMode {
  bool stream = false;                // hand the handler a BodyReader instead of reading it whole
  std::uint64_t max_body = 1u << 20;  // whole bodies; 0 = no limit for streamed ones
};
/// Called with the request's header fields filled (no body yet).
using BodyPolicy = std::function<BodyMode(const HttpRequest&)>;

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
             HttpLimits limits = {}, BodyPolicy body_policy = {});
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
  BodyPolicy body_policy_;
};

}  // namespace smppguard::admin
