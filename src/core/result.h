// Recoverable errors as values: Result<T> is tl::expected<T, Error>, Error a small code plus
// a message for people. Each C library gets one function that maps its codes onto ErrorCode.
#pragma once

#include <string>
#include <tl/expected.hpp>
#include <utility>

namespace ddnswatch {

enum class ErrorCode {
  kInvalidArgument,  // bad input from the user: config, command line
  kNotFound,
  kIo,           // file system or socket failure
  kCorrupt,      // data on disk or on the wire that does not parse
  kUnsupported,  // a version or feature we do not handle
  kInternal,
};

const char* to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

template <typename T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> make_error(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace ddnswatch
