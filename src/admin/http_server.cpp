#include "admin/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <optional>
#include <tuple>

#include "common/accept_backoff.hpp"
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
                       HttpLimits limits, BodyPolicy body_policy)
    : io_(io),
      acceptor_(asio::make_strand(io)),
      handler_(std::move(handler)),
      limits_(limits),
      body_policy_(std::move(body_policy)) {
  const tcp::endpoint ep(asio::ip::make_address(address.host), address.port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

void HttpServer::start() {
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

void HttpServer::stop() {
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
}

asio::awaitable<void> HttpServer::accept_loop() {
  AcceptBackoff backoff;
  asio::steady_timer pause(acceptor_.get_executor());
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_),
                                                        asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      pause.expires_after(backoff.failed_and_log("http", ec.message()));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    backoff.succeeded();
    auto ex = socket.get_executor();
    asio::co_spawn(ex, serve(std::move(socket)), asio::detached);
  }
}

namespace {

using HeaderParser = http::request_parser<http::buffer_body>;

// Headers that must appear at most once: with two, which one counts would be a guess (two
// Authorization headers, one bad and one good, must not pass).
bool single_valued(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "content-type" || lower_name == "host" ||
         lower_name == "expect";
}

// Fills `out` from the request head; "" when it is usable, else what is wrong with it.
std::string fill_request(const http::request_header<>& req, HttpRequest& out) {
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto [it, fresh] = out.headers.try_emplace(name, field.value());
    if (!fresh && single_valued(name)) return "the " + name + " header appears more than once";
    if (!fresh) it->second = std::string(field.value());
  }
  auto parsed = boost::urls::parse_origin_form(out.target);
  if (!parsed) return "malformed request target";
  const boost::urls::url_view url = *parsed;
  out.path = std::string(url.path());
  for (auto seg : url.segments()) out.segments.emplace_back(seg);
  for (auto p : url.params()) out.query.emplace(std::string(p.key), std::string(p.value));
  return {};
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// The body of a request whose BodyMode says stream: read into a fixed buffer, piece by piece.
class StreamedBody final : public BodyReader {
 public:
  StreamedBody(beast::tcp_stream& stream, beast::flat_buffer& buffer, HeaderParser& parser,
               std::chrono::seconds timeout)
      : stream_(stream), buffer_(buffer), parser_(parser), timeout_(timeout), chunk_(64u << 10) {}

  asio::awaitable<std::error_code> read_some(std::string& out, bool& done) override {
    if (parser_.is_done()) {
      done = true;
      co_return std::error_code{};
    }
    if (failed_) co_return std::make_error_code(std::errc::broken_pipe);
    auto& body = parser_.get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    stream_.expires_after(timeout_);
    auto [ec, n] = co_await http::async_read_some(stream_, buffer_, parser_,
                                                  asio::as_tuple(asio::use_awaitable));
    (void)n;
    if (ec == http::error::need_buffer) ec = {};
    out.append(chunk_.data(), chunk_.size() - body.size);
    done = parser_.is_done();
    if (ec) failed_ = true;
    co_return std::error_code(ec);
  }
  bool done() const override { return parser_.is_done(); }

 private:
  beast::tcp_stream& stream_;
  beast::flat_buffer& buffer_;
  HeaderParser& parser_;
  std::chrono::seconds timeout_;
  std::vector<char> chunk_;
  bool failed_ = false;
};

template <typename Body>
void set_common(http::response<Body>& res, const HttpResponse& response, bool keep_alive) {
  res.set(http::field::server, "smppguard");
  res.set(http::field::content_type, response.content_type);
  for (const auto& [k, v] : response.headers) res.set(k, v);
  res.keep_alive(keep_alive);
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
  // Writes a small error response and ends the connection (the request cannot be trusted).
  auto fail = [&stream](unsigned status, std::string_view code, std::string_view message) {
    auto r = HttpResponse::error(status, code, message);
    auto res =
        std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
    res->set(http::field::server, "smppguard");
    res->set(http::field::content_type, r.content_type);
    res->set(http::field::connection, "close");
    res->body() = r.body;
    res->prepare_payload();
    return res;
  };
  while (true) {
    HeaderParser parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.max_header));
    parser.body_limit(boost::none);  // checked per route below
    // An idle keep-alive connection may wait idle_timeout for its next request; once a request
    // has started, its head must arrive within read_timeout like every other read.
    if (buffer.size() == 0) {
      stream.expires_after(limits_.idle_timeout);
      auto [wec, got] = co_await stream.async_read_some(buffer.prepare(limits_.max_header),
                                                        asio::as_tuple(asio::use_awaitable));
      if (wec) break;
      buffer.commit(got);
    }
    stream.expires_after(limits_.read_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser,
                                                    asio::as_tuple(asio::use_awaitable));
    (void)n;
    if (ec) {
      std::shared_ptr<http::response<http::string_body>> res;
      if (ec == http::error::header_limit) {
        res = fail(413, "too_large", "request header too large");
      } else if (ec != http::error::end_of_stream && ec != asio::error::eof &&
                 ec != beast::error::timeout && ec != asio::error::connection_reset &&
                 ec != asio::error::operation_aborted) {
        res = fail(400, "bad_request", ec.message());
      }
      if (res) {
        stream.expires_after(limits_.read_timeout);
        co_await http::async_write(stream, *res, asio::as_tuple(asio::use_awaitable));
      }
      break;
    }
    const auto& head = parser.get();
    const unsigned version = head.version();
    bool keep_alive = head.keep_alive();
    HttpRequest request;
    request.peer = peer;
    const std::string head_problem = fill_request(head.base(), request);
    const bool target_ok = head_problem.empty();
    const BodyMode mode =
        body_policy_ && target_ok ? body_policy_(request) : BodyMode{false, limits_.max_body};
    const auto length = parser.content_length();
    if (!mode.stream || mode.max_body > 0) {
      const std::uint64_t limit =
          mode.stream || mode.max_body > 0 ? mode.max_body : limits_.max_body;
      if (length && *length > limit) {
        auto res =
            fail(413, "too_large", "request body larger than " + std::to_string(limit) + " bytes");
        stream.expires_after(limits_.read_timeout);
        co_await http::async_write(stream, *res, asio::as_tuple(asio::use_awaitable));
        break;
      }
      parser.body_limit(limit);
    }
    // curl and others wait for "100 Continue" before a large body.
    if (!parser.is_done() && iequals(request.header("expect"), "100-continue")) {
      http::response<http::empty_body> cont{http::status::continue_, version};
      stream.expires_after(limits_.read_timeout);
      auto [cec, cn] =
          co_await http::async_write(stream, cont, asio::as_tuple(asio::use_awaitable));
      (void)cn;
      if (cec) break;
    }

    std::optional<StreamedBody> streamed;
    bool body_complete = true;
    if (!mode.stream) {
      http::request_parser<http::string_body> whole{std::move(parser)};
      stream.expires_after(limits_.read_timeout);
      auto [bec, bn] =
          co_await http::async_read(stream, buffer, whole, asio::as_tuple(asio::use_awaitable));
      (void)bn;
      if (bec) {
        std::shared_ptr<http::response<http::string_body>> res;
        if (bec == http::error::body_limit) {
          res = fail(413, "too_large", "request body too large");
        } else if (bec != beast::error::timeout && bec != asio::error::eof &&
                   bec != asio::error::connection_reset && bec != http::error::end_of_stream) {
          res = fail(400, "bad_request", bec.message());
        }
        if (res) {
          stream.expires_after(limits_.read_timeout);
          co_await http::async_write(stream, *res, asio::as_tuple(asio::use_awaitable));
        }
        break;
      }
      request.body = std::move(whole.get().body());
    } else {
      streamed.emplace(stream, buffer, parser, limits_.read_timeout);
      request.body_reader = &*streamed;
    }

    HttpResponse response;
    if (!target_ok) {
      response = HttpResponse::error(400, "bad_request", head_problem);
    } else {
      try {
        response = co_await handler_(request);
      } catch (const std::exception& e) {
        SG_LOG(error, "http_handler_failed").kv("path", request.path).kv("what", e.what());
        response = HttpResponse::error(500, "internal", "internal error");
        response.stream = nullptr;
      }
    }
    request.body_reader = nullptr;
    if (streamed && !streamed->done()) {
      body_complete = false;  // the rest of the body is still on the wire: close after answering
      keep_alive = false;
    }

    if (!response.stream) {
      http::response<http::string_body> res{static_cast<http::status>(response.status), version};
      set_common(res, response, keep_alive);
      res.body() = std::move(response.body);
      res.prepare_payload();
      stream.expires_after(limits_.read_timeout);
      auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      (void)wn;
      if (wec || !keep_alive || !body_complete) break;
      continue;
    }

    // HTTP/1.0 knows no chunked encoding: send the body as it comes and close to end it.
    const bool chunked = version >= 11;
    if (!chunked) keep_alive = false;
    http::response<http::empty_body> res{static_cast<http::status>(response.status), version};
    set_common(res, response, keep_alive);
    res.chunked(chunked);
    http::response_serializer<http::empty_body> serializer{res};
    stream.expires_after(limits_.read_timeout);
    auto [hec, hn] =
        co_await http::async_write_header(stream, serializer, asio::as_tuple(asio::use_awaitable));
    (void)hn;
    if (hec) break;
    bool ok = true;
    bool more = true;
    std::string chunk;
    while (more) {
      chunk.clear();
      try {
        more = co_await response.stream(chunk);
      } catch (const std::exception& e) {
        SG_LOG(error, "http_stream_failed").kv("path", request.path).kv("what", e.what());
        ok = false;
        more = false;
      }
      if (!ok) break;
      if (chunk.empty()) continue;
      stream.expires_after(limits_.read_timeout);
      boost::system::error_code cec;
      if (chunked) {
        std::tie(cec, std::ignore) = co_await asio::async_write(
            stream, http::make_chunk(asio::buffer(chunk)), asio::as_tuple(asio::use_awaitable));
      } else {
        std::tie(cec, std::ignore) = co_await asio::async_write(
            stream, asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
      }
      if (cec) {
        ok = false;
        break;
      }
    }
    // A failed stream ends without the last chunk: the client sees a truncated body, not a
    // complete-looking one.
    if (!ok || !chunked) break;
    stream.expires_after(limits_.read_timeout);
    auto [lec, ln] = co_await asio::async_write(stream, http::make_chunk_last(),
                                                asio::as_tuple(asio::use_awaitable));
    (void)ln;
    if (lec || !keep_alive || !body_complete) break;
  }
  // Lingering close: a client still sending a body we did not read (an early 401 or 413) would
  // get a reset that can destroy our answer in its receive buffer. Send FIN, then read and drop
  // what still comes, for at most 2 s and 8 MiB.
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  std::vector<char> scratch(16u << 10);
  std::size_t drained = 0;
  stream.expires_after(std::chrono::seconds(2));
  while (drained < (8u << 20)) {
    auto [rec, rn] =
        co_await stream.async_read_some(asio::buffer(scratch), asio::as_tuple(asio::use_awaitable));
    if (rec) break;
    drained += rn;
  }
}

}  // namespace smppguard::admin
