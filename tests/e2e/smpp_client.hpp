#pragma once
// SmppClient: a blocking SMPP peer for end-to-end tests. Connects to 127.0.0.1:port (optionally
// from another loopback source address such as 127.0.0.2), sends PDUs or raw bytes, and reads
// frames with a timeout. It plays the ESME: enquire_link from the proxy is answered while the
// client waits for something else, and other requests that arrive meanwhile (deliver_sm, unbind)
// are kept in arrival order for next()/expect().
// Not thread-safe: one test thread owns one client.
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <smppguard/proto/pdu.hpp>
#include <span>
#include <string>
#include <vector>

namespace e2e {

using Bytes = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

/// One whole PDU as it came off the wire.
struct Frame {
  smppguard::proto::Header header;
  Bytes bytes;
  /// The decoded PDU; throws std::runtime_error when the frame does not decode.
  smppguard::proto::Pdu pdu() const;
  std::uint32_t id() const { return header.command_id; }
  std::uint32_t status() const { return header.command_status; }
  std::uint32_t seq() const { return header.sequence_number; }
};

/// Encodes a PDU (throws when it does not encode).
Bytes encode_pdu(const smppguard::proto::Pdu& pdu);
/// Lower-case hex of bytes ("00ff"), and back.
std::string to_hex(std::span<const std::uint8_t> bytes);
Bytes from_hex(std::string_view hex);
/// `bytes` with the 4 sequence octets (offset 12) zeroed, to compare frames across a proxy.
Bytes without_sequence(std::span<const std::uint8_t> bytes);

class SmppClient {
 public:
  /// Connects to 127.0.0.1:port from `source_ip` ("" = any). Throws on failure.
  explicit SmppClient(std::uint16_t port, const std::string& source_ip = "");
  ~SmppClient();
  SmppClient(const SmppClient&) = delete;
  SmppClient& operator=(const SmppClient&) = delete;

  /// The next sequence number this client will use (1, 2, ...).
  std::uint32_t next_seq() { return ++seq_; }

  /// Writes raw bytes (all of them; throws when the socket is broken).
  void send_bytes(std::span<const std::uint8_t> bytes);
  /// Sends a PDU; a sequence_number of 0 is replaced by next_seq(). Returns the number used.
  std::uint32_t send(smppguard::proto::Pdu pdu);

  /// The next frame (kept ones first), or nullopt after `timeout` or when the peer closed.
  /// Answers nothing by itself.
  std::optional<Frame> next(std::chrono::milliseconds timeout = 5s);
  /// Reads until a frame with this command id arrives; enquire_link is answered and other frames
  /// are kept for later. nullopt after `timeout` or when the peer closed.
  std::optional<Frame> expect(std::uint32_t command_id, std::chrono::milliseconds timeout = 5s);
  /// The response with this sequence number (enquire_link answered, others kept).
  std::optional<Frame> response_to(std::uint32_t seq, std::chrono::milliseconds timeout = 5s);
  /// send() then response_to(). Throws when no response comes within `timeout`.
  Frame request(smppguard::proto::Pdu pdu, std::chrono::milliseconds timeout = 5s);

  /// Waits for a deliver_sm, answers it with `status` (deliver_sm_resp) and returns it.
  std::optional<Frame> receive_deliver(std::uint32_t status = 0,
                                       std::chrono::milliseconds timeout = 5s);
  /// Answers a request frame from the peer with `status` (e.g. deliver_sm -> deliver_sm_resp).
  void answer(const Frame& request, std::uint32_t status = 0);

  /// Sends bind_<type> and returns the response. Throws when none comes.
  Frame bind(std::uint32_t bind_command_id, const std::string& system_id,
             const std::string& password, std::uint8_t interface_version = 0x34,
             std::chrono::milliseconds timeout = 5s);
  /// bind() that must succeed (throws otherwise).
  void bind_ok(std::uint32_t bind_command_id, const std::string& system_id,
               const std::string& password);
  /// Sends unbind and waits for unbind_resp; true when it came.
  bool unbind(std::chrono::milliseconds timeout = 5s);

  /// True when the peer closes the connection within `timeout` (frames read meanwhile are kept).
  bool wait_closed(std::chrono::milliseconds timeout = 5s);
  /// Whether the peer has closed (as far as this client has read).
  bool closed() const { return eof_; }
  /// Frames kept by expect()/response_to() and not yet returned.
  const std::deque<Frame>& kept() const { return kept_; }

 private:
  // Reads one frame from the socket (not from kept_); nullopt on timeout or EOF.
  std::optional<Frame> read_frame(std::chrono::steady_clock::time_point deadline);
  // Answers enquire_link; true when the frame was one.
  bool auto_answer(const Frame& f);

  int fd_ = -1;
  std::uint32_t seq_ = 0;
  Bytes buf_;
  std::deque<Frame> kept_;
  bool eof_ = false;
};

/// A submit_sm with the fields tests usually vary.
smppguard::proto::Pdu make_submit(const std::string& source, const std::string& destination,
                                  const std::string& text, std::uint8_t registered_delivery = 0);

}  // namespace e2e
