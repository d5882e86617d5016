#pragma once
// Expected<T, E>: a value or an error, for the codec's no-exception paths (C++20 has no
// std::expected). Small on purpose: has_value/operator bool, value(), error(), * and ->.
// Thread-safety: a plain value type.
#include <utility>
#include <variant>

namespace smppguard::proto {

// Tags the error alternative, so that T and E may be the same type.
template <typename E>
struct Unexpected {
  E error;
};
template <typename E>
Unexpected(E) -> Unexpected<E>;

template <typename T, typename E>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}            // NOLINT: implicit
  Expected(Unexpected<E> e) : v_(std::in_place_index<1>, std::move(e.error)) {}  // NOLINT

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  // Preconditions: has_value() for value(), !has_value() for error() (std::bad_variant_access
  // otherwise, which is a programming error).
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const E& error() const& { return std::get<1>(v_); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, E> v_;
};

}  // namespace smppguard::proto
