#include "session/consent_chain.hpp"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstdio>
#include <smppguard/proto/commands.hpp>
#include <smppguard/proto/decode.hpp>
#include <smppguard/proto/encode.hpp>
#include <smppguard/proto/text.hpp>
#include <smppguard/proto/tlv.hpp>
#include <smppguard/proto/udh.hpp>

#include "common/log.hpp"
#include "policy/numbers.hpp"
#include "session/delivery.hpp"
#include "session/intake.hpp"
#include "session/registry.hpp"
#include "session/store_ops.hpp"

namespace smppguard::session {

namespace st = proto::status;
namespace cmd = proto::cmd;

namespace {

// A store read the MT decision needed has failed: counted, and logged at error at most once a
// second (a broken store fails every MT; the metric carries the rate).
void report_read_error(Services& services, std::string_view op, const std::error_code& ec) {
  services.metrics.store_error(op);
  static std::atomic<std::int64_t> last_logged_ms{0};
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  auto last = last_logged_ms.load(std::memory_order_relaxed);
  if (now - last < 1000 || !last_logged_ms.compare_exchange_strong(last, now)) return;
  SG_LOG(error, "store_read_failed")
      .kv("op", op)
      .kv("error", ec.message())
      .kv("effect", "mt refused store_unavailable");
}

// The store reads of an MT decision (consent pair, then the frequency cap's count when it
// applies) and the decision. Any read error refuses with store_unavailable: fail closed.
policy::MtDecision read_and_decide(Services& services, const config::Config& config,
                                   const policy::MtSubject& subject, TimePoint now,
                                   const policy::TimeZone& zone) {
  const auto& program = *subject.program;
  if (!services.store.writable()) {
    // Below the store's free-space floor: the MT's id map could not be written, so its
    // receipts could never be routed. Refused before it reaches the carrier.
    report_read_error(services, "disk_full", make_error_code(store::StoreErrc::no_space));
    return policy::refusal(config, policy::Reason::store_unavailable);
  }
  if (!services.store.replica_ready()) {
    // Cluster mode: this replica is catching up or lags beyond max_lag (SPEC section 9).
    report_read_error(services, "replica_behind",
                      make_error_code(store::StoreErrc::cluster_unavailable));
    return policy::refusal(config, policy::Reason::store_unavailable);
  }
  store::ConsentPair pair;
  if (const auto ec =
          services.store.get_consent_pair(program.id, program.tenant, subject.msisdn, pair)) {
    report_read_error(services, "read_consent", ec);
    return policy::refusal(config, policy::Reason::store_unavailable);
  }
  std::size_t sent = 0;
  if (program.frequency_cap && program.frequency_cap->applies_to(subject.category)) {
    auto n = services.store.sent_since(program.id, subject.msisdn,
                                       to_unix_ms(now) - program.frequency_cap->per.count());
    if (!n) {
      report_read_error(services, "read_freq", n.error());
      return policy::refusal(config, policy::Reason::store_unavailable);
    }
    sent = *n;
  }
  return policy::decide_mt(policy::MtContext{config, program, subject, now, zone, sent}, pair);
}

// The text of a deliver_sm/data_sm/submit_sm and its concatenation info, if any.
struct MoText {
  std::string text;
  std::uint8_t data_coding = 0;
  std::uint8_t esm_class = 0;
  std::string payload;  // user data octets (UDH included when esm_class has UDHI)
  std::optional<proto::SarInfo> sar;
};

MoText extract_text(const proto::Pdu& pdu) {
  MoText out;
  const proto::TlvList* tlvs = nullptr;
  if (const auto* d = pdu.as<proto::SubmitSm>()) {
    out.data_coding = d->data_coding;
    out.esm_class = d->esm_class;
    out.payload = d->short_message;
    tlvs = &d->tlvs;
  } else if (const auto* d = pdu.as<proto::DataSm>()) {
    out.data_coding = d->data_coding;
    out.esm_class = d->esm_class;
    tlvs = &d->tlvs;
  }
  if (tlvs != nullptr) {
    if (auto p = tlvs->get_bytes(proto::tlv::kMessagePayload); p && out.payload.empty()) {
      out.payload = std::string(*p);
    }
    auto ref = tlvs->get_u16(proto::tlv::kSarMsgRefNum);
    auto total = tlvs->get_u8(proto::tlv::kSarTotalSegments);
    auto seq = tlvs->get_u8(proto::tlv::kSarSegmentSeqnum);
    if (ref && total && seq) out.sar = proto::SarInfo{*ref, *total, *seq};
  }
  return out;
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string decode_user_text(const MoText& m) {
  std::span<const std::uint8_t> data = bytes_of(m.payload);
  if ((m.esm_class & proto::esm_class::kUdhi) != 0) {
    if (auto udh = proto::parse_udh(data)) data = udh->payload;
  }
  if (!proto::describe_data_coding(m.data_coding).is_text()) return {};
  return proto::decode_text(m.data_coding, data);
}

proto::IncomingPart incoming_of(std::string_view key, const MoText& m) {
  return {key, m.data_coding, m.esm_class, bytes_of(m.payload), m.sar};
}

// The place of a part in a longer MO; nullopt for a whole message (or a part whose UDH or sar_*
// values are malformed: it is decoded and decided as a message of its own).
std::optional<proto::ConcatInfo> multipart_position(const MoText& m) {
  auto layout = proto::part_layout(incoming_of("", m));
  if (!layout || !layout->position || layout->position->total <= 1) return std::nullopt;
  return layout->position;
}

// How long the first parts of an MO wait for the others (then compaction drops them).
constexpr std::chrono::minutes kMoPartTtl{10};

proto::IncomingPart incoming_of(std::string_view key, const store::MoPart& p) {
  std::optional<proto::SarInfo> sar;
  if (p.has_sar) sar = proto::SarInfo{p.sar_ref, p.sar_total, p.sar_seq};
  return {key, p.data_coding, p.esm_class, bytes_of(p.payload), sar};
}

store::MoPart stored_part(const MoText& m, const proto::ConcatInfo& position, std::int64_t now_ms) {
  store::MoPart p;
  p.seq = position.seq;
  p.data_coding = m.data_coding;
  p.esm_class = m.esm_class;
  p.payload = m.payload;
  if (m.sar) {
    p.has_sar = true;
    p.sar_ref = m.sar->ref;
    p.sar_total = m.sar->total;
    p.sar_seq = m.sar->seq;
  }
  p.received_at_ms = now_ms;
  p.expires_at_ms = now_ms + std::chrono::duration_cast<Millis>(kMoPartTtl).count();
  return p;
}

// Inside the MO's mutation: the whole text when this part completes its message with the parts
// the store holds (they are removed), else nullopt (this part is stored, unless it already was).
// A store read error throws, so the mutation fails and the carrier sends the part again.
std::optional<std::string> reassemble(store::Batch& b, const std::string& key,
                                      const proto::ConcatInfo& position, const MoText& m,
                                      TimePoint now) {
  auto held = b.mo_parts(key, position.ref, position.total);
  if (!held) throw std::runtime_error("mo parts: " + held.error().message());
  proto::Reassembler parts(proto::ReassemblerConfig{.max_pending_messages = 1});
  for (const auto& p : *held) parts.add(incoming_of(key, p), now);
  auto result = parts.add(incoming_of(key, m), now);
  if (result.status == proto::PartStatus::complete) {
    b.remove_mo_parts(key, position.ref, position.total);
    return std::move(result.text);
  }
  if (result.status == proto::PartStatus::stored) {
    b.put_mo_part(key, position.ref, position.total, stored_part(m, position, b.now_ms()));
  }
  return std::nullopt;
}

}  // namespace

// ---- ConsentServices ----------------------------------------------------------------------------

ConsentServices::ConsentServices(Services& services)
    : services_(services),
      outbound_(services),
      outbox_(std::make_shared<OutboxSender>(services, *this)),
      strand_(asio::make_strand(services.io)) {}

ConsentServices::~ConsentServices() { stop(); }

void ConsentServices::start(std::chrono::milliseconds interval) {
  asio::co_spawn(strand_, sweep_loop(interval), asio::detached);
  outbox_->start();
}

void ConsentServices::stop() {
  if (stopped_.exchange(true)) return;
  outbox_->stop();
}

void ConsentServices::follow_replicated(
    std::vector<std::pair<std::string, std::string>> subscribers) {
  if (stopped_) return;
  asio::co_spawn(strand_, follow_held(std::move(subscribers)), asio::detached);
}

asio::awaitable<void> ConsentServices::follow_held(
    std::vector<std::pair<std::string, std::string>> subscribers) {
  const auto config = services_.runtime.load()->config;
  const policy::Actor actor{"proxy"};
  for (const auto& [program_id, msisdn] : subscribers) {
    const auto* program = config->find_program(program_id);
    if (program == nullptr) continue;
    auto held = services_.store.held_for(program_id, msisdn);  // a cheap prefix read
    if (!held || held->empty()) continue;
    const auto now = services_.clock.now();
    Staged staged;
    const auto ec = co_await commit(
        services_.store,
        [&](store::Batch& b) {
          auto follow = policy::follow_consent_change(b, program_id, msisdn, actor, now);
          policy::MoOutcome outcome;
          outcome.release = std::move(follow.release);
          outcome.failed = std::move(follow.failed);
          staged = stage_follow_up(b, *config, *program, "", msisdn, outcome);
        },
        true);
    if (ec) {
      // Still held: the sweeper's expiry or the next change for this subscriber takes them.
      services_.metrics.store_error("follow_replicated");
      SG_LOG(warn, "held_follow_failed").kv("program", program_id).kv("error", ec.message());
      continue;
    }
    after_staged(staged);
  }
}

void ConsentServices::stage_failed_receipt(store::Batch& batch, const store::HeldMessage& held,
                                           std::string_view stat, std::uint32_t error,
                                           Staged& staged) {
  if (held.account.empty() || !held.wants_receipt) return;
  auto original = proto::decode(bytes_of(held.pdu));
  if (!original) return;
  const auto now = services_.clock.now();
  auto receipt = policy::build_receipt(held.proxy_id, *original, stat, error,
                                       from_unix_ms(held.held_at_ms), now);
  receipt.sequence_number = 0;
  auto bytes = proto::encode(receipt);
  if (!bytes) return;
  auto item = Intake::delivery_item(SessionRegistry::account_target(held.account),
                                    store::DeliveryKind::receipt,
                                    std::string(bytes->begin(), bytes->end()), to_unix_ms(now));
  staged.targets.insert(item.target);
  batch.enqueue_delivery(std::move(item));
}

ConsentServices::Staged ConsentServices::stage_follow_up(
    store::Batch& batch, const config::Config& config, const config::Program& program,
    const std::string& number, const std::string& msisdn, const policy::MoOutcome& outcome) {
  // Confirmation first, then the held MTs in their original order (SPEC 8): the outbox keeps
  // one subscriber's items in staged order. Then the receipts of MTs that a STOP failed.
  Staged staged;
  for (const auto& reply : outcome.replies) {
    stage_proxy_message(batch, program.id, msisdn, number, reply.template_name, reply.text);
    staged.outbox = true;
  }
  for (const auto& held : outcome.release) {
    staged.held = true;
    if (held.account.empty()) {
      // A held MO (mo_requires_consent): it goes to the tenant now.
      auto item = Intake::delivery_item(SessionRegistry::tenant_target(program.tenant),
                                        store::DeliveryKind::mo, held.pdu, batch.now_ms());
      staged.targets.insert(item.target);
      batch.enqueue_delivery(std::move(item));
      continue;
    }
    stage_released(batch, held);
    staged.outbox = true;
  }
  for (const auto& held : outcome.failed) {
    staged.held = true;
    stage_failed_receipt(batch, held, "REJECTD",
                         policy::status_for(config, policy::Reason::opted_out), staged);
  }
  return staged;
}

void ConsentServices::after_staged(const Staged& staged) {
  for (const auto& target : staged.targets) {
    const bool mo = target.starts_with("tenant:");
    const auto kind = mo ? store::DeliveryKind::mo : store::DeliveryKind::receipt;
    services_.metrics.queue_depth(mo ? "mo" : "receipt")
        .Set(static_cast<double>(services_.store.queued_deliveries(kind)));
    services_.delivery.notify(target);
  }
  if (staged.outbox) {
    services_.metrics.queue_depth("outbox").Set(
        static_cast<double>(services_.store.queued_deliveries(store::DeliveryKind::outbox)));
    outbox_->wake();
  }
  if (staged.held) {
    services_.metrics.queue_depth("held_mt").Set(
        static_cast<double>(services_.store.held_messages()));
  }
}

bool ConsentServices::claim_disclaimer(const std::string& key) {
  std::lock_guard lock(disclaimers_mu_);
  return disclaimers_.insert(key).second;
}

void ConsentServices::release_disclaimer(const std::string& key) {
  std::lock_guard lock(disclaimers_mu_);
  disclaimers_.erase(key);
}

bool ConsentServices::disclaimer_in_flight(const std::string& key) {
  std::lock_guard lock(disclaimers_mu_);
  return disclaimers_.contains(key);
}

asio::awaitable<void> ConsentServices::sweep_loop(std::chrono::milliseconds interval) {
  asio::steady_timer timer(strand_);
  while (!stopped_ && !services_.stopping) {
    timer.expires_after(interval);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopped_ || services_.stopping) break;
    try {
      co_await sweep_once();
    } catch (const std::exception& e) {
      SG_LOG(error, "held_sweep_failed").kv("what", e.what());
    }
  }
}

policy::MtDecision ConsentServices::redecide(const config::Config& config,
                                             const store::HeldMessage& held, TimePoint now) {
  const auto* program = config.find_program(held.program);
  const auto* account = config.find_account(held.account);
  auto original = proto::decode(bytes_of(held.pdu));
  if (program == nullptr || account == nullptr || !original) {
    return policy::refusal(config, policy::Reason::unknown_program);
  }
  policy::MtSubject subject{program, held.msisdn, account->default_category};
  if (const auto* sm = original->as<proto::SubmitSm>()) {
    subject.category = policy::category_of(config, *account, sm->service_type, sm->tlvs);
  } else if (const auto* ds = original->as<proto::DataSm>()) {
    subject.category = policy::category_of(config, *account, ds->service_type, ds->tlvs);
  }
  const auto zone = policy::subscriber_zone(held.msisdn, *program);
  return read_and_decide(services_, config, subject, now, *zone);
}

asio::awaitable<void> ConsentServices::fail_held(const store::HeldMessage& held,
                                                 std::string_view stat, std::uint32_t error) {
  if (held.account.empty() || !held.wants_receipt) co_return;  // no commit for nothing
  Staged staged;
  const auto ec = co_await commit(
      services_.store, [&](store::Batch& b) { stage_failed_receipt(b, held, stat, error, staged); },
      true);
  if (ec) {
    services_.metrics.store_error("enqueue");
    co_return;
  }
  after_staged(staged);
}

asio::awaitable<OutboxResult> ConsentServices::forward_released(
    std::shared_ptr<const config::Config> config, store::HeldMessage held) {
  // Consent, quiet hours and the cap are decided again at release: things change overnight.
  const auto now = services_.clock.now();
  const auto decision = redecide(*config, held, now);
  const policy::Actor actor{"proxy"};
  switch (decision.action) {
    case policy::MtAction::forward:
    case policy::MtAction::disclaimer_then_forward: {
      const auto released = co_await outbound_.release(*config, held);
      if (released.transient) co_return OutboxResult::retry;  // the outbox sends it again
      if (released.accepted) {
        services_.metrics.mt_decision(held.program, "forwarded", "none");
      } else {
        co_await fail_held(held, "UNDELIV", released.status);
      }
      break;
    }
    case policy::MtAction::hold_for_quiet_hours: {
      // Held again until the window opens, under the same id.
      store::HeldMessage again = held;
      again.reason = store::HoldReason::quiet_hours;
      again.release_at_ms = to_unix_ms(decision.release_at);
      if (const auto* p = config->find_program(held.program)) {
        again.expires_at_ms = again.release_at_ms + p->hold_ttl.count();
      }
      store::Mutation hold = [again, actor, now](store::Batch& b) mutable {
        policy::hold_for_quiet_hours(b, std::move(again), actor, now);
      };
      if (co_await commit(services_.store, std::move(hold), true)) {
        services_.metrics.store_error("hold");
        co_return OutboxResult::retry;  // still in the outbox: decided again later
      } else {
        services_.metrics.mt_decision(held.program, "held", "quiet_hours");
      }
      break;
    }
    default: {
      const auto& h = held;
      const auto reason = decision.reason;
      store::Mutation audit = [h, reason, actor, now,
                               program = config->find_program(h.program)](store::Batch& b) {
        policy::audit_refusal(b, program, h.msisdn, reason, actor, now, h.proxy_id);
      };
      co_await commit(services_.store, std::move(audit), false);
      services_.metrics.mt_decision(held.program, "refused", policy::to_string(decision.reason));
      co_await fail_held(held, "REJECTD", decision.status);
      break;
    }
  }
  services_.metrics.queue_depth("held_mt").Set(
      static_cast<double>(services_.store.held_messages()));
  co_return OutboxResult::done;
}

asio::awaitable<void> ConsentServices::sweep_once() {
  const auto now = services_.clock.now();
  const auto now_ms = to_unix_ms(now);
  auto due = co_await async_callback<Result<std::vector<store::HeldMessage>>>([&](auto done) {
    asio::post(services_.blocking, [this, now_ms, done = std::move(done)]() mutable {
      done(services_.store.held_due(now_ms, 200));
    });
  });
  if (!due) {
    services_.metrics.store_error("read_held");
    co_return;
  }
  for (auto& held : *due) {
    const auto config = services_.runtime.load()->config;
    const bool expired = held.expires_at_ms <= now_ms;
    const bool release = !expired && held.release_at_ms != 0 && held.release_at_ms <= now_ms;
    if (!expired && !release) continue;
    // Out of the held family and into the outbox (or its EXPIRED receipt into the queue) in
    // one synced mutation; a YES may have released it meanwhile.
    bool present = false;
    Staged staged;
    const policy::Actor actor{"proxy"};
    const auto ec = co_await commit(
        services_.store,
        [&](store::Batch& b) {
          auto list = b.held_for(held.program, held.msisdn);
          if (!list) throw std::system_error(list.error());
          for (const auto& h : *list) present = present || h.seq == held.seq;
          if (!present) return;
          staged.held = true;
          if (expired) {
            policy::expire_held(b, held, now);
            stage_failed_receipt(b, held, "EXPIRED", 0, staged);
            return;
          }
          policy::release_held(b, held, actor, now);
          if (held.account.empty()) return;  // held MOs are released by YES only
          stage_released(b, held);
          staged.outbox = true;
        },
        true);
    if (ec) {
      services_.metrics.store_error("held");
      continue;
    }
    after_staged(staged);
  }
}

// ---- ConsentChain -------------------------------------------------------------------------------

struct ConsentChain::Destination {
  const config::Program* program = nullptr;
  std::string from_number;  // the program number the MT came from (E.164 or short code)
  std::string msisdn;
  config::Category category = config::Category::informational;
  std::uint8_t registered_delivery = 0;
  // Whether the MT may be held (confirm mode, quiet hours hold). Not for one destination of a
  // submit_multi (its response cannot accept a destination later, and releasing the held frame
  // would resend it to every destination) nor for a replace_sm: those are refused instead.
  bool may_hold = true;
};

ConsentChain::ConsentChain(std::shared_ptr<const config::Config> config, ConsentServices& consent)
    : config_(std::move(config)),
      consent_(consent),
      services_(consent.services()),
      programs_(std::make_unique<policy::Programs>(*config_)) {}

void ConsentChain::count(const std::string& program, std::string_view decision,
                         policy::Reason reason) {
  services_.metrics.mt_decision(program, decision, policy::to_string(reason));
}

asio::awaitable<MtVerdict> ConsentChain::refusal(MtRequest& request, const Destination& dest,
                                                 policy::Reason reason, std::uint32_t status) {
  count(dest.program ? dest.program->id : "", "refused", reason);
  if (log::enabled(log::Level::info)) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08X", status);
    SG_LOG(info, "mt_refused")
        .kv("account", request.account.system_id)
        .kv("program", dest.program ? dest.program->id : "")
        .kv("reason", policy::to_string(reason))
        .kv("status", std::string_view(hex));
  }
  const auto now = services_.clock.now();
  MtVerdict v;
  v.program = dest.program ? dest.program->id : "";
  v.reason = std::string(policy::to_string(reason));
  v.action = MtVerdict::Action::refuse;
  v.status = status;
  const bool as_receipt = request.account.refuse_with == config::RefuseWith::receipt &&
                          request.pdu.command_id != cmd::kSubmitMulti &&
                          request.pdu.command_id != cmd::kReplaceSm;
  if (as_receipt) v.message_id = services_.store.next_message_id();

