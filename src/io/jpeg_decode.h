// JPEG decoding with libjpeg-turbo, the decoder PIL (timm's reference) uses, so decoded pixels are
// PIL's. Internal to image_decode.cpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "io/image.h"

namespace vkvision::io {

// `check_size` sees the header's width and height before any pixel is decoded, and throws to refuse
// them. Throws InputError("<name>: ...") for a corrupt JPEG, a CMYK/YCCK one, or one with more than
// 1,000 progressive scans (each scan is a pass over the whole image).
Image decode_jpeg(std::span<const std::byte> jpeg, const std::string& name,
                  const std::function<void(int64_t width, int64_t height)>& check_size);

}  // namespace vkvision::io
