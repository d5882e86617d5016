#include "session/outbox.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>

#include "common/log.hpp"
#include "session/consent_chain.hpp"
#include "session/store_ops.hpp"

namespace smppguard::session {

namespace {

constexpr std::size_t kPage = 256;
constexpr std::size_t kMaxInMemory = 4096;  // items read ahead into the lanes

std::size_t lane_of(const store::OutboxMessage& m, std::size_t lanes) {
  return std::hash<std::string>{}(m.program + '\n' + m.msisdn) % lanes;
}

}  // namespace

void stage_outbox(store::Batch& batch, const store::OutboxMessage& message) {
  store::DeliveryItem item;
  item.target = std::string(store::kOutboxTarget);
  item.kind = store::DeliveryKind::outbox;
  item.pdu = store::encode_outbox(message);
  const auto now = batch.now_ms();
  item.created_at_ms = now;
  item.expires_at_ms = now + std::chrono::duration_cast<Millis>(OutboxSender::kTtl).count();
  item.next_attempt_at_ms = now;
  batch.enqueue_delivery(std::move(item));
}

void stage_proxy_message(store::Batch& batch, const std::string& program, const std::string& msisdn,
                         const std::string& from_number, const std::string& template_name,
                         const std::string& text) {
  store::OutboxMessage m;
  m.kind = store::OutboxMessage::Kind::proxy_message;
  m.program = program;
  m.msisdn = msisdn;
  m.from_number = from_number;
  m.template_name = template_name;
  m.text = text;
  stage_outbox(batch, m);
}

void stage_released(store::Batch& batch, const store::HeldMessage& held) {
  store::OutboxMessage m;
  m.kind = store::OutboxMessage::Kind::released_mt;
  m.program = held.program;
  m.msisdn = held.msisdn;
  m.held = held;
  stage_outbox(batch, m);
}

OutboxSender::OutboxSender(Services& services, ConsentServices& consent)
    : services_(services),
      consent_(consent),
      strand_(asio::make_strand(services.io)),
      event_(strand_),
      lanes_(kLanes) {}

void OutboxSender::start() {
  auto me = shared_from_this();
  asio::co_spawn(
      strand_, [me]() -> asio::awaitable<void> { co_await me->run(); },
      [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          SG_LOG(error, "outbox_failed").kv("what", ex.what());
        }
      });
}

void OutboxSender::wake() {
  auto me = shared_from_this();
  asio::post(strand_, [me] { me->event_.notify(); });
}

void OutboxSender::stop() {
  auto me = shared_from_this();
  asio::post(strand_, [me] {
    me->stopped_ = true;
    me->event_.notify();
  });
}

asio::awaitable<void> OutboxSender::run() {
  auto me = shared_from_this();
  while (!stopped_) {
    co_await pump();
    co_await event_.wait(std::chrono::seconds(30));
  }
}

asio::awaitable<void> OutboxSender::pump() {
  while (!stopped_) {
    std::size_t in_memory = 0;
    for (const auto& lane : lanes_) in_memory += lane.items.size();
    if (in_memory >= kMaxInMemory) co_return;  // a lane that finishes wakes the pump
    auto page =
        co_await async_callback<Result<std::vector<store::DeliveryItem>>>([this](auto done) {
          asio::post(services_.blocking, [this, done = std::move(done)]() mutable {
            done(services_.store.deliveries(store::kOutboxTarget, cursor_, kPage));
          });
        });
    if (!page) {
      services_.metrics.store_error("read_outbox");
      SG_LOG(error, "outbox_read_failed").kv("error", page.error().message());
      co_return;  // the next wake-up tries again
    }
    for (auto& item : *page) {
      cursor_ = std::max(cursor_, item.seq);
      store::OutboxMessage m;
      const std::size_t index = store::decode_outbox(item.pdu, m) ? lane_of(m, kLanes) : 0;
      auto& lane = lanes_[index];
      lane.items.push_back(std::move(item));
      if (!lane.running) {
        lane.running = true;
        asio::co_spawn(strand_, run_lane(index), asio::detached);
      }
    }
    if (page->size() < kPage) co_return;
  }
}

asio::awaitable<void> OutboxSender::run_lane(std::size_t index) {
  auto me = shared_from_this();
  auto& lane = lanes_[index];
  asio::steady_timer pause(strand_);
  while (!lane.items.empty() && !stopped_) {
    auto& item = lane.items.front();
    if (to_unix_ms(services_.clock.now()) >= item.expires_at_ms) {
      finish(item, "expired");
      lane.items.pop_front();
      continue;
    }
    const auto result = co_await send(item);
    if (stopped_) break;
    if (result == OutboxResult::done) {
      finish(item, "");
      lane.items.pop_front();
      event_.notify();  // room in memory: the pump may read on
      continue;
    }
    ++item.attempts;
    const auto backoff = std::chrono::seconds(
        std::min<std::uint32_t>(30, 1u << std::min<std::uint32_t>(item.attempts - 1, 5)));
    SG_LOG(info, "outbox_retry")
        .kv("seq", item.seq)
        .kv("attempts", item.attempts)
        .kv("in_seconds", static_cast<std::int64_t>(backoff.count()));
    pause.expires_after(backoff);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  lane.running = false;
}

asio::awaitable<OutboxResult> OutboxSender::send(const store::DeliveryItem& item) {
  store::OutboxMessage m;
  if (!store::decode_outbox(item.pdu, m)) {
    SG_LOG(error, "outbox_undecodable").kv("seq", item.seq);
    co_return OutboxResult::done;
  }
  const auto config = services_.runtime.load()->config;
  const auto* program = config->find_program(m.program);
  if (program == nullptr) {
    SG_LOG(warn, "outbox_unknown_program").kv("seq", item.seq).kv("program", m.program);
    co_return OutboxResult::done;
  }
  if (m.kind == store::OutboxMessage::Kind::proxy_message) {
    const auto sent = co_await consent_.outbound().send_template(*config, *program, m.from_number,
                                                                 m.msisdn, m.template_name, m.text);
    // Refused for good: logged (proxy_message_failed) and not tried again.
    co_return sent == Outbound::Sent::transient ? OutboxResult::retry : OutboxResult::done;
  }
  co_return co_await consent_.forward_released(config, m.held);
}

void OutboxSender::finish(const store::DeliveryItem& item, std::string_view reason) {
  if (!reason.empty()) {
    SG_LOG(warn, "outbox_dropped")
        .kv("seq", item.seq)
        .kv("reason", reason)
        .kv("attempts", item.attempts);
    services_.metrics.delivery_dropped("outbox", reason);
  }
  const auto seq = item.seq;
  auto& metrics = services_.metrics;
  auto& store = services_.store;
  store.submit([seq](store::Batch& b) { b.remove_delivery(store::kOutboxTarget, seq); }, false,
               [&metrics, &store](std::error_code ec) {
                 if (ec) metrics.store_error("outbox");
                 metrics.queue_depth("outbox").Set(
                     static_cast<double>(store.queued_deliveries(store::DeliveryKind::outbox)));
               });
}

}  // namespace smppguard::session
