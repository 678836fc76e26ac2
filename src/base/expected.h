// Expected<T, E>: a value of type T, or the error E that prevented it.
//
// The project's single way to return "a result or why not" (C++20 has no std::expected).
// Neither construction nor access throws or allocates beyond what T and E do, so it is fit
// for the packet path. Reading value() of an error, or error() of a value, is a programming
// error and aborts.
//
//   dove::Expected<int, Error> ParsePort(std::string_view text);
//   auto port = ParsePort("4789");
//   if (!port) return dove::Unexpected(port.error());
//   Use(*port);
#pragma once

#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

namespace dove {

// Wraps an error so that Expected's constructor can tell it from a value.
template <typename E>
struct Unexpected {
  explicit constexpr Unexpected(E e) : error(std::move(e)) {}
  E error;
};

template <typename T, typename E>
class [[nodiscard]] Expected {
 public:
  using value_type = T;
  using error_type = E;

  // Implicit on purpose: `return value;` and `return Unexpected(error);` read naturally.
  constexpr Expected(T value)  // NOLINT(google-explicit-constructor)
      : state_(std::in_place_index<0>, std::move(value)) {}
  // Only from an error type that converts implicitly: `return Unexpected(42);` must not
  // become some enum's value 42.
  template <typename G>
  requires std::is_convertible_v<G, E>
  constexpr Expected(Unexpected<G> unexpected)  // NOLINT(google-explicit-constructor)
      : state_(std::in_place_index<1>, std::move(unexpected.error)) {}

  constexpr bool has_value() const { return state_.index() == 0; }
  constexpr explicit operator bool() const { return has_value(); }

  constexpr T& value() & {
    Check(has_value());
    return *std::get_if<0>(&state_);
  }
  constexpr const T& value() const& {
    Check(has_value());
    return *std::get_if<0>(&state_);
  }
  constexpr T&& value() && {
    Check(has_value());
    return std::move(*std::get_if<0>(&state_));
  }
  constexpr const E& error() const {
    Check(!has_value());
    return *std::get_if<1>(&state_);
  }
  // The value, or `fallback` when this holds an error.
  constexpr T value_or(T fallback) const {
    return has_value() ? *std::get_if<0>(&state_) : fallback;
  }

  constexpr T& operator*() & { return value(); }
  constexpr const T& operator*() const& { return value(); }
  constexpr T* operator->() { return &value(); }
  constexpr const T* operator->() const { return &value(); }

 private:
  static constexpr void Check(bool ok) {
    if (!ok) std::abort();
  }
  std::variant<T, E> state_;
};

// Expected<void, E>: success, or the error that prevented it.
template <typename E>
class [[nodiscard]] Expected<void, E> {
 public:
  constexpr Expected() = default;
  template <typename G>
  requires std::is_convertible_v<G, E>
  constexpr Expected(Unexpected<G> unexpected)  // NOLINT(google-explicit-constructor)
      : failed_(true), error_(std::move(unexpected.error)) {}

  constexpr bool has_value() const { return !failed_; }
  constexpr explicit operator bool() const { return has_value(); }
  constexpr const E& error() const {
    if (!failed_) std::abort();
    return error_;
  }

 private:
  bool failed_ = false;
  E error_{};
};

}  // namespace dove
