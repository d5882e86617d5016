#include "smpp_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/decode.hpp>
#include <smppguard/proto/encode.hpp>
#include <stdexcept>

namespace e2e {

namespace proto = smppguard::proto;
namespace cmd = smppguard::proto::cmd;

namespace {

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

}  // namespace

proto::Pdu Frame::pdu() const {
  auto decoded = proto::decode(bytes);
  if (!decoded) {
    throw std::runtime_error("frame does not decode: " +
                             std::string(proto::field_name(decoded.error().field)));
  }
  return std::move(*decoded);
}

Bytes encode_pdu(const proto::Pdu& pdu) {
  auto encoded = proto::encode(pdu);
  if (!encoded) {
    throw std::runtime_error("PDU does not encode: field " +
                             std::string(proto::field_name(encoded.error().field)));
  }
  return std::move(*encoded);
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0F]);
  }
  return out;
}

Bytes from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::runtime_error("bad hex digit");
  };
  if (hex.size() % 2 != 0) throw std::runtime_error("odd hex length");
  Bytes out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

Bytes without_sequence(std::span<const std::uint8_t> bytes) {
  Bytes out(bytes.begin(), bytes.end());
  for (std::size_t i = 12; i < 16 && i < out.size(); ++i) out[i] = 0;
  return out;
}

SmppClient::SmppClient(std::uint16_t port, const std::string& source_ip) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket() failed");
  if (!source_ip.empty()) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, source_ip.c_str(), &src.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
      ::close(fd_);
      throw std::runtime_error("cannot bind the client to " + source_ip);
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd_);
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) +
                             " failed: " + std::strerror(err));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

SmppClient::~SmppClient() {
  if (fd_ >= 0) ::close(fd_);
}

void SmppClient::send_bytes(std::span<const std::uint8_t> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("send failed: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
}

std::uint32_t SmppClient::send(proto::Pdu pdu) {
  if (pdu.sequence_number == 0) pdu.sequence_number = next_seq();
  send_bytes(encode_pdu(pdu));
  return pdu.sequence_number;
}

std::optional<Frame> SmppClient::read_frame(std::chrono::steady_clock::time_point deadline) {
  while (true) {
    if (buf_.size() >= 16) {
      const auto len = be32(buf_.data());
      if (len < 16) throw std::runtime_error("peer sent command_length < 16");
      if (buf_.size() >= len) {
        Frame f;
        f.bytes.assign(buf_.begin(), buf_.begin() + len);
        buf_.erase(buf_.begin(), buf_.begin() + len);
        f.header = *proto::peek_header(f.bytes);
        return f;
      }
    }
    if (eof_) return std::nullopt;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::max<long long>(1, wait.count())));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("poll failed");
    }
    if (r == 0) continue;  // the deadline check above ends the loop
    std::uint8_t chunk[16384];
    const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      eof_ = true;  // ECONNRESET and friends: the peer is gone
      continue;
    }
    if (n == 0) {
      eof_ = true;
      continue;
    }
    buf_.insert(buf_.end(), chunk, chunk + n);
  }
}

std::optional<Frame> SmppClient::next(std::chrono::milliseconds timeout) {
  if (!kept_.empty()) {
    Frame f = std::move(kept_.front());
    kept_.pop_front();
    return f;
  }
  return read_frame(std::chrono::steady_clock::now() + timeout);
}

bool SmppClient::auto_answer(const Frame& f) {
  if (f.id() != cmd::kEnquireLink) return false;
  send(proto::Pdu{.command_id = cmd::kEnquireLinkResp, .sequence_number = f.seq()});
  return true;
}

std::optional<Frame> SmppClient::expect(std::uint32_t command_id,
                                        std::chrono::milliseconds timeout) {
  for (auto it = kept_.begin(); it != kept_.end(); ++it) {
    if (it->id() == command_id) {
      Frame f = std::move(*it);
      kept_.erase(it);
      return f;
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (auto f = read_frame(deadline)) {
    if (f->id() == command_id) return f;
    if (auto_answer(*f)) continue;
    kept_.push_back(std::move(*f));
  }
  return std::nullopt;
}

std::optional<Frame> SmppClient::response_to(std::uint32_t seq, std::chrono::milliseconds timeout) {
  for (auto it = kept_.begin(); it != kept_.end(); ++it) {
    if (proto::is_response(it->id()) && it->seq() == seq) {
      Frame f = std::move(*it);
      kept_.erase(it);
      return f;
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (auto f = read_frame(deadline)) {
    if (proto::is_response(f->id()) && f->seq() == seq) return f;
    if (auto_answer(*f)) continue;
    kept_.push_back(std::move(*f));
  }
  return std::nullopt;
}

Frame SmppClient::request(proto::Pdu pdu, std::chrono::milliseconds timeout) {
  const auto name = std::string(proto::command_name(pdu.command_id));
  const auto seq = send(std::move(pdu));
  auto r = response_to(seq, timeout);
  if (!r) throw std::runtime_error("no response to " + name + " seq " + std::to_string(seq));
  return std::move(*r);
}

std::optional<Frame> SmppClient::receive_deliver(std::uint32_t status,
                                                 std::chrono::milliseconds timeout) {
  auto f = expect(cmd::kDeliverSm, timeout);
  if (f) answer(*f, status);
  return f;
}

void SmppClient::answer(const Frame& request, std::uint32_t status) {
  auto resp = proto::make_response(request.header, status);
  send(std::move(resp));
}

Frame SmppClient::bind(std::uint32_t bind_command_id, const std::string& system_id,
                       const std::string& password, std::uint8_t interface_version,
                       std::chrono::milliseconds timeout) {
  proto::Bind body{.system_id = system_id,
                   .password = password,
                   .system_type = "",
                   .interface_version = interface_version};
  return request(proto::Pdu{.command_id = bind_command_id, .body = body}, timeout);
}

void SmppClient::bind_ok(std::uint32_t bind_command_id, const std::string& system_id,
                         const std::string& password) {
  auto r = bind(bind_command_id, system_id, password);
  if (r.status() != 0) {
    throw std::runtime_error("bind of " + system_id + " failed with status " +
                             std::to_string(r.status()));
  }
}

bool SmppClient::unbind(std::chrono::milliseconds timeout) {
  const auto seq = send(proto::Pdu{.command_id = cmd::kUnbind});
  auto r = response_to(seq, timeout);
  return r && r->id() == cmd::kUnbindResp;
}

bool SmppClient::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!eof_) {
    auto f = read_frame(deadline);
    if (f) {
      kept_.push_back(std::move(*f));
      continue;
    }
    if (!eof_) return false;  // timed out
  }
  return true;
}

proto::Pdu make_submit(const std::string& source, const std::string& destination,
                       const std::string& text, std::uint8_t registered_delivery) {
  proto::SubmitSm sm;
  sm.source_addr_ton = source.size() <= 8 ? 3 : 1;
  sm.source_addr_npi = source.size() <= 8 ? 0 : 1;
  sm.source_addr = source;
  sm.dest_addr_ton = 1;
  sm.dest_addr_npi = 1;
  sm.destination_addr = destination;
  sm.registered_delivery = registered_delivery;
  sm.short_message = text;
  return proto::Pdu{.command_id = cmd::kSubmitSm, .body = sm};
}

}  // namespace e2e
