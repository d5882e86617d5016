// FrameReader: frames come out the same however the stream is cut; bad lengths are reported;
// the buffer stays bounded and stops allocating in the steady state.
#include "smppguard/proto/frame_reader.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include "smppguard/proto/decode.hpp"
#include "smppguard/proto/encode.hpp"

using namespace smppguard::proto;

namespace {

using Octets = std::vector<std::uint8_t>;

// A stream of assorted PDUs, and the frames it holds.
struct Stream {
  Octets bytes;
  std::vector<Octets> frames;
  void add(const Pdu& pdu) {
    auto f = encode(pdu);
    REQUIRE(f.has_value());
    frames.push_back(*f);
    bytes.insert(bytes.end(), f->begin(), f->end());
  }
};

Stream sample_stream() {
  Stream s;
  s.add(Pdu{cmd::kBindTransceiver, 0, 1, Bind{"esme", "pw", "", 0x34, 0, 0, ""}});
  s.add(Pdu{cmd::kEnquireLink, 0, 2, Empty{}});
  SubmitSm sm;
  sm.source_addr = "12345";
  sm.destination_addr = "15551234567";
  sm.short_message = "hello";
  sm.tlvs.set(tlv::kMessagePayload, std::string(3000, 'p'));
  s.add(Pdu{cmd::kSubmitSm, 0, 3, sm});
  s.add(Pdu{cmd::kSubmitSmResp, 0x401, 4, Empty{}});
  DeliverSm d;
  d.short_message = "STOP";
  s.add(Pdu{cmd::kDeliverSm, 0, 5, d});
  s.add(Pdu{cmd::kGenericNack, status::kEsmeRinvcmdid, 6, Empty{}});
  s.add(Pdu{cmd::kUnbind, 0, 7, Empty{}});
  return s;
}

// Feeds `stream` in chunks of chunk() octets, draining next() after each; returns the frames.
std::vector<Octets> feed(FrameReader& reader, const Octets& stream,
                         const std::function<std::size_t()>& chunk) {
  std::vector<Octets> frames;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    const std::size_t n = std::min(chunk(), stream.size() - pos);
    std::span<std::uint8_t> buf = reader.prepare(n);
    REQUIRE(buf.size() >= n);
    std::memcpy(buf.data(), stream.data() + pos, n);
    reader.commit(n);
    pos += n;
    for (;;) {
      FrameReader::Next r = reader.next();
      if (r.status != FrameReader::Status::frame) {
        REQUIRE(r.status == FrameReader::Status::need_more);
        break;
      }
      frames.emplace_back(r.frame.begin(), r.frame.end());
    }
  }
  return frames;
}

}  // namespace

TEST_CASE("one octet at a time yields the same frames") {
  const Stream s = sample_stream();
  FrameReader reader;
  CHECK(feed(reader, s.bytes, [] { return std::size_t{1}; }) == s.frames);
  CHECK(reader.buffered() == 0);
}

TEST_CASE("random chunk sizes yield the same frames") {
  const Stream s = sample_stream();
  for (unsigned seed : {1u, 2u, 3u, 42u, 1234u}) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> size(1, 5000);
    FrameReader reader(Limits{}, 64);
    const auto frames = feed(reader, s.bytes, [&] { return size(rng); });
    CHECK(frames == s.frames);
    for (const Octets& f : frames) CHECK(decode(f).has_value());
  }
  // The whole stream at once.
  FrameReader reader;
  CHECK(feed(reader, s.bytes, [&] { return s.bytes.size(); }) == s.frames);
}

TEST_CASE("frames point into the buffer and stay valid until prepare()") {
  const Stream s = sample_stream();
  FrameReader reader;
  auto buf = reader.prepare(s.bytes.size());
  std::memcpy(buf.data(), s.bytes.data(), s.bytes.size());
  reader.commit(s.bytes.size());
  std::vector<std::span<const std::uint8_t>> spans;
  for (auto r = reader.next(); r.status == FrameReader::Status::frame; r = reader.next()) {
    spans.push_back(r.frame);
  }
  REQUIRE(spans.size() == s.frames.size());
  for (std::size_t i = 0; i < spans.size(); ++i) {
    CHECK(Octets(spans[i].begin(), spans[i].end()) == s.frames[i]);
  }
}

