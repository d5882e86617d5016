#include "haproxy.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace e2e {

namespace {

using namespace std::chrono_literals;

bool accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

Haproxy::Haproxy(const std::filesystem::path& dir, const std::vector<std::uint16_t>& backends) {
  const char* bin = std::getenv("SMPPGUARD_HAPROXY");
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_loopback_port();
    std::ostringstream cfg;
    cfg << "global\n  maxconn 2000\n"
        << "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 1h\n"
        << "  timeout server 1h\n"
        << "frontend smpp\n  bind 127.0.0.1:" << port_ << "\n  default_backend nodes\n"
        << "backend nodes\n  balance roundrobin\n"
        << "  default-server inter 200ms fall 1 rise 1 on-marked-down shutdown-sessions\n";
    for (std::size_t i = 0; i < backends.size(); ++i) {
      cfg << "  server n" << i << " 127.0.0.1:" << backends[i] << " check\n";
    }
    const auto file = dir / "haproxy.cfg";
    write_file(file, cfg.str());
    process_ = std::make_unique<Process>(
        std::vector<std::string>{bin != nullptr ? bin : "/usr/sbin/haproxy", "-db", "-f",
                                 file.string()},
        dir / "haproxy.log");
    if (eventually([&] { return accepts(port_) || !process_->running(); }, 10s) &&
        process_->running()) {
      return;
    }
    process_.reset();  // the port was taken meanwhile: another one
  }
  throw std::runtime_error("haproxy did not start; its log:\n" + read_file(dir / "haproxy.log"));
}

}  // namespace e2e
