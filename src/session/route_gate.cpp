#include "session/route_gate.hpp"

#include <algorithm>
#include <cstring>

namespace smppguard::session {

std::string RouteGate::full_key(std::string_view upstream, std::string_view key) {
  std::string k;
  k.reserve(upstream.size() + 1 + key.size());
  k.append(upstream).push_back('\n');
  k.append(key);
  return k;
}

std::shared_ptr<RouteGate::Ticket> RouteGate::expect(std::string_view upstream,
                                                     std::string_view key) {
  auto k = full_key(upstream, key);
  {
    std::lock_guard lock(mu_);
    ++pending_[k];
  }
  return std::make_shared<Ticket>(*this, std::move(k));
}

void RouteGate::settle(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(key);
  if (it != pending_.end() && --it->second <= 0) pending_.erase(it);
}

bool RouteGate::pending(std::string_view upstream, const std::vector<std::string>& keys) const {
  std::lock_guard lock(mu_);
  return std::any_of(keys.begin(), keys.end(), [&](const std::string& key) {
    return pending_.contains(full_key(upstream, key));
  });
}

std::size_t RouteGate::size() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

std::string_view response_message_id(std::span<const std::uint8_t> frame) {
  constexpr std::size_t kHeader = 16;
  constexpr std::size_t kMaxId = 65;  // message_id: C-octet string of at most 65 octets
  if (frame.size() <= kHeader) return {};
  const auto* body = reinterpret_cast<const char*>(frame.data() + kHeader);
  const std::size_t room = std::min(frame.size() - kHeader, kMaxId);
  const void* nul = std::memchr(body, '\0', room);
  if (nul == nullptr) return {};
  return std::string_view(body, static_cast<const char*>(nul) - body);
}

}  // namespace smppguard::session
