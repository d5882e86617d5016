#include <doctest/doctest.h>

#include "session/bind_state.hpp"

using namespace smppguard::session;
namespace cmd = smppguard::proto::cmd;

TEST_CASE("an unbound ESME may only bind or enquire") {
  CHECK(check_request(BindState::open, Origin::esme, cmd::kBindTransmitter) == Legality::allowed);
  CHECK(check_request(BindState::open, Origin::esme, cmd::kBindReceiver) == Legality::allowed);
  CHECK(check_request(BindState::open, Origin::esme, cmd::kBindTransceiver) == Legality::allowed);
  CHECK(check_request(BindState::open, Origin::esme, cmd::kEnquireLink) == Legality::allowed);
  CHECK(check_request(BindState::open, Origin::esme, cmd::kSubmitSm) == Legality::not_bound);
  CHECK(check_request(BindState::open, Origin::esme, cmd::kUnbind) == Legality::not_bound);
}

TEST_CASE("what each bind type may send") {
  for (auto id : {cmd::kSubmitSm, cmd::kSubmitMulti, cmd::kDataSm, cmd::kQuerySm, cmd::kCancelSm,
                  cmd::kReplaceSm}) {
    CHECK(check_request(BindState::bound_tx, Origin::esme, id) == Legality::allowed);
    CHECK(check_request(BindState::bound_trx, Origin::esme, id) == Legality::allowed);
    CHECK(check_request(BindState::bound_rx, Origin::esme, id) == Legality::wrong_bind_type);
  }
  // deliver_sm and alert_notification come from an SMSC only.
  CHECK(check_request(BindState::bound_trx, Origin::esme, cmd::kDeliverSm) == Legality::wrong_bind_type);
  CHECK(check_request(BindState::bound_tx, Origin::smsc, cmd::kDeliverSm) == Legality::wrong_bind_type);
  CHECK(check_request(BindState::bound_rx, Origin::smsc, cmd::kDeliverSm) == Legality::allowed);
  CHECK(check_request(BindState::bound_trx, Origin::smsc, cmd::kDataSm) == Legality::allowed);
  CHECK(check_request(BindState::bound_rx, Origin::smsc, cmd::kAlertNotification) == Legality::allowed);
}

TEST_CASE("binding twice, unbinding and closed states") {
  CHECK(check_request(BindState::bound_tx, Origin::esme, cmd::kBindTransmitter) ==
        Legality::already_bound);
  CHECK(check_request(BindState::bound_trx, Origin::esme, cmd::kUnbind) == Legality::allowed);
  CHECK(check_request(BindState::unbinding, Origin::esme, cmd::kSubmitSm) == Legality::unbinding);
  CHECK(check_request(BindState::closed, Origin::esme, cmd::kEnquireLink) == Legality::unbinding);
  CHECK(state_after_bind(cmd::kBindTransmitter) == BindState::bound_tx);
  CHECK(state_after_bind(cmd::kBindReceiver) == BindState::bound_rx);
  CHECK(state_after_bind(cmd::kBindTransceiver) == BindState::bound_trx);
  CHECK(to_string(BindState::bound_trx) == "bound_trx");
}
