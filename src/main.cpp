// smppguard command line: argument parsing only; everything else lives in the libraries.
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "app/commands.hpp"
#include "common/version.hpp"

namespace {

void usage(std::FILE* out) {
  std::fprintf(
      out,
      "smppguard %s - SMPP proxy that enforces SMS consent\n"
      "\n"
      "usage:\n"
      "  smppguard run --config FILE [--ports-file FILE]   run the daemon\n"
      "  smppguard check-config --config FILE              validate a config (exit 2 on errors)\n"
      "  smppguard demo [--dir DIR]                        proxy + carrier simulator on loopback\n"
      "  smppguard smsc-sim [--smpp HOST:PORT] [--http HOST:PORT] [--ports-file FILE]\n"
      "                     [--system-id ID --password PW] [--id-format hex|decimal]\n"
      "                     [--receipt-delay 100ms] [--receipt-status DELIVRD]\n"
      "                     [--receipt-id-format same|decimal] [--max-records N]\n"
      "                                                    the carrier simulator alone\n"
      "  smppguard audit verify --store DIR [--expect-head SEQ:HASH]\n"
      "  smppguard audit verify --config FILE [--expect-head SEQ:HASH]   (cluster: PostgreSQL)\n"
      "                                                    prove the audit chain whole and\n"
      "                                                    the consent records true to it\n"
      "  smppguard consent import --store DIR --file FILE.ndjson [--config FILE]\n"
      "                     [--actor NAME] [--batch N]   offline NDJSON consent import\n"
      "  smppguard ctl [--url URL] [--token T] [--json] COMMAND ...\n"
      "                     consent, import, audit, sessions, report, send\n"
      "                                                    admin API client (ctl --help)\n"
      "  smppguard --version\n",
      smppguard::kVersion);
}

// Parses "--name value" pairs after the command words; false on a stray argument.
bool parse_flags(int argc, char** argv, int first, std::map<std::string, std::string>& flags) {
  for (int i = first; i < argc; ++i) {
    std::string_view a = argv[i];
    if (!a.starts_with("--")) return false;
    if (auto eq = a.find('='); eq != std::string_view::npos) {
      flags[std::string(a.substr(2, eq - 2))] = std::string(a.substr(eq + 1));
    } else if (i + 1 < argc) {
      flags[std::string(a.substr(2))] = argv[++i];
    } else {
      return false;
    }
  }
  return true;
}

int need(const std::map<std::string, std::string>& flags, const char* name, std::string& out) {
  auto it = flags.find(name);
  if (it == flags.end() || it->second.empty()) {
    std::fprintf(stderr, "smppguard: --%s is required\n", name);
    return 64;
  }
  out = it->second;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 64;  // EX_USAGE
  }
  const std::string_view command = argv[1];
  if (command == "--version" || command == "version") {
    std::printf("smppguard %s\n", smppguard::kVersion);
    return 0;
  }
  if (command == "--help" || command == "-h" || command == "help") {
    usage(stdout);
    return 0;
  }
  if (command == "ctl") {
    return smppguard::app::ctl_command(std::vector<std::string>(argv + 2, argv + argc));
  }
  if (command == "consent") {
    std::map<std::string, std::string> consent_flags;
    if (argc < 3 || std::string_view(argv[2]) != "import" ||
        !parse_flags(argc, argv, 3, consent_flags)) {
      std::fprintf(stderr,
                   "smppguard: usage: smppguard consent import --store DIR --file FILE.ndjson "
                   "[--config FILE] [--actor NAME] [--batch N]\n");
      return 64;
    }
    return smppguard::app::consent_import(consent_flags);
  }
  std::map<std::string, std::string> flags;
  const bool audit = command == "audit";
  if (audit && (argc < 3 || std::string_view(argv[2]) != "verify")) {
    std::fprintf(stderr,
                 "smppguard: usage: smppguard audit verify --store DIR|--config FILE "
                 "[--expect-head SEQ:HASH]\n");
    return 64;
  }
  if (!parse_flags(argc, argv, audit ? 3 : 2, flags)) {
    usage(stderr);
    return 64;
  }
  std::string value;
  if (command == "run") {
    if (int rc = need(flags, "config", value)) return rc;
    return smppguard::app::run_daemon(value, flags["ports-file"]);
  }
  if (command == "check-config") {
    if (int rc = need(flags, "config", value)) return rc;
    return smppguard::app::check_config(value);
  }
  if (audit) {
    if (flags.count("config") != 0) {
      return smppguard::app::audit_verify_cluster(flags["config"], flags["expect-head"]);
    }
    if (int rc = need(flags, "store", value)) return rc;
    return smppguard::app::audit_verify(value, flags["expect-head"]);
  }
  if (command == "smsc-sim") return smppguard::app::smsc_sim(flags);
  if (command == "demo") return smppguard::app::demo(flags);
  std::fprintf(stderr, "smppguard: unknown command '%s'\n", std::string(command).c_str());
  usage(stderr);
  return 64;
}
