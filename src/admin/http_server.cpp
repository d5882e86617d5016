#include "admin/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>

#include "common/log.hpp"

namespace smppguard::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

const std::string* HttpRequest::param(std::string_view name) const {
  auto it = query.find(std::string(name));
  return it == query.end() ? nullptr : &it->second;
}

std::string HttpRequest::header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

HttpResponse HttpResponse::json(unsigned status, std::string body) {
  return HttpResponse{status, "application/json", std::move(body), {}};
}

HttpResponse HttpResponse::text(unsigned status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body), {}};
}

HttpResponse HttpResponse::error(unsigned status, std::string_view code, std::string_view message) {
  boost::json::object inner;
  inner["code"] = code;
  inner["message"] = message;
  boost::json::object outer;
  outer["error"] = std::move(inner);
  return json(status, boost::json::serialize(outer) + "\n");
}

HttpServer::HttpServer(asio::io_context& io, const config::HostPort& address, HttpHandler handler,
                       HttpLimits limits)
    : io_(io), acceptor_(asio::make_strand(io)), handler_(std::move(handler)), limits_(limits) {
  const tcp::endpoint ep(asio::ip::make_address(address.host), address.port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

void HttpServer::start() { asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached); }

void HttpServer::stop() {
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
}

asio::awaitable<void> HttpServer::accept_loop() {
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_),
                                                        asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      continue;
    }
    auto ex = socket.get_executor();
    asio::co_spawn(ex, serve(std::move(socket)), asio::detached);
  }
}

namespace {

bool fill_request(const http::request<http::string_body>& req, HttpRequest& out) {
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  out.body = req.body();
  auto parsed = boost::urls::parse_origin_form(out.target);
  if (!parsed) return false;
  const boost::urls::url_view url = *parsed;
  out.path = std::string(url.path());
  for (auto seg : url.segments()) out.segments.emplace_back(seg);
  for (auto p : url.params()) out.query.emplace(std::string(p.key), std::string(p.value));
  return true;
}

}  // namespace

asio::awaitable<void> HttpServer::serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  std::string peer;
  {
    boost::system::error_code ec;
    auto ep = stream.socket().remote_endpoint(ec);
    if (!ec) peer = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.max_header));
    parser.body_limit(limits_.max_body);
    stream.expires_after(limits_.idle_timeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == http::error::body_limit || ec == http::error::header_limit) {
        auto r = HttpResponse::error(413, "too_large", "request too large");
        http::response<http::string_body> res{http::status::payload_too_large, 11};
        res.set(http::field::content_type, r.content_type);
        res.set(http::field::connection, "close");
        res.body() = r.body;
        res.prepare_payload();
        co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      } else if (ec != http::error::end_of_stream && ec != asio::error::eof &&
                 ec != beast::error::timeout && ec != asio::error::connection_reset &&
                 ec != asio::error::operation_aborted) {
        auto r = HttpResponse::error(400, "bad_request", ec.message());
        http::response<http::string_body> res{http::status::bad_request, 11};
        res.set(http::field::content_type, r.content_type);
        res.set(http::field::connection, "close");
        res.body() = r.body;
        res.prepare_payload();
        co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      }
      break;
    }
    const auto& req = parser.get();
    HttpRequest request;
    request.peer = peer;
    HttpResponse response;
    if (!fill_request(req, request)) {
      response = HttpResponse::error(400, "bad_request", "malformed request target");
    } else {
      try {
        response = co_await handler_(request);
      } catch (const std::exception& e) {
        SG_LOG(error, "http_handler_failed").kv("path", request.path).kv("what", e.what());
        response = HttpResponse::error(500, "internal", "internal error");
      }
    }
    http::response<http::string_body> res{static_cast<http::status>(response.status), req.version()};
    res.set(http::field::server, "smppguard");
    res.set(http::field::content_type, response.content_type);
    for (const auto& [k, v] : response.headers) res.set(k, v);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(response.body);
    res.prepare_payload();
    stream.expires_after(limits_.read_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    if (wec || !res.keep_alive()) break;
  }
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace smppguard::admin
