#pragma once
// The commands of the smppguard CLI; src/main.cpp parses arguments and calls one of these.
// Each returns the process exit code.
#include <map>
#include <string>
#include <vector>

namespace smppguard::app {

/// `smppguard run --config FILE [--ports-file FILE]`: the daemon.
int run_daemon(const std::string& config_path, const std::string& ports_file);
/// `smppguard check-config --config FILE`: 0 when valid, 2 with line-numbered errors on stderr.
int check_config(const std::string& config_path);
/// `smppguard audit verify --store DIR`: 0 when the audit chain is whole, 1 when broken.
/// `audit verify`: the chain, the consent records, and with `expect_head` ("SEQ:HASH", as
/// GET /v1/audit/head gave it earlier) that entry SEQ still has that hash. 0 good, 1 bad, 2 error.
int audit_verify(const std::string& store_path, const std::string& expect_head = "");
/// `smppguard audit verify --config FILE`: the cluster's audit chain in PostgreSQL (the config's
/// cluster section). 0 whole (and anchored), 1 broken, 2 cannot tell.
int audit_verify_cluster(const std::string& config_path, const std::string& expect_head = "");
/// `smppguard smsc-sim [--smpp HOST:PORT] [--http HOST:PORT] [--ports-file FILE] ...`: the carrier
/// simulator until SIGTERM/SIGINT. `flags` are the parsed "--name value" pairs; 64 on a bad flag.
int smsc_sim(const std::map<std::string, std::string>& flags);
/// `smppguard demo [--dir DIR]`: the proxy and the simulator together (app/demo.hpp).
int demo(const std::map<std::string, std::string>& flags);
/// `smppguard consent import --store DIR --file FILE.ndjson [--config FILE] [--actor NAME]
/// [--batch N]`: the NDJSON import of POST /v1/consents/import, offline (the daemon stopped).
/// Streams the file, applies `--batch` lines (default 1000) per store mutation without fsync and
/// fsyncs once at the end. Prints the per-line errors and the summary as NDJSON on stdout and the
/// rate on stderr. Without --config program ids are not checked against a config. 0 when every
/// line was applied, 1 when some were rejected, 2 when it cannot run (bad flags, store locked).
int consent_import(const std::map<std::string, std::string>& flags);
/// `smppguard ctl ...` (app/ctl.hpp): `args` are the arguments after "ctl".
int ctl_command(const std::vector<std::string>& args);

}  // namespace smppguard::app
