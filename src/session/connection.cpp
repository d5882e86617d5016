#include "session/connection.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/decode.hpp>
#include <smppguard/proto/encode.hpp>

#include "common/log.hpp"

namespace smppguard::session {

using namespace asio::experimental::awaitable_operators;
using asio::use_awaitable;

namespace {

class SessionCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "smppguard.session"; }
  std::string message(int ev) const override {
    switch (static_cast<SessionErrc>(ev)) {
      case SessionErrc::timeout:
        return "no response within response_timeout";
      case SessionErrc::connection_closed:
        return "connection closed before the response";
      case SessionErrc::no_upstream:
        return "no upstream bind available";
      case SessionErrc::shutting_down:
        return "shutting down";
      case SessionErrc::store_failed:
        return "the store could not record the message";
    }
    return "unknown session error";
  }
};

constexpr auto kTick = std::chrono::milliseconds(100);
constexpr std::size_t kReadChunk = 16 * 1024;

}  // namespace

const std::error_category& session_category() {
  static const SessionCategory category;
  return category;
}

Connection::Connection(tcp::socket socket, Options options, metrics::Metrics& metrics)
    : socket_(std::move(socket)),
      strand_(socket_.get_executor()),
      options_(options),
      metrics_(metrics),
      reader_(proto::Limits{.max_pdu_size = options.max_pdu_size}),
      write_event_(strand_),
      resume_event_(strand_),
      last_received_(std::chrono::steady_clock::now()),
      connected_at_(last_received_) {
  boost::system::error_code ec;
  const auto ep = socket_.remote_endpoint(ec);
  if (!ec) {
    peer_ip_ = ep.address().to_string();
    peer_ = peer_ip_ + ":" + std::to_string(ep.port());
  }
  socket_.set_option(tcp::no_delay(true), ec);
  out_.reserve(16 * 1024);
  writing_.reserve(16 * 1024);
}

Connection::~Connection() = default;

asio::awaitable<void> Connection::run() {
  co_await (reader() || writer() || ticker());
  closed_ = true;
  boost::system::error_code ec;
  socket_.close(ec);
  fail_all_pending();
  on_closed();
}

void Connection::send(std::span<const std::uint8_t> frame) {
  if (closed_ || close_after_flush_) return;
  if (auto h = proto::peek_header(frame)) {
    metrics_.pdu(options_.side, metrics::Direction::out, h->command_id, h->command_status);
  }
  out_.insert(out_.end(), frame.begin(), frame.end());
  write_event_.notify();
}

bool Connection::send_pdu(const proto::Pdu& pdu) {
  thread_local std::vector<std::uint8_t> scratch;
  scratch.clear();
  auto r = proto::encode(pdu, scratch, proto::Limits{.max_pdu_size = options_.max_pdu_size});
  if (!r) {
    SG_LOG(error, "encode_failed")
        .kv("command", proto::command_name(pdu.command_id))
        .kv("field", proto::field_name(r.error().field));
    return false;
  }
  send(scratch);
  return true;
}

std::uint32_t Connection::next_sequence() {
  // SMPP sequence numbers run 0x00000001..0x7FFFFFFF.
  sequence_ = sequence_ >= 0x7FFFFFFF ? 1 : sequence_ + 1;
  return sequence_;
}

std::uint32_t Connection::send_request(std::span<const std::uint8_t> frame,
                                       ResponseHandler handler) {
  const auto seq = next_sequence();
  const auto header = proto::peek_header(frame);
  if (closed_ || close_after_flush_ || !header) {
    Response r{.error = make_error_code(SessionErrc::connection_closed)};
    handler(r);
    return seq;
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.response_timeout;
  pending_[seq] = Pending{std::move(handler), deadline, header->command_id};
  deadlines_.emplace_back(deadline, seq);
  const auto start = out_.size();
  send(frame);
  proto::set_sequence(std::span<std::uint8_t>(out_.data() + start, frame.size()), seq);
  return seq;
}

std::uint32_t Connection::send_request(const proto::Pdu& pdu, ResponseHandler handler) {
  thread_local std::vector<std::uint8_t> scratch;
  scratch.clear();
  if (!proto::encode(pdu, scratch, proto::Limits{.max_pdu_size = options_.max_pdu_size})) {
    Response r{.error = std::make_error_code(std::errc::invalid_argument)};
    handler(r);
    return 0;
  }
  // scratch may be reused by a nested send inside the handler; copy the frame first.
  std::vector<std::uint8_t> frame(scratch.begin(), scratch.end());
  return send_request(frame, std::move(handler));
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  write_event_.notify();
  resume_event_.notify();
}

void Connection::close_after_flush() {
  close_after_flush_ = true;
  write_event_.notify();
}

void Connection::resume_reading() {
  if (!paused_) return;
  paused_ = false;
  resume_event_.notify();
}

asio::awaitable<void> Connection::reader() {
  while (!closed_) {
    while ((paused_ || output_full()) && !closed_) {
      partial_since_ = SteadyTime::max();  // our own pause: the peer is not late
      co_await resume_event_.wait(kTick);
    }
    if (closed_) break;
    // Octets buffered here are a started PDU (every whole one was handled): its clock runs from
    // the first wait for its rest.
    if (reader_.buffered() == 0) {
      partial_since_ = SteadyTime::max();
    } else if (partial_since_ == SteadyTime::max()) {
      partial_since_ = std::chrono::steady_clock::now();
    }
    auto buf = reader_.prepare(kReadChunk);
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf.data(), buf.size()),
                                                    asio::as_tuple(use_awaitable));
    if (ec) break;
    reader_.commit(n);
    last_received_ = std::chrono::steady_clock::now();
    while (!closed_) {
      auto next = reader_.next();
      if (next.status == proto::FrameReader::Status::need_more) break;
      if (next.status == proto::FrameReader::Status::error) {
        // The stream cannot be trusted after a bad command_length: answer with a generic_nack
        // (sequence 0) and close this socket only.
        SG_LOG(warn, "bad_command_length")
            .kv("peer", peer_)
            .kv("length", next.error.header ? next.error.header->command_length : 0u);
        metrics_.pdu(options_.side, metrics::Direction::in, 0, proto::status::kEsmeRinvcmdlen);
        send_pdu(proto::make_generic_nack(proto::status::kEsmeRinvcmdlen, 0));
        close_after_flush();
        // Returning now would cancel the writer before the nack is out: read nothing more and
        // let the writer flush, then end the connection.
        while (!closed_) co_await resume_event_.wait(kTick);
        co_return;
      }
      handle_frame(next.frame);
      partial_since_ = SteadyTime::max();  // the next PDU's clock starts when we wait for it
      // Back-pressure also applies to frames already buffered.
      while ((paused_ || output_full()) && !closed_) co_await resume_event_.wait(kTick);
    }
  }
}

