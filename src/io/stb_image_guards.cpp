#include "io/stb_image_guards.h"

#include <cstdint>

#include "vkvision/error.h"

namespace vkvision::io {

void check_png_idat_chunks(std::span<const std::byte> png, const std::string& name) {
  const auto be32 = [&](size_t at) {
    uint64_t value = 0;
    for (size_t i = 0; i < 4; ++i) value = value << 8 | std::to_integer<uint64_t>(png[at + i]);
    return value;
  };
  const auto is = [&](size_t at, const char* type) {
    for (size_t i = 0; i < 4; ++i)
      if (std::to_integer<char>(png[at + 4 + i]) != type[i]) return false;
    return true;
  };
  // Chunks after the 8-byte signature: length, type, data, CRC, as stb_image reads them.
  bool first_idat = true;
  for (size_t at = 8; at + 8 <= png.size() && !is(at, "IEND"); at += 12 + be32(at)) {
    if (!is(at, "IDAT")) continue;
    const uint64_t length = be32(at);
    if (first_idat && length == 0) throw InputError(name + ": corrupt PNG: the first IDAT chunk is empty");
    if (length > png.size() - (at + 8))
      throw InputError(name + ": corrupt PNG: an IDAT chunk of " + std::to_string(length) +
                       " bytes runs past the end of the file");
    first_idat = false;
  }
}

}  // namespace vkvision::io
