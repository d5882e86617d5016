#pragma once
// FrameReader: cuts a byte stream into SMPP frames (command_length octets each) without copying
// them twice and without allocating per frame once its buffer has reached its working size.
//
// Flow (one per connection, e.g. in an Asio reader coroutine):
//   auto buf = reader.prepare(4096);                  // free space to read into
//   n = co_await sock.async_read_some(asio::buffer(buf.data(), buf.size()));
//   reader.commit(n);                                  // those n octets are now data
//   for (auto r = reader.next(); r.status == FrameReader::Status::frame; r = reader.next())
//     handle(r.frame);                                 // decode(r.frame) or forward as is
//   // need_more: read again; error: answer per r.error and close (the stream is unusable).
// A frame span stays valid until the next prepare() or next() call (it points into the buffer).
// After an error every next() returns the same error until reset().
// Thread-safety: none; one reader belongs to one connection (one strand).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "smppguard/proto/decode.hpp"
#include "smppguard/proto/pdu.hpp"

namespace smppguard::proto {

class FrameReader {
 public:
  enum class Status { frame, need_more, error };
  struct Next {
    Status status = Status::need_more;
    std::span<const std::uint8_t> frame;  // Status::frame: one whole PDU (command_length octets)
    // Status::error: command_length_too_small (answer generic_nack ESME_RINVCMDLEN, sequence 0,
    // then close) or command_length_too_large (close); error.header is set when 16 octets were
    // buffered.
    DecodeError error;
  };

  explicit FrameReader(const Limits& limits = {}, std::size_t initial_capacity = 4096);

  // Free space of at least n octets at the end of the buffered data (compacts or grows the
  // buffer when needed). The buffer never holds more than the unread data plus n, so it stays
  // within max_pdu_size + n when the caller drains next() before reading again.
  [[nodiscard]] std::span<std::uint8_t> prepare(std::size_t n);
  // Marks the first n octets of the last prepare() span as data. Precondition: n <= its size.
  void commit(std::size_t n);
  // The next complete frame, need_more, or a framing error.
  [[nodiscard]] Next next();

  // Octets committed but not yet returned as frames.
  std::size_t buffered() const noexcept { return end_ - begin_; }
  // Size of the internal buffer (for tests and metrics).
  std::size_t capacity() const noexcept { return buf_.size(); }
  // Forgets all buffered data and any error.
  void reset() noexcept;

 private:
  Limits limits_;
  std::vector<std::uint8_t> buf_;
  std::size_t begin_ = 0;  // first unread octet
  std::size_t end_ = 0;    // one past the last committed octet
  bool failed_ = false;
  DecodeError error_;
};

}  // namespace smppguard::proto
