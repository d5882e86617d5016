#include "session/bind_state.hpp"

namespace smppguard::session {

namespace cmd = proto::cmd;

std::string_view to_string(BindState s) {
  switch (s) {
    case BindState::open: return "open";
    case BindState::bound_tx: return "bound_tx";
    case BindState::bound_rx: return "bound_rx";
    case BindState::bound_trx: return "bound_trx";
    case BindState::unbinding: return "unbinding";
    case BindState::closed: return "closed";
  }
  return "unknown";
}

BindState state_after_bind(std::uint32_t bind_command_id) {
  switch (bind_command_id) {
    case cmd::kBindTransmitter: return BindState::bound_tx;
    case cmd::kBindReceiver: return BindState::bound_rx;
    case cmd::kBindTransceiver: return BindState::bound_trx;
    default: return BindState::open;
  }
}

Legality check_request(BindState state, Origin origin, std::uint32_t id) {
  const bool is_bind = id == cmd::kBindTransmitter || id == cmd::kBindReceiver ||
                       id == cmd::kBindTransceiver;
  if (state == BindState::closed) return Legality::unbinding;
  if (state == BindState::unbinding) return Legality::unbinding;
  // enquire_link is legal in every open or bound state, both ways (v3.4 2.3).
  if (id == cmd::kEnquireLink) return Legality::allowed;

  if (origin == Origin::esme) {
    if (is_bind) return state == BindState::open ? Legality::allowed : Legality::already_bound;
    if (state == BindState::open) return Legality::not_bound;
    if (id == cmd::kUnbind) return Legality::allowed;
    switch (id) {
      case cmd::kSubmitSm:
      case cmd::kSubmitMulti:
      case cmd::kQuerySm:
      case cmd::kCancelSm:
      case cmd::kReplaceSm:
        return can_transmit(state) ? Legality::allowed : Legality::wrong_bind_type;
      case cmd::kDataSm:  // both directions; the ESME sends it as a transmitter
        return can_transmit(state) ? Legality::allowed : Legality::wrong_bind_type;
      default:
        // deliver_sm, alert_notification, outbind come only from an SMSC.
        return Legality::wrong_bind_type;
    }
  }

  // Requests from the SMSC to a bound ESME.
  if (id == cmd::kOutbind) return state == BindState::open ? Legality::allowed : Legality::already_bound;
  if (is_bind) return Legality::wrong_bind_type;
  if (state == BindState::open) return Legality::not_bound;
  if (id == cmd::kUnbind) return Legality::allowed;
  switch (id) {
    case cmd::kDeliverSm:
    case cmd::kAlertNotification:
      return can_receive(state) ? Legality::allowed : Legality::wrong_bind_type;
    case cmd::kDataSm:
      return can_receive(state) ? Legality::allowed : Legality::wrong_bind_type;
    default:
      return Legality::wrong_bind_type;
  }
}

}  // namespace smppguard::session
