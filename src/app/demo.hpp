#pragma once
// `smppguard demo`: the proxy (conf/demo.yaml) and the carrier simulator in one process on
// loopback, with a fresh store, printing how to try them.
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace smppguard::app {

/// What the demo's instructions name; filled from the demo config and the simulator's ports.
struct DemoInfo {
  std::string proxy_smpp;  // "127.0.0.1:2775"
  std::string proxy_http;  // "127.0.0.1:9775"
  std::string sim_smpp;    // "127.0.0.1:2776"
  std::string sim_http;    // "127.0.0.1:2777"
  std::string system_id;   // the first account's bind credentials
  std::string password;
  std::string admin_token;  // the first admin token ("" when none)
  std::vector<std::pair<std::string, std::string>> programs;  // id, "numbers (mode)"
  std::string store_dir;
  bool store_removed_on_exit = false;
  std::string binary = "smppguard";  // how a shell runs this binary (a path when not on PATH)
  std::string subscriber = "+15551234567";  // the walkthrough's handset
};

/// "smppguard" when that name on $PATH is this very binary, else its absolute path.
std::string binary_for_shell();

/// The text printed once everything listens. The one place that says how to try smppguard:
/// extend it here (README quotes it).
std::string demo_instructions(const DemoInfo& info);

/// The demo config: $SMPPGUARD_DEMO_CONFIG, else ./conf/demo.yaml, else conf/demo.yaml in the
/// source tree the binary was built from, else <prefix>/share/smppguard/demo.yaml next to an
/// installed binary. "" when none exists; `searched` (if given) lists the places tried.
std::string find_demo_config(std::vector<std::string>* searched = nullptr);

/// The DemoInfo of a loaded demo config with the simulator's addresses.
DemoInfo demo_info(const config::Config& config, const std::string& sim_smpp,
                   const std::string& sim_http);

/// Runs the demo until SIGINT/SIGTERM. `dir` holds the store ("" = a fresh temporary directory,
/// removed on exit). Returns the exit code: 0 after a clean stop, 1 when it cannot start (a port
/// in use, no config), 2 for a bad config.
int run_demo(const std::string& dir);

}  // namespace smppguard::app
