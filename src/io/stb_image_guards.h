// Checks the stb_image 2.27 in Debian 12 (libstb-dev) needs before it reads a PNG, for inputs it
// mishandles (found by fuzz/image.cpp).
#pragma once
#include <cstddef>
#include <span>
#include <string>

namespace vkvision::io {

// stb copies a PNG's first IDAT chunk into a buffer it has not allocated yet when that chunk is
// empty (memcpy to null: undefined behaviour), and allocates the length an IDAT chunk claims (up
// to 2 GiB) before finding the data is not there. Walks the chunks and throws
// InputError("<name>: corrupt PNG: ...") for either; stb would fail such a file after the harm.
void check_png_idat_chunks(std::span<const std::byte> png, const std::string& name);

}  // namespace vkvision::io
