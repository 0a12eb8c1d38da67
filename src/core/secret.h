// A credential read from the config. It prints as "***" everywhere (fmt, spdlog, streams);
// the one way to read it is reveal(), which callers use only where the value goes on the wire.
#pragma once

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <utility>

namespace ddnswatch {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}

  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

  // Compares without exposing the value; used to tell whether a reload changed a credential.
  friend bool operator==(const Secret& a, const Secret& b) { return a.value_ == b.value_; }

  friend std::ostream& operator<<(std::ostream& out, const Secret&) { return out << "***"; }

 private:
  std::string value_;
};

}  // namespace ddnswatch

template <>
struct fmt::formatter<ddnswatch::Secret> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(const ddnswatch::Secret&, Context& ctx) const {
    return fmt::formatter<std::string_view>::format("***", ctx);
  }
};
