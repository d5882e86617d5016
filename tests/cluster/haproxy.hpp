#pragma once
// haproxy in TCP mode in front of the nodes' SMPP ports, as an operator runs it (docs/cluster.md,
// "The picture"), for the cluster tests and bench/cluster.sh's relay row: started by the test on
// a free loopback port, health-checking each node every 200 ms, stopped by its process id.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "process.hpp"

namespace e2e {

class Haproxy {
 public:
  /// Starts /usr/sbin/haproxy (SMPPGUARD_HAPROXY overrides) with files in `dir`, round robin over
  /// `backends` (127.0.0.1 ports). Throws with its log when it does not listen in time.
  Haproxy(const std::filesystem::path& dir, const std::vector<std::uint16_t>& backends);
  std::uint16_t port() const { return port_; }
  Process& process() { return *process_; }

 private:
  std::unique_ptr<Process> process_;
  std::uint16_t port_ = 0;
};

}  // namespace e2e
