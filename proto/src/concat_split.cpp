// Splitting a UTF-8 text into SMS parts with concatenation UDHs.
#include <algorithm>

#include "smppguard/proto/concat.hpp"
#include "smppguard/proto/gsm7.hpp"

namespace smppguard::proto {
namespace {

constexpr std::size_t kConcatUdhOctets = 6;  // 05 00 03 ref total seq

// Cuts `units` into chunks of at most `limit`, never between units[i - 1] and units[i] when
// `joined(i)` (the second half of an escape pair or of a surrogate pair).
template <typename Joined>
std::vector<std::span<const std::uint8_t>> chunk(std::span<const std::uint8_t> units,
                                                 std::size_t unit_size, std::size_t limit,
                                                 Joined joined) {
  std::vector<std::span<const std::uint8_t>> out;
  const std::size_t count = units.size() / unit_size;
  std::size_t start = 0;
  while (start < count) {
    std::size_t end = std::min(count, start + limit);
    if (end < count && joined(end)) --end;
    out.push_back(units.subspan(start * unit_size, (end - start) * unit_size));
    start = end;
  }
  return out;
}

}  // namespace

TextResult<SmsParts> split_for_sms(std::string_view utf8, const SplitOptions& options) {
  auto encoded = encode_text_for_sms(utf8);
  if (!encoded) return text_error(TextErrc::invalid_utf8);
  const bool gsm = encoded->data_coding == 0x00;
  const std::span<const std::uint8_t> units = encoded->bytes;

  SmsParts out;
  out.data_coding = encoded->data_coding;
  const std::size_t single = gsm ? kGsm7SingleSeptets : kUcs2SingleUnits * 2;
  if (units.size() <= single) {
    out.parts.push_back(gsm && options.pack_gsm7 ? gsm7_pack(units) : encoded->bytes);
    return out;
  }

  std::vector<std::span<const std::uint8_t>> chunks;
  if (gsm) {
    // gsm7_encode emits 0x1B only as the first septet of a pair (no extension code is 0x1B).
    chunks = chunk(units, 1, kGsm7PartSeptets,
                   [&](std::size_t i) { return units[i - 1] == kGsm7Escape; });
  } else {
    chunks = chunk(units, 2, kUcs2PartUnits, [&](std::size_t i) {
      const unsigned hi = units[2 * i];
      return hi >= 0xDC && hi <= 0xDF;  // a low surrogate
    });
  }
  if (chunks.size() > kMaxParts) return text_error(TextErrc::message_too_long);

  out.esm_class_udhi = kEsmClassUdhi;
  const auto total = static_cast<std::uint8_t>(chunks.size());
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    const UdhElement ie = make_concat_element(
        {options.reference, total, static_cast<std::uint8_t>(k + 1), /*ref16=*/false});
    std::vector<std::uint8_t> part = *build_udh(std::span(&ie, 1));
    if (gsm && options.pack_gsm7) {
      const auto packed = gsm7_pack(chunks[k], gsm7_fill_bits(kConcatUdhOctets));
      part.insert(part.end(), packed.begin(), packed.end());
    } else {
      part.insert(part.end(), chunks[k].begin(), chunks[k].end());
    }
    out.parts.push_back(std::move(part));
  }
  return out;
}

}  // namespace smppguard::proto
