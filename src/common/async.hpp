#pragma once
// Small Asio coroutine primitives shared by the sessions, the admin API and the cluster link.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <utility>

namespace smppguard {

namespace asio = boost::asio;

/// A wake-up signal for one coroutine at a time: wait() suspends until notify() (or the deadline).
/// A notify() before wait() is remembered, so no wake-up is lost. Use on one strand only.
class Event {
 public:
  explicit Event(const asio::any_io_executor& ex) : timer_(ex) {
    timer_.expires_at(asio::steady_timer::time_point::max());
  }
  void notify() {
    pending_ = true;
    timer_.cancel();
  }
  /// Returns true when notified, false when `timeout` passed first.
  asio::awaitable<bool> wait(
      std::chrono::steady_clock::duration timeout = std::chrono::hours(24 * 365)) {
    if (pending_) {
      pending_ = false;
      co_return true;
    }
    timer_.expires_after(timeout);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    timer_.expires_at(asio::steady_timer::time_point::max());
    const bool notified = pending_;
    pending_ = false;
    co_return notified;
  }
  void cancel() { timer_.cancel(); }
  /// Forgets a notification nobody waited for.
  void reset() { pending_ = false; }

 private:
  asio::steady_timer timer_;
  bool pending_ = false;
};

/// Awaits a callback-style operation that may complete on any thread: `start(cb)` must call
/// `cb(value)` exactly once. The coroutine resumes on its own executor.
///
/// Not a coroutine on purpose. GCC 12 destroys twice a lambda with owning captures that is created
/// inside a co_await expression (a double free). This helper builds its lambdas in a plain
/// function, and callers must pass only lambdas that capture by reference; build anything that
/// owns state as a named local before the co_await.
template <typename T, typename Start>
auto async_callback(Start start) {
  return asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
      [start = std::move(start)](auto handler) mutable {
        using Handler = decltype(handler);
        auto shared = std::make_shared<Handler>(std::move(handler));
        start([shared](T value) mutable {
          auto ex = asio::get_associated_executor(*shared);
          asio::post(ex,
                     [shared, value = std::move(value)]() mutable { (*shared)(std::move(value)); });
        });
      },
      asio::use_awaitable);
}

}  // namespace smppguard
