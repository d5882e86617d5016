#pragma once
// Session error codes (category "smppguard.session").
#include <system_error>

namespace smppguard::session {

enum class SessionErrc {
  timeout = 1,         // no response within response_timeout
  connection_closed,   // the connection ended before the response came
  no_upstream,         // no upstream bind can take the message
  shutting_down,
  store_failed,        // the store could not record what the response depends on
};

const std::error_category& session_category();
inline std::error_code make_error_code(SessionErrc e) { return {static_cast<int>(e), session_category()}; }

}  // namespace smppguard::session

template <>
struct std::is_error_code_enum<smppguard::session::SessionErrc> : std::true_type {};
