#pragma once
// Helpers for loader tests: a minimal valid document with fixed line numbers, edited per test,
// and a matcher for one diagnostic.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/config.hpp"

namespace smppguard::config::test {

// The minimal valid config. Line numbers (1-based) are relied on by the tests:
inline const std::vector<std::string> kMinimalLines = {
    "node_id: t1",                          // 1
    "store:",                               // 2
    "  path: /tmp/sg-config-test",          // 3
    "listen:",                              // 4
    "  smpp: 127.0.0.1:0",                  // 5
    "  http: 127.0.0.1:0",                  // 6
    "accounts:",                            // 7
    "  - system_id: app1",                  // 8
    "    password: secret",                 // 9
    "    tenant: acme",                     // 10
    "upstreams:",                           // 11
    "  - name: up1",                        // 12
    "    host: 127.0.0.1",                  // 13
    "    port: 2776",                       // 14
    "    system_id: proxy",                 // 15
    "routes:",                              // 16
    "  - { prefix: \"\", upstream: up1 }",  // 17
    "programs:",                            // 18
    "  - id: prog1",                        // 19
    "    tenant: acme",                     // 20
    "    numbers: [\"+18005550100\"]",      // 21
    "    help_contact: help@example.com",   // 22
};

// A document built from kMinimalLines. Lines appended after line 22 with four spaces of indent
// are keys of programs[0]; without indent they are top-level sections.
class Doc {
 public:
  Doc() : lines_(kMinimalLines) {}
  // Replaces line n (1-based); the text may hold several lines.
  Doc& set(int n, std::string text) {
    lines_.at(static_cast<std::size_t>(n - 1)) = std::move(text);
    return *this;
  }
  // Removes line n; later lines move up by one.
  Doc& drop(int n) {
    lines_.erase(lines_.begin() + (n - 1));
    return *this;
  }
  Doc& add(std::vector<std::string> more) {
    lines_.insert(lines_.end(), more.begin(), more.end());
    return *this;
  }
  std::string text() const {
    std::string out;
    for (const auto& l : lines_) out += l + "\n";
    return out;
  }
  CheckResult check() const { return check_config_string(text(), "test.yaml"); }
  Config load(std::vector<Diagnostic>* warnings = nullptr) const {
    return load_config_string(text(), "test.yaml", warnings);
  }

 private:
  std::vector<std::string> lines_;
};

inline std::string dump(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) out += d.to_string() + "\n";
  return out.empty() ? "(none)" : out;
}

inline bool has(const std::vector<Diagnostic>& ds, int line, const std::string& key,
                const std::string& message) {
  for (const auto& d : ds) {
    if (d.file == "test.yaml" && d.line == line && d.key == key &&
        d.message.find(message) != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace smppguard::config::test

// One error with this exact line and key whose message contains `msg`.
#define EXPECT_ERROR(result, line, key, msg)                                     \
  CHECK_MESSAGE(::smppguard::config::test::has((result).errors, line, key, msg), \
                ::smppguard::config::test::dump((result).errors))
#define EXPECT_WARNING(result, line, key, msg)                                     \
  CHECK_MESSAGE(::smppguard::config::test::has((result).warnings, line, key, msg), \
                ::smppguard::config::test::dump((result).warnings))
#define EXPECT_OK(result) \
  CHECK_MESSAGE((result).errors.empty(), ::smppguard::config::test::dump((result).errors))