  // Every blocked MT is audited.
  const policy::Actor actor{request.account.system_id};
  store::Mutation audit = [program = dest.program, msisdn = dest.msisdn, reason, actor, now,
                           id = v.message_id](store::Batch& b) {
    policy::audit_refusal(b, program, msisdn, reason, actor, now, id);
  };
  services_.store.submit(std::move(audit), false, [this](std::error_code ec) {
    if (ec) services_.metrics.store_error("audit");
  });

  if (as_receipt) {
    // Accepted, then the application hears of the refusal in a REJECTD receipt with its code.
    auto receipt = policy::build_receipt(v.message_id, request.pdu, "REJECTD", status, now, now);
    if (co_await consent_.outbound().queue_receipt(request.account.system_id, std::move(receipt))) {
      v.action = MtVerdict::Action::accept;
    }
  }
  co_return v;
}

policy::MtDecision ConsentChain::decide_now(const Destination& dest, TimePoint now,
                                            const policy::TimeZone& zone) {
  const policy::MtSubject subject{dest.program, dest.msisdn, dest.category};
  return read_and_decide(services_, *config_, subject, now, zone);
}

asio::awaitable<MtVerdict> ConsentChain::decide_one(MtRequest& request, Destination& dest) {
  const auto& cfg = *config_;
  const auto& program = *dest.program;
  const auto t0 = std::chrono::steady_clock::now();
  const auto now = services_.clock.now();
  const auto zone = policy::subscriber_zone(dest.msisdn, program);
  auto decision = decide_now(dest, now, *zone);
  services_.metrics.policy_decision_seconds().Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  const policy::Actor actor{request.account.system_id};
  const policy::MtSubject subject{dest.program, dest.msisdn, dest.category};
  MtVerdict v;
  v.program = program.id;
  for (int round = 0; round < 3; ++round) {
    switch (decision.action) {
      case policy::MtAction::forward: {
        count(program.id, "forwarded", policy::Reason::none);
        if (program.frequency_cap && program.frequency_cap->applies_to(dest.category)) {
          store::Mutation sent = [id = program.id, msisdn = dest.msisdn, at = to_unix_ms(now),
                                  keep = program.frequency_cap->max](store::Batch& b) {
            b.record_sent(id, msisdn, at, keep);
          };
          services_.store.submit(std::move(sent), false, [](std::error_code) {});
        }
        co_return v;
      }

      case policy::MtAction::refuse:
        co_return co_await refusal(request, dest, decision.reason, decision.status);

      case policy::MtAction::hold_for_consent:
      case policy::MtAction::refuse_and_request: {
        const bool hold = decision.action == policy::MtAction::hold_for_consent && dest.may_hold;
        std::optional<store::HeldMessage> held;
        if (hold) {
          store::HeldMessage h;
          h.program = program.id;
          h.msisdn = dest.msisdn;
          h.account = request.account.system_id;
          h.proxy_id = services_.store.next_message_id();
          h.pdu.assign(request.frame.begin(), request.frame.end());
          h.reason = store::HoldReason::pending_consent;
          h.held_at_ms = to_unix_ms(now);
          h.wants_receipt = (dest.registered_delivery & 0x03) != 0;
          held = std::move(h);
        }
        const policy::MtContext context{cfg, program, subject, now, *zone, 0};
        policy::MtMutationResult result;
        ConsentServices::Staged staged;
        const auto ec = co_await commit(
            services_.store,
            [&](store::Batch& b) {
              result = policy::hold_for_consent(b, context, held, actor);
              if (!result.send_opt_in_request) return;
              // The opt-in request is as durable as the pending record that waits for its YES.
              stage_proxy_message(
                  b, program.id, dest.msisdn, dest.from_number, "opt_in_request",
                  policy::render(program.messages.opt_in_request, program, dest.from_number));
              staged.outbox = true;
            },
            true);
        if (ec) {
          services_.metrics.store_error("hold");
          decision = policy::refusal(cfg, policy::Reason::store_unavailable);
          continue;
        }
        if (result.redecided) {
          decision = *result.redecided;  // a YES or a STOP came in meanwhile
          continue;
        }
        consent_.after_staged(staged);
        if (!hold || !result.held) {
          co_return co_await refusal(request, dest, decision.reason, decision.status);
        }
        count(program.id, "held", decision.reason);
        services_.metrics.queue_depth("held_mt").Set(
            static_cast<double>(services_.store.held_messages()));
        v.action = MtVerdict::Action::accept;
        v.message_id = held->proxy_id;
        v.reason = std::string(policy::to_string(decision.reason));
        co_return v;
      }

      case policy::MtAction::hold_for_quiet_hours: {
        if (!dest.may_hold) {
          co_return co_await refusal(request, dest, policy::Reason::quiet_hours, decision.status);
        }
        store::HeldMessage h;
        h.program = program.id;
        h.msisdn = dest.msisdn;
        h.account = request.account.system_id;
        h.proxy_id = services_.store.next_message_id();
        h.pdu.assign(request.frame.begin(), request.frame.end());
        h.reason = store::HoldReason::quiet_hours;
        h.held_at_ms = to_unix_ms(now);
        h.release_at_ms = to_unix_ms(decision.release_at);
        h.expires_at_ms = h.release_at_ms + program.hold_ttl.count();
        h.wants_receipt = (dest.registered_delivery & 0x03) != 0;
        const auto proxy_id = h.proxy_id;
        store::Mutation hold = [h = std::move(h), actor, now](store::Batch& b) mutable {
          policy::hold_for_quiet_hours(b, std::move(h), actor, now);
        };
        if (co_await commit(services_.store, std::move(hold), true)) {
          services_.metrics.store_error("hold");
          decision = policy::refusal(cfg, policy::Reason::store_unavailable);
          continue;
        }
        count(program.id, "held", policy::Reason::quiet_hours);
        services_.metrics.queue_depth("held_mt").Set(
            static_cast<double>(services_.store.held_messages()));
        v.action = MtVerdict::Action::accept;
        v.message_id = proxy_id;
        v.reason = "quiet_hours";
        co_return v;
      }

      case policy::MtAction::disclaimer_then_forward: {
        // One disclaimer per subscriber: an MT that finds another MT's disclaimer on its way
        // waits for it (bounded by that send's response timeout), then is decided again, which
        // lets it through once the disclaimer is recorded.
        const std::string key = program.id + '\n' + dest.msisdn;
        if (!consent_.claim_disclaimer(key)) {
          asio::steady_timer pause(co_await asio::this_coro::executor);
          const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
          while (consent_.disclaimer_in_flight(key) && std::chrono::steady_clock::now() < give_up) {
            pause.expires_after(std::chrono::milliseconds(10));
            co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
          }
          decision = decide_now(dest, services_.clock.now(), *zone);
          continue;
        }
        struct Release {
          ConsentServices& consent;
          const std::string& key;
          ~Release() { consent.release_disclaimer(key); }
        } release{consent_, key};
        // The disclaimer's submit_sm_resp is awaited before the MT goes, so the carrier sees
        // them in that order (SPEC 8). Decide again right before it: a STOP may just have come.
        const auto again = decide_now(dest, services_.clock.now(), *zone);
        if (again.action != policy::MtAction::disclaimer_then_forward) {
          decision = again;
          continue;
        }
        const auto text = policy::render(program.messages.disclaimer, program, dest.from_number);
        const auto sent = co_await consent_.outbound().send_template(
            cfg, program, dest.from_number, dest.msisdn, "disclaimer", text);
        if (sent != Outbound::Sent::accepted) {
          // Not a consent refusal: the carrier could not take the disclaimer. Retryable.
          v.action = MtVerdict::Action::refuse;
          v.status = st::kEsmeRsyserr;
          co_return v;
        }
        policy::MtMutationResult result;
        const auto later = services_.clock.now();
        const auto ec = co_await commit(
            services_.store,
            [&](store::Batch& b) {
              result = policy::record_disclaimer(b, program, dest.msisdn, actor, later);
            },
            true);
        if (ec) {
          services_.metrics.store_error("disclaimer");
          decision = policy::refusal(cfg, policy::Reason::store_unavailable);
          continue;
        }
        if (result.redecided) {
          // Opted out (or pending) while the disclaimer was on its way: the MT must not go.
          decision = policy::refusal(cfg, result.redecided->reason);
          continue;
        }
        count(program.id, "forwarded", policy::Reason::none);
        co_return v;
      }
    }
  }
  co_return co_await refusal(request, dest, policy::Reason::store_unavailable,
                             policy::status_for(cfg, policy::Reason::store_unavailable));
}

