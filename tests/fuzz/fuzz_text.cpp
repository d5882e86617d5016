// libFuzzer target over the text decoders: data_coding dispatch, GSM 7-bit (packed and unpacked),
// UCS2, UDH parsing and multipart reassembly. Besides "no crash", it checks the invariants callers
// rely on: text codings decode to valid UTF-8, what encode_text_for_sms makes decodes back to the
// same text, and split_for_sms parts reassemble to it.
//
// Input: [data_coding][flags][body...]. flags: bits 0..2 fill bits for the 7-bit unpacker,
// bit 3 packed GSM for the reassembler, bit 6 (0x40) UDHI for the single-part path.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smppguard/proto/concat.hpp"
#include "smppguard/proto/gsm7.hpp"
#include "smppguard/proto/text.hpp"
#include "smppguard/proto/udh.hpp"

using namespace smppguard::proto;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

const Reassembler::Time kNow{};

// Splits `text` as the proxy would send it and puts the parts back together, last part first.
void round_trip_split(const std::string& text, std::uint8_t reference) {
  auto parts = split_for_sms(text, {.reference = reference});
  if (!parts) {
    check(parts.error() == TextErrc::message_too_long);
    return;
  }
  Reassembler r({.max_pending_messages = 1});
  PartResult last;
  for (auto it = parts->parts.rbegin(); it != parts->parts.rend(); ++it) {
    check(it->size() <= 6 + 160);
    last = r.add({"k", parts->data_coding, parts->esm_class_udhi, *it, std::nullopt}, kNow);
  }
  check(last.status == PartStatus::complete);
  check(last.text == text);
  check(r.pending() == 0);
}

// Feeds records [len][esm_class][sar_total][sar_seq][len bytes] to a small reassembler.
void reassemble_records(std::uint8_t dc, bool packed, std::span<const std::uint8_t> body) {
  Reassembler r(
      {.max_pending_messages = 3, .max_age = std::chrono::seconds(10), .gsm7_packed = packed});
  std::size_t i = 0;
  for (int n = 0; body.size() - i >= 4; ++n) {
    const std::size_t len = std::min<std::size_t>(body[i], body.size() - i - 4);
    const std::uint8_t esm = body[i + 1];
    std::optional<SarInfo> sar;
    if (body[i + 2] != 0xFF) sar = SarInfo{7, body[i + 2], body[i + 3]};
    const auto payload = body.subspan(i + 4, len);
    const std::string key = n % 3 == 0 ? "a" : "b";
    const PartResult res = r.add({key, dc, esm, payload, sar}, kNow + std::chrono::seconds(n));
    if (res.status == PartStatus::complete && describe_data_coding(dc).is_text()) {
      check(is_valid_utf8(res.text));
    }
    check(res.status != PartStatus::invalid || res.error);
    check(r.pending() <= 3);
    i += 4 + len;
  }
  r.expire(kNow + std::chrono::seconds(5));
  r.expire(kNow + std::chrono::hours(24 * 365));
  check(r.pending() == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t dc = data[0];
  const std::uint8_t flags = data[1];
  const std::span<const std::uint8_t> body(data + 2, size - 2);

  const std::string text = decode_text(dc, body);
  if (describe_data_coding(dc).is_text()) {
    check(is_valid_utf8(text));
    const auto enc = encode_text_for_sms(text);
    check(enc.has_value());
    check(decode_text(enc->data_coding, enc->bytes) == text);
    check(enc->data_coding == 0x08 || gsm7_septet_count(text) == enc->bytes.size());
    round_trip_split(text, flags);
  } else {
    check(text.size() == body.size());
  }

  for (const std::string& s :
       {gsm7_decode(body), ucs2_decode(body), ia5_decode(body), latin1_decode(body)}) {
    check(is_valid_utf8(s));
  }

  const unsigned fill = flags & 0x07;
  const std::vector<std::uint8_t> septets = gsm7_unpack(body, fill);
  check(septets.size() <= (body.size() * 8) / 7);
  check(gsm7_unpack(gsm7_pack(septets, fill), fill, septets.size()) == septets);

  if (const auto udh = parse_udh(body)) {
    check(udh->header_octets + udh->payload.size() == body.size());
    if (udh->concat) check(udh->concat->seq >= 1 && udh->concat->seq <= udh->concat->total);
    const auto rebuilt = build_udh(udh->elements);
    check(rebuilt.has_value());
    check(std::equal(rebuilt->begin(), rebuilt->end(), body.begin(),
                     body.begin() + static_cast<std::ptrdiff_t>(udh->header_octets)));
  }

  // The raw body as (possibly invalid) UTF-8 input to the encoders.
  const std::string_view raw(reinterpret_cast<const char*>(body.data()), body.size());
  const bool valid = is_valid_utf8(raw);
  check(gsm7_encode(raw).has_value() == gsm7_fits(raw));
  (void)gsm7_encode_lenient(raw);
  check(ucs2_encode(raw).has_value() == valid);
  if (valid) check(ucs2_decode(*ucs2_encode(raw)) == raw);

  Reassembler single({.max_pending_messages = 1});
  const PartResult res = single.add({"k", dc, flags, body, std::nullopt}, kNow);
  check(res.status != PartStatus::duplicate);

  reassemble_records(dc, (flags & 0x08) != 0, body);
  return 0;
}