void Connection::handle_frame(std::span<const std::uint8_t> frame) {
  const auto header = *proto::peek_header(frame);
  metrics_.pdu(options_.side, metrics::Direction::in, header.command_id, header.command_status);
  if (proto::is_response(header.command_id)) {
    handle_response(header, frame);
    return;
  }
  on_request(header, frame);
}

void Connection::handle_response(const proto::Header& header, std::span<const std::uint8_t> frame) {
  auto it = pending_.find(header.sequence_number);
  if (it == pending_.end()) {
    // A response to nothing we are waiting for (late after a timeout, or a confused peer).
    SG_LOG(debug, "unexpected_response")
        .kv("peer", peer_)
        .kv("command", proto::command_name(header.command_id))
        .kv("sequence", header.sequence_number);
    return;
  }
  if (it->second.command_id == proto::cmd::kEnquireLink) enquire_outstanding_ = false;
  auto handler = std::move(it->second.handler);
  pending_.erase(it);
  handler(Response{.error = {}, .header = header, .frame = frame});
}

asio::awaitable<void> Connection::writer() {
  while (true) {
    if (out_.empty()) {
      if (closed_) co_return;
      if (close_after_flush_) {
        boost::system::error_code ec;
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        closed_ = true;
        resume_event_.notify();
        co_return;
      }
      co_await write_event_.wait();
      continue;
    }
    if (closed_) co_return;
    std::swap(out_, writing_);
    auto [ec, n] =
        co_await asio::async_write(socket_, asio::buffer(writing_), asio::as_tuple(use_awaitable));
    writing_.clear();
    if (ec) {
      closed_ = true;
      resume_event_.notify();
      co_return;
    }
    if (!output_full()) resume_event_.notify();
  }
}

asio::awaitable<void> Connection::ticker() {
  asio::steady_timer timer(strand_);
  while (!closed_) {
    timer.expires_after(kTick);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(use_awaitable));
    if (ec || closed_) co_return;
    const auto now = std::chrono::steady_clock::now();
    expire_pending(now);
    check_partial_pdu(now);
    if (closed_) co_return;
    if (keepalive_enabled()) keepalive(now);
    on_tick(now);
  }
}

void Connection::expire_pending(SteadyTime now) {
  while (!deadlines_.empty() && deadlines_.front().first <= now) {
    const auto seq = deadlines_.front().second;
    deadlines_.pop_front();
    auto it = pending_.find(seq);
    if (it == pending_.end() || it->second.deadline > now) continue;
    auto pending = std::move(it->second);
    pending_.erase(it);
    if (pending.command_id == proto::cmd::kEnquireLink) enquire_outstanding_ = false;
    SG_LOG(warn, "response_timeout")
        .kv("peer", peer_)
        .kv("command", proto::command_name(pending.command_id))
        .kv("sequence", seq);
    pending.handler(Response{.error = make_error_code(SessionErrc::timeout)});
  }
  // Keep the deadline queue from growing with answered requests.
  if (pending_.empty()) deadlines_.clear();
}

void Connection::check_partial_pdu(SteadyTime now) {
  if (partial_since_ == SteadyTime::max() || options_.partial_pdu_timeout.count() <= 0) return;
  if (now - partial_since_ < options_.partial_pdu_timeout) return;
  SG_LOG(warn, "partial_pdu_timeout")
      .kv("peer", peer_)
      .kv("buffered", static_cast<std::uint64_t>(reader_.buffered()))
      .kv("seconds",
          std::chrono::duration_cast<std::chrono::seconds>(now - partial_since_).count());
  metrics_.pdu_deadline_close(options_.side);
  close();
}

void Connection::keepalive(SteadyTime now) {
  if (options_.enquire_link.count() <= 0) return;
  const auto silent = now - last_received_;
  if (silent >= 2 * options_.enquire_link) {
    SG_LOG(warn, "peer_silent")
        .kv("peer", peer_)
        .kv("seconds", std::chrono::duration_cast<std::chrono::seconds>(silent).count());
    close();
    return;
  }
  if (silent >= options_.enquire_link && !enquire_outstanding_) {
    enquire_outstanding_ = true;
    proto::Pdu pdu{.command_id = proto::cmd::kEnquireLink};
    send_request(pdu, [](const Response&) {});
  }
}

void Connection::fail_all_pending() {
  auto pending = std::move(pending_);
  pending_.clear();
  deadlines_.clear();
  for (auto& [seq, p] : pending) {
    p.handler(Response{.error = make_error_code(SessionErrc::connection_closed)});
  }
}

}  // namespace smppguard::session
