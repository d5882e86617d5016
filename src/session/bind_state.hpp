#pragma once
// The SMPP session state machine (v3.4 section 2.2 and 2.3), I/O-free: which commands each side
// may send in which state. Sessions consult it for every PDU; tests call it directly.
// Not thread-safe: one instance per session, used on that session's strand.
#include <cstdint>
#include <string_view>

#include <smppguard/proto/commands.hpp>

namespace smppguard::session {

enum class BindState : std::uint8_t {
  open,          // connected, not bound
  bound_tx,      // bound as transmitter
  bound_rx,      // bound as receiver
  bound_trx,     // bound as transceiver
  unbinding,     // unbind sent or received; only unbind_resp / generic_nack may follow
  closed,
};

std::string_view to_string(BindState s);

/// Which way a PDU travels relative to the SMSC role of this session.
enum class Origin : std::uint8_t { esme, smsc };

/// The verdict for one incoming request.
enum class Legality : std::uint8_t {
  allowed,
  not_bound,        // request that needs a bind in state open: ESME_RINVBNDSTS
  wrong_bind_type,  // e.g. submit_sm from a receiver: ESME_RINVBNDSTS
  already_bound,    // bind_* while bound: ESME_RALYBND
  unbinding,        // anything but unbind_resp/generic_nack while unbinding
};


/// Is `command_id` (a request) legal from `origin` in `state`? Responses are matched to requests
/// by the session, not here.
Legality check_request(BindState state, Origin origin, std::uint32_t command_id);

/// The state after a successful bind of the given bind command id.
BindState state_after_bind(std::uint32_t bind_command_id);

/// True for states in which the SMSC may deliver (deliver_sm/data_sm/alert_notification) to the ESME.
inline bool can_receive(BindState s) { return s == BindState::bound_rx || s == BindState::bound_trx; }
/// True for states in which the ESME may submit.
inline bool can_transmit(BindState s) { return s == BindState::bound_tx || s == BindState::bound_trx; }

}  // namespace smppguard::session