std::optional<MtVerdict> ConsentChain::classify(MtRequest& request, std::uint8_t src_ton,
                                                std::uint8_t src_npi, const std::string& src,
                                                std::uint8_t dst_ton, std::uint8_t dst_npi,
                                                const std::string& dst,
                                                const std::string& service_type,
                                                const proto::TlvList& tlvs, Destination& out) {
  const auto c = policy::classify_mt(*config_, request.account, src_ton, src_npi, src, dst_ton,
                                     dst_npi, dst, service_type, tlvs);
  if (c.status != 0) {
    if (c.reason == policy::Reason::unknown_program) count("", "refused", c.reason);
    SG_LOG(info, "mt_unclassified")
        .kv("account", request.account.system_id)
        .kv("status", proto::status_name(c.status))
        .kv("reason", c.error ? c.error.message() : std::string(policy::to_string(c.reason)));
    MtVerdict v;
    v.action = MtVerdict::Action::refuse;
    v.status = c.status;
    v.reason = std::string(policy::to_string(c.reason));
    return v;
  }
  out.program = c.subject.program;
  out.msisdn = c.subject.msisdn;
  out.category = c.subject.category;
  auto from = policy::normalize_address(src_ton, src_npi, src, config_->defaults.default_country,
                                        policy::AddressRole::source);
  out.from_number = from ? from->value : src;
  return std::nullopt;
}

