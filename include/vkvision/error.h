// Error types. Every failure carries a one-line message that names the file or tensor and the
// problem; the CLI prints it and exits with the code of the category. Every public function says
// which of these it throws; anything else it lets through is std::bad_alloc.
#pragma once
#include <stdexcept>
#include <string>

namespace vkvision {

// Base of every error the library throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad user input: unreadable, truncated or malformed files, shapes that match no model. Exit code 2.
class InputError : public Error {
 public:
  using Error::Error;
};

// The Vulkan device failed or cannot do what was asked (limits, out of memory). Exit code 3.
class DeviceError : public Error {
 public:
  using Error::Error;
};

}  // namespace vkvision
