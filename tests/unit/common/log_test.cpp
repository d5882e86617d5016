#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "common/log.hpp"

using namespace smppguard;

namespace {
// Captures what one log statement writes to stderr.
template <typename F>
std::string capture_stderr(F&& f) {
  std::fflush(stderr);
  char path[] = "/tmp/sglogXXXXXX";
  const int fd = ::mkstemp(path);
  const int saved = ::dup(STDERR_FILENO);
  ::dup2(fd, STDERR_FILENO);
  f();
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::string out;
  ::lseek(fd, 0, SEEK_SET);
  char buf[512];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  ::unlink(path);
  return out;
}
}  // namespace

TEST_CASE("log lines are key=value with quoting") {
  log::set_level(log::Level::info);
  const auto line = capture_stderr([] {
    SG_LOG(info, "bind").kv("account", "app1").kv("peer", "127.0.0.1:5").kv("note", "a b\"c").kv(
        "n", 42);
  });
  CHECK(line.find(" level=info event=bind account=app1 peer=127.0.0.1:5 note=\"a b\\\"c\" n=42\n") !=
        std::string::npos);
  CHECK(line.rfind("ts=", 0) == 0);
}

TEST_CASE("disabled levels write nothing") {
  log::set_level(log::Level::warn);
  const auto out = capture_stderr([] { SG_LOG(info, "quiet").kv("k", "v"); });
  CHECK(out.empty());
  log::Level l;
  CHECK(log::parse_level("debug", l));
  CHECK(l == log::Level::debug);
  CHECK_FALSE(log::parse_level("verbose", l));
  log::set_level(log::Level::info);
}
