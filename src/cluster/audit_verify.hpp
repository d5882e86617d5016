#pragma once
// `smppguard audit verify` against the cluster (docs/cluster.md, "One history"): walks
// <schema>.audit in seq order and checks that it is one whole chain, naming the first broken link.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "cluster/pg.hpp"
#include "common/result.hpp"
#include "store/store.hpp"

namespace smppguard::cluster {

/// Each row's entry must decode, carry its row's seq, hash to its own hash, link to the entry
/// before it (the first to the genesis hash), and agree with the row's seq, event, msisdn,
/// prev_hash and hash columns; seqs run from 1 without a gap. With `expect_seq`, the hash of that
/// entry is returned in `hash_at` (for --expect-head). Errors are the connection's.
asio::awaitable<Result<store::AuditVerifyReport>> verify_cluster_audit(
    PgConnection& pg, const std::string& schema, std::optional<std::uint64_t> expect_seq,
    std::string* hash_at, std::chrono::milliseconds timeout);

}  // namespace smppguard::cluster
