#pragma once
// Helpers shared by the cluster suites that run real nodes (cluster_nodes_test.cpp,
// cluster_traffic_test.cpp): a node of the cluster, consent bodies, one MT's answer.
#include <smppguard/proto/status.hpp>

#include "e2e_admin_support.hpp"
#include "pg_server.hpp"

namespace e2e::cluster {

inline constexpr std::uint32_t kOptedOut = 0x400;

/// A node of the cluster on `pg`: the daemon with its own simulator and store, admin tokens on.
inline std::unique_ptr<Harness> node(const PgServer& pg, const std::string& node_id,
                                     HarnessOptions o = {}) {
  o.config.node_id = node_id;
  o.config.cluster_postgres = pg.conninfo();
  return admin::admin_harness(std::move(o));
}

/// A PUT /v1/consents body: opted_in (express, from a web form) or another state.
inline boost::json::object consent_body(const std::string& state) {
  boost::json::object o;
  o["state"] = state;
  if (state == "opted_in") {
    o["level"] = "express";
    o["source"] = "web_form";
  }
  return o;
}

/// An MT from Acme's number to `msisdn` (digits) through node `h`: its submit_sm_resp status.
inline std::uint32_t mt_status(Harness& h, const std::string& msisdn = cfg::kSubscriber) {
  auto tx = h.bind(smppguard::proto::cmd::kBindTransmitter);
  return tx->request(make_submit(cfg::kAcmeNumber, msisdn, "hello")).status();
}

}  // namespace e2e::cluster
