#pragma once
// A PDU built octet by octet, for tests that check the decoder against hand-made wire bytes.
#include <cstdint>
#include <string_view>
#include <vector>

namespace smppguard::test {

using Octets = std::vector<std::uint8_t>;

struct Bytes {
  Octets body;
  Bytes& u8(std::uint8_t v) {
    body.push_back(v);
    return *this;
  }
  Bytes& u16(std::uint16_t v) {
    return u8(static_cast<std::uint8_t>(v >> 8)).u8(static_cast<std::uint8_t>(v));
  }
  Bytes& u32(std::uint32_t v) {
    return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v));
  }
  Bytes& raw(std::string_view s) {
    body.insert(body.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& cstr(std::string_view s) { return raw(s).u8(0); }
  Bytes& tlv(std::uint16_t tag, std::string_view v) {
    return u16(tag).u16(static_cast<std::uint16_t>(v.size())).raw(v);
  }
  /// The 16-octet header (command_length computed) followed by the body.
  Octets frame(std::uint32_t id, std::uint32_t seq, std::uint32_t status = 0) const {
    Bytes f;
    f.u32(static_cast<std::uint32_t>(16 + body.size())).u32(id).u32(status).u32(seq);
    f.body.insert(f.body.end(), body.begin(), body.end());
    return f.body;
  }
};

}  // namespace smppguard::test