TEST_CASE("command_length below 16 is an error that sticks until reset") {
  FrameReader reader;
  const Octets bad{0x00, 0x00, 0x00, 0x0F, 0x00, 0x00, 0x00, 0x15,
                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09};
  auto buf = reader.prepare(3);
  std::memcpy(buf.data(), bad.data(), 3);
  reader.commit(3);
  CHECK(reader.next().status == FrameReader::Status::need_more);
  buf = reader.prepare(13);
  std::memcpy(buf.data(), bad.data() + 3, 13);
  reader.commit(13);
  FrameReader::Next r = reader.next();
  REQUIRE(r.status == FrameReader::Status::error);
  CHECK(r.error.code == DecodeErrc::command_length_too_small);
  CHECK(r.error.command_status == status::kEsmeRinvcmdlen);
  CHECK(r.error.fatal());
  REQUIRE(r.error.header);
  CHECK(r.error.header->sequence_number == 9);
  Pdu nack = error_response(r.error);
  CHECK(nack.command_id == cmd::kGenericNack);
  CHECK(nack.sequence_number == 0);
  CHECK(reader.next().status == FrameReader::Status::error);  // sticky

  reader.reset();
  CHECK(reader.next().status == FrameReader::Status::need_more);
  const Stream s = sample_stream();
  CHECK(feed(reader, s.bytes, [] { return std::size_t{100}; }) == s.frames);
}

TEST_CASE("command_length above max_pdu_size is reported from its first 4 octets") {
  Limits limits;
  limits.max_pdu_size = 1000;
  FrameReader reader(limits);
  const Octets len{0x00, 0x00, 0x03, 0xE9};  // 1001
  auto buf = reader.prepare(4);
  std::memcpy(buf.data(), len.data(), 4);
  reader.commit(4);
  FrameReader::Next r = reader.next();
  REQUIRE(r.status == FrameReader::Status::error);
  CHECK(r.error.code == DecodeErrc::command_length_too_large);
  CHECK_FALSE(r.error.header.has_value());
  CHECK(r.error.fatal());
  // Exactly max_pdu_size is fine.
  FrameReader ok(limits);
  SubmitSm sm;
  sm.tlvs.set(tlv::kMessagePayload, std::string(1000 - 16 - 17 - 4, 'x'));
  auto f = encode(Pdu{cmd::kSubmitSm, 0, 1, sm}, limits);
  REQUIRE(f);
  REQUIRE(f->size() == 1000);
  CHECK(feed(ok, *f, [] { return std::size_t{7}; }) == std::vector<Octets>{*f});
}

TEST_CASE("the buffer stays bounded and stops growing in the steady state") {
  const Stream s = sample_stream();
  Octets many;
  for (int i = 0; i < 200; ++i) many.insert(many.end(), s.bytes.begin(), s.bytes.end());
  Limits limits;
  limits.max_pdu_size = 8192;
  FrameReader reader(limits, 1024);
  std::size_t frames = 0;
  std::size_t pos = 0;
  std::size_t capacity_after_warmup = 0;
  while (pos < many.size()) {
    const std::size_t n = std::min<std::size_t>(4096, many.size() - pos);
    auto buf = reader.prepare(4096);
    CHECK(reader.capacity() <= limits.max_pdu_size + 4096);
    std::memcpy(buf.data(), many.data() + pos, n);
    reader.commit(n);
    pos += n;
    for (auto r = reader.next(); r.status == FrameReader::Status::frame; r = reader.next()) {
      ++frames;
    }
    if (pos > many.size() / 2) {
      if (capacity_after_warmup == 0) capacity_after_warmup = reader.capacity();
      CHECK(reader.capacity() == capacity_after_warmup);  // no reallocation
    }
  }
  CHECK(frames == 200 * s.frames.size());
  CHECK(reader.buffered() == 0);
  CHECK(reader.capacity() <= limits.max_pdu_size + 4096);
}

TEST_CASE("a reader that is never drained still only grows to what it holds") {
  FrameReader reader(Limits{}, 16);
  // A frame header announcing 60000 octets, fed in 1000-octet reads.
  Octets f(60000, 0);
  f[0] = 0x00;
  f[1] = 0x00;
  f[2] = 0xEA;
  f[3] = 0x60;
  f[7] = 0x15;
  std::size_t pos = 0;
  while (pos < f.size()) {
    auto buf = reader.prepare(1000);
    const std::size_t n = std::min<std::size_t>(1000, f.size() - pos);
    std::memcpy(buf.data(), f.data() + pos, n);
    reader.commit(n);
    pos += n;
    CHECK(reader.capacity() <= 65536 + 1000);
  }
  FrameReader::Next r = reader.next();
  REQUIRE(r.status == FrameReader::Status::frame);
  CHECK(r.frame.size() == 60000);
  CHECK(decode(r.frame).error().code == DecodeErrc::trailing_data);  // enquire_link with a body
}
