// JPEG decoding with libjpeg-turbo (jpeg_decode.cpp), PNG decoding with stb_image compiled here
// with only its PNG decoder and with internal linkage: the formats we do not support are not in
// the binary, the fuzzer instruments the decoder it runs, and nothing is shared with an stb_image
// the host application may link (stb keeps process-wide settings such as the vertical flip). Its
// failure messages are the constant "user" strings: the short ones can embed bytes of the file (an
// unknown PNG chunk's type), control characters included.
#include "io/image.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>

#include <algorithm>
#include <array>
#include <climits>
#include <memory>
#include <string_view>

#include "io/jpeg_decode.h"
#include "io/mapped_file.h"
#include "io/stb_image_guards.h"
#include "vkvision/error.h"

namespace vkvision::io {
namespace {

constexpr const char* kSupported = "JPEG and PNG are supported";

bool starts_with(std::span<const std::byte> bytes, std::string_view magic, size_t offset = 0) {
  if (bytes.size() < offset + magic.size()) return false;
  return std::equal(magic.begin(), magic.end(), bytes.begin() + offset, [](char m, std::byte b) {
    return static_cast<unsigned char>(m) == std::to_integer<unsigned char>(b);
  });
}

// Signatures of formats people pass by mistake, so the message can name them.
const char* other_format(std::span<const std::byte> bytes) {
  struct Signature {
    const char* name;
    std::string_view magic;
  };
  static constexpr std::array<Signature, 9> kSignatures{{
      {"GIF", "GIF8"},
      {"BMP", "BM"},
      {"TIFF", {"II*\0", 4}},
      {"TIFF", {"MM\0*", 4}},
      {"PSD", "8BPS"},
      {"Radiance HDR", "#?RADIANCE"},
      {"Radiance HDR", "#?RGBE"},
      {"Softimage PIC", "\x53\x80\xF6\x34"},
      {"JPEG 2000", {"\0\0\0\x0CjP  ", 8}},
  }};
  for (const Signature& signature : kSignatures)
    if (starts_with(bytes, signature.magic)) return signature.name;
  if (starts_with(bytes, "RIFF") && starts_with(bytes, "WEBP", 8)) return "WebP";
  if (starts_with(bytes, "ftyp", 4)) return "HEIF/AVIF";
  if (bytes.size() >= 2 && starts_with(bytes, "P")) {
    const char kind = std::to_integer<char>(bytes[1]);
    if (kind >= '1' && kind <= '7') return "PNM";
  }
  return nullptr;
}

void check_format(std::span<const std::byte> bytes, const std::string& name) {
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n") || starts_with(bytes, "\xFF\xD8\xFF")) return;
  if (const char* format = other_format(bytes))
    throw InputError(name + ": unsupported image format " + format + "; " + kSupported);
  throw InputError(name + ": not a JPEG or PNG image (" +
                   (bytes.empty() ? std::string("empty file") : "unrecognised signature") + "); " +
                   kSupported);
}

void check_limits(int64_t width, int64_t height, const std::string& name, const ImageLimits& limits) {
  const std::string size = std::to_string(width) + " x " + std::to_string(height);
  if (width <= 0 || height <= 0) throw InputError(name + ": image is " + size + " pixels");
  if (width > limits.max_side || height > limits.max_side)
    throw InputError(name + ": image is " + size + " pixels; sides up to " + std::to_string(limits.max_side) +
                     " are accepted");
  if (width * height > limits.max_pixels)
    throw InputError(name + ": image is " + size + " pixels; up to " + std::to_string(limits.max_pixels) +
                     " pixels are accepted");
}

// A PNG's size from its IHDR chunk, which must come first, read here because stb_image refuses a
// large one with a bare "too large" that would not say what the limits are.
void check_png_header(std::span<const std::byte> bytes, const std::string& name, const ImageLimits& limits) {
  if (!starts_with(bytes, "IHDR", 12) || bytes.size() < 24) return;  // stb_image reports it
  const auto be32 = [&](size_t at) {
    uint32_t value = 0;
    for (size_t i = 0; i < 4; ++i) value = value << 8 | std::to_integer<uint32_t>(bytes[at + i]);
    return int64_t(value);
  };
  check_limits(be32(16), be32(20), name, limits);
}

std::string decode_failure(const std::string& name) {
  const char* reason = stbi_failure_reason();  // thread-local in stb_image 2.27
  return name + ": cannot decode image (" + (reason ? reason : "unknown error") + ")";
}

}  // namespace

Image decode_image(std::span<const std::byte> bytes, const std::string& name, const ImageLimits& limits) {
  check_format(bytes, name);
  // The size first, so a bomb (a few bytes claiming billions of pixels) is refused unallocated.
  if (starts_with(bytes, "\xFF\xD8"))
    return decode_jpeg(bytes, name,
                       [&](int64_t width, int64_t height) { check_limits(width, height, name, limits); });
  if (bytes.size() > size_t(INT_MAX))
    throw InputError(name + ": " + std::to_string(bytes.size()) + " bytes; PNG files up to 2 GiB are read");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int size = static_cast<int>(bytes.size());
  check_png_header(bytes, name, limits);
  check_png_idat_chunks(bytes, name);  // before stb_image reads the chunks
  int width = 0, height = 0, file_channels = 0;
  if (!stbi_info_from_memory(data, size, &width, &height, &file_channels))
    throw InputError(decode_failure(name));
  check_limits(width, height, name, limits);
  if (file_channels < 1 || file_channels > 4)
    throw InputError(name + ": " + std::to_string(file_channels) + " channels; 1 to 4 are decoded");

  // Alpha is dropped as PIL's convert() drops it: grey+alpha -> grey, RGBA -> RGB.
  const int channels = file_channels <= 2 ? 1 : 3;
  int decoded_width = 0, decoded_height = 0, ignored = 0;
  const std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(data, size, &decoded_width, &decoded_height, &ignored, channels),
      stbi_image_free);
  if (!pixels) throw InputError(decode_failure(name));
  if (decoded_width != width || decoded_height != height)
    throw InputError(name + ": header and image data disagree on the size");

  Image image{width, height, channels, {}};
  image.pixels.assign(pixels.get(), pixels.get() + size_t(width) * size_t(height) * size_t(channels));
  return image;
}

Image decode_image(const std::filesystem::path& path, const ImageLimits& limits) {
  const MappedFile file(path);  // says "is a directory" for one
  return decode_image(file.bytes(), path.string(), limits);
}

}  // namespace vkvision::io
