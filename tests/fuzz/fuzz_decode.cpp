// libFuzzer target for the SMPP wire codec: FrameReader + decode + encode.
// Invariants checked on every input:
//   - a frame that decodes re-encodes to exactly its own bytes, and that decodes to an equal Pdu;
//   - a decode error carries a non-zero command_status, a header exactly when the frame had 16
//     octets, and error_response() gives a PDU that encodes and decodes back equal;
//   - the FrameReader, fed the same bytes in small chunks, hands out frames of exactly
//     command_length octets, in order, and never grows past max_pdu_size + the read size.
// The input is the byte stream itself (so seeds are plain PDUs); its size picks the limits and the
// read size, so that mutations of the content keep them.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "smppguard/proto/decode.hpp"
#include "smppguard/proto/encode.hpp"
#include "smppguard/proto/frame_reader.hpp"

using namespace smppguard::proto;

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

void check_frame(std::span<const std::uint8_t> frame, const Limits& limits) {
  auto decoded = decode(frame, limits);
  if (!decoded) {
    const DecodeError& e = decoded.error();
    require(e.command_status != status::kEsmeRok);
    require(e.header.has_value() == (frame.size() >= kHeaderSize));
    const Pdu answer = error_response(e);
    auto wire = encode(answer, limits);
    require(wire.has_value());
    auto again = decode(*wire, limits);
    require(again.has_value() && *again == answer);
    return;
  }
  const Pdu& pdu = *decoded;
  require(body_fits(pdu.command_id, pdu.body));
  auto wire = encode(pdu, limits);
  require(wire.has_value());
  require(wire->size() == frame.size() &&
          std::memcmp(wire->data(), frame.data(), frame.size()) == 0);
  auto again = decode(*wire, limits);
  require(again.has_value() && *again == pdu);

  // Patching the sequence in place changes only the sequence.
  std::vector<std::uint8_t> copy(frame.begin(), frame.end());
  require(set_sequence(copy, pdu.sequence_number ^ 0x5A5A5A5Au));
  auto patched = decode(copy, limits);
  require(patched.has_value());
  Pdu expect = pdu;
  expect.sequence_number ^= 0x5A5A5A5Au;
  require(*patched == expect);

  // The response to any request encodes.
  if (has_response(pdu.command_id)) {
    require(encode(make_response(*peek_header(frame), status::kEsmeRok), limits).has_value());
    require(encode(make_response(*peek_header(frame), status::kEsmeRsyserr), limits).has_value());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  Limits limits;
  limits.strict_tlv_lengths = size % 3 != 0;
  limits.max_pdu_size = size % 5 == 0 ? 512 : 65536;
  const std::size_t chunk = 1 + size % 64;  // octets per read

  // The whole input as one frame.
  check_frame(input, limits);

  // The input as a stream.
  FrameReader reader(limits, 16);
  std::size_t pos = 0;
  bool failed = false;
  while (pos < input.size() && !failed) {
    const std::size_t n = std::min(chunk, input.size() - pos);
    std::span<std::uint8_t> buf = reader.prepare(n);
    require(buf.size() >= n);
    require(reader.capacity() <= limits.max_pdu_size + chunk);
    std::memcpy(buf.data(), input.data() + pos, n);
    reader.commit(n);
    const std::size_t frame_start = pos + n - reader.buffered();
    std::size_t offset = frame_start;
    pos += n;
    for (;;) {
      FrameReader::Next r = reader.next();
      if (r.status == FrameReader::Status::need_more) break;
      if (r.status == FrameReader::Status::error) {
        require(r.error.fatal());
        require(r.error.command_status == status::kEsmeRinvcmdlen);
        failed = true;
        break;
      }
      // The frame is the next command_length octets of the input.
      require(r.frame.size() >= kHeaderSize && r.frame.size() <= limits.max_pdu_size);
      require(offset + r.frame.size() <= input.size());
      require(std::memcmp(r.frame.data(), input.data() + offset, r.frame.size()) == 0);
      offset += r.frame.size();
      check_frame(r.frame, limits);
    }
  }
  return 0;
}
