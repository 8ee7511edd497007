// Checks the stb_image 2.27 in Debian 12 (libstb-dev) needs before it reads a file, for inputs it
// mishandles (both fixed or changed upstream after 2.27; found by fuzz/image.cpp).
#pragma once
#include <cstddef>
#include <span>
#include <string>

namespace vkvision::io {

// stb writes a JPEG Huffman table's code lengths into a 257-entry array without checking the
// table's code count, so a DHT segment declaring more than 256 codes overwrites decoder memory.
// Walks the marker segments as stb reads them (segments skipped by their length, fill bytes,
// entropy-coded data up to the next marker) and throws InputError("<name>: corrupt JPEG: ...") for
// such a table. Every table stb could reach is seen: the walk skips only what stb skips and steps
// through entropy-coded data byte by byte.
void check_jpeg_huffman_tables(std::span<const std::byte> jpeg, const std::string& name);

// stb copies a PNG's first IDAT chunk into a buffer it has not allocated yet when that chunk is
// empty (memcpy to null: undefined behaviour). Walks the chunks to the first IDAT and throws
// InputError("<name>: ...") if it is empty.
void check_png_first_idat(std::span<const std::byte> png, const std::string& name);

}  // namespace vkvision::io