template <typename SingleSm>
asio::awaitable<MtVerdict> ConsentChain::decide_single(MtRequest& request, const SingleSm& sm) {
  Destination dest;
  if (auto refused = classify(request, sm.source_addr_ton, sm.source_addr_npi, sm.source_addr,
                              sm.dest_addr_ton, sm.dest_addr_npi, sm.destination_addr,
                              sm.service_type, sm.tlvs, dest)) {
    co_return *refused;
  }
  dest.registered_delivery = sm.registered_delivery;
  auto v = co_await decide_one(request, dest);
  v.msisdn = dest.msisdn;
  co_return v;
}

asio::awaitable<MtVerdict> ConsentChain::on_mt(MtRequest& request) {
  const auto& cfg = *config_;
  if (auto* sm = request.pdu.as<proto::SubmitSm>()) co_return co_await decide_single(request, *sm);
  if (auto* ds = request.pdu.as<proto::DataSm>()) co_return co_await decide_single(request, *ds);
  if (auto* multi = request.pdu.as<proto::SubmitMulti>()) {
    // Each destination alone; refused ones go to unsuccess_sme. A destination that would be held
    // is refused with its reason (the opt-in request is still sent): one submit_multi cannot be
    // answered for some destinations now and others later.
    std::vector<proto::DestAddress> keep;
    MtVerdict verdict;
    for (const auto& d : multi->dest_addresses) {
      if (d.dest_flag != proto::kDestFlagSmeAddress) {
        // A distribution list is expanded by the carrier, out of the proxy's sight: refused,
        // since the proxy cannot decide consent for numbers it does not see.
        verdict.unsuccess.push_back(proto::UnsuccessSme{0, 0, d.dl_name, st::kEsmeRinvdstadr});
        continue;
      }
      Destination dest;
      std::uint32_t status = 0;
      if (auto refused = classify(request, multi->source_addr_ton, multi->source_addr_npi,
                                  multi->source_addr, d.dest_addr_ton, d.dest_addr_npi,
                                  d.destination_addr, multi->service_type, multi->tlvs, dest)) {
        if (refused->status == st::kEsmeRinvsrcadr) co_return *refused;
        status = refused->status;
      } else {
        dest.registered_delivery = multi->registered_delivery;
        dest.may_hold = false;
        verdict.program = dest.program->id;
        auto v = co_await decide_one(request, dest);
        if (v.action != MtVerdict::Action::forward) {
          status = v.status != 0 ? v.status : policy::status_for(cfg, policy::Reason::no_consent);
        }
      }
      if (status == 0) {
        keep.push_back(d);
      } else {
        verdict.unsuccess.push_back(
            proto::UnsuccessSme{d.dest_addr_ton, d.dest_addr_npi, d.destination_addr, status});
      }
    }
    if (keep.empty()) {
      verdict.action = MtVerdict::Action::refuse;
      verdict.status = verdict.unsuccess.empty() ? st::kEsmeRinvnumdests
                                                 : verdict.unsuccess.front().error_status_code;
      co_return verdict;
    }
    if (keep.size() != multi->dest_addresses.size()) {
      multi->dest_addresses = std::move(keep);
      request.pdu_modified = true;
    }
    co_return verdict;
  }
  if (auto* replace = request.pdu.as<proto::ReplaceSm>()) {
    // A replacement goes to the original destination: decided again like a new MT.
    auto route = services_.store.find_route_by_proxy_id(replace->message_id);
    if (!route) {
      services_.metrics.store_error("read_route");
      MtVerdict v;
      v.action = MtVerdict::Action::refuse;
      v.status = policy::status_for(cfg, policy::Reason::store_unavailable);
      co_return v;
    }
    if (!*route || (*route)->msisdn.empty()) co_return MtVerdict{};  // the router answers
    Destination dest;
    dest.program = cfg.find_program((*route)->program);
    if (dest.program == nullptr) co_return MtVerdict{};
    dest.msisdn = (*route)->msisdn;
    dest.from_number = dest.program->numbers.empty() ? "" : dest.program->numbers.front();
    dest.category = request.account.default_category;
    dest.may_hold = false;
    auto v = co_await decide_one(request, dest);
    if (v.action == MtVerdict::Action::accept) {
      // A replacement is never held: it replaces a message that is already with the carrier.
      v.action = MtVerdict::Action::refuse;
      if (v.status == 0) v.status = policy::status_for(cfg, policy::Reason::no_consent);
    }
    co_return v;
  }
  co_return MtVerdict{};
}

