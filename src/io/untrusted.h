// Arithmetic and text for values read from untrusted files: sizes and offsets in unsigned 64-bit
// with overflow reported (never wrapped), and bytes made safe to put in a one-line error message.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vkvision::io {

// a + b and a * b, or nullopt when the result does not fit in 64 bits.
inline std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}
inline std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t product;
  if (__builtin_mul_overflow(a, b, &product)) return std::nullopt;
  return product;
}

// Whether [offset, offset + length) lies inside a buffer of `size` bytes, without overflow.
inline bool range_inside(uint64_t offset, uint64_t length, uint64_t size) {
  return offset <= size && length <= size - offset;
}

// Bytes as one printable line: control bytes and DEL become \xNN, backslash is doubled, and text
// past `limit` bytes is cut with "..." (error messages quote names and headers from the file).
inline std::string printable(std::string_view text, size_t limit = 120) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == limit) return out + "...";
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 15];
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Whether a name read from a file holds no control bytes (PyTorch parameter names are dotted
// Python identifiers; a newline in one is a crafted file, and would break one-line messages).
inline bool is_printable_name(std::string_view name) {
  for (const char c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

}  // namespace vkvision::io
