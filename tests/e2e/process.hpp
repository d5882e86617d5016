#pragma once
// Child processes for end-to-end tests: the real daemon and the simulator, started with fork/exec,
// their stderr captured to a file, stopped (SIGTERM, then SIGKILL) when the handle goes away.
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace e2e {

/// A temporary directory removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class Process {
 public:
  /// Starts `argv` with stderr (and stdout) appended to `log_file`, extra environment `env`.
  Process(std::vector<std::string> argv, std::filesystem::path log_file,
          std::map<std::string, std::string> env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  /// Sends a signal (SIGTERM, SIGHUP, SIGKILL, ...).
  void signal(int sig) const;
  /// Waits up to `timeout` for the process to exit; its exit status (or 128+signal) if it did.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  /// kill -9 and reap.
  void kill9();
  bool running();
  /// The captured output so far.
  std::string log() const;
  const std::filesystem::path& log_file() const { return log_file_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::filesystem::path log_file_;
};

/// Path of the smppguard binary under test (set by CMake as SMPPGUARD_BIN).
std::string smppguard_bin();
/// The binary whose `smsc-sim` plays the carrier: SMPPGUARD_SIM_BIN when set (to run an older
/// daemon against this simulator, e.g. to see a fault test fail before its fix), else
/// smppguard_bin().
std::string simulator_bin();

/// A loopback TCP port that was free a moment ago: for a server the test starts next (which
/// retries on a clash), or for a port nobody listens on.
std::uint16_t free_loopback_port();

/// Waits until `file` exists and is non-empty (e.g. a ports file), up to `timeout`.
bool wait_for_file(const std::filesystem::path& file, std::chrono::milliseconds timeout);
std::string read_file(const std::filesystem::path& file);
void write_file(const std::filesystem::path& file, const std::string& text);

/// Polls `pred` every 20 ms until it is true or `timeout` passes; returns the last value.
template <typename Pred>
bool eventually(Pred&& pred, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace e2e

#include <thread>
template <typename Pred>
bool e2e::eventually(Pred&& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}