asio::awaitable<MoVerdict> ConsentChain::on_mo(MoRequest& request) {
  const auto& cfg = *config_;
  const auto& program = request.program;
  MoVerdict verdict;
  if (!request.subscriber.starts_with("+")) co_return verdict;  // not a subscriber's number

  const auto text = extract_text(request.pdu);
  // A part of a longer MO is decided only with its last part (keywords are matched on the whole
  // message); the parts wait in the store under the sender and the number texted.
  const auto position = multipart_position(text);
  const std::string part_key =
      position ? request.upstream + "|" + request.subscriber + "|" + request.number : "";

  const auto t0 = std::chrono::steady_clock::now();
  // The MO as stored when held: the queue item's bytes are the same encoding (sequence 0).
  std::string encoded;
  if (request.delivery != nullptr) {
    encoded = request.delivery->pdu;
  } else {
    proto::Pdu copy = request.pdu;
    copy.sequence_number = 0;
    if (auto bytes = proto::encode(copy)) encoded.assign(bytes->begin(), bytes->end());
  }
  policy::MoInput input{cfg,
                        program,
                        request.subscriber,
                        request.number,
                        position ? std::string() : decode_user_text(text),
                        {},
                        {},
                        services_.store.next_message_id(),
                        services_.clock.now(),
                        std::move(encoded)};
  const auto match_keywords = [&] {
    input.normalized = policy::normalize_text(input.raw_text);
    input.match = programs_->match(program.id, input.normalized);
  };
  if (!position) match_keywords();
  bool whole = !position;
  policy::MoOutcome outcome;
  // The decision and, when the MO goes on to the tenant, its queue item: one synced mutation.
  // Its follow-ups (replies, releases, failed receipts) are staged in the same commit.
  store::DeliveryItem* const delivery = request.delivery;
  bool queued = false;
  ConsentServices::Staged staged;
  const auto ec = co_await commit(
      services_.store,
      [&](store::Batch& b) {
        if (position) {
          auto all = reassemble(b, part_key, *position, text, input.now);
          if (!all) {
            // Not the last part: stored above, and forwarded like every part.
            if (delivery != nullptr) {
              b.enqueue_delivery(*delivery);
              queued = true;
            }
            return;
          }
          whole = true;
          input.raw_text = std::move(*all);
          match_keywords();
        }
        outcome = policy::apply_mo(b, input);
        if (delivery != nullptr && outcome.forward && !outcome.hold_mo) {
          b.enqueue_delivery(*delivery);
          queued = true;
        }
        staged =
            consent_.stage_follow_up(b, cfg, program, request.number, request.subscriber, outcome);
      },
      true);
  services_.metrics.policy_decision_seconds().Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  if (ec) {
    // Nothing was recorded: a temporary error makes the carrier send the MO again
    // (ESME_RMSGQFUL while the cluster cannot commit a consent change, SPEC section 9).
    services_.metrics.store_error("mo");
    SG_LOG(error, "mo_not_recorded").kv("program", program.id).kv("error", ec.message());
    verdict.forward = false;
    verdict.status =
        ec == store::StoreErrc::cluster_unavailable ? st::kEsmeRmsgqful : st::kEsmeRxTAppn;
    co_return verdict;
  }
  if (!whole) {
    verdict.queued = queued;
    co_return verdict;
  }
  services_.metrics.mo(program.id, outcome.kind);
  for (const auto& change : outcome.changes) {
    services_.metrics.consent_change(change.program, store::to_string(change.to),
                                     store::to_string(change.source));
    SG_LOG(info, "consent_change")
        .kv("program", change.program)
        .kv("to", store::to_string(change.to))
        .kv("source", store::to_string(change.source))
        .kv("keyword", input.match.keyword)
        .kv("mo_id", input.mo_id);
  }

  consent_.after_staged(staged);
  verdict.forward = outcome.forward && !outcome.hold_mo;
  verdict.queued = verdict.forward && queued;
  co_return verdict;
}

void ConsentChain::on_proxy_receipt(const store::MessageRoute& route,
                                    std::string_view receipt_text) {
  store::Mutation audit = [route, text = std::string(receipt_text),
                           now = services_.clock.now()](store::Batch& b) {
    policy::audit_proxy_receipt(b, route, text, now);
  };
  services_.store.submit(std::move(audit), false, [this](std::error_code ec) {
    if (ec) services_.metrics.store_error("audit");
  });
}

}  // namespace smppguard::session
