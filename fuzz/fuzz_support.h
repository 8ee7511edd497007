// What every fuzz target checks besides "no crash, no sanitizer report": a rejected input fails with
// vkvision::InputError whose message is one printable line that starts with the file's name. Any
// other exception, or a message that breaks that promise, aborts so libFuzzer keeps the input.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

#include "vkvision/error.h"

namespace vkvision::fuzz {

inline std::span<const std::byte> as_bytes(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}

[[noreturn]] inline void broken_promise(const char* what, std::string_view message) {
  std::fprintf(stderr, "fuzz: %s: %.*s\n", what, int(message.size()), message.data());
  std::abort();
}

inline void check_error_message(std::string_view message, std::string_view file) {
  if (message.substr(0, file.size()) != file)
    broken_promise("error does not start with the file name", message);
  for (const char c : message)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      broken_promise("error is not one printable line", message);
}

// Runs `parse`; success and a well-formed InputError are both fine.
template <typename Parse>
void expect_clean_outcome(std::string_view file, Parse&& parse) {
  try {
    parse();
  } catch (const InputError& error) {
    check_error_message(error.what(), file);
  } catch (const std::exception& error) {
    broken_promise("unexpected exception type", error.what());
  }
}

}  // namespace vkvision::fuzz
