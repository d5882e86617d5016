// smppguard command line. Argument parsing only; everything else lives in the libraries.
#include <cstdio>
#include <string_view>

#include "common/version.hpp"

namespace {
void usage(std::FILE* out) {
  std::fprintf(out,
               "smppguard %s - SMPP proxy that enforces SMS consent\n"
               "\n"
               "usage:\n"
               "  smppguard run --config FILE           run the daemon\n"
               "  smppguard check-config --config FILE  validate a config (exit 2 on errors)\n"
               "  smppguard demo                        proxy + carrier simulator on loopback\n"
               "  smppguard smsc-sim [options]          the carrier simulator alone\n"
               "  smppguard audit verify --store DIR    prove the audit chain whole\n"
               "  smppguard --version\n",
               smppguard::kVersion);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "--version") {
    std::printf("smppguard %s\n", smppguard::kVersion);
    return 0;
  }
  if (argc >= 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    usage(stdout);
    return 0;
  }
  usage(stderr);
  return 64;  // EX_USAGE
}
