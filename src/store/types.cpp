// Names of the store's enums and the store error category.
#include "store/types.hpp"

#include <array>
#include <string>
#include <utility>

#include "store/store.hpp"

namespace smppguard::store {
namespace {

template <typename E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E v) {
  for (const auto& [value, name] : table) {
    if (value == v) return name;
  }
  return "unknown";
}

template <typename E, std::size_t N>
bool parse_name(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view text,
                E& out) {
  for (const auto& [value, name] : table) {
    if (name == text) {
      out = value;
      return true;
    }
  }
  return false;
}

constexpr std::array<std::pair<ConsentState, std::string_view>, 4> kStates{{
    {ConsentState::none, "none"},
    {ConsentState::pending, "pending"},
    {ConsentState::opted_in, "opted_in"},
    {ConsentState::opted_out, "opted_out"},
}};

constexpr std::array<std::pair<ConsentLevel, std::string_view>, 4> kLevels{{
    {ConsentLevel::none, "none"},
    {ConsentLevel::implied, "implied"},
    {ConsentLevel::express, "express"},
    {ConsentLevel::express_written, "express_written"},
}};

constexpr std::array<std::pair<ConsentSource, std::string_view>, 9> kSources{{
    {ConsentSource::none, "none"},
    {ConsentSource::keyword, "keyword"},
    {ConsentSource::mo_conversation, "mo_conversation"},
    {ConsentSource::api, "api"},
    {ConsentSource::web_form, "web_form"},
    {ConsentSource::verbal, "verbal"},
    {ConsentSource::paper, "paper"},
    {ConsentSource::import, "import"},
    {ConsentSource::disclaimer, "disclaimer"},
}};

class StoreCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "smppguard.store"; }
  std::string message(int ev) const override {
    switch (static_cast<StoreErrc>(ev)) {
      case StoreErrc::ok:
        return "ok";
      case StoreErrc::io_error:
        return "store I/O error";
      case StoreErrc::corruption:
        return "store value is corrupt";
      case StoreErrc::closed:
        return "store is closed";
      case StoreErrc::busy:
        return "store writer queue is full";
      case StoreErrc::no_space:
        return "store disk is below its free-space floor";
      case StoreErrc::not_found:
        return "not found";
      case StoreErrc::invalid_argument:
        return "invalid argument";
      case StoreErrc::mutation_failed:
        return "mutation failed; nothing it staged was written";
      case StoreErrc::read_only:
        return "store is open read-only";
      case StoreErrc::cluster_unavailable:
        return "the cluster cannot commit consent changes now (PostgreSQL unreachable or this "
               "replica behind)";
      case StoreErrc::diverged:
        return "a replicated change does not follow this replica's history";
    }
    return "unknown store error";
  }
};

}  // namespace

std::string_view to_string(ConsentState v) { return name_of(kStates, v); }
std::string_view to_string(ConsentLevel v) { return name_of(kLevels, v); }
std::string_view to_string(ConsentSource v) { return name_of(kSources, v); }
bool parse(std::string_view text, ConsentState& out) { return parse_name(kStates, text, out); }
bool parse(std::string_view text, ConsentLevel& out) { return parse_name(kLevels, text, out); }
bool parse(std::string_view text, ConsentSource& out) { return parse_name(kSources, text, out); }

const std::error_category& store_category() {
  static const StoreCategory category;
  return category;
}

std::error_code make_error_code(StoreErrc e) { return {static_cast<int>(e), store_category()}; }

}  // namespace smppguard::store
