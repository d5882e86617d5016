// User Data Header parsing and building (3GPP TS 23.040 clause 9.2.3.24).
#include "smppguard/proto/udh.hpp"

namespace smppguard::proto {
namespace {

std::optional<ConcatInfo> read_concat(const UdhElement& ie) {
  ConcatInfo c;
  if (ie.iei == kIeiConcat8) {
    if (ie.data.size() != 3) return std::nullopt;
    c.ref = ie.data[0];
    c.total = ie.data[1];
    c.seq = ie.data[2];
  } else {
    if (ie.data.size() != 4) return std::nullopt;
    c.ref = static_cast<std::uint16_t>((ie.data[0] << 8) | ie.data[1]);
    c.total = ie.data[2];
    c.seq = ie.data[3];
    c.ref16 = true;
  }
  if (c.total == 0 || c.seq == 0 || c.seq > c.total) return std::nullopt;
  return c;
}

}  // namespace

TextResult<ParsedUdh> parse_udh(std::span<const std::uint8_t> short_message) {
  if (short_message.empty()) return text_error(TextErrc::udh_missing);
  const std::size_t udhl = short_message[0];
  if (udhl + 1 > short_message.size()) return text_error(TextErrc::udh_truncated);
  const auto header = short_message.subspan(1, udhl);
  ParsedUdh udh;
  udh.header_octets = udhl + 1;
  udh.payload = short_message.subspan(udhl + 1);
  for (std::size_t i = 0; i < header.size();) {
    if (header.size() - i < 2) return text_error(TextErrc::udh_ie_truncated);
    const std::uint8_t iei = header[i];
    const std::size_t len = header[i + 1];
    i += 2;
    if (header.size() - i < len) return text_error(TextErrc::udh_ie_truncated);
    const auto data = header.subspan(i, len);
    udh.elements.push_back({iei, {data.begin(), data.end()}});
    i += len;
    if (iei == kIeiConcat8 || iei == kIeiConcat16) {
      const auto c = read_concat(udh.elements.back());
      if (!c) return text_error(TextErrc::udh_bad_concat);
      udh.concat = *c;
    }
  }
  return udh;
}

UdhElement make_concat_element(const ConcatInfo& c) {
  if (c.ref16) {
    return {kIeiConcat16,
            {static_cast<std::uint8_t>(c.ref >> 8), static_cast<std::uint8_t>(c.ref & 0xFF),
             c.total, c.seq}};
  }
  return {kIeiConcat8, {static_cast<std::uint8_t>(c.ref & 0xFF), c.total, c.seq}};
}

TextResult<std::vector<std::uint8_t>> build_udh(std::span<const UdhElement> elements) {
  std::vector<std::uint8_t> out{0};
  for (const auto& ie : elements) {
    if (ie.data.size() > 255) return text_error(TextErrc::udh_too_long);
    out.push_back(ie.iei);
    out.push_back(static_cast<std::uint8_t>(ie.data.size()));
    out.insert(out.end(), ie.data.begin(), ie.data.end());
  }
  if (out.size() - 1 > 255) return text_error(TextErrc::udh_too_long);
  out[0] = static_cast<std::uint8_t>(out.size() - 1);
  return out;
}

}  // namespace smppguard::proto
