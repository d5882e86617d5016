// Reassembly of incoming concatenated messages (UDH IEI 0x00 / 0x08, or sar_* TLVs).
#include <algorithm>

#include "smppguard/proto/concat.hpp"
#include "smppguard/proto/gsm7.hpp"

namespace smppguard::proto {

Reassembler::Reassembler(ReassemblerConfig config) : config_(config) {
  config_.max_pending_messages = std::max<std::size_t>(config_.max_pending_messages, 1);
}

TextResult<PartLayout> part_layout(const IncomingPart& in) {
  PartLayout layout{in.payload, 0, std::nullopt};
  if ((in.esm_class & kEsmClassUdhi) != 0) {
    auto udh = parse_udh(in.payload);
    if (!udh) return Unexpected<std::error_code>{udh.error()};
    layout.payload = udh->payload;
    layout.header_octets = udh->header_octets;
    layout.position = udh->concat;
  }
  if (!layout.position && in.sar) {
    const SarInfo& s = *in.sar;
    if (s.total == 0 || s.seq == 0 || s.seq > s.total) return text_error(TextErrc::sar_invalid);
    layout.position = ConcatInfo{s.ref, s.total, s.seq, true};
  }
  return layout;
}

PartResult Reassembler::add(const IncomingPart& in, Time now) {
  PartResult result;
  auto layout = part_layout(in);
  if (!layout) {
    result.error = layout.error();
    return result;
  }
  const std::span<const std::uint8_t> payload = layout->payload;
  const std::size_t header_octets = layout->header_octets;
  const std::optional<ConcatInfo>& position = layout->position;

  Part part{in.data_coding, {}};
  const DataCodingInfo coding = describe_data_coding(in.data_coding);
  if (config_.gsm7_packed && coding.is_text() && coding.alphabet == Alphabet::gsm7) {
    part.units = gsm7_unpack(payload, gsm7_fill_bits(header_octets));
  } else {
    part.units.assign(payload.begin(), payload.end());
  }

  if (!position || position->total == 1) {
    result.status = PartStatus::complete;
    result.data_coding = in.data_coding;
    result.text = decode_text(in.data_coding, part.units);
    return result;
  }

  Key key{std::string(in.key), position->ref, position->total};
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    while (entries_.size() >= config_.max_pending_messages) {
      const auto oldest = by_order_.begin();
      entries_.erase(oldest->second);
      by_order_.erase(oldest);
      result.evicted_oldest = true;
    }
    Entry entry;
    entry.first_seen = now;
    entry.order = next_order_++;
    entry.parts.resize(position->total);
    by_order_.emplace(entry.order, key);
    it = entries_.emplace(std::move(key), std::move(entry)).first;
  }
  Entry& entry = it->second;
  auto& slot = entry.parts[position->seq - 1];
  if (slot) {
    result.status = PartStatus::duplicate;
    return result;
  }
  slot = std::move(part);
  if (++entry.received < entry.parts.size()) {
    result.status = PartStatus::stored;
    return result;
  }

  // Consecutive parts with the same data_coding are decoded together, so that an escape pair or a
  // surrogate pair that a sender split across parts still reads as one character.
  std::vector<std::uint8_t> run;
  std::uint8_t run_coding = entry.parts.front()->data_coding;
  for (const auto& p : entry.parts) {
    if (p->data_coding != run_coding) {
      result.text += decode_text(run_coding, run);
      run.clear();
      run_coding = p->data_coding;
    }
    run.insert(run.end(), p->units.begin(), p->units.end());
  }
  result.text += decode_text(run_coding, run);
  result.status = PartStatus::complete;
  result.data_coding = entry.parts.front()->data_coding;
  by_order_.erase(entry.order);
  entries_.erase(it);
  return result;
}

std::size_t Reassembler::expire(Time now) {
  std::size_t dropped = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now - it->second.first_seen >= config_.max_age) {
      by_order_.erase(it->second.order);
      it = entries_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  return dropped;
}

}  // namespace smppguard::proto
