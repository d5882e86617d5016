#pragma once
// Awaitable wrappers over the store's callback API, for session coroutines.
#include <boost/asio/awaitable.hpp>
#include <system_error>

#include "common/async.hpp"
#include "store/store.hpp"

namespace smppguard::session {

/// Commits one mutation (group-committed by the store's writer) and resumes on the caller's
/// executor once it is durable (sync) or written (no sync). Not a coroutine, for the reason given
/// at async_callback: pass a reference-capturing lambda or a named Mutation.
template <typename F>
auto commit(store::Store& store, F&& fn, bool sync) {
  return async_callback<std::error_code>(
      [&store, mutation = store::Mutation(std::forward<F>(fn)), sync](auto done) mutable {
        store.submit(std::move(mutation), sync, std::move(done));
      });
}

}  // namespace smppguard::session
