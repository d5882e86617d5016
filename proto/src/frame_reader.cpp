#include "smppguard/proto/frame_reader.hpp"

#include <algorithm>
#include <cstring>

#include "wire.hpp"

namespace smppguard::proto {

FrameReader::FrameReader(const Limits& limits, std::size_t initial_capacity)
    : limits_(limits), buf_(std::max<std::size_t>(initial_capacity, kHeaderSize)) {}

std::span<std::uint8_t> FrameReader::prepare(std::size_t n) {
  if (buf_.size() - end_ < n) {
    // Move the unread tail to the front (the frames before it have been handed out already).
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buf_.size() - end_ < n) {
      // Grow geometrically, but never past what one maximal frame plus this read needs.
      const std::size_t needed = end_ + n;
      const std::size_t cap = std::max(needed, limits_.max_pdu_size + n);
      buf_.resize(std::max(needed, std::min(buf_.size() * 2, cap)));
    }
  }
  return {buf_.data() + end_, buf_.size() - end_};
}

void FrameReader::commit(std::size_t n) { end_ += std::min(n, buf_.size() - end_); }

FrameReader::Next FrameReader::next() {
  if (failed_) return Next{Status::error, {}, error_};
  const std::size_t avail = end_ - begin_;
  if (avail < 4) return Next{};
  const std::uint8_t* p = buf_.data() + begin_;
  const std::uint32_t length = detail::load_u32(p);
  if (length < kHeaderSize || length > limits_.max_pdu_size) {
    failed_ = true;
    error_ = DecodeError{};
    error_.code = length < kHeaderSize ? DecodeErrc::command_length_too_small
                                       : DecodeErrc::command_length_too_large;
    error_.field = Field::command_length;
    error_.command_status = status::kEsmeRinvcmdlen;
    error_.header = peek_header({p, avail});
    return Next{Status::error, {}, error_};
  }
  if (avail < length) return Next{};
  Next r{Status::frame, {p, length}, {}};
  begin_ += length;
  if (begin_ == end_) begin_ = end_ = 0;  // drained: next data starts at the front, no memmove
  return r;
}

void FrameReader::reset() noexcept {
  begin_ = end_ = 0;
  failed_ = false;
  error_ = DecodeError{};
}

}  // namespace smppguard::proto
