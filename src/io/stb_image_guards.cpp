#include "io/stb_image_guards.h"

#include <cstdint>

#include "vkvision/error.h"

namespace vkvision::io {

void check_jpeg_huffman_tables(std::span<const std::byte> jpeg, const std::string& name) {
  size_t at = 2;  // past SOI
  // stb_image reads 0 past the end of the data.
  const auto byte_at = [&](size_t offset) { return offset < jpeg.size() ? std::to_integer<unsigned>(jpeg[offset]) : 0u; };
  const auto read8 = [&] { return byte_at(at++); };
  const auto read16 = [&] {
    const unsigned high = read8();
    return high << 8 | read8();
  };
  while (at < jpeg.size()) {
    if (byte_at(at++) != 0xFF) continue;  // padding or entropy-coded data
    while (at < jpeg.size() && byte_at(at) == 0xFF) ++at;  // fill bytes
    const unsigned marker = read8();
    if (marker == 0x00 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // stuffed 0xFF, restart marker
    if (marker == 0xD9) return;  // EOI: stb reads no further
    const unsigned length = read16();
    if (marker != 0xC4) {  // every other segment stb reads is exactly its length, or fails it
      at += length >= 2 ? length - 2 : 0;
      continue;
    }
    // DHT, consumed as stb_image consumes it: tables of 1 + 16 + n bytes while length is left.
    for (int left = int(length) - 2; left > 0;) {
      read8();  // table class and id
      int codes = 0;
      for (int i = 0; i < 16; ++i) codes += int(read8());
      if (codes > 256)
        throw InputError(name + ": corrupt JPEG: a Huffman table declares " + std::to_string(codes) +
                         " codes (at most 256)");
      at += size_t(codes);
      left -= 17 + codes;
    }
  }
}

void check_png_first_idat(std::span<const std::byte> png, const std::string& name) {
  const auto be32 = [&](size_t at) {
    uint64_t value = 0;
    for (size_t i = 0; i < 4; ++i) value = value << 8 | std::to_integer<uint64_t>(png[at + i]);
    return value;
  };
  // Chunks after the 8-byte signature: length, type, data, CRC, as stb_image reads them.
  for (size_t at = 8; at + 8 <= png.size(); at += 12 + be32(at)) {
    const bool idat = std::to_integer<char>(png[at + 4]) == 'I' && std::to_integer<char>(png[at + 5]) == 'D' &&
                      std::to_integer<char>(png[at + 6]) == 'A' && std::to_integer<char>(png[at + 7]) == 'T';
    if (!idat) continue;
    if (be32(at) == 0) throw InputError(name + ": corrupt PNG: the first IDAT chunk is empty");
    return;
  }
}

}  // namespace vkvision::io
