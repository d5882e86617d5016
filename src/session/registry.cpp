#include "session/registry.hpp"

#include <algorithm>

namespace smppguard::session {

bool SessionRegistry::add(const std::shared_ptr<EsmeSession>& session, const BindInfo& info,
                          std::uint32_t max_binds) {
  {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& [ptr, e] : entries_) n += e.info.account == info.account ? 1 : 0;
    if (n >= max_binds) return false;
    entries_[session.get()] = Entry{session, info};
  }
  if (can_receive(info.state) && on_receiver_bound_) {
    on_receiver_bound_(account_target(info.account));
    on_receiver_bound_(tenant_target(info.tenant));
  }
  return true;
}

void SessionRegistry::remove(const EsmeSession* session) {
  std::lock_guard lock(mu_);
  entries_.erase(session);
}

std::size_t SessionRegistry::binds_of(std::string_view account) const {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(), [&](const auto& kv) {
    return kv.second.info.account == account;
  }));
}

std::vector<std::shared_ptr<EsmeSession>> SessionRegistry::receivers(std::string_view target) {
  std::vector<std::pair<std::uint64_t, std::shared_ptr<EsmeSession>>> found;
  {
    std::lock_guard lock(mu_);
    const bool by_account = target.starts_with("account:");
    const auto name = target.substr(target.find(':') + 1);
    for (const auto& [ptr, e] : entries_) {
      if (!can_receive(e.info.state)) continue;
      if ((by_account ? e.info.account : e.info.tenant) != name) continue;
      if (auto s = e.session.lock()) found.emplace_back(e.info.id, std::move(s));
    }
  }
  // A stable order (bind id). No rotation here: the delivery lane calls this more than once per
  // item (after a send and after its answer), so rotating per call as well as per item made the
  // two cancel out and every MO went to the same session.
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::shared_ptr<EsmeSession>> out;
  out.reserve(found.size());
  for (auto& [id, s] : found) out.push_back(std::move(s));
  return out;
}

std::vector<std::pair<std::shared_ptr<EsmeSession>, BindInfo>> SessionRegistry::all() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::shared_ptr<EsmeSession>, BindInfo>> out;
  for (const auto& [ptr, e] : entries_) {
    if (auto s = e.session.lock()) out.emplace_back(std::move(s), e.info);
  }
  return out;
}

}  // namespace smppguard::session
