#pragma once
// `smppguard ctl ...`: the operator's client of the admin API, and `ctl send`, a minimal SMPP
// client (bind, one submit_sm, unbind) so that the demo can be tried from a shell with nothing
// else installed. Blocking; one request at a time.
//
//   smppguard ctl [--url URL] [--token TOKEN] [--json] COMMAND ...
//     consent get PROGRAM MSISDN
//     consent set PROGRAM MSISDN --level L [--source S] [--evidence k=v]... [--confirm]
//     consent revoke PROGRAM MSISDN [--source S] [--evidence k=v]...
//     import FILE                      (NDJSON, streamed from the file)
//     audit [--msisdn M] [--program P] [--since T] [--until T] [--limit N]
//     sessions
//     report [--program P] [--since T] [--until T]
//     send --smpp HOST:PORT --system-id ID --password PW --from NUMBER --to MSISDN --text TEXT
//          [--category conversational|informational|promotional]
// URL and token come from --url/--token, else $SMPPGUARD_URL / $SMPPGUARD_TOKEN (default URL
// http://127.0.0.1:9775). Tables for people, the API's JSON with --json.
// Exit codes: 0 ok; 1 the API (or the SMSC) answered an error, or it could not be reached (the
// message is printed); 2 usage.
#include <string>
#include <vector>

namespace smppguard::app {

/// Runs `smppguard ctl` with the arguments after "ctl". Returns the exit code.
int ctl(const std::vector<std::string>& args);

}  // namespace smppguard::app
